"""Net Promoter Score with its interval, and top-box summaries of rating batteries.

**NPS** (Reichheld 2003) on a 0-10 scale: promoters answer 9-10, detractors 0-6,
:math:`\\text{NPS} = 100(\\hat p_P - \\hat p_D)`. It is the mean of the score
:math:`s = +1` (promoter), 0 (passive), −1 (detractor), so

.. math:: \\text{SE}(\\text{NPS}) = 100\\sqrt{\\frac{\\hat p_P + \\hat p_D -
          (\\hat p_P - \\hat p_D)^2}{n_\\text{eff}}}

(the trinomial variance of :math:`s` over the effective base; Rocks 2016 discusses this
interval), and the Wald interval is :math:`\\text{NPS} \\pm z\\,\\text{SE}`, clipped to
[−100, 100].

**Top-box summaries** give, for every item of a battery, the weighted share in the top
``k`` boxes, the bottom ``k`` boxes and the mean, each with its effective base.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.survey.estimates import _z, prepare_weights

__all__ = ["nps", "top_box"]


def nps(df: pd.DataFrame, column: str, weight: str | None = None, *,
        ci_level: float = 0.95, by: str | None = None) -> Result:
    """Net Promoter Score (−100 to 100) with SE and confidence interval.

    Parameters
    ----------
    df : DataFrame
    column : str
        0-10 answers (missing = not asked).
    weight : str, optional
    ci_level : float
    by : str, optional
        Also report the NPS of every group of this column (``table``).

    Examples
    --------
    >>> import pandas as pd
    >>> nps(pd.DataFrame({"r": [10, 9, 8, 7, 6, 0, 10, 10]}), "r").estimate
    25.0
    """
    if column not in df.columns:
        raise DataError("column not in the data", column=column)
    v = pd.to_numeric(df[column], errors="coerce")
    bad = df[column].notna() & (v.isna() | ~v.isin(range(11)))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("NPS answers must be whole numbers 0-10", column=column,
                        row=df.index[i], got=df[column].iloc[i])
    w_all = prepare_weights(df, weight)
    z = _z(ci_level)

    def one(mask: np.ndarray) -> dict:
        ok = mask & v.notna().to_numpy() & (w_all > 0)
        w = w_all[ok]
        x = v.to_numpy()[ok]
        if len(x) == 0:
            return {"n": 0, "n_effective": 0.0, "promoters": np.nan, "passives": np.nan,
                    "detractors": np.nan, "nps": np.nan, "se": np.nan, "ci_low": np.nan,
                    "ci_high": np.nan}
        W = w.sum()
        pp = float(w[x >= 9].sum() / W)
        pd_ = float(w[x <= 6].sum() / W)
        n_eff = float(W**2 / np.square(w).sum())
        score = 100 * (pp - pd_)
        se = 100 * np.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0) / n_eff)
        return {"n": int(ok.sum()), "n_effective": n_eff, "promoters": pp,
                "passives": 1 - pp - pd_, "detractors": pd_, "nps": score, "se": float(se),
                "ci_low": max(score - z * se, -100.0), "ci_high": min(score + z * se, 100.0)}

    total = one(np.ones(len(df), dtype=bool))
    if total["n"] == 0:
        raise DataError("no NPS answers", column=column)
    table = None
    if by is not None:
        if by not in df.columns:
            raise DataError("column not in the data", column=by, parameter="by")
        rows = []
        for key in sorted(df[by].dropna().unique()):
            rows.append({by: key, **one((df[by] == key).to_numpy())})
        table = pd.DataFrame(rows)
    return Result(
        name=f"Net Promoter Score ({column})", estimate=total["nps"],
        ci=(total["ci_low"], total["ci_high"]), ci_level=ci_level, n=total["n"],
        table=table, details={k: total[k] for k in ("promoters", "passives", "detractors",
                                                   "se", "n_effective")},
        method=(f"NPS = 100 × (share 9-10 − share 0-6)"
                f"{' weighted by ' + repr(weight) if weight else ''}"
                f"; SE from the trinomial variance of the +1/0/−1 score over the Kish "
                f"effective base (n_eff = {total['n_effective']:.1f}); Wald {ci_level:.0%} "
                "interval clipped to [−100, 100]."),
        reference="Reichheld (2003) Harvard Business Review 81(12); Rocks (2016) 'Confidence "
                  "intervals for the Net Promoter Score'.")


def top_box(df: pd.DataFrame, items: Sequence[str], weight: str | None = None, *,
            boxes: int = 2, scale: tuple[int, int] | None = None,
            labels: dict[str, str] | None = None, exclude: Sequence[float] = ()) -> Result:
    """Top-``boxes`` and bottom-``boxes`` shares and means of a battery of rating items.

    Parameters
    ----------
    items : list of str
        Item columns on one scale.
    scale : (low, high), optional
        Scale end points (default: observed min and max over the items).
    exclude : list
        Codes treated as missing (e.g. don't know).

    Returns
    -------
    Result
        ``table``: item, label, n, n_effective, top, bottom, net (top − bottom), mean,
        sorted by the top-box share.
    """
    missing = [c for c in items if c not in df.columns]
    if missing:
        raise DataError("item not in the data", column=missing[0])
    if boxes < 1:
        raise ParameterError("boxes must be >= 1", parameter="boxes", got=boxes)
    w_all = prepare_weights(df, weight)
    block = df[list(items)].apply(pd.to_numeric, errors="coerce")
    if exclude:
        block = block.mask(block.isin(list(exclude)))
    lo, hi = scale if scale is not None else (np.nanmin(block.to_numpy()),
                                               np.nanmax(block.to_numpy()))
    if hi - lo + 1 < 2 * boxes:
        raise ParameterError("the scale is too short for that many boxes", parameter="boxes",
                             got=boxes)
    rows = []
    for c in items:
        x = block[c].to_numpy()
        ok = ~np.isnan(x) & (w_all > 0)
        w = w_all[ok]
        xv = x[ok]
        if len(xv) == 0:
            continue
        W = w.sum()
        top = float(w[xv > hi - boxes].sum() / W)
        bottom = float(w[xv < lo + boxes].sum() / W)
        rows.append({"item": c, "label": (labels or {}).get(c, c), "n": int(ok.sum()),
                     "n_effective": float(W**2 / np.square(w).sum()), "top": top,
                     "bottom": bottom, "net": top - bottom,
                     "mean": float(np.sum(w * xv) / W)})
    table = pd.DataFrame(rows).sort_values("top", ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    return Result(
        name=f"Top-{boxes}-box summary", estimate=dict(zip(table["item"], table["top"],
                                                           strict=True)),
        method=f"Share answering the top {boxes} and bottom {boxes} points of the "
               f"{lo:g}-{hi:g} scale among those who answered each item"
               + (f", weighted by '{weight}'" if weight else "") + "; net = top − bottom.",
        n=len(df), table=table)
