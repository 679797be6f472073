"""Rule-based attribution checked by hand on a small case, and conservation over random input.

Hand computations follow the rule definitions in Google Analytics' attribution-model docs and
Kannan, Reinartz & Verhoef (2016), IJRM 33(3), 449-456.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.channels import RULES, build_journeys, rule_based_attribution
from researchkit.errors import ParameterError

PATHS = pd.DataFrame({
    "path": ["search > email > direct > store", "direct", "social > direct",
             "email > email > social", "display"],
    "conversions": [1, 1, 2, 1, 0],
    "value": [100.0, 50.0, 80.0, 30.0, 0.0],
})

HAND = {
    # channel: (conversions, value)
    "first_touch": {"search": (1, 100), "direct": (1, 50), "social": (2, 80), "email": (1, 30)},
    "last_touch": {"store": (1, 100), "direct": (3, 130), "social": (1, 30)},
    "last_non_direct": {"store": (1, 100), "direct": (1, 50), "social": (3, 110)},
    "linear": {"search": (0.25, 25), "email": (0.25 + 2 / 3, 45), "direct": (2.25, 115),
               "store": (0.25, 25), "social": (1 + 1 / 3, 50)},
    "position_based": {"search": (0.4, 40), "email": (0.1 + 0.6, 10 + 18),
                       "direct": (0.1 + 1 + 1, 10 + 50 + 40), "store": (0.4, 40),
                       "social": (1 + 0.4, 40 + 12)},
}


@pytest.mark.parametrize("model", list(HAND))
def test_rules_by_hand(model):
    res = rule_based_attribution(PATHS, model)
    table = res.table.set_index("channel")
    for channel in table.index:
        conv, value = HAND[model].get(channel, (0, 0))
        assert table.loc[channel, "conversions"] == pytest.approx(conv), channel
        assert table.loc[channel, "value"] == pytest.approx(value), channel
    assert table["share"].sum() == pytest.approx(1.0)


def test_linear_ignoring_direct_and_internal_referrals():
    res = rule_based_attribution(PATHS, "linear", ignore=["direct", "internal"])
    got = res.table.set_index("channel")["conversions"]
    # an all-direct journey keeps its conversion (split over its own touches)
    expected = {"search": 1 / 3, "email": 1 / 3 + 2 / 3, "store": 1 / 3, "direct": 1.0,
                "social": 2 + 1 / 3, "display": 0.0}
    for ch, v in expected.items():
        assert got[ch] == pytest.approx(v), ch


def test_position_based_custom_shares_and_two_touch_split():
    paths = pd.DataFrame({"path": ["a > b", "a > b > c"], "conversions": [1, 1]})
    got = rule_based_attribution(paths, "position_based", first=0.3, last=0.5).estimate
    assert got["a"] == pytest.approx(0.3 / 0.8 + 0.3)
    assert got["b"] == pytest.approx(0.5 / 0.8 + 0.2)
    assert got["c"] == pytest.approx(0.5)


def test_time_decay_half_life_by_hand():
    touches = pd.DataFrame({"person_id": [1, 1, 1], "channel": ["a", "b", "c"],
                            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-08",
                                                         "2026-01-15"])})
    convs = pd.DataFrame({"person_id": [1], "timestamp": pd.to_datetime(["2026-01-15"]),
                          "value": [70.0]})
    j = build_journeys(touches, convs)
    got = rule_based_attribution(j, "time_decay", half_life="7D").table.set_index("channel")
    # days before the order 14, 7, 0 -> weights 1/4, 1/2, 1 (sum 7/4)
    assert got["conversions"].tolist() == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert got["value"].tolist() == pytest.approx([10.0, 20.0, 40.0])
    numeric = rule_based_attribution(j, "time_decay", half_life=14).estimate
    assert numeric["a"] == pytest.approx(0.5 / (0.5 + 2 ** -0.5 + 1))


def _random_journeys(seed: int):
    rng = np.random.default_rng(seed)
    n = 300
    touches = pd.DataFrame({
        "person_id": rng.integers(0, 60, size=n),
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(
            rng.uniform(0, 90, size=n), unit="D"),
        "channel": rng.choice(["a", "b", "c", "direct", "e"], size=n),
    })
    m = 40
    convs = pd.DataFrame({
        "person_id": rng.integers(0, 60, size=m),
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(
            rng.uniform(0, 90, size=m), unit="D"),
        "value": rng.gamma(2.0, 30.0, size=m),
    })
    return build_journeys(touches, convs, lookback=f"{rng.integers(5, 40)}D")


@pytest.mark.parametrize("seed", range(6))
def test_every_rule_conserves_conversions_and_value(seed):
    j = _random_journeys(seed)
    total_c = j.journeys["conversions"].sum()
    total_v = j.journeys["value"].sum()
    for model in RULES:
        res = rule_based_attribution(j, model, ignore=["direct"], half_life=3.5)
        assert res.table["conversions"].sum() == pytest.approx(total_c), model
        assert res.table["value"].sum() == pytest.approx(total_v), model
        assert (res.table["conversions"] >= -1e-12).all()
    # a path table gives the same numbers as the Journeys object for positional rules
    for model in ("first_touch", "last_touch", "linear", "position_based"):
        a = rule_based_attribution(j, model).table.set_index("channel")["conversions"]
        b = rule_based_attribution(j.path_table(), model).table.set_index("channel")[
            "conversions"]
        pd.testing.assert_series_equal(a, b.reindex(a.index))


def test_rule_errors():
    with pytest.raises(ParameterError, match="model"):
        rule_based_attribution(PATHS, "u_shape")
    with pytest.raises(ParameterError, match="time decay needs touch times"):
        rule_based_attribution(PATHS, "time_decay")
    with pytest.raises(ParameterError, match="first"):
        rule_based_attribution(PATHS, "position_based", first=0.7, last=0.7)
    with pytest.raises(ParameterError, match="first"):
        rule_based_attribution(PATHS, "position_based", first=1.5)
    j = _random_journeys(0)
    with pytest.raises(ParameterError, match="half_life"):
        rule_based_attribution(j, "time_decay", half_life="weekly")
    with pytest.raises(ParameterError, match="half_life"):
        rule_based_attribution(j, "time_decay", half_life=0)
