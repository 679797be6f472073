"""Synthetic control and placebo-in-space inference.

References: the simplex-constrained weights are checked against scipy's SLSQP on the same
problem and against the Karush-Kuhn-Tucker conditions; exact recovery when the treated unit is
a convex combination of donors; recovery of the known campaign effect on simulated regions;
the permutation p-value against a hand count. (The Abadie, Diamond & Hainmueller 2010
Proposition 99 data are not shipped, so no published-example check.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal import SyntheticControl, simplex_weights
from researchkit.experiments.causal.checks import placebo_in_space, placebo_in_time
from researchkit.experiments.causal.checks.placebo import plot_placebos


def _slsqp(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    j = a.shape[1]
    res = minimize(lambda w: np.sum((b - a @ w) ** 2), np.full(j, 1 / j),
                   jac=lambda w: -2 * a.T @ (b - a @ w), method="SLSQP",
                   bounds=[(0, 1)] * j,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   options={"ftol": 1e-15, "maxiter": 2000})
    return res.x


@pytest.mark.parametrize("seed", range(6))
def test_simplex_weights_are_optimal(seed):
    rng = np.random.default_rng(seed)
    t, j = (30, 12) if seed % 2 else (15, 40)  # more donors than periods too
    a = rng.normal(size=(t, j)) + rng.normal(size=(t, 1)) * 2
    b = rng.normal(size=t)
    w = simplex_weights(b, a)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
    f = np.sum((b - a @ w) ** 2)
    f_ref = np.sum((b - a @ _slsqp(b, a)) ** 2)
    assert f <= f_ref + 1e-9 * max(1.0, f_ref)
    # KKT: gradient equal on the support, not smaller off it
    g = -2 * a.T @ (b - a @ w)
    support = w > 1e-10
    level = g[support].mean()
    assert np.allclose(g[support], level, atol=1e-7 * np.abs(g).max())
    assert (g[~support] >= level - 1e-7 * np.abs(g).max()).all()


def test_exact_recovery_of_a_convex_combination():
    rng = np.random.default_rng(1)
    periods, donors = 40, 8
    a = rng.normal(size=(periods, donors)).cumsum(axis=0) + 50
    true_w = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
    treated = a @ true_w
    treated[30:] += 5.0
    rows = [{"unit": "T", "t": t, "y": treated[t], "d": int(t >= 30)} for t in range(periods)]
    rows += [{"unit": f"D{j}", "t": t, "y": a[t, j], "d": 0} for j in range(donors)
             for t in range(periods)]
    sc = SyntheticControl(pd.DataFrame(rows), "y", "unit", "t", "d")
    assert sc.weights.reindex([f"D{j}" for j in range(donors)]).to_numpy() == \
        pytest.approx(true_w, abs=1e-8)
    assert sc.result.estimate == pytest.approx(5.0, abs=1e-8)
    assert sc.result.details["pre_rmspe"] < 1e-8


@pytest.fixture(scope="module")
def regions():
    sim = ds.regional_sales_panel(n_regions=20, stores_per_region=4, n_weeks=52, n_treated=1,
                                  launch_week=36, effect=8.0, seed=2)
    reg = sim.data.groupby(["region", "week"], as_index=False).agg(
        sales=("sales", "mean"), campaign=("campaign", "max"))
    return sim, reg


def test_recovers_the_campaign_effect_and_placebo_p_value(regions):
    sim, reg = regions
    sc = SyntheticControl(reg, "sales", "region", "week", "campaign")
    assert abs(sc.result.estimate - sim.truth["att"]) < 2.5
    placebo = placebo_in_space(sc)
    table = placebo.table
    # hand count of the permutation p-value
    r1 = table.loc["treated", "ratio"]
    assert placebo.p_value == pytest.approx((table["ratio"] >= r1).sum() / len(table))
    assert placebo.p_value <= 0.1
    assert placebo.details["n_placebos"] == 19
    # the pre-fit cut-off can only remove placebos
    cut = sc.placebo_test(max_pre_rmspe_ratio=2)
    assert cut.n <= placebo.n and cut.table["used"].iloc[0]


def test_no_effect_gives_unremarkable_rank():
    sim = ds.regional_sales_panel(n_regions=20, stores_per_region=4, n_weeks=52, n_treated=1,
                                  launch_week=36, effect=0.0, seed=3)
    reg = sim.data.groupby(["region", "week"], as_index=False).agg(
        sales=("sales", "mean"), campaign=("campaign", "max"))
    sc = SyntheticControl(reg, "sales", "region", "week", "campaign")
    assert placebo_in_space(sc).p_value > 0.05


def test_several_treated_units_are_averaged_and_placebo_in_time(regions):
    sim = ds.regional_sales_panel(n_regions=20, stores_per_region=2, n_weeks=40, n_treated=3,
                                  launch_week=30, effect=6.0, seed=5)
    reg = sim.data.groupby(["region", "week"], as_index=False).agg(
        sales=("sales", "mean"), campaign=("campaign", "max"))
    sc = SyntheticControl(reg, "sales", "region", "week", "campaign")
    assert len(sc.treated_units) == 3
    assert abs(sc.result.estimate - 6.0) < 2.5
    fake = placebo_in_time(sc, 20)
    assert abs(fake.estimate) < 2.0
    assert fake.name.startswith("Placebo in time")


def test_errors(regions):
    _, reg = regions
    with pytest.raises(DataError, match="unbalanced"):
        SyntheticControl(reg.iloc[1:], "sales", "region", "week", "campaign")
    with pytest.raises(DataError, match="no treated unit"):
        SyntheticControl(reg.assign(campaign=0), "sales", "region", "week", "campaign")
    staggered = reg.copy()
    donor = reg.loc[reg.groupby("region")["campaign"].transform("max") == 0, "region"].iloc[0]
    staggered.loc[(staggered["region"] == donor) & (staggered["week"] >= 30), "campaign"] = 1
    with pytest.raises(DataError, match="different periods"):
        SyntheticControl(staggered, "sales", "region", "week", "campaign")
    with pytest.raises(DataError, match="donor"):
        SyntheticControl(reg, "sales", "region", "week", "campaign", donors=["nowhere"])
    sc = SyntheticControl(reg, "sales", "region", "week", "campaign")
    with pytest.raises(ParameterError, match="inside the pre-period"):
        placebo_in_time(sc, 100)
    with pytest.raises(ParameterError, match="SyntheticControl"):
        placebo_in_space("nope")
    with pytest.raises(ParameterError, match="cut-off"):
        placebo_in_space(sc, max_pre_rmspe_ratio=-1)


def test_plots(regions, run_dir):
    _, reg = regions
    sc = SyntheticControl(reg, "sales", "region", "week", "campaign")
    assert sc.plot().axes
    assert plot_placebos(sc.placebo_test()).axes
