"""Placebo checks: fake treatment dates and fake treated units.

* :func:`placebo_in_space` (synthetic control): refit with each donor as the "treated" unit;
  a real effect should make the treated unit's post/pre RMSPE ratio unusually large
  (Abadie, Diamond & Hainmueller 2010, section 3; Abadie 2021, section 4). The permutation
  p-value is the share of units (treated included) whose ratio is at least the treated one's::

      p = #{j : r_j ≥ r_1} / (J + 1),    r = RMSPE_post / RMSPE_pre

  Optionally, placebos whose pre-period fit is much worse than the treated unit's are left out
  (``max_pre_rmspe_ratio``, ADH 2010 use 20, 5 and 2).
* :func:`placebo_in_time` (DiD or synthetic control): move the treatment start back into the
  pre-period and re-estimate on pre-period data only; an "effect" there signals differential
  trends or anticipation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["placebo_in_space", "placebo_in_time", "plot_placebos"]


def placebo_in_space(sc: Any, *, max_pre_rmspe_ratio: float | None = None) -> Result:
    """Placebo-in-space permutation inference for a fitted synthetic control.

    Parameters
    ----------
    sc : SyntheticControl
    max_pre_rmspe_ratio : float, optional
        Drop placebos whose pre-RMSPE exceeds this multiple of the treated unit's.

    Returns
    -------
    Result
        ``estimate`` = the treated unit's RMSPE ratio, ``p_value`` = permutation p-value,
        ``table`` = one row per unit (pre/post RMSPE, ratio, mean post gap, rank) and the
        placebo gap paths in ``details["gaps"]``.
    """
    from researchkit.experiments.causal.synthetic_control import SyntheticControl, simplex_weights

    if not isinstance(sc, SyntheticControl):
        raise ParameterError("expected a fitted SyntheticControl", parameter="sc",
                             got=type(sc).__name__)
    if max_pre_rmspe_ratio is not None and (isinstance(max_pre_rmspe_ratio, bool) or
                                            not max_pre_rmspe_ratio > 0):
        raise ParameterError("invalid cut-off", parameter="max_pre_rmspe_ratio",
                             expected="a positive number, e.g. 5", got=max_pre_rmspe_ratio)
    pre = sc.pre
    pool = sc.donor_pool
    donors = sc.wide[pool].to_numpy()
    rows = [{"unit": "treated", "placebo": False,
             "pre_rmspe": sc.result.details["pre_rmspe"],
             "post_rmspe": sc.result.details["post_rmspe"],
             "mean_post_gap": sc.result.estimate}]
    gaps = {"treated": sc.gaps["gap"].to_numpy()}
    for j, name in enumerate(pool):
        others = np.delete(donors, j, axis=1)
        target = donors[:, j]
        w = simplex_weights(target[pre], others[pre])
        gap = target - others @ w
        gaps[str(name)] = gap
        rows.append({"unit": name, "placebo": True, "pre_rmspe": sc.rmspe(gap[pre]),
                     "post_rmspe": sc.rmspe(gap[~pre]), "mean_post_gap": float(gap[~pre].mean())})
    table = pd.DataFrame(rows)
    table["ratio"] = table["post_rmspe"] / table["pre_rmspe"]
    keep = np.ones(len(table), dtype=bool)
    if max_pre_rmspe_ratio is not None:
        keep = table["pre_rmspe"] <= max_pre_rmspe_ratio * table.loc[0, "pre_rmspe"]
        keep.iloc[0] = True
        keep = keep.to_numpy()
    table["used"] = keep
    used = table[keep]
    r1 = float(table.loc[0, "ratio"])
    p = float((used["ratio"] >= r1).sum() / len(used))
    table["rank"] = table["ratio"].rank(ascending=False, method="min").astype(int)
    cut = "" if max_pre_rmspe_ratio is None else \
        f", placebos with pre-RMSPE above {max_pre_rmspe_ratio:g}× the treated unit's excluded"
    warnings = []
    if len(used) < 20:
        warnings.append(f"Only {len(used)} units in the permutation: the smallest attainable "
                        f"p-value is 1/{len(used)} = {1 / len(used):.3f}.")
    return Result(
        name="Placebo-in-space test (synthetic control)",
        estimate=r1, method=(
            "Permutation test: each donor refitted as a placebo treated unit with the other "
            "donors as its pool; statistic = post/pre RMSPE ratio; p = share of units with a "
            f"ratio at least the treated one's ({len(used)} units{cut})."),
        p_value=p, statistic=r1, statistic_name="RMSPE ratio", n=len(used),
        table=table.set_index("unit"),
        details={"n_placebos": int(len(used) - 1), "min_p_value": 1 / len(used),
                 "gaps": pd.DataFrame(gaps, index=sc.gaps.index)},
        warnings=warnings,
        reference="Abadie, Diamond & Hainmueller (2010), JASA 105(490), 493-505")


def plot_placebos(placebo: Result, ax: Any = None) -> Figure:
    """Gap paths of the treated unit (bold) and of every placebo (grey)."""
    from researchkit.plots import PALETTE, new_figure

    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    gaps = placebo.details["gaps"]
    used = placebo.table["used"]
    for col in gaps.columns:
        if col == "treated" or not used.get(col, used.get(str(col), True)):
            continue
        ax.plot(gaps.index, gaps[col], color="lightgrey", linewidth=1)
    ax.plot(gaps.index, gaps["treated"], color=PALETTE[1], linewidth=2.5, label="treated")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("gap (actual − synthetic)")
    ax.set_title(f"Placebo gaps (permutation p = {placebo.p_value:.3f})")
    ax.legend()
    return fig


def placebo_in_time(design: Any, fake_start: Any) -> Result:
    """Re-estimate a design on pre-period data with a fake treatment start.

    Parameters
    ----------
    design : DifferenceInDifferences (with ``time``) or SyntheticControl
        A fitted design; its data and options are reused.
    fake_start : period value
        The fake start, strictly inside the pre-period.

    Returns
    -------
    Result
        The placebo estimate (should be close to 0), named as a placebo.
    """
    from researchkit.experiments.causal.did import DifferenceInDifferences
    from researchkit.experiments.causal.synthetic_control import SyntheticControl

    if isinstance(design, DifferenceInDifferences):
        if design.time is None:
            raise ParameterError("placebo in time needs a time column", parameter="design",
                                 expected="a DifferenceInDifferences fitted with time=...")
        df = design.data
        t = df[design.time]
        treated_rows = (design._g * design._p) > 0
        start = t[treated_rows].min()
        if not (t.min() < fake_start < start):
            raise ParameterError("fake start must fall inside the pre-period",
                                 parameter="fake_start",
                                 expected=f"a period after {t.min()} and before {start}",
                                 got=fake_start)
        pre = df[(t < start).to_numpy()].copy()
        pre["_placebo_post"] = (pre[design.time] >= fake_start).astype(int)
        res = DifferenceInDifferences(pre, design.outcome, design.treated, "_placebo_post",
                                      unit=design.unit, time=design.time,
                                      cluster=design.cluster, covariates=design.covariates,
                                      ci_level=design.ci_level, bootstrap=design.bootstrap,
                                      seed=design.seed).result
    elif isinstance(design, SyntheticControl):
        if not (design.periods[0] < fake_start < design.start):
            raise ParameterError("fake start must fall inside the pre-period",
                                 parameter="fake_start",
                                 expected=f"a period after {design.periods[0]} and before "
                                 f"{design.start}", got=fake_start)
        wide = design.wide.loc[design.pre]
        long = wide.stack().rename(design.outcome).reset_index()
        long.columns = [design.time, design.unit, design.outcome]
        long["_placebo_d"] = (long[design.unit].isin(design.treated_units)
                              & (long[design.time] >= fake_start)).astype(int)
        res = SyntheticControl(long, design.outcome, design.unit, design.time, "_placebo_d",
                               donors=design.donor_pool).result
    else:
        raise ParameterError("expected a fitted DifferenceInDifferences or SyntheticControl",
                             parameter="design", got=type(design).__name__)
    if res is None:  # pragma: no cover - defensive
        raise DataError("placebo fit failed")
    res.name = f"Placebo in time (fake start {fake_start}): {res.name}"
    res.method = ("Placebo in time: pre-period data only, treatment moved to a fake start; "
                  "an estimate far from 0 signals differential trends or anticipation. "
                  + res.method)
    return res
