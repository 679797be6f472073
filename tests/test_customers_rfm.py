"""RFM scores and segments, segment transitions and the base forecast, funnels in people."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels.customers import (
    RF_SEGMENTS,
    forecast_customer_base,
    funnel,
    rfm_scores,
    rfm_segment,
    score_values,
    segment_transitions,
)
from researchkit.errors import DataError, ParameterError


def test_quintile_scores_by_hand():
    # ten distinct values: two per quintile
    np.testing.assert_array_equal(score_values(np.arange(1, 11), np.arange(1, 11)),
                                  [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    # lower is better (recency): the smallest values score 5
    np.testing.assert_array_equal(
        score_values(np.arange(1, 11), np.arange(1, 11), higher_is_better=False),
        [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])


def test_ties_share_a_score():
    # six one-order customers, then 2, 3, 5, 8 orders: every 1 scores 1; 2 has 6 below -> 4
    freq = np.array([1, 1, 1, 1, 1, 1, 2, 3, 5, 8])
    np.testing.assert_array_equal(score_values(freq, freq), [1] * 6 + [4, 4, 5, 5])
    # against a fixed reference: values outside its range get the end scores
    np.testing.assert_array_equal(score_values([0, 100], freq), [1, 5])


def test_segment_grid_covers_every_cell_once():
    cells = [(r, f) for _, rs, fs in RF_SEGMENTS for r in rs for f in fs]
    assert len(cells) == 25 and len(set(cells)) == 25
    assert list(rfm_segment([5, 5, 1, 3], [5, 1, 1, 3])) == [
        "Champions", "New customers", "Hibernating", "Need attention"]


def test_rfm_values_by_hand():
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c", "c"],
        "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],  # o1 has two lines
        "order_date": ["2024-01-01", "2024-01-01", "2024-06-01", "2024-03-15", "2023-06-01",
                       "2024-06-20"],
        "revenue": [10.0, 5.0, 20.0, 100.0, 7.0, 8.0],
    })
    res = rfm_scores(orders, order_id="order_id", as_of="2024-06-30")
    t = res.table
    assert t.loc["a", "recency_days"] == 29 and t.loc["b", "recency_days"] == 107
    assert t.loc["a", "frequency"] == 2 and t.loc["c", "frequency"] == 2
    assert t.loc["a", "monetary"] == pytest.approx(35.0)
    # three customers, quintiles: score = 1 + floor(5 x customers strictly worse / 3);
    # recency: b (107 days) has 0 worse -> 1, a (29) 1 worse -> 2, c (10) 2 worse -> 4
    assert t["R"].to_dict() == {"a": 2, "b": 1, "c": 4}
    assert t["F"].to_dict() == {"a": 2, "b": 1, "c": 2}  # ties: a and c share a score
    assert t.loc["b", "rfm"] == "114"  # monetary 100 beats 35 and 15
    # a one-year look-back drops c's 2023 order from frequency and monetary, not recency
    lb = rfm_scores(orders, order_id="order_id", as_of="2024-06-30", lookback_days=365).table
    assert lb.loc["c", "frequency"] == 1 and lb.loc["c", "monetary"] == pytest.approx(8.0)
    assert lb.loc["c", "recency_days"] == 10
    # scoring against a reference keeps thresholds fixed
    again = rfm_scores(orders, order_id="order_id", as_of="2024-06-30", reference=t).table
    pd.testing.assert_frame_equal(again, t)


@pytest.fixture(scope="module")
def sim():
    return ds.simulate_customers(seed=5, scale=0.3, n_months=24)


def test_transitions_match_a_direct_crosstab_of_rfm_segments(sim):
    orders = sim.data["orders"]
    snaps = ["2024-06-30", "2024-09-30", "2024-12-31"]
    res = segment_transitions(orders, order_id="order_id", snapshots=snaps)
    # independent route: score each snapshot with rfm_scores against the first snapshot
    first = rfm_scores(orders, order_id="order_id", as_of=snaps[0])
    seg = [first.table["segment"]] + [
        rfm_scores(orders, order_id="order_id", as_of=s,
                   reference=first.table).table["segment"] for s in snaps[1:]]
    moves = pd.concat([pd.DataFrame({"from": seg[j].loc[seg[j].index.intersection(
        seg[j + 1].index)].to_numpy(), "to": seg[j + 1].loc[seg[j].index.intersection(
            seg[j + 1].index)].to_numpy()}) for j in range(2)])
    counts = pd.crosstab(moves["from"], moves["to"])
    got = res.details["counts"]
    for a in counts.index:
        for b in counts.columns:
            assert got.loc[a, b] == counts.loc[a, b]
    assert got.to_numpy().sum() == len(moves)
    np.testing.assert_allclose(res.table.sum(axis=1), 1.0)
    new = [len(seg[j + 1].index.difference(seg[j].index)) for j in range(2)]
    assert res.details["inflow_per_period"] == pytest.approx(np.mean(new))


def test_forecast_equals_the_direct_recursion(sim):
    res = segment_transitions(sim.data["orders"], order_id="order_id")
    fc = forecast_customer_base(res, periods=5)
    P = res.table.to_numpy()
    c = res.details["last_counts"].reindex(res.table.index).to_numpy(float)
    a = res.details["inflow_per_period"]
    m = res.details["inflow_mix"].reindex(res.table.index).to_numpy()
    for t in range(1, 6):
        c = c @ P + a * m
        np.testing.assert_allclose(fc.table.iloc[t, :-1].to_numpy(), c, rtol=1e-10)
    assert fc.estimate == pytest.approx(c.sum())
    # the base grows by the inflow each period (nobody leaves the chain)
    assert fc.table["total"].diff().iloc[1:].to_numpy() == pytest.approx(a)


@pytest.fixture
def events():
    return pd.DataFrame({
        "person_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p3", "p3", "p4"],
        "stage": ["visit", "visit", "view", "visit", "paid", "view", "visit", "paid",
                  "visit"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00",
                                     "2024-01-01 12:00", "2024-01-02 08:00", "2024-01-03 08:00",
                                     "2024-01-04 09:00", "2024-01-04 10:00",
                                     "2024-01-04 11:00", "2024-01-05 08:00"]),
        "channel": ["search", "search", "search", "social", "social", "search", "search",
                    "search", "social"],
    })


def test_funnel_counts_people_not_events(events):
    stages = ["visit", "view", "paid"]
    res = funnel(events, stages=stages)
    t = res.table.set_index("stage")
    # furthest stage: p1 view, p2 paid, p3 paid, p4 visit
    assert t["people"].tolist() == [4, 3, 2]
    assert t["events"].tolist() == [5, 2, 2]
    assert t.loc["paid", "conversion_from_previous"] == pytest.approx(2 / 3)
    assert res.estimate == pytest.approx(0.5)
    # ordered: p2 has no view event; p3 viewed before visiting, so p3 reaches only 'visit'
    ordered = funnel(events, stages=stages, time="timestamp", ordered=True).table
    assert ordered["people"].tolist() == [4, 1, 0]
    by = funnel(events, stages=stages, by="channel").table
    assert by.loc[(by["channel"] == "social"), "people"].tolist() == [2, 1, 1]


def test_funnel_on_simulated_events_recovers_step_probabilities():
    s = ds.simulate_customers(seed=2, scale=0.5)
    res = funnel(s.data["funnel"], stages=s.truth["funnel_stages"], time="timestamp",
                 ordered=True)
    conv = res.table["conversion_from_previous"].to_numpy()[1:]
    np.testing.assert_allclose(conv, list(s.truth["funnel_step"].values()), atol=0.04)
    # the paid-order people are exactly the customers acquired in the funnel months
    assert res.table["people"].iloc[-1] == s.data["funnel"].query(
        "stage == 'order_paid'")["person_id"].nunique()


def test_rfm_and_funnel_errors(events):
    with pytest.raises(DataError, match=r"row 3.*stage not in the funnel"):
        funnel(events, stages=["visit", "paid"])
    with pytest.raises(ParameterError, match="time"):
        funnel(events, stages=["visit", "view", "paid"], ordered=True)
    with pytest.raises(ParameterError, match="stages"):
        funnel(events, stages=["visit"])
    with pytest.raises(DataError, match="'amount'"):
        rfm_scores(events.rename(columns={"person_id": "customer_id",
                                          "timestamp": "order_date"}), value="amount")
    with pytest.raises(DataError, match="two snapshots"):
        segment_transitions(pd.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-01"],
                                          "revenue": [1.0]}))
