"""Staggered adoption: detect it, and show why two-way fixed effects can mislead.

* :func:`adoption_summary`: cohorts (first treated period) and their sizes;
* :func:`goodman_bacon`: the Goodman-Bacon (2021) decomposition of the TWFE coefficient into
  every 2×2 comparison and its weight — including the "forbidden" comparisons that use
  already-treated units as controls;
* :func:`twfe_weights`: the weights TWFE puts on each treated unit-period's effect
  (de Chaisemartin & D'Haultfœuille 2020); negative weights mean the TWFE coefficient can
  even have the wrong sign when effects are heterogeneous.

Use :class:`~researchkit.experiments.causal.CallawaySantAnna` for an estimate that is robust
to heterogeneous effects.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics*, 225(2), 254-277 (Theorem 1, equations 10a-10g).
de Chaisemartin, C., & D'Haultfœuille, X. (2020). Two-way fixed effects estimators with
heterogeneous treatment effects. *American Economic Review*, 110(9), 2964-2996 (Theorem 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.experiments.causal._data import (
    check_binary,
    check_columns,
    check_frame,
    check_numeric,
)
from researchkit.experiments.causal._ols import absorb, fit_ols
from researchkit.experiments.causal._panel import adoption_table, check_unique_unit_time
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["adoption_summary", "goodman_bacon", "plot_goodman_bacon", "twfe_weights"]


def _balanced_wide(df: pd.DataFrame, outcome: str, unit: str, time: str,
                   treatment: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    check_frame(df)
    check_columns(df, outcome=outcome, unit=unit, time=time, treatment=treatment)
    check_unique_unit_time(df, unit, time)
    y = check_numeric(df, outcome, "outcome")
    d = check_binary(df, treatment, "treatment")
    frame = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "y": y, "d": d})
    wide_y = frame.pivot(index="u", columns="t", values="y").sort_index(axis=1)
    wide_d = frame.pivot(index="u", columns="t", values="d").sort_index(axis=1)
    if wide_y.isna().any().any():
        raise DataError("the panel is unbalanced", parameter="unit",
                        expected="every unit observed in every period (balanced panel)")
    adopt = adoption_table(frame, "u", "t", "d")
    if not adopt["absorbing"].all():
        raise DataError("treatment switches off again", parameter="treatment",
                        column=treatment, expected="staggered (absorbing) adoption")
    periods = wide_y.columns.to_numpy()
    first = adopt["first_treated"].reindex(wide_y.index)
    pos = pd.Series(np.arange(len(periods), dtype=float), index=periods)
    gpos = first.map(pos).astype(float).fillna(np.inf).to_numpy()
    return wide_y.to_numpy(), wide_d.to_numpy(), gpos, periods


def adoption_summary(df: pd.DataFrame, unit: str, time: str, treatment: str) -> pd.DataFrame:
    """Cohorts of a staggered design: first treated period, number of units, share.

    Returns one row per cohort (``"never"`` for never-treated units).
    """
    check_frame(df)
    check_columns(df, unit=unit, time=time, treatment=treatment)
    d = check_binary(df, treatment, "treatment")
    frame = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "d": d})
    adopt = adoption_table(frame, "u", "t", "d")
    ft = adopt["first_treated"]
    if pd.api.types.is_float_dtype(ft) and ft.notna().any() and (ft.dropna() % 1 == 0).all():
        first = ft.map(lambda v: "never" if pd.isna(v) else int(v))
    else:
        first = ft.astype(object).where(ft.notna(), "never")
    counts = first.value_counts(sort=False)
    order = sorted([c for c in counts.index if c != "never"]) + \
        (["never"] if "never" in counts.index else [])
    out = pd.DataFrame({"cohort": order, "n_units": [int(counts[c]) for c in order]})
    out["share"] = out["n_units"] / out["n_units"].sum()
    out["absorbing"] = [bool(adopt.loc[first == c, "absorbing"].all()) for c in order]
    return out


def goodman_bacon(
    df: pd.DataFrame, outcome: str, unit: str, time: str, treatment: str,
) -> Result:
    """Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient.

    In a balanced panel without covariates, the TWFE coefficient is a weighted average of all
    2×2 DiD estimates between timing groups::

        β_TWFE = Σ_k s_kU β_kU + Σ_{k<l} (s^k_kl β^k_kl + s^l_kl β^l_kl)

    where ``β_kU`` compares cohort *k* with never-treated units, ``β^k_kl`` an earlier cohort
    *k* with a later cohort *l* before *l* starts, and ``β^l_kl`` the later cohort *l* with
    the **already treated** earlier cohort *k* as control. The weights (equations 10e-10g)
    depend on cohort shares ``n`` and the share of periods treated ``D̄``::

        s_kU  ∝ (n_k + n_U)² n_kU (1 − n_kU) D̄_k (1 − D̄_k)
        s^k_kl ∝ ((n_k + n_l)(1 − D̄_l))² n_kl (1 − n_kl) (D̄_k − D̄_l)/(1 − D̄_l) · (1 − D̄_k)/(1 − D̄_l)
        s^l_kl ∝ ((n_k + n_l) D̄_k)² n_kl (1 − n_kl) D̄_l/D̄_k · (D̄_k − D̄_l)/D̄_k

    normalised by the variance of the two-way-demeaned treatment, so they sum to one. When
    effects grow over time the "later vs earlier" terms are biased (the control's own trend
    includes its growing effect).

    Returns
    -------
    Result
        ``estimate`` = TWFE coefficient (from the decomposition; equal to the regression
        coefficient), ``table`` = one row per 2×2 comparison (type, treated, control,
        estimate, weight); ``details`` = total weight and weighted average by comparison type.
    """
    Y, D, gpos, periods = _balanced_wide(df, outcome, unit, time, treatment)
    n_units, n_t = Y.shape
    cohorts = np.unique(gpos)  # inf = never treated; 0 = always treated
    share = {c: np.mean(gpos == c) for c in cohorts}
    dbar = {c: (float(np.mean(D[gpos == c].mean(axis=0))) if np.isfinite(c) else 0.0)
            for c in cohorts}
    dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    v_d = float((dt**2).mean())
    if v_d <= 0:
        raise DataError("no variation in treatment after unit and period effects",
                        parameter="treatment")
    means = {c: Y[gpos == c].mean(axis=0) for c in cohorts}
    rows = []
    treated_cohorts = [c for c in cohorts if np.isfinite(c) and c > 0]
    never = [c for c in cohorts if not np.isfinite(c)]

    def did2(tr: float, co: float, pre: np.ndarray, post: np.ndarray) -> float:
        mt, mc = means[tr], means[co]
        return float((mt[post].mean() - mt[pre].mean()) - (mc[post].mean() - mc[pre].mean()))

    idx = np.arange(n_t)
    label = {c: ("never" if not np.isfinite(c) else periods[int(c)]) for c in cohorts}
    for k in treated_cohorts:
        for u in never:
            nk, nu = share[k], share[u]
            nku = nk / (nk + nu)
            s = (nk + nu) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k]) / v_d
            b = did2(k, u, idx < k, idx >= k)
            rows.append({"type": "treated vs never treated", "treated": label[k],
                         "control": label[u], "estimate": b, "weight": s})
    ordered = sorted(c for c in cohorts if np.isfinite(c))  # includes always-treated (0)
    for i, k in enumerate(ordered):
        for lt in ordered[i + 1:]:
            nk, nl = share[k], share[lt]
            nkl = nk / (nk + nl)
            if k > 0:  # earlier k treated, later l not yet: window [0, l)
                s = ((nk + nl) * (1 - dbar[lt])) ** 2 * nkl * (1 - nkl) * \
                    (dbar[k] - dbar[lt]) / (1 - dbar[lt]) * (1 - dbar[k]) / (1 - dbar[lt]) / v_d
                window = idx < lt
                b = did2(k, lt, window & (idx < k), window & (idx >= k))
                rows.append({"type": "earlier vs later (not yet treated)", "treated": label[k],
                             "control": label[lt], "estimate": b, "weight": s})
            # later l treated, earlier k already treated: window [k, T)
            s = ((nk + nl) * dbar[k]) ** 2 * nkl * (1 - nkl) * \
                (dbar[lt] / dbar[k]) * (dbar[k] - dbar[lt]) / dbar[k] / v_d
            window = idx >= k
            b = did2(lt, k, window & (idx < lt), window & (idx >= lt))
            rows.append({"type": "later vs earlier (already treated)", "treated": label[lt],
                         "control": label[k], "estimate": b, "weight": s})
    table = pd.DataFrame(rows)
    beta = float((table["estimate"] * table["weight"]).sum())
    by_type = {}
    for kind, part in table.groupby("type", sort=True):
        w = part["weight"].sum()
        by_type[kind] = {"weight": float(w),
                         "estimate": float((part["estimate"] * part["weight"]).sum() / w)
                         if w > 0 else float("nan")}
    forbidden = by_type.get("later vs earlier (already treated)", {"weight": 0.0})["weight"]
    warnings = []
    if forbidden > 0:
        warnings.append(f"{forbidden:.0%} of the TWFE weight comes from comparisons that use "
                        "already-treated units as controls; if effects change over time, the "
                        "TWFE estimate is biased (use CallawaySantAnna).")
    return Result(
        name=f"Goodman-Bacon decomposition of the TWFE effect on {outcome}",
        estimate=beta,
        method=("Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD "
                "coefficient (balanced panel, no covariates) into 2×2 comparisons between "
                "timing groups, with weights from cohort sizes and treatment-variance shares; "
                "the weighted sum equals the TWFE coefficient."),
        n=int(n_units * n_t), table=table,
        details={"total_weight": float(table["weight"].sum()),
                 "weight_already_treated_controls": float(forbidden),
                 "by_type": by_type, "n_cohorts": len(treated_cohorts)},
        warnings=warnings, reference="Goodman-Bacon (2021), J. Econometrics 225(2), 254-277")


def plot_goodman_bacon(decomposition: Result, ax: Any = None) -> Figure:
    """Scatter of 2×2 estimates against their weights, coloured by comparison type."""
    from researchkit.plots import PALETTE, new_figure

    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    table = decomposition.table
    for color, (kind, part) in zip(PALETTE, table.groupby("type", sort=True), strict=False):
        ax.scatter(part["weight"], part["estimate"], color=color, label=kind, s=40)
    ax.axhline(decomposition.estimate, color="black", linestyle="--", linewidth=1,
               label=f"TWFE = {decomposition.estimate:.3g}")
    ax.set_xlabel("weight")
    ax.set_ylabel("2×2 DiD estimate")
    ax.set_title("Goodman-Bacon decomposition")
    ax.legend()
    return fig


def twfe_weights(
    df: pd.DataFrame, outcome: str, unit: str, time: str, treatment: str,
) -> Result:
    """Weights of the TWFE coefficient on each treated unit-period's effect.

    de Chaisemartin & D'Haultfœuille (2020, Theorem 1): with ``ε̃_it`` the residual of a
    regression of ``D_it`` on unit and period fixed effects,

        β_TWFE = E[ Σ_{D_it = 1} w_it Δ_it ],   w_it = ε̃_it / Σ_{D_it = 1} ε̃_it

    so effects of treated cells with ``ε̃_it < 0`` (typically early cohorts in late periods)
    enter with **negative** weight. The result reports how many treated cells get negative
    weight, and their total weight. Works with unbalanced panels.
    """
    check_frame(df)
    check_columns(df, outcome=outcome, unit=unit, time=time, treatment=treatment)
    check_unique_unit_time(df, unit, time)
    check_numeric(df, outcome, "outcome")
    d = check_binary(df, treatment, "treatment")
    groups = [pd.factorize(df[unit])[0], pd.factorize(df[time])[0]]
    resid = absorb(d, groups)[:, 0]
    on = d > 0
    if not on.any():
        raise DataError("no treated rows", parameter="treatment", column=treatment)
    w = resid[on] / resid[on].sum()
    neg = w < 0
    cells = pd.DataFrame({unit: df.loc[on, unit].to_numpy(), time: df.loc[on, time].to_numpy(),
                          "weight": w})
    beta = fit_ols(df[outcome].to_numpy(dtype=float), d, ["treatment"],
                   fixed_effects=[df[unit].to_numpy(), df[time].to_numpy()],
                   cov_type="classical").coef[0]
    warnings = []
    if neg.any():
        warnings.append(f"{int(neg.sum())} of {int(on.sum())} treated unit-periods get negative "
                        f"weight (sum {w[neg].sum():.3f}); with heterogeneous effects the TWFE "
                        "coefficient can fall outside the range of the true effects.")
    return Result(
        name="TWFE weights on treated unit-periods",
        estimate=float(beta),
        method=("de Chaisemartin & D'Haultfœuille (2020) weights: residuals of the treatment "
                "on unit and period fixed effects, normalised over treated cells; the TWFE "
                "coefficient is the weighted sum of the cell effects."),
        n=len(df), table=cells,
        details={"n_treated_cells": int(on.sum()), "n_negative": int(neg.sum()),
                 "sum_negative_weights": float(w[neg].sum()),
                 "share_negative": float(neg.mean())},
        warnings=warnings, reference="de Chaisemartin & D'Haultfœuille (2020), AER 110(9)")
