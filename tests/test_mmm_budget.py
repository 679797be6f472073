"""Response curves and the budget optimiser on a fitted marketing-mix model."""

from __future__ import annotations

import numpy as np
import pytest

import researchkit.datasets as ds
from researchkit.channels.mmm import fit_mmm, optimize_budget, response_curves
from researchkit.channels.mmm.budget import _responses
from researchkit.errors import ParameterError


@pytest.fixture(scope="module")
def res():
    sim = ds.simulate_marketing_mix(seed=2)
    return fit_mmm(sim.data["weekly"], y="sales", channels=sim.truth["channels"],
                   controls=sim.truth["controls"], n_boot=12, n_candidates=64, seed=2)


def test_response_curve_at_the_current_budget_is_the_decomposed_contribution(res):
    curves = response_curves(res, n_points=11)
    cur = curves[curves["current"]].set_index("channel")
    np.testing.assert_allclose(cur.loc[res.table.index, "contribution"],
                               res.table["contribution"], rtol=1e-10)
    np.testing.assert_allclose(cur.loc[res.table.index, "mroi"], res.table["mroi"], rtol=1e-8)
    for _, d in curves.groupby("channel"):
        assert d["contribution"].iloc[0] == 0.0
        assert np.all(np.diff(d["contribution"]) >= -1e-9)  # more budget, never less sales
        assert (d["contribution_ci_low"] <= d["contribution_ci_high"] + 1e-9).all()


def test_optimiser_respects_total_and_bounds_and_beats_current(res):
    out = optimize_budget(res, relative_bounds=(0.7, 1.3))
    t = out.table
    total = res.model.X.sum()
    assert t["optimal_spend"].sum() == pytest.approx(total, rel=1e-9)
    assert (t["optimal_spend"] >= t["lower_bound"] - 1e-6).all()
    assert (t["optimal_spend"] <= t["upper_bound"] + 1e-6).all()
    assert out.estimate > 0
    assert out.details["optimal_sales_from_media"] > out.details["current_sales_from_media"]
    assert out.ci is not None and out.ci[0] <= out.ci[1]
    # optimality: marginal ROIs equal for channels strictly inside their bounds, and no
    # channel at its upper bound has a lower marginal ROI than one at its lower bound
    inside = (t["optimal_spend"] > t["lower_bound"] * 1.001) & \
        (t["optimal_spend"] < t["upper_bound"] * 0.999)
    if inside.sum() >= 2:
        m = t.loc[inside, "optimal_mroi"]
        assert m.max() - m.min() < 0.05 * m.mean()
    at_hi = t["optimal_spend"] >= t["upper_bound"] * 0.999
    at_lo = t["optimal_spend"] <= t["lower_bound"] * 1.001
    if at_hi.any() and at_lo.any():
        assert t.loc[at_hi, "optimal_mroi"].min() >= t.loc[at_lo, "optimal_mroi"].max() - 0.02


def test_no_random_feasible_allocation_beats_the_optimum(res):
    """Brute-force check: 300 random allocations with the same total and bounds."""
    out = optimize_budget(res, relative_bounds=(0.5, 1.5))
    t = out.table
    model = res.model
    S0 = t["current_spend"].to_numpy()
    lo, hi, total = t["lower_bound"].to_numpy(), t["upper_bound"].to_numpy(), S0.sum()
    rng = np.random.default_rng(0)
    idx = np.arange(len(S0))
    best = t["optimal_contribution"].sum()
    for _ in range(300):
        S = lo + rng.dirichlet(np.ones(len(S0))) * (total - lo.sum())
        if np.any(S > hi):
            continue
        assert _responses(model, idx, S / S0, 0).sum() <= best + 1e-6 * best


def test_budget_window_and_explicit_bounds(res):
    out = optimize_budget(res, last_n=26, total=None, bounds={"tv": (0.0, 0.0)},
                          relative_bounds=(0.0, 3.0))
    t = out.table
    assert t.loc["tv", "optimal_spend"] == 0.0
    assert t["current_spend"].sum() == pytest.approx(res.model.X[-26:].sum())
    assert t["optimal_spend"].sum() == pytest.approx(t["current_spend"].sum(), rel=1e-9)
    assert "current_is_feasible" in out.details and not out.details["current_is_feasible"]


def test_budget_errors(res):
    with pytest.raises(ParameterError, match="cannot be met"):
        optimize_budget(res, total=res.model.X.sum() * 2, relative_bounds=(0.5, 1.5))
    with pytest.raises(ParameterError, match="unknown channel"):
        optimize_budget(res, bounds={"radio": (0, 1)})
    with pytest.raises(ParameterError, match="bounds"):
        optimize_budget(res, bounds={"tv": (5.0, 1.0)})
    with pytest.raises(ParameterError, match="last_n"):
        optimize_budget(res, last_n=0)
    with pytest.raises(ParameterError, match="total"):
        optimize_budget(res, total=-5.0)
    with pytest.raises(ParameterError, match="channels"):
        response_curves(res, channels=["radio"])
    with pytest.raises(ParameterError, match="n_points"):
        response_curves(res, n_points=1)
