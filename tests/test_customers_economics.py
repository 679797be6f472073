"""CAC, LTV, LTV/CAC and payback: by hand on small cases, and recovery on simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels.customers import acquisition_cost, customer_ltv, unit_economics
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result


@pytest.fixture(scope="module")
def sim():
    return ds.simulate_customers(seed=3)


def test_cac_by_hand():
    spend = pd.DataFrame({"month": ["2024-01", "2024-01", "2024-02", "2024-02"],
                          "channel": ["search", "social", "search", "social"],
                          "spend": [100.0, 60.0, 300.0, 0.0]})
    customers = pd.DataFrame({
        "acquisition_channel": ["search", "search", "social", "search", "organic", "search"],
        "first_order_date": ["2024-01-05", "2024-01-31", "2024-01-10", "2024-02-14",
                             "2024-02-01", "2024-03-01"]})  # the March customer is outside
    res = acquisition_cost(spend, customers)
    t = res.table
    assert t.loc["search", "new_customers"] == 3 and t.loc["search", "spend"] == 400
    assert t.loc["search", "cac"] == pytest.approx(400 / 3)
    assert t.loc["social", "cac"] == pytest.approx(60.0)
    assert np.isnan(t.loc["organic", "cac"]) and not t.loc["organic", "paid"]
    assert res.details["blended_paid_cac"] == pytest.approx(460 / 4)
    by = res.details["by_period"].set_index(["channel", "period"])
    assert by.loc[("search", "2024-01"), "cac"] == pytest.approx(50.0)
    assert any("organic" in w for w in res.warnings)


def test_cac_recovers_the_simulated_cost_per_customer(sim):
    res = acquisition_cost(sim.data["spend"], sim.data["customers"])
    truth = sim.truth["by_channel"]["cac"]
    for ch, cac in res.estimate.items():
        assert cac == pytest.approx(truth[ch], rel=0.06), ch


def _ltv_result(horizon, curve, margin=1.0):
    """A hand-made customer_ltv-like result with a known cumulative curve."""
    table = pd.DataFrame({"projected_ltv": [curve[-1]], "ltv_ci_low": [np.nan],
                          "ltv_ci_high": [np.nan]},
                         index=pd.Index(["search"], name="acquisition_channel"))
    curves = pd.DataFrame({"acquisition_channel": "search", "age": np.arange(horizon + 1),
                           "projected_ltv": curve})
    return Result(name="ltv", estimate=None, method="", table=table,
                  details={"curves": curves, "horizon": horizon, "margin": margin})


def test_unit_economics_by_hand():
    ltv = _ltv_result(4, np.array([30.0, 55.0, 75.0, 90.0, 100.0]))
    cac = Result(name="cac", estimate=None, method="",
                 table=pd.DataFrame({"cac": [70.0]}, index=pd.Index(["search"], name="channel")))
    t = unit_economics(ltv, cac, planned_profit=20.0).table
    assert t.loc["search", "ltv_to_cac"] == pytest.approx(100 / 70)
    assert t.loc["search", "payback_periods"] == 2  # cumulative 75 >= 70 at age 2
    assert t.loc["search", "max_cac"] == pytest.approx(80.0)
    assert t.loc["search", "headroom"] == pytest.approx(10.0)
    cac.table.loc["search", "cac"] = 150.0
    res = unit_economics(ltv, cac, planned_profit=0.0)
    assert res.table.loc["search", "payback_periods"] is None or \
        pd.isna(res.table.loc["search", "payback_periods"])
    assert res.warnings


def test_customer_ltv_by_hand():
    """Two customers, monthly: values and ages small enough to follow by hand."""
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b"],
        "order_date": ["2024-01-05", "2024-02-07", "2024-04-01", "2024-01-20", "2024-03-03"],
        "revenue": [10.0, 20.0, 30.0, 40.0, 50.0]})
    res = customer_ltv(orders, n_boot=0, horizon=3, min_customers=1, as_of="2024-04-30")
    row = res.table.loc["all"]
    # ages: a buys at 0, 1, 3; b at 0, 2 -> m0 = (10+40)/2; m = (20+50+30)/3 active cells
    assert row["m0"] == pytest.approx(25.0)
    assert row["m"] == pytest.approx(100 / 3)
    # historical: per-customer value by age 25, 10, 25, 15 -> cumulative at age 3 = 75
    assert row["historical_ltv"] == pytest.approx(75.0)
    curves = res.details["curves"]
    np.testing.assert_allclose(curves["historical_ltv"], [25, 35, 60, 75])
    # projection uses the fitted curve: m0 + m * sum p S(k)
    from researchkit.channels.customers import active_curve

    share = active_curve(np.arange(1, 4), row["p"], row["alpha"], row["beta"])
    assert row["projected_ltv"] == pytest.approx(25 + (100 / 3) * share.sum(), rel=1e-9)
    half = customer_ltv(orders, n_boot=0, horizon=3, min_customers=1, as_of="2024-04-30",
                        margin=0.5, discount=0.1)
    d = 1.1 ** -np.arange(1, 4)
    expected = 0.5 * (25 + (100 / 3) * (active_curve(np.arange(1, 4), half.table.loc[
        "all", "p"], half.table.loc["all", "alpha"], half.table.loc["all", "beta"]) * d).sum())
    assert half.estimate == pytest.approx(expected, rel=1e-9)


@pytest.mark.slow
def test_projected_ltv_recovers_the_true_ltv_by_channel(sim):
    orders = sim.data["orders"].merge(sim.data["customers"][["customer_id",
                                                             "acquisition_channel"]])
    res = customer_ltv(orders, by="acquisition_channel", horizon=36, n_boot=40, seed=1,
                       as_of="2025-12-31")
    truth = sim.truth["by_channel"]["ltv_36"]
    t = res.table
    covered = 0
    for ch in t.index:
        assert t.loc[ch, "projected_ltv"] == pytest.approx(truth[ch], rel=0.08), ch
        covered += t.loc[ch, "ltv_ci_low"] <= truth[ch] <= t.loc[ch, "ltv_ci_high"]
    assert covered >= len(t) - 1  # 95% intervals: at most one miss among six channels
    # the fitted share of customers buying at each age follows the true p * S(k) (p alone
    # trades off against the churn parameters; the curve is what the data identify)
    curves = res.details["curves"]
    true_curves = sim.truth["curves"]
    for ch in t.index:
        fit = curves.loc[curves["acquisition_channel"] == ch, "fitted_active_share"]
        true = true_curves.loc[true_curves["channel"] == ch, "active_share"].iloc[:37]
        # three binomial standard errors of a share (worst case p = 1/2) for this group
        tol = 3 * np.sqrt(0.25 / t.loc[ch, "customers"])
        np.testing.assert_allclose(fit.to_numpy(), true.to_numpy(), atol=tol)


def test_economics_errors(sim):
    with pytest.raises(DataError, match="'budget'"):
        acquisition_cost(sim.data["spend"], sim.data["customers"], value="budget")
    bad = sim.data["spend"].copy()
    bad.loc[3, "spend"] = -5
    with pytest.raises(DataError, match=r"row 4.*negative"):
        acquisition_cost(bad, sim.data["customers"])
    with pytest.raises(ParameterError, match="margin"):
        customer_ltv(sim.data["orders"], margin=0.0)
    with pytest.raises(ParameterError, match="discount"):
        customer_ltv(sim.data["orders"], discount=1.5)
    with pytest.raises(ParameterError, match="horizon"):
        customer_ltv(sim.data["orders"], horizon=0)
