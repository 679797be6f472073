"""Weighted proportions and means with standard errors that account for the weighting.

With weights :math:`w_i` the estimates are :math:`\\hat p = \\sum w_i y_i / \\sum w_i` and
:math:`\\bar y_w = \\sum w_i y_i / \\sum w_i`. Their standard errors use Kish's effective sample
size :math:`n_\\text{eff} = (\\sum w)^2 / \\sum w^2` in place of :math:`n`:

.. math:: \\text{SE}(\\hat p) = \\sqrt{\\hat p (1-\\hat p) / n_\\text{eff}}, \\qquad
          \\text{SE}(\\bar y_w) = s_w / \\sqrt{n_\\text{eff}},

with :math:`s_w^2 = \\frac{n_\\text{eff}}{n_\\text{eff} - 1} \\sum w_i (y_i - \\bar y_w)^2 /
\\sum w_i` (equal weights give the usual unbiased variance). The margin of error is
:math:`z_{1-\\alpha/2}\\,\\text{SE}`; for a proportion the interval is Wilson's score interval on
:math:`n_\\text{eff}` by default (better than Wald near 0 or 1) or Wald. This is the
"effective sample size" approximation (Kish 1965; Kish 1992): it accounts for the variance
inflation of unequal weights, not for clustering or for the variance reduction of calibration.

References: Kish, L. (1965). *Survey Sampling*, §11.7; Kish, L. (1992). *J. Off. Stat.* 8,
183-200; Wilson, E. B. (1927). *JASA* 22, 209-212; Agresti & Coull (1998). *Am. Stat.* 52.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["prepare_weights", "weighted_mean", "weighted_proportions", "wilson_interval"]


def prepare_weights(df: pd.DataFrame, weight: str | None) -> np.ndarray:
    """The weight column as floats (ones when ``weight`` is None); bad weights → DataError."""
    if weight is None:
        return np.ones(len(df))
    if weight not in df.columns:
        raise DataError("weight column not in the data", column=weight,
                        expected=f"one of {list(df.columns)[:10]}")
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError("weights must be finite, non-negative numbers", column=weight,
                        row=df.index[i], got=df[weight].iloc[i])
    return w


def _z(level: float) -> float:
    from scipy.stats import norm

    if not isinstance(level, int | float) or not 0 < level < 1:
        raise ParameterError("confidence level must be in (0, 1)", parameter="ci_level",
                             got=level)
    return float(norm.ppf(0.5 + level / 2))


def wilson_interval(p: np.ndarray | float, n: np.ndarray | float, z: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion ``p`` with (effective) sample size ``n``."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def _column(df: pd.DataFrame, column: str) -> pd.Series:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError("df must be a DataFrame", parameter="df", got=type(df).__name__)
    if column not in df.columns:
        raise DataError("column not in the data", column=column,
                        expected=f"one of {list(df.columns)[:10]}")
    return df[column]


def weighted_proportions(
    df: pd.DataFrame, column: str, weight: str | None = None, *, ci_level: float = 0.95,
    ci_method: Literal["wilson", "wald"] = "wilson", labels: dict[Any, str] | None = None,
) -> Result:
    """Weighted share of every category of ``column`` with SE, margin of error and CI.

    Missing answers are excluded (the base is the respondents who answered).

    Returns
    -------
    Result
        ``table``: ``category, label, count, weighted_count, proportion, se, moe, ci_low,
        ci_high``; ``details``: unweighted and effective bases and the design effect.

    Examples
    --------
    >>> import pandas as pd
    >>> r = weighted_proportions(pd.DataFrame({"q": [1, 1, 2, 2]}), "q")
    >>> r.table["proportion"].tolist()
    [0.5, 0.5]
    """
    values = _column(df, column)
    w = prepare_weights(df, weight)
    if ci_method not in ("wilson", "wald"):
        raise ParameterError("unknown interval", parameter="ci_method",
                             expected="'wilson' or 'wald'", got=ci_method)
    ok = values.notna().to_numpy() & (w > 0)
    if not ok.any():
        raise DataError("no answered, positively weighted rows", column=column)
    v, wv = values[ok], w[ok]
    n = int(ok.sum())
    n_eff = wv.sum() ** 2 / np.square(wv).sum()
    cats, inverse = np.unique(v.to_numpy(), return_inverse=True)
    wsum = np.bincount(inverse, weights=wv, minlength=len(cats))
    counts = np.bincount(inverse, minlength=len(cats))
    p = wsum / wsum.sum()
    z = _z(ci_level)
    se = np.sqrt(p * (1 - p) / n_eff)
    if ci_method == "wilson":
        lo, hi = wilson_interval(p, n_eff, z)
    else:
        lo, hi = np.clip(p - z * se, 0, 1), np.clip(p + z * se, 0, 1)
    table = pd.DataFrame({
        "category": cats, "label": [(labels or {}).get(c, str(c)) for c in cats],
        "count": counts, "weighted_count": wsum, "proportion": p, "se": se, "moe": z * se,
        "ci_low": lo, "ci_high": hi,
    })
    weighted = weight is not None
    method = (f"{'Weighted' if weighted else 'Unweighted'} proportions of '{column}' among "
              f"respondents who answered; SE = √(p(1−p)/n_eff) with Kish effective base "
              f"n_eff = {n_eff:,.1f} (n = {n:,}, deff = {n / n_eff:.3f}); "
              f"{'Wilson score' if ci_method == 'wilson' else 'Wald'} {ci_level:.0%} "
              "intervals on n_eff; margin of error = z × SE.")
    return Result(name=f"Proportions of {column}", estimate=dict(
        zip(map(str, cats), p.tolist(), strict=True)), method=method, n=n, table=table,
        ci_level=ci_level, details={"n": n, "n_effective": n_eff, "design_effect": n / n_eff},
        reference="Kish (1965) §11.7; Wilson (1927) JASA 22:209-212.")


def weighted_mean(
    df: pd.DataFrame, column: str, weight: str | None = None, *, ci_level: float = 0.95,
    exclude: list[Any] | None = None,
) -> Result:
    """Weighted mean of a numeric column with SE, margin of error and a t interval on n_eff.

    Parameters
    ----------
    exclude : list, optional
        Codes to treat as missing (e.g. a "don't know" code 9).

    Examples
    --------
    >>> import pandas as pd
    >>> round(weighted_mean(pd.DataFrame({"x": [1, 2, 3]}), "x").estimate, 3)
    2.0
    """
    from scipy.stats import t as t_dist

    values = pd.to_numeric(_column(df, column), errors="coerce")
    raw = df[column]
    non_numeric = raw.notna() & values.isna()
    if non_numeric.any():
        i = int(np.flatnonzero(non_numeric.to_numpy())[0])
        raise DataError("non-numeric value in a numeric column", column=column,
                        row=df.index[i], got=raw.iloc[i])
    if exclude:
        values = values.mask(values.isin(exclude))
    w = prepare_weights(df, weight)
    ok = values.notna().to_numpy() & (w > 0)
    if ok.sum() < 2:
        raise DataError("need at least two answered rows for a mean and its SE", column=column)
    y, wv = values.to_numpy(dtype=float)[ok], w[ok]
    n = int(ok.sum())
    n_eff = wv.sum() ** 2 / np.square(wv).sum()
    mean = float(np.sum(wv * y) / wv.sum())
    var = float(np.sum(wv * (y - mean) ** 2) / wv.sum() * n_eff / (n_eff - 1))
    sd = var**0.5
    se = sd / n_eff**0.5
    tq = float(t_dist.ppf(0.5 + ci_level / 2, df=n_eff - 1))
    method = (f"{'Weighted' if weight else 'Unweighted'} mean of '{column}'; SD with the "
              f"n_eff/(n_eff−1) correction; SE = SD/√n_eff with Kish effective base n_eff = "
              f"{n_eff:,.1f} (n = {n:,}); t interval with n_eff − 1 df.")
    return Result(name=f"Mean of {column}", estimate=mean, ci=(mean - tq * se, mean + tq * se),
                  ci_level=ci_level, n=n, method=method,
                  details={"sd": sd, "se": se, "moe": tq * se, "n_effective": n_eff,
                           "design_effect": n / n_eff},
                  reference="Kish (1965) §11.7; Kish (1992) J. Off. Stat. 8:183-200.")
