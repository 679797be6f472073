"""Weighting diagnostics: Kish design effect, efficiency, effective sample size, weight range.

For weights :math:`w_i` of :math:`n` respondents, Kish's (1965) approximate design effect due to
unequal weighting is

.. math:: \\text{deff}_w = \\frac{n \\sum w_i^2}{(\\sum w_i)^2} = 1 + \\text{CV}_w^2,

the effective sample size is :math:`n_\\text{eff} = (\\sum w_i)^2 / \\sum w_i^2 = n /
\\text{deff}_w`, and the weighting efficiency is :math:`1/\\text{deff}_w`.

Reference: Kish, L. (1965). *Survey Sampling*, Wiley, §11.7; Kish, L. (1992). Weighting for
unequal P_i. *J. Official Statistics* 8(2), 183-200.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["effective_n", "plot_weights", "weight_diagnostics"]


def _as_weights(weights: Any, parameter: str = "weights") -> np.ndarray:
    if isinstance(weights, pd.DataFrame):
        raise ParameterError("give one weight column (a Series or array)", parameter=parameter)
    try:
        w = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError("weights must be numbers", parameter=parameter) from None
    if w.size == 0:
        raise DataError("no weights", parameter=parameter)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError("weights must be finite and non-negative", parameter=parameter,
                        row=int(np.flatnonzero(bad)[0]) + 1, got=float(w[bad][0]))
    if w.sum() <= 0:
        raise DataError("weights sum to zero", parameter=parameter)
    return w


def effective_n(weights: Any) -> float:
    """Kish effective sample size :math:`(\\sum w)^2 / \\sum w^2`."""
    w = _as_weights(weights)
    return float(w.sum() ** 2 / np.square(w).sum())


def _weight_stats(w: np.ndarray, counts: np.ndarray | None = None) -> dict[str, float]:
    """Statistics of weights ``w`` (or of distinct weights ``w`` repeated ``counts`` times)."""
    c = np.ones(len(w)) if counts is None else np.asarray(counts, dtype=float)
    keep = c > 0
    w, c = np.asarray(w, dtype=float)[keep], c[keep]
    n = int(np.rint(c.sum()))
    s1 = float((w * c).sum())
    s2 = float((w * w * c).sum())
    n_eff = s1**2 / s2
    mean = s1 / n
    var = s2 / n - mean**2
    if counts is None:
        q = np.quantile(w / mean, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    else:  # quantiles of the expanded weights (numpy's default linear interpolation)
        order = np.argsort(w)
        ws, cs = w[order] / mean, np.cumsum(c[order])
        pos = np.array([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) * (n - 1)
        lo_i = np.searchsorted(cs, np.floor(pos) + 1)
        hi_i = np.searchsorted(cs, np.minimum(np.floor(pos) + 2, n))
        frac = pos - np.floor(pos)
        q = ws[lo_i] * (1 - frac) + ws[hi_i] * frac
    wmin, wmax = float(w.min()), float(w.max())
    return {
        "n": n, "n_effective": n_eff, "design_effect": n / n_eff, "efficiency": n_eff / n,
        "cv": float(np.sqrt(max(var, 0.0)) / mean), "min": wmin, "max": wmax,
        "ratio_max_min": wmax / wmin if wmin > 0 else float("inf"),
        "min_relative": wmin / mean, "max_relative": wmax / mean,
        "p01": float(q[0]), "p05": float(q[1]), "p25": float(q[2]), "median": float(q[3]),
        "p75": float(q[4]), "p95": float(q[5]), "p99": float(q[6]), "sum": s1,
    }


def weight_diagnostics(weights: Any) -> Result:
    """Kish design effect, weighting efficiency, effective sample size and weight range.

    Parameters
    ----------
    weights : Series or array
        One non-negative weight per respondent.

    Returns
    -------
    Result
        ``estimate`` = design effect; ``details`` = n, n_effective, efficiency, cv, min, max,
        max/min ratio, quantiles of weight / mean weight.

    Examples
    --------
    >>> weight_diagnostics([1, 1, 2, 2]).details["n_effective"]
    3.6
    """
    w = _as_weights(weights)
    stats = _weight_stats(w)
    warnings = []
    if stats["efficiency"] < 0.5:
        warnings.append(f"weighting efficiency is {stats['efficiency']:.0%}: the weights cost "
                        "more than half the sample; consider caps or coarser targets")
    if stats["max_relative"] > 5:
        warnings.append(f"the largest weight is {stats['max_relative']:.1f}× the mean weight")
    table = pd.DataFrame([{"statistic": k, "value": v} for k, v in stats.items()])
    return Result(
        name="Weighting diagnostics", estimate=stats["design_effect"], n=len(w),
        method="Kish (1965) design effect due to unequal weighting, deff = n Σw² / (Σw)² = "
               "1 + CV²; effective n = (Σw)² / Σw²; efficiency = 1/deff.",
        details=stats, table=table, warnings=warnings,
        reference="Kish (1965) Survey Sampling §11.7; Kish (1992) J. Off. Stat. 8:183-200.")


def plot_weights(weights: Any, *, bins: int = 40, title: str = "Distribution of weights"
                 ) -> Figure:
    """Histogram of weights relative to the mean, with the design effect in the title."""
    from researchkit.plots import PALETTE, new_figure

    w = _as_weights(weights)
    stats = _weight_stats(w)
    fig, ax = new_figure(width=7, height=3.8)
    ax.hist(w / w.mean(), bins=bins, color=PALETTE[0], edgecolor="white")
    ax.axvline(1.0, color=PALETTE[5], linestyle="--", linewidth=1)
    ax.set_xlabel("weight / mean weight")
    ax.set_ylabel("respondents")
    ax.set_title(f"{title}\ndeff = {stats['design_effect']:.2f}, efficiency = "
                 f"{stats['efficiency']:.0%}, n_eff = {stats['n_effective']:,.0f} of "
                 f"{stats['n']:,}", fontsize="medium")
    return fig
