"""Sufficient statistics: pandas and DuckDB give identical numbers; errors are clear."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from researchkit.datasets import ab_test_events, ab_test_users
from researchkit.errors import DataError, ParameterError
from researchkit.experiments import (
    GroupStats,
    SufficientStats,
    aggregate,
    aggregation_sql,
    rollup_events,
)
from researchkit.experiments.statistics import ColumnSpec

COLUMNS = ["converted", "revenue", "sessions", "pre_revenue", "orders"]
PAIRS = [("converted", "converted"), ("revenue", "revenue"), ("revenue", "sessions"),
         ("sessions", "sessions"), ("pre_revenue", "revenue"), ("pre_revenue", "pre_revenue"),
         ("orders", "sessions"), ("orders", "orders")]


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return ab_test_users(n=30_000, seed=11, arms=("control", "b", "c")).data


@pytest.fixture(scope="module")
def parquet(users, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("agg") / "users.parquet"
    users.to_parquet(path)
    return str(path)


def _kw(**extra):
    return dict(arm="arm", columns=COLUMNS, pairs=PAIRS, decimals=2, **extra)


@pytest.mark.parametrize("segments", [(), ("device",), ("device", "visitor_type")])
def test_pandas_and_duckdb_parquet_are_identical(users, parquet, segments):
    a = aggregate(users, segments=segments, **_kw())
    b = aggregate(parquet, segments=segments, **_kw())
    assert a.exact and b.exact
    assert a == b  # exact integer sums: bit-identical, not approximately equal
    assert list(a.groups) == list(b.groups)
    for key in a.groups:
        ga, gb = a.groups[key], b.groups[key]
        assert ga.n == gb.n and ga.sums == gb.sums and ga.cross == gb.cross
        assert all(type(v) is int for v in [*ga.sums.values(), *ga.cross.values()])
        assert ga.var("revenue") == gb.var("revenue")  # same derived moments, to the bit


def test_duckdb_relation_and_dataframe_agree(users):
    rel = duckdb.from_df(users)
    assert aggregate(rel, segments=["device"], **_kw()) == \
        aggregate(users, segments=["device"], **_kw())


def test_sums_match_pandas_groupby_exactly(users):
    st = aggregate(users, **_kw())
    cents = np.rint(users["revenue"] * 100).astype("int64")
    for arm, grp in users.groupby("arm", observed=True):
        g = st.group(arm)
        assert g.n == len(grp)
        assert g.sums["converted"] == int(grp["converted"].sum())
        assert g.sums["revenue"] == int(cents[grp.index].sum())
        assert g.cross[("revenue", "revenue")] == int((cents[grp.index] ** 2).sum())
        assert g.cross[("revenue", "sessions")] == \
            int((cents[grp.index] * grp["sessions"].astype("int64")).sum())
        # moments against numpy (float64, two-pass) on the raw data
        assert g.mean("revenue") == pytest.approx(grp["revenue"].mean(), rel=1e-13)
        assert g.var("revenue") == pytest.approx(grp["revenue"].var(ddof=1), rel=1e-12)
        assert g.cov("revenue", "sessions") == pytest.approx(
            np.cov(grp["revenue"], grp["sessions"])[0, 1], rel=1e-11)


def test_float_columns_agree_within_the_summation_error_bound(users, parquet):
    """Without declared decimals a float column is summed in float64 (numpy pairwise in pandas,
    compensated ``fsum`` in DuckDB). Pairwise summation of n terms has error at most
    ``γ_{⌈log2 n⌉+1} Σ|x|`` (Higham 2002, Accuracy and Stability of Numerical Algorithms, §4.2),
    fsum at most ``2u|S| + O(n u²) Σ|x|``; the two results are within the sum of the bounds."""
    kw = dict(arm="arm", columns=["pre_revenue", "sessions"],
              pairs=[("pre_revenue", "pre_revenue"), ("pre_revenue", "sessions")])
    a = aggregate(users, **kw)
    b = aggregate(parquet, **kw)
    assert not a.exact and a.specs["pre_revenue"].kind == "float"
    u = 2.0**-53
    for arm, grp in users.groupby("arm", observed=True):
        n = len(grp)
        gamma = (math.ceil(math.log2(n)) + 1) * u / (1 - (math.ceil(math.log2(n)) + 1) * u)
        x = grp["pre_revenue"].to_numpy()
        s = grp["sessions"].to_numpy()
        for got_a, got_b, terms in [
            (a.group(arm).sums["pre_revenue"], b.group(arm).sums["pre_revenue"], x),
            (a.group(arm).cross[("pre_revenue", "pre_revenue")],
             b.group(arm).cross[("pre_revenue", "pre_revenue")], x * x),
            (a.group(arm).cross[("pre_revenue", "sessions")],
             b.group(arm).cross[("pre_revenue", "sessions")], x * s),
        ]:
            bound = (gamma + 2 * u + n * u * u) * np.abs(terms).sum() + 2 * u * abs(got_b)
            assert abs(got_a - got_b) <= bound
        # integer columns stay exact even when other columns are floats
        assert a.group(arm).sums["sessions"] == b.group(arm).sums["sessions"]


def test_large_integers_are_summed_exactly_without_overflow(tmp_path):
    rng = np.random.default_rng(0)
    n = 50_000
    big = rng.integers(2**40, 2**41, n)            # squares exceed int64 when summed
    huge = rng.integers(2**52, 2**53, n // 10)      # products overflow int64 per element
    df = pd.DataFrame({"arm": rng.choice(["a", "b"], n), "x": big})
    st = aggregate(df, arm="arm", columns=["x"])
    for arm, grp in df.groupby("arm"):
        vals = [int(v) for v in grp["x"]]
        assert st.group(arm).sums["x"] == sum(vals)
        assert st.group(arm).cross[("x", "x")] == sum(v * v for v in vals)
    df2 = pd.DataFrame({"arm": rng.choice(["a", "b"], n // 10), "y": huge})
    st2 = aggregate(df2, arm="arm", columns=["y"])
    path = tmp_path / "huge.parquet"
    df2.to_parquet(path)
    st3 = aggregate(str(path), arm="arm", columns=["y"])  # DuckDB retries in HUGEINT
    for arm, grp in df2.groupby("arm"):
        vals = [int(v) for v in grp["y"]]
        assert st2.group(arm).cross[("y", "y")] == sum(v * v for v in vals)
        assert st3.group(arm).cross[("y", "y")] == sum(v * v for v in vals)


def test_many_groups_use_the_bincount_path_and_stay_exact(users):
    st = aggregate(users, segments=["device", "visitor_type", "first_day"], **_kw())
    assert len(st.groups) > 4
    merged = st.overall()
    assert merged == aggregate(users, **_kw()).overall()


def test_boolean_and_decimal_object_columns():
    from decimal import Decimal

    df = pd.DataFrame({"arm": ["a", "a", "b", "b"], "flag": [True, False, True, True],
                       "amount": [Decimal("1.25"), Decimal("0.10"), Decimal("3.00"),
                                  Decimal("2.5")]})
    st = aggregate(df, arm="arm", columns=["flag", "amount"])
    assert st.specs["amount"] == ColumnSpec("fixed", 2)
    assert st.group("a").sums == {"flag": 1, "amount": 135}
    assert st.group("b").mean("amount") == 2.75


def test_rollup_of_events_gives_back_the_user_table(tmp_path):
    sim = ab_test_events(n=2_000, seed=4)
    events, users = sim.data, sim.truth["users"]
    spec = {"sessions": ("count", None, {"event": "session"}),
            "orders": ("count", None, {"event": "purchase"}),
            "revenue": ("sum", "revenue", {"event": "purchase"}),
            "converted": ("any", None, {"event": "purchase"})}
    u_pd = rollup_events(events, metrics=spec, attributes=["device"],
                         decimals={"revenue": 2})
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    rel = rollup_events(str(path), metrics=spec, attributes=["device"], decimals={"revenue": 2})
    u_db = rel.df()
    ref = users.set_index("user_id").loc[u_pd["user_id"]]
    for col in ("sessions", "orders", "revenue", "converted"):
        assert (u_pd[col].to_numpy() == ref[col].to_numpy()).all(), col
        assert (u_db[col].to_numpy() == u_pd[col].to_numpy()).all(), col
    kw = dict(arm="arm", columns=["sessions", "revenue", "converted"], decimals=2,
              segments=["device"])
    # events -> users -> arm statistics as one DuckDB query, equal to the pandas path
    assert aggregate(rel, **kw) == aggregate(u_pd, **kw) == aggregate(users, **kw)


def test_rollup_rejects_units_in_two_arms():
    ev = pd.DataFrame({"user_id": [1, 1, 2], "arm": ["a", "b", "a"], "event": ["s"] * 3})
    with pytest.raises(DataError, match="more than one arm"):
        rollup_events(ev, metrics={"n": ("count",)})
    with pytest.raises(DataError, match="more than one arm"):
        rollup_events(duckdb.from_df(ev), metrics={"n": ("count",)})
    ev2 = pd.DataFrame({"user_id": [1, 1], "arm": ["a", "a"], "device": ["m", "d"]})
    with pytest.raises(DataError, match="changes within a unit"):
        rollup_events(ev2, metrics={"n": ("count",)}, attributes=["device"])
    with pytest.raises(ParameterError, match="unknown rollup function"):
        rollup_events(ev2, metrics={"n": ("median", "x")})


def test_sql_is_generated_in_one_place():
    sql = aggregation_sql("events", arm="arm", segments=["device"],
                          columns={"x": ColumnSpec("fixed", 2), "k": ColumnSpec("int")},
                          pairs=[("k", "x")], sql_types={"x": "DOUBLE", "k": "INTEGER"})
    assert "GROUP BY k0, k1" in sql and "round(" in sql and "max(abs(" in sql


def test_from_frame_round_trip(users):
    st = aggregate(users, segments=["device"], **_kw())
    back = SufficientStats.from_frame(st.to_frame(), arm="arm", segments=["device"],
                                      decimals={"revenue": 2, "pre_revenue": 2})
    assert back == st


def test_group_stats_merge_and_moments():
    g1 = GroupStats(3, {"x": 6}, {("x", "x"): 14})
    g2 = GroupStats(2, {"x": 9}, {("x", "x"): 41})
    g = g1 + g2
    assert (g.n, g.sums["x"], g.cross[("x", "x")]) == (5, 15, 55)
    assert g.var("x") == pytest.approx(np.var([1, 2, 3, 4, 5], ddof=1))


# -- errors --------------------------------------------------------------------------------
def test_missing_values_are_reported_with_their_row(users, tmp_path):
    df = users.head(100).copy()
    df.loc[17, "revenue"] = np.nan
    with pytest.raises(DataError, match=r"row 17, column 'revenue'.*missing"):
        aggregate(df, **_kw())
    path = tmp_path / "nan.parquet"
    df.to_parquet(path)
    with pytest.raises(DataError, match="revenue"):
        aggregate(str(path), **_kw())


def test_more_decimals_than_declared_is_an_error_not_rounding(users, tmp_path):
    df = users.head(50).copy()
    df.loc[3, "revenue"] = 12.345
    with pytest.raises(DataError, match=r"row 3, column 'revenue'.*more than 2 decimal"):
        aggregate(df, **_kw())
    path = tmp_path / "dec.parquet"
    df.to_parquet(path)
    with pytest.raises(DataError, match="revenue"):
        aggregate(str(path), **_kw())


def test_bad_inputs_raise_clear_errors(users, tmp_path):
    with pytest.raises(DataError, match="not found"):
        aggregate(users, arm="arm", columns=["revnue"])
    with pytest.raises(DataError, match="file not found"):
        aggregate(str(tmp_path / "nope.parquet"), arm="arm", columns=["revenue"])
    with pytest.raises(DataError, match="not numeric"):
        aggregate(users.assign(s="x"), arm="arm", columns=["s"])
    with pytest.raises(ParameterError, match="decimals"):
        aggregate(users, arm="arm", columns=["revenue"], decimals={"revnue": 2})
    with pytest.raises(ParameterError, match="decimals"):
        aggregate(users, arm="arm", columns=["revenue"], decimals=12)
    with pytest.raises(ParameterError, match="unsupported data"):
        aggregate(42, arm="arm", columns=["revenue"])
    df = users.head(20).copy()
    df["arm"] = df["arm"].astype(object)
    df.loc[5, "arm"] = None
    with pytest.raises(DataError, match=r"row 5.*without an arm"):
        aggregate(df, arm="arm", columns=["revenue"], decimals=2)
    with pytest.raises(DataError, match="non-finite"):
        aggregate(users.head(10).assign(z=np.inf), arm="arm", columns=["z"])
    with pytest.raises(ParameterError, match="also the arm"):
        aggregate(users, arm="arm", columns=["arm"])


def test_chunked_numpy_engine_is_exact_and_reports_global_rows(users, parquet, monkeypatch):
    from researchkit.experiments import aggregation

    monkeypatch.setattr(aggregation, "CHUNK_ROWS", 4096)  # many chunks
    chunked = aggregate(users, segments=["device"], **_kw())
    assert chunked == aggregate(parquet, segments=["device"], **_kw())
    df = users.copy()
    df.loc[20_000, "revenue"] = 1.005  # in the 5th chunk
    with pytest.raises(DataError, match=r"row 20000, column 'revenue'"):
        aggregate(df, **_kw())


def test_decimal_columns_in_parquet_are_exact_in_both_engines(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2)
    cents = rng.integers(0, 100_000, 5_000)
    amounts = [decimal.Decimal(int(c)).scaleb(-2) for c in cents]
    table = pa.table({"arm": rng.choice(["a", "b"], 5_000),
                      "amount": pa.array(amounts, pa.decimal128(12, 2)),
                      "n": rng.integers(0, 5, 5_000).astype(np.int8)})
    path = tmp_path / "dec.parquet"
    pq.write_table(table, path)
    kw = dict(arm="arm", columns=["amount", "n"],
              pairs=[("amount", "amount"), ("amount", "n"), ("n", "n")])
    db = aggregate(str(path), **kw)
    pdf = aggregate(pd.read_parquet(path), **kw)
    assert db.specs["amount"] == ColumnSpec("fixed", 2) == pdf.specs["amount"]
    assert db == pdf
    arm = table.column("arm").to_numpy(zero_copy_only=False)
    assert db.group("a").sums["amount"] == int(cents[arm == "a"].sum())


def test_integer_products_widen_on_overflow(tmp_path):
    """INTEGER × INTEGER overflows 32 bits in SQL: the query is re-run with BIGINT factors
    (DuckDB raises on overflow, it never wraps); TINYINT factors are widened up front."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    x = np.full(1000, 100_000, dtype=np.int32)
    t = np.full(1000, 120, dtype=np.int8)
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"arm": ["a", "b"] * 500, "x": x, "t": t}), path)
    st = aggregate(str(path), arm="arm", columns=["x", "t"])
    assert st.group("a").cross[("x", "x")] == 500 * 100_000**2
    assert st.group("a").cross[("t", "t")] == 500 * 120 * 120


def test_duckdb_engine_on_a_dataframe(users):
    assert aggregate(users, engine="duckdb", segments=["device"], **_kw()) == \
        aggregate(users, segments=["device"], **_kw())
    with pytest.raises(ParameterError, match="engine"):
        aggregate(users, engine="spark", **_kw())
