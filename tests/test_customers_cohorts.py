"""Cohorts, retention triangles, revenue per cohort and churn, checked by hand on small cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.channels.customers import (
    churn_rates,
    cohort_revenue,
    first_purchases,
    retention_triangle,
)
from researchkit.errors import DataError, ParameterError


@pytest.fixture
def orders():
    # a: Jan (x2, web + store), Feb, Apr     b: Jan, Mar     c: Feb, Feb     d: Mar
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "a", "c", "c", "b", "d", "a"],
        "order_date": ["2024-01-03", "2024-01-20", "2024-01-15", "2024-02-02", "2024-02-10",
                       "2024-02-11", "2024-03-05", "2024-03-30", "2024-04-30"],
        "revenue": [10.0, 5.0, 20.0, 8.0, 7.0, 3.0, 4.0, 50.0, 6.0],
        "channel": ["web", "store", "app", "web", "store", "web", "app", "store", "web"],
    })


def test_retention_triangle_by_hand(orders):
    res = retention_triangle(orders)
    t = res.table
    # Jan cohort {a, b}: age 1 (Feb) a -> 1/2; age 2 (Mar) b -> 1/2; age 3 (Apr) a -> 1/2
    np.testing.assert_allclose(t.loc["2024-01"].to_numpy(), [1, 0.5, 0.5, 0.5])
    # Feb cohort {c}: no later orders; observed up to age 2
    np.testing.assert_allclose(t.loc["2024-02"].to_numpy()[:3], [1, 0, 0])
    assert np.isnan(t.loc["2024-02", 3])
    # Mar cohort {d}: age 1 observed (Apr), no order
    np.testing.assert_allclose(t.loc["2024-03"].to_numpy()[:2], [1, 0])
    assert res.details["at_risk"].loc["2024-01"].tolist() == [2, 2, 2, 2]
    assert res.details["size"].tolist() == [2, 1, 1]
    # pooled age 1: active a (Jan cohort) / at risk a, b, c, d = 1/4
    assert res.estimate["retention_age_1"] == pytest.approx(1 / 4)
    assert res.warnings == []  # data end 2024-04-30 closes April


def test_retention_by_first_order_attribute_pools_ages(orders):
    res = retention_triangle(orders, by="channel")
    t = res.table
    # first orders: a web (Jan), b app (Jan), c store (Feb), d store (Mar)
    assert list(t.index) == ["app", "store", "web"]
    np.testing.assert_allclose(t.loc["store"].to_numpy()[:3], [1, 0, 0])
    assert res.details["at_risk"].loc["store"].tolist()[:3] == [2, 2, 1]
    np.testing.assert_allclose(t.loc["web"].to_numpy(), [1, 1, 0, 1])


def test_first_purchase_ties_take_the_first_row():
    orders = pd.DataFrame({"customer_id": ["x", "x"],
                           "order_date": ["2024-05-01", "2024-05-01"],
                           "category": ["home", "beauty"]})
    fp = first_purchases(orders, by="category")
    assert fp.loc[0, "category"] == "home" and fp.loc[0, "cohort"] == "2024-05"


def test_cohort_revenue_by_hand(orders):
    res = cohort_revenue(orders)
    per = res.details["per_customer"]
    # Jan cohort (2 customers): age0 10+5+20 = 35 -> 17.5; age1 8 -> 4; age2 4 -> 2; age3 6 -> 3
    np.testing.assert_allclose(per.loc["2024-01"].to_numpy(), [17.5, 4, 2, 3])
    np.testing.assert_allclose(res.table.loc["2024-01"].to_numpy(), [17.5, 21.5, 23.5, 26.5])
    assert res.details["revenue"].loc["2024-02", 0] == pytest.approx(10.0)


def test_incomplete_last_period_is_flagged(orders):
    res = retention_triangle(orders.iloc[:-1])  # data now end 2024-03-30
    assert res.warnings and "2024-03" in res.warnings[0]
    assert retention_triangle(orders.iloc[:-1], as_of="2024-02-29").warnings == []


def test_quarterly_periods(orders):
    t = retention_triangle(orders, period="Q").table
    # Q1 cohort {a, b, c, d}; age 1 (Q2): a -> 1/4
    np.testing.assert_allclose(t.loc["2024Q1"].to_numpy(), [1.0, 0.25])


def test_churn_by_hand(orders):
    res = churn_rates(orders, window=1)
    t = res.table
    # active (ordered this month): Jan {a,b}, Feb {a,c}, Mar {b,d}, Apr {a}
    assert t["active_end"].tolist() == [2, 2, 2, 1]
    assert t["new"].tolist() == [2, 1, 1, 0]
    assert t["churned"].tolist() == [0, 1, 2, 2]  # Feb: b; Mar: a, c; Apr: b, d
    assert t["reactivated"].tolist() == [0, 0, 1, 1]  # Mar: b; Apr: a
    assert res.estimate == pytest.approx((1 + 2 + 2) / (2 + 2 + 2))
    two = churn_rates(orders, window=2).table
    # window 2: active Feb {a,b,c}, Mar {a,b,c,d}, Apr {a,b,d}
    assert two["active_end"].tolist() == [2, 3, 4, 3]
    assert two["churned"].tolist() == [0, 0, 0, 1]


def test_cohort_errors(orders):
    with pytest.raises(DataError, match="'cust'"):
        retention_triangle(orders, customer="cust")
    bad = orders.copy()
    bad.loc[2, "order_date"] = None
    with pytest.raises(DataError, match="row 3"):
        retention_triangle(bad)
    bad = orders.copy()
    bad.loc[4, "customer_id"] = None
    with pytest.raises(DataError, match=r"row 5.*customer id"):
        retention_triangle(bad)
    with pytest.raises(ParameterError, match="period"):
        retention_triangle(orders, period="D")
    with pytest.raises(DataError, match="revenue"):
        cohort_revenue(orders.assign(revenue=["x"] * len(orders)))
    with pytest.raises(ParameterError, match="window"):
        churn_rates(orders, window=0)
