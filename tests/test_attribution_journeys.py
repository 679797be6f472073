"""Journeys: touches and conversions cut by lookback window; null journeys kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.channels import Journeys, build_journeys, path_table
from researchkit.errors import DataError, ParameterError


def _touches(rows):
    return pd.DataFrame(rows, columns=["person_id", "timestamp", "channel"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"], format="ISO8601"))


def _convs(rows):
    return pd.DataFrame(rows, columns=["person_id", "timestamp", "value", "kind"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"], format="ISO8601"))


@pytest.fixture
def example() -> Journeys:
    touches = _touches([
        (1, "2026-01-01", "display"),      # 40 days before the order: outside 30 days
        (1, "2026-02-01", "search"),
        (1, "2026-02-05", "email"),
        (1, "2026-02-10 10:00", "store"),  # same time as the order: belongs to it
        (1, "2026-02-20", "sms"),          # after the last order: a null journey
        (1, "2026-02-22", "push"),
        (2, "2026-01-05", "social"),       # never converts: null journey
        (2, "2026-03-01", "social"),       # the null journey spans 30 days before its end
        (3, "2026-01-10", "call_centre"),
    ])
    convs = _convs([
        (1, "2026-02-10 10:00", 120.0, "offline"),
        (3, "2026-01-10 12:00", 40.0, "offline"),
        (3, "2026-01-11", 15.0, "online"),   # a second order with no new touch
    ])
    return build_journeys(touches, convs, kind="kind")


def test_journeys_follow_the_lookback_window_and_keep_null_journeys(example):
    j = example.journeys.set_index("journey_id")
    assert j["path"].tolist() == ["search > email > store", "sms > push", "social",
                                  "call_centre", "(no touch)"]
    assert j["converted"].tolist() == [True, False, False, True, True]
    assert j["value"].tolist() == [120.0, 0.0, 0.0, 40.0, 15.0]
    assert j["kind"].tolist()[:1] == ["offline"] and j["kind"].iloc[4] == "online"
    assert j.loc[0, "days_to_conversion"] == pytest.approx(9 + 10 / 24)
    assert np.isnan(j.loc[1, "days_to_conversion"])
    d = example.details
    assert d["touches_outside_window"] == 2
    assert d["conversions_without_touch"] == 1
    assert d["touches_used"] == 7


def test_touch_table_positions_and_time_before_end(example):
    t = example.touches[example.touches["journey_id"] == 0]
    assert t["position"].tolist() == [0, 1, 2]
    assert t["n_touches"].tolist() == [3, 3, 3]
    assert t["days_before_end"].tolist() == pytest.approx([9 + 10 / 24, 5 + 10 / 24, 0.0])


def test_no_touch_none_drops_untouched_conversions(example):
    touches = _touches([(3, "2026-01-10", "call_centre")])
    convs = _convs([(3, "2026-01-10 12:00", 40.0, "x"), (3, "2026-01-11", 15.0, "y")])
    j = build_journeys(touches, convs, no_touch=None)
    assert j.journeys["conversions"].sum() == 1
    assert j.details["conversions_dropped"] == 1


def test_path_table_counts(example):
    pt = example.path_table()
    assert set(pt.columns) == {"path", "conversions", "nulls", "value", "journeys"}
    assert pt["conversions"].sum() == 3 and pt["nulls"].sum() == 2
    assert pt.loc[pt["path"] == "search > email > store", "value"].item() == 120.0
    collapsed = path_table(pd.DataFrame({"path": ["a > a > b", "a > b"],
                                         "conversions": [1, 0]}), collapse_repeats=True)
    assert collapsed[["path", "conversions", "nulls", "journeys"]].values.tolist() == [
        ["a > b", 1.0, 1.0, 2]]


def test_person_level_costs_and_campaigns():
    touches = _touches([(1, "2026-01-01", "search"), (1, "2026-01-02", "email")]).assign(
        cost=[0.5, 0.01], campaign=["brand", "welcome"])
    convs = _convs([(1, "2026-01-03", 10.0, "online")])
    j = build_journeys(touches, convs, cost="cost", campaign="campaign")
    assert j.journeys["cost"].item() == pytest.approx(0.51)
    assert j.touches["campaign"].tolist() == ["brand", "welcome"]


def test_input_errors():
    t = _touches([(1, "2026-01-01", "search")])
    c = _convs([(1, "2026-01-03", 10.0, "online")])
    with pytest.raises(DataError, match="column 'chan'"):
        build_journeys(t, c, channel="chan")
    with pytest.raises(ParameterError, match="lookback"):
        build_journeys(t, c, lookback="soon")
    with pytest.raises(ParameterError, match="lookback"):
        build_journeys(t, c, lookback="-1D")
    bad = c.assign(value=[-5.0])
    with pytest.raises(DataError, match="row 1, column 'value'"):
        build_journeys(t, bad)
    bad_t = t.assign(timestamp=["not a date"])
    with pytest.raises(DataError, match="timestamps"):
        build_journeys(bad_t, c)
    with pytest.raises(DataError, match="missing value"):
        build_journeys(t.assign(channel=[None]), c)
    with pytest.raises(DataError, match="different types"):
        build_journeys(t, c.assign(person_id=["1"]))


def test_duckdb_pushdown_gives_identical_numbers(tmp_path):
    import researchkit.datasets as ds
    from researchkit.channels import markov_attribution, path_table_sql, shapley_attribution

    paths = ds.simulate_channel_paths(3000, seed=4).data
    rows = []
    for p, c, n, v in paths[["path", "conversions", "nulls", "value"]].itertuples(index=False):
        rows += [(p, 1, v / c if c else 0.0)] * int(c) + [(p, 0, 0.0)] * int(n)
    journeys = pd.DataFrame(rows, columns=["path", "conversions", "value"])
    file = tmp_path / "journeys.parquet"
    journeys.to_parquet(file)
    pushed = path_table_sql(file)
    local = path_table(journeys)
    pd.testing.assert_frame_equal(
        pushed.sort_values("path", ignore_index=True)[["path", "conversions", "nulls"]],
        local.sort_values("path", ignore_index=True)[["path", "conversions", "nulls"]])
    assert pushed["value"].sum() == pytest.approx(journeys["value"].sum())
    a = markov_attribution(file, order=2).table
    b = markov_attribution(journeys, order=2).table
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)
    # a unique-path table in Parquet (with a nulls column) is read as such
    paths.to_parquet(tmp_path / "paths.parquet")
    c = shapley_attribution(str(tmp_path / "paths.parquet")).table
    d = shapley_attribution(paths).table
    pd.testing.assert_frame_equal(c, d, check_exact=False, rtol=1e-10)
    with pytest.raises(DataError, match="file not found"):
        markov_attribution(str(tmp_path / "nope.parquet"))
    with pytest.raises(DataError, match="column 'conv'"):
        path_table_sql(file, conversions="conv")
