"""Covariate balance between treated and control groups: standardised mean differences.

For a covariate *x*, the standardised mean difference (SMD; Austin 2009, equations 1-2) is::

    continuous:  d = (x̄_T − x̄_C) / sqrt((s²_T + s²_C) / 2)
    binary:      d = (p̂_T − p̂_C) / sqrt((p̂_T(1 − p̂_T) + p̂_C(1 − p̂_C)) / 2)

After weighting or matching, the means (and proportions) are weighted; the denominator is kept
at its **unadjusted** value so that "before" and "after" differ only through the means (the
convention of Austin & Stuart 2015 and of R's cobalt). Weighted variances (for the variance
ratio) use ``Σw(x − x̄_w)² · Σw / ((Σw)² − Σw²)``. |d| < 0.1 is the usual threshold of
negligible imbalance (Austin 2009; Normand et al. 2001).

References
----------
Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
covariates between treatment groups in propensity-score matched samples. *Statistics in
Medicine*, 28(25), 3083-3107.
Austin, P. C., & Stuart, E. A. (2015). Moving towards best practice when using inverse
probability of treatment weighting (IPTW). *Statistics in Medicine*, 34(28), 3661-3679.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal._data import (
    check_binary,
    check_columns,
    check_frame,
    check_numeric,
    column_list,
)
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["balance_table", "love_plot", "standardized_mean_difference"]

THRESHOLD = 0.1


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * x) / np.sum(w))


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    denom = sw**2 - np.sum(w**2)
    if denom <= 0:
        return float("nan")
    m = _wmean(x, w)
    return float(np.sum(w * (x - m) ** 2) * sw / denom)


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.isin(np.unique(x), (0.0, 1.0)).all())


def standardized_mean_difference(
    x: Sequence[float] | np.ndarray,
    treatment: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    binary: bool | None = None,
) -> float:
    """Standardised mean difference of ``x`` between treated (1) and control (0) (Austin 2009).

    Parameters
    ----------
    x : array
        Covariate values.
    treatment : array of 0/1
    weights : array, optional
        Weights for the adjusted means; the denominator stays the unweighted pooled SD.
    binary : bool, optional
        Use the proportion formula (default: detected from 0/1 values).
    """
    x = np.asarray(x, dtype=float)
    d = np.asarray(treatment, dtype=float)
    if x.shape != d.shape:
        raise ParameterError("x and treatment differ in length", parameter="treatment",
                             expected=f"{len(x)} values", got=len(d))
    if not np.isin(d, (0.0, 1.0)).all() or d.min() == d.max():
        raise DataError("treatment must be 0/1 with both groups present", parameter="treatment")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != x.shape or (w < 0).any() or not np.isfinite(w).all():
        raise ParameterError("invalid weights", parameter="weights",
                             expected=f"{len(x)} finite non-negative values")
    t, c = d == 1, d == 0
    if binary is None:
        binary = _is_binary(x)
    if binary:
        p1, p0 = x[t].mean(), x[c].mean()
        sd = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    else:
        sd = np.sqrt((x[t].var(ddof=1) + x[c].var(ddof=1)) / 2)
    diff = _wmean(x[t], w[t]) - _wmean(x[c], w[c])
    if sd == 0:
        return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    return float(diff / sd)


def balance_table(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    weights: str | np.ndarray | None = None,
    *,
    threshold: float = THRESHOLD,
) -> Result:
    """Balance of covariates before (and after) adjustment.

    Parameters
    ----------
    df : DataFrame
    treatment : str
        0/1 treatment column.
    covariates : sequence of str
        Numeric or 0/1 covariates.
    weights : str or array, optional
        Adjustment weights (IPW weights, or matching weights with 0 for unmatched units).
    threshold : float
        |SMD| above this is flagged (default 0.1).

    Returns
    -------
    Result
        ``estimate`` = the largest |SMD| after adjustment (before, without weights);
        ``table`` = per covariate: means by group, SMD before, (weighted means, SMD after,
        variance ratio after), binary flag.
    """
    check_frame(df)
    covariates = column_list(covariates, "covariates", required="at least one column")
    check_columns(df, treatment=treatment, covariates=covariates)
    d = check_binary(df, treatment, "treatment")
    w = None
    if weights is not None:
        if isinstance(weights, str):
            check_columns(df, weights=weights)
            w = check_numeric(df, weights, "weights")
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (len(df),):
                raise ParameterError("weights have the wrong length", parameter="weights",
                                     expected=f"{len(df)} values", got=len(w))
        if (w < 0).any() or not np.isfinite(w).all():
            raise ParameterError("weights must be finite and non-negative", parameter="weights")
    rows = []
    t, c = d == 1, d == 0
    for col in covariates:
        x = check_numeric(df, col, "covariates")
        binary = _is_binary(x)
        row: dict[str, Any] = {"covariate": col, "binary": binary,
                               "mean_treated": x[t].mean(), "mean_control": x[c].mean(),
                               "smd_before": standardized_mean_difference(x, d, binary=binary)}
        if w is not None:
            row.update({
                "mean_treated_adj": _wmean(x[t], w[t]),
                "mean_control_adj": _wmean(x[c], w[c]),
                "smd_after": standardized_mean_difference(x, d, w, binary=binary),
                "variance_ratio_after": (_wvar(x[t], w[t]) / _wvar(x[c], w[c]))
                if not binary else np.nan,
            })
        else:
            row["variance_ratio_before"] = x[t].var(ddof=1) / x[c].var(ddof=1) \
                if not binary else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("covariate")
    key = "smd_after" if w is not None else "smd_before"
    worst = float(table[key].abs().max())
    flagged = list(table.index[table[key].abs() > threshold])
    warnings = []
    if flagged:
        warnings.append(f"|SMD| > {threshold:g} {'after adjustment' if w is not None else ''} "
                        f"for: {', '.join(flagged)}.")
    return Result(
        name="Covariate balance (standardised mean differences)",
        estimate=worst,
        method=("Standardised mean differences (Austin 2009): difference in (weighted) means "
                "over the unadjusted pooled SD (proportion formula for 0/1 covariates); "
                f"threshold |SMD| < {threshold:g}."),
        n=len(df), table=table,
        details={"max_abs_smd_before": float(table["smd_before"].abs().max()),
                 "max_abs_smd_after": float(table["smd_after"].abs().max())
                 if w is not None else None,
                 "n_imbalanced": len(flagged)},
        warnings=warnings, reference="Austin (2009), Statistics in Medicine 28(25), 3083-3107")


def love_plot(balance: Result, ax: Any = None, *, threshold: float = THRESHOLD) -> Figure:
    """Love plot: |SMD| per covariate before and after adjustment (Ahmed et al. 2006)."""
    from researchkit.plots import PALETTE, new_figure

    table = balance.table
    if table is None or "smd_before" not in table:
        raise ParameterError("expected a balance_table() result", parameter="balance")
    order = table["smd_before"].abs().sort_values().index
    if ax is None:
        fig, ax = new_figure(height=max(2.5, 0.4 * len(order) + 1.2))
    else:
        fig = ax.figure
    y = np.arange(len(order))
    ax.scatter(table.loc[order, "smd_before"].abs(), y, color=PALETTE[1], label="before",
               zorder=3)
    if "smd_after" in table:
        ax.scatter(table.loc[order, "smd_after"].abs(), y, color=PALETTE[0], label="after",
                   zorder=3, marker="D")
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, list(order))
    ax.set_xlabel("|standardised mean difference|")
    ax.set_title("Covariate balance (love plot)")
    ax.legend()
    return fig
