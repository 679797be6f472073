"""analyze(): SRM first, corrections with their scope, segments; recovery of known effects;
the A/B simulators."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets import ab_test_users, write_ab_test_parquet
from researchkit.errors import ParameterError
from researchkit.experiments import (
    Mean,
    Proportion,
    Ratio,
    SampleRatioMismatchWarning,
    adjust_pvalues,
    aggregate,
    analyze,
    compare_arms,
)

METRICS = {"conversion": Proportion("converted"),
           "revenue": Mean("revenue", covariate="pre_revenue"),
           "revenue per session": Ratio("revenue", "sessions")}


@pytest.fixture(scope="module")
def three_arms() -> tuple[pd.DataFrame, dict]:
    sim = ab_test_users(n=60_000, seed=5, arms=("control", "b", "c"),
                        conversion_lift=[0.0, 0.25], aov_lift=[0.0, 0.1],
                        device_lift={"desktop": 0.0, "mobile": 2.0, "tablet": 1.0})
    return sim.data, sim.truth


def test_analyze_table_and_correction_scope(three_arms):
    data, _ = three_arms
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleRatioMismatchWarning)
        res = analyze(data, METRICS, decimals=2, correction="holm")
    assert len(res.table) == 6  # 3 metrics x 2 treatment arms
    assert res.table["p_adjusted"].tolist() == pytest.approx(
        adjust_pvalues(res.table["p_value"].tolist(), "holm")[0])
    assert "Holm" in res.details["correction"] and "family of 6 tests" in \
        res.details["correction"]
    assert res.method.startswith("SRM check first")
    assert not res.srm.mismatch and not res.warnings
    # each row is the two-arm comparison
    st = aggregate(data, arm="arm", columns=["revenue", "pre_revenue"],
                   pairs=METRICS["revenue"].pairs, decimals=2)
    one = compare_arms(st, METRICS["revenue"], treatment="c")
    row = res.table[(res.table.metric == "revenue") & (res.table.treatment == "c")].iloc[0]
    assert row["p_value"] == pytest.approx(one.p_value, rel=1e-12)
    assert row["variance_reduction"] > 0.05
    bh = analyze(res.stats, METRICS, correction="fdr_bh")
    assert "Benjamini" in bh.details["correction"]


def test_segments_are_their_own_family(three_arms):
    data, _ = three_arms
    res = analyze(data, {"conversion": Proportion("converted")}, segments=["device"])
    seg = res.segments["device"]
    assert len(seg) == 3 * 2
    assert seg["p_adjusted"].tolist() == pytest.approx(
        adjust_pvalues(seg["p_value"].tolist(), "holm")[0])
    assert "'device' breakdown" in res.method
    # the simulated effect of arm c sits on mobile (x2) and tablet, not desktop
    c = seg[seg.treatment == "c"].set_index("value")["relative"]
    assert c["mobile"] > c["desktop"]
    assert res.segment_srm is not None and not res.segment_srm["mismatch"].any()


def test_srm_is_reported_first_and_loudly():
    sim = ab_test_users(n=40_000, seed=9, srm_fault=0.06)
    with pytest.warns(SampleRatioMismatchWarning):
        res = analyze(sim.data, {"conversion": Proportion("converted")}, segments=["device"])
    assert res.srm.mismatch and res.details["srm_mismatch"]
    assert res.warnings[0].startswith("SAMPLE RATIO MISMATCH")
    bad = res.segment_srm.set_index("value")["mismatch"]
    assert bool(bad["mobile"]) and not bad["desktop"]
    html = res._repr_html_()
    assert html.index("SAMPLE RATIO MISMATCH") < html.index("Method")


@pytest.mark.slow
def test_known_effects_are_recovered():
    """Large simulated test: every estimate lies within 4 standard errors of the truth
    (a 4-sigma miss has probability 6e-5 per estimate)."""
    sim = ab_test_users(n=400_000, seed=12, conversion_lift=0.08, aov_lift=0.05,
                        sessions_lift=0.1)
    res = analyze(sim.data, {"conversion": Proportion("converted"),
                             "revenue": Mean("revenue"),
                             "revenue per session": Ratio("revenue", "sessions"),
                             "sessions": Mean("sessions")}, decimals=2)
    t = sim.truth
    truth = {"conversion": t["conversion_difference"]["treatment"],
             "revenue": t["revenue_difference"]["treatment"],
             "revenue per session": t["revenue_per_session"]["treatment"]
             - t["revenue_per_session"]["control"],
             "sessions": t["sessions"]["treatment"] - t["sessions"]["control"]}
    for _, row in res.table.iterrows():
        assert abs(row["difference"] - truth[row["metric"]]) < 4 * row["std_error"], row
        assert abs(row["control_value"] - {
            "conversion": t["conversion"]["control"], "revenue": t["revenue"]["control"],
            "revenue per session": t["revenue_per_session"]["control"],
            "sessions": t["sessions"]["control"]}[row["metric"]]) < 4 * row["std_error"]


def test_analyze_on_parquet_equals_in_memory(tmp_path, three_arms):
    data, _ = three_arms
    path = tmp_path / "users.parquet"
    data.to_parquet(path)
    a = analyze(data, METRICS, decimals=2, segments=["visitor_type"])
    b = analyze(str(path), METRICS, decimals=2, segments=["visitor_type"])
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    pd.testing.assert_frame_equal(a.segments["visitor_type"], b.segments["visitor_type"],
                                  check_exact=True)


def test_analyze_errors(three_arms):
    data, _ = three_arms
    with pytest.raises(ParameterError, match="metrics"):
        analyze(data, {"x": "converted"})
    with pytest.raises(ParameterError, match="correction"):
        analyze(data, METRICS, decimals=2, correction="tukey")
    with pytest.raises(ParameterError, match="only one arm"):
        analyze(data[data.arm == "b"].assign(arm="b"), {"c": Proportion("converted")})


# -- simulators -----------------------------------------------------------------------------
def test_simulator_is_deterministic_and_documents_its_truth():
    a = ab_test_users(n=3000, seed=1)
    b = ab_test_users(n=3000, seed=1)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data.equals(ab_test_users(n=3000, seed=2).data)
    assert a.truth["split"] == {"control": 0.5, "treatment": 0.5}
    assert a.truth["revenue_lift"]["treatment"] == pytest.approx(
        a.truth["conversion_lift"]["treatment"])  # no AOV lift by default
    assert set(a.data.columns) >= {"user_id", "arm", "device", "converted", "revenue",
                                   "sessions", "pre_revenue", "first_day"}
    with pytest.raises(ParameterError, match="split"):
        ab_test_users(n=100, split=[1, 0])
    with pytest.raises(ParameterError, match="srm_fault"):
        ab_test_users(n=100, srm_fault=1.5)


@pytest.mark.slow
def test_simulator_truth_matches_large_samples():
    sim = ab_test_users(n=1_500_000, seed=3)
    g = sim.data.groupby("arm", observed=True)
    conv, rev = g["converted"].mean(), g["revenue"].mean()
    for arm in ("control", "treatment"):
        n = int(g.size()[arm])
        se_c = np.sqrt(conv[arm] * (1 - conv[arm]) / n)
        se_r = g["revenue"].std()[arm] / np.sqrt(n)
        assert abs(conv[arm] - sim.truth["conversion"][arm]) < 4 * se_c
        assert abs(rev[arm] - sim.truth["revenue"][arm]) < 4 * se_r


def test_parquet_writer_in_chunks(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "big.parquet"
    truth = write_ab_test_parquet(path, 25_000, seed=3, chunk_rows=10_000)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 25_000 and meta.num_row_groups == 3
    st = aggregate(str(path), arm="arm", columns=["converted", "revenue", "sessions"],
                   decimals=2)
    df = pd.read_parquet(path)
    assert st == aggregate(df, arm="arm", columns=["converted", "revenue", "sessions"],
                           decimals=2)
    assert truth["rows"] == 25_000 and set(st.arms) == {"control", "treatment"}
    again = tmp_path / "again.parquet"
    write_ab_test_parquet(again, 25_000, seed=3, chunk_rows=10_000)
    assert pd.read_parquet(again).equals(df)


def test_results_are_json_safe(three_arms):
    import json

    from researchkit.experiments import compare_means

    data, _ = three_arms
    res = analyze(data, METRICS, decimals=2, segments=["device"])
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["srm"]["p_value"] == pytest.approx(res.srm.p_value)
    sums = payload["stats"]["sums"]
    assert sum(r["n"] for r in sums) == len(data)
    one = json.loads(json.dumps(compare_means(data, "revenue", decimals=2,
                                              treatment="b").to_dict()))
    assert one["comparison"]["difference"] == pytest.approx(one["estimate"])
