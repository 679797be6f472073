"""The customer simulator: reproducible, and its closed-form truth matches simulated behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.datasets.customers import true_ltv
from researchkit.errors import ParameterError


@pytest.fixture(scope="module")
def sim():
    return ds.simulate_customers(seed=7, scale=0.8)


def test_same_seed_same_data():
    a = ds.simulate_customers(seed=1, scale=0.1, n_months=12)
    b = ds.simulate_customers(seed=1, scale=0.1, n_months=12)
    for key in a.data:
        pd.testing.assert_frame_equal(a.data[key], b.data[key])


def test_tables_fit_together(sim):
    d = sim.data
    first = d["orders"].groupby("customer_id")["order_date"].min()
    customers = d["customers"].set_index("customer_id")
    assert (first.reindex(customers.index) == customers["first_order_date"]).all()
    assert set(d["orders"]["sales_channel"]) == {"web", "app", "marketplace", "store",
                                                 "call_centre"}
    assert 0.5 < d["orders"]["online"].mean() < 0.9  # offline orders included
    paid = set(d["funnel"].query("stage == 'order_paid'")["person_id"])
    recent = customers.index[customers["first_order_date"] >= "2025-10-01"]
    assert paid == set(recent)


def test_closed_form_ltv_matches_simulated_customers(sim):
    """Mean revenue over ages 0..11 of the first year's cohorts vs the closed form."""
    d = sim.data
    orders = d["orders"].merge(d["customers"], on="customer_id")
    orders = orders[orders["first_order_date"] < "2024-01-01"]
    first_month = orders["first_order_date"].dt.to_period("M")
    age = (orders["order_date"].dt.to_period("M") - first_month).apply(lambda x: x.n)
    early = orders[age <= 11]
    n = d["customers"].query("first_order_date < '2024-01-01'").groupby(
        "acquisition_channel").size()
    mean_rev = early.groupby("acquisition_channel")["revenue"].sum() / n
    for ch, value in mean_rev.items():
        expected = true_ltv(ch, 11, p_buy=sim.truth["p_buy"])
        se = 1.5 * expected / np.sqrt(n[ch])  # revenue per customer has a CV near 1.5
        assert abs(value - expected) < 4 * se, ch


def test_cac_and_churn_truth(sim):
    spend = sim.data["spend"].groupby("channel")["spend"].sum()
    new = sim.data["customers"].groupby("acquisition_channel").size()
    for ch, cac in sim.truth["by_channel"]["cac"].dropna().items():
        assert spend[ch] / new[ch] == pytest.approx(cac, rel=0.08)
    theta = sim.truth["theta"]
    chans = sim.data["customers"].set_index("customer_id")["acquisition_channel"]
    for ch, row in sim.truth["by_channel"].iterrows():
        got = theta[chans.index[chans == ch]].mean()
        assert got == pytest.approx(row["mean_churn"], abs=0.03)


def test_simulator_errors():
    with pytest.raises(ParameterError, match="scale"):
        ds.simulate_customers(scale=0)
    with pytest.raises(ParameterError, match="p_buy"):
        ds.simulate_customers(p_buy=1.5)
    with pytest.raises(ParameterError, match="funnel_months"):
        ds.simulate_customers(n_months=6, funnel_months=7)
