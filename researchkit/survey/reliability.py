"""Scale reliability: Cronbach's alpha with a confidence interval and item analysis.

For :math:`k` items with covariance matrix :math:`\\Sigma` (of complete cases),

.. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\mathrm{tr}\\,\\Sigma}{\\mathbf 1^\\top
          \\Sigma \\mathbf 1}\\right)

(Cronbach 1951). Its interval is Feldt's (1965; Feldt, Woodruff & Salih 1987):
:math:`[1-(1-\\alpha)F_{1-\\gamma/2}, \\; 1-(1-\\alpha)F_{\\gamma/2}]` with
:math:`F(n-1, (n-1)(k-1))` — the interval ``pingouin.cronbach_alpha`` reports. The item analysis
gives each item's mean and SD, the **corrected item-total correlation** (item vs the sum of
the other items) and **alpha if the item is deleted**. Reverse-keyed items are reversed first
(:math:`x' = \\min + \\max - x`).

With weights, the covariance matrix is the weighted one and ``n`` in the interval is Kish's
effective sample size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.survey.estimates import prepare_weights

__all__ = ["cronbach_alpha", "reverse_items"]


def reverse_items(df: pd.DataFrame, items: Sequence[str], low: float, high: float
                  ) -> pd.DataFrame:
    """A copy of ``df`` with ``items`` reverse-coded on a ``low``-``high`` scale."""
    out = df.copy()
    for c in items:
        if c not in out.columns:
            raise DataError("item not in the data", column=c)
        out[c] = low + high - pd.to_numeric(out[c], errors="coerce")
    return out


def _alpha(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def _wcov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    n_eff = w.sum() ** 2 / np.square(w).sum()
    mu = (w[:, None] * x).sum(axis=0) / w.sum()
    d = x - mu
    return (w[:, None] * d).T @ d / w.sum() * n_eff / (n_eff - 1)


def cronbach_alpha(
    df: pd.DataFrame, items: Sequence[str], *, weight: str | None = None,
    reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
    ci_level: float = 0.95,
) -> Result:
    """Cronbach's alpha with Feldt's confidence interval, plus an item analysis table.

    Parameters
    ----------
    df : DataFrame
    items : list of str
        Item columns (numeric); rows with any missing item are left out (listwise).
    weight : str, optional
        Weight column.
    reverse : list of str
        Reverse-keyed items, reversed on ``scale`` before the analysis.
    scale : (low, high), optional
        Scale end points for reversing (default: the observed minimum and maximum).
    ci_level : float

    Returns
    -------
    Result
        ``estimate`` = alpha, ``ci``; ``table``: item, mean, sd, item-total correlation
        (corrected), alpha if deleted; ``details``: k, n, mean inter-item correlation,
        standardised alpha.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(d, ["a", "b", "c"]).estimate, 4)
    0.9538
    """
    from scipy.stats import f

    items = list(items)
    if len(items) < 2:
        raise ParameterError("alpha needs at least two items", parameter="items", got=items)
    missing = [c for c in items if c not in df.columns]
    if missing:
        raise DataError("item not in the data", column=missing[0])
    bad_rev = [c for c in reverse if c not in items]
    if bad_rev:
        raise ParameterError("reverse-keyed items must be among the items",
                             parameter="reverse", got=bad_rev)
    block = df[items].apply(pd.to_numeric, errors="coerce")
    non_num = df[items].notna() & block.isna()
    if non_num.any().any():
        col = non_num.any().idxmax()
        raise DataError("non-numeric item value", column=str(col))
    w_all = prepare_weights(df, weight)
    if reverse:
        lo, hi = scale if scale is not None else (np.nanmin(block.to_numpy()),
                                                   np.nanmax(block.to_numpy()))
        for c in reverse:
            block[c] = lo + hi - block[c]
    ok = block.notna().all(axis=1).to_numpy() & (w_all > 0)
    x = block.to_numpy(dtype=float)[ok]
    w = w_all[ok]
    n = int(ok.sum())
    if n < 3:
        raise DataError("fewer than 3 complete cases", column=", ".join(items))
    k = len(items)
    if weight is None:
        cov = np.cov(x, rowvar=False, ddof=1)
        n_eff = float(n)
    else:
        cov = _wcov(x, w)
        n_eff = float(w.sum() ** 2 / np.square(w).sum())
    if (np.diag(cov) == 0).any():
        const = [items[i] for i in np.flatnonzero(np.diag(cov) == 0)]
        raise DataError("an item has no variance", column=const[0])
    alpha = _alpha(cov)
    g = 1 - ci_level
    df1 = n_eff - 1
    df2 = df1 * (k - 1)
    lo = 1 - (1 - alpha) * f.isf(g / 2, df1, df2)
    hi = 1 - (1 - alpha) * f.isf(1 - g / 2, df1, df2)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    rbar = float(corr[np.triu_indices(k, 1)].mean())
    std_alpha = k * rbar / (1 + (k - 1) * rbar)
    rows = []
    total_var = cov.sum()
    for i, item in enumerate(items):
        others = [j for j in range(k) if j != i]
        rest_var = cov[np.ix_(others, others)].sum()
        cov_item_rest = cov[i, others].sum()
        r_it = cov_item_rest / np.sqrt(cov[i, i] * rest_var)
        a_del = _alpha(cov[np.ix_(others, others)]) if k > 2 else float("nan")
        mean = float(np.average(x[:, i], weights=w))
        rows.append({"item": item, "reversed": item in reverse, "mean": mean,
                     "sd": float(sd[i]), "item_total_r": float(r_it),
                     "alpha_if_deleted": a_del})
    table = pd.DataFrame(rows)
    warnings = []
    weak = table.loc[table["item_total_r"] < 0.3, "item"].tolist()
    if weak:
        warnings.append(f"items with a corrected item-total correlation below 0.3: {weak}")
    better = table.loc[table["alpha_if_deleted"] > alpha + 0.01, "item"].tolist()
    if better:
        warnings.append(f"alpha would rise if these items were dropped: {better}")
    _ = total_var
    return Result(
        name="Cronbach's alpha", estimate=alpha, ci=(float(lo), float(hi)), ci_level=ci_level,
        n=n, table=table, warnings=warnings,
        details={"k": k, "n_effective": n_eff, "mean_inter_item_r": rbar,
                 "standardised_alpha": std_alpha, "reversed": list(reverse)},
        method=(f"Cronbach's alpha of {k} items on {n} complete cases"
                + (f" weighted by '{weight}' (n_eff = {n_eff:.1f})" if weight else "")
                + f"; Feldt {ci_level:.0%} interval from F({df1:.0f}, {df2:.0f}); corrected "
                  "item-total correlations (item vs the sum of the other items)"
                + (f"; reverse-keyed: {', '.join(reverse)}" if reverse else "") + "."),
        reference="Cronbach (1951) Psychometrika 16:297-334; Feldt, Woodruff & Salih (1987) "
                  "Appl. Psychol. Meas. 11:93-103.")
