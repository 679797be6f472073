"""Coding tables, suggestions, per-code reliability, disagreements and consensus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets import example_path
from researchkit.errors import DataError, ParameterError
from researchkit.qual import (
    check_codings,
    code_reliability,
    consensus,
    disagreements,
    krippendorff_alpha,
    load_codebook,
    parse_codebook,
    presence,
    read_codings,
    select_coder,
    suggest_codes,
    suggestion_accuracy,
    write_codings,
)

BOOK = parse_codebook("""\
title: T
codes:
  - {id: cat, label: Category, definition: groups, codable: false}
  - {id: a, parent: cat, label: A, definition: code a, keywords: [apple, green tea]}
  - {id: b, label: B, definition: code b, patterns: ['\\bbanana(s)?\\b']}
""")
SEGS = pd.DataFrame({"segment": ["s1", "s2", "s3", "s4", "s5"],
                     "text": ["An apple a day", "Bananas!", "green   tea and bananas",
                              "pineapple", "nothing"],
                     "role": ["participant"] * 4 + ["moderator"]})
CODINGS = pd.DataFrame({"segment": ["s1", "s1", "s2", "s3", "s3", "s4"],
                        "code": ["a", "a", "b", "a", "b", "a"],
                        "coder": ["x", "y", "x", "y", "y", "x"]})


def test_check_codings_errors():
    ok = check_codings(CODINGS, codebook=BOOK, segments=SEGS)
    assert list(ok.columns) == ["segment", "code", "coder", "source"]
    assert (ok["source"] == "human").all()
    with pytest.raises(DataError, match=r"row 2, column .code.*not in the codebook"):
        check_codings(CODINGS.assign(code=["a", "zz", "b", "a", "b", "a"]), codebook=BOOK)
    with pytest.raises(DataError, match="codable: false"):
        check_codings(CODINGS.assign(code="cat"), codebook=BOOK)
    with pytest.raises(DataError, match=r"row 1, column .segment.*not in the segments"):
        check_codings(CODINGS.assign(segment="s9"), segments=SEGS)
    with pytest.raises(DataError, match="row 3, column 'coder'"):
        check_codings(CODINGS.assign(coder=["x", "y", None, "y", "y", "x"]))
    with pytest.raises(DataError, match="lacks required columns"):
        check_codings(CODINGS.drop(columns="coder"))
    dup = pd.concat([CODINGS, CODINGS.head(1)], ignore_index=True)
    with pytest.raises(DataError, match=r"row 7.*repeat"):
        check_codings(dup)
    assert len(check_codings(dup, duplicates="drop")) == 6
    with pytest.raises(DataError, match="unknown coding source"):
        check_codings(CODINGS.assign(source="robot"))


def test_read_write_round_trip(tmp_path):
    for ext in ("csv", "parquet"):
        path = write_codings(CODINGS, tmp_path / f"c.{ext}")
        back = read_codings(path, codebook=BOOK, segments=SEGS)
        pd.testing.assert_frame_equal(back, check_codings(CODINGS), check_dtype=False)
        with pytest.raises(DataError, match="refusing to overwrite"):
            write_codings(CODINGS, path)
    other = CODINGS.rename(columns={"segment": "unit", "coder": "who"})
    other.to_csv(tmp_path / "other.csv", index=False)
    back = read_codings(tmp_path / "other.csv", segment="unit", coder="who")
    assert back["coder"].tolist() == CODINGS["coder"].tolist()
    with pytest.raises(DataError, match="column not in the file"):
        read_codings(tmp_path / "other.csv")
    with pytest.raises(ParameterError, match=r"\.csv or \.parquet"):
        write_codings(CODINGS, tmp_path / "c.xlsx")


def test_suggestions_are_marked_and_never_a_coder():
    sugg = suggest_codes(SEGS, BOOK)
    assert list(zip(sugg["segment"], sugg["code"], strict=True)) == [
        ("s1", "a"), ("s2", "b"), ("s3", "a"), ("s3", "b")]   # "pineapple" is not "apple"
    assert (sugg["coder"] == "suggestion").all() and (sugg["source"] == "suggestion").all()
    assert sugg.loc[2, "match"] == "green   tea"
    all_rows = pd.concat([CODINGS.assign(source="human"), sugg], ignore_index=True)
    with_sugg = code_reliability(all_rows, n_boot=0)
    without = code_reliability(CODINGS, n_boot=0)
    pd.testing.assert_frame_equal(with_sugg.table, without.table)
    assert "suggestion rows were ignored" in with_sugg.warnings[-1]
    assert with_sugg.details["coders"] == ["x", "y"]
    with pytest.raises(DataError, match="no human codings"):
        presence(sugg)
    with pytest.raises(ParameterError, match="several coders"):
        select_coder(all_rows, None)
    moderators_too = suggest_codes(SEGS, BOOK, roles=None)
    assert len(moderators_too) == 4
    acc = suggestion_accuracy(sugg, CODINGS, coder="y").set_index("code")
    # y coded s1:a, s3:a, s3:b; suggestions s1:a, s2:b, s3:a, s3:b
    assert acc.loc["a", "precision"] == 1.0 and acc.loc["b", "precision"] == 0.5
    assert acc.loc["(all codes)", "recall"] == 1.0
    assert acc.loc["(all codes)", "precision"] == pytest.approx(3 / 4)


def test_presence_rules_exclude_include_and_assignments():
    tabs, info = presence(CODINGS, segments=SEGS)
    assert list(tabs["a"].index) == ["s1", "s2", "s3", "s4"]      # s5: no coder coded it
    assert info["n_uncoded_excluded"] == 1 and "excluded" in info["rule"]
    assert tabs["a"].loc["s4"].tolist() == [1.0, 0.0]
    tabs, info = presence(CODINGS, segments=SEGS, uncoded="include")
    assert list(tabs["b"].index) == ["s1", "s2", "s3", "s4", "s5"]
    assert tabs["b"].loc["s5"].tolist() == [0.0, 0.0]
    with pytest.raises(ParameterError, match="needs the segments"):
        presence(CODINGS, uncoded="include")
    assign = pd.DataFrame({"segment": ["s1", "s2", "s3", "s4", "s1", "s3"],
                           "coder": ["x", "x", "x", "x", "y", "y"]})
    tabs, _ = presence(CODINGS, segments=SEGS, uncoded="include", assignments=assign)
    assert np.isnan(tabs["a"].loc["s2", "y"]) and tabs["a"].loc["s3", "x"] == 0
    bad = assign[assign["segment"] != "s4"]
    with pytest.raises(DataError, match="not assigned to their coder"):
        presence(CODINGS, segments=SEGS, assignments=bad)


def test_code_reliability_matches_alpha_on_the_presence_tables():
    r = code_reliability(CODINGS, segments=SEGS, codebook=BOOK, n_boot=0)
    t = r.table.set_index("code")
    tabs, _ = presence(CODINGS, segments=SEGS, codes=["a", "b"])
    for code in ("a", "b"):
        assert t.loc[code, "alpha"] == pytest.approx(
            krippendorff_alpha(tabs[code], n_boot=0).estimate)
    pooled = pd.concat([tabs["a"], tabs["b"]], ignore_index=True)
    assert r.estimate == pytest.approx(krippendorff_alpha(pooled, n_boot=0).estimate)
    assert t.loc["a", "label"] == "A" and t.loc["a", "n_units"] == 4
    assert "excluded" in r.method and "(1 excluded)" in r.method
    inc = code_reliability(CODINGS, segments=SEGS, uncoded="include", n_boot=0)
    assert "counts as absence" in inc.method and inc.details["uncoded"] == "include"
    assert inc.table.set_index("code").loc["a", "n_units"] == 5


def test_code_reliability_bootstrap_resamples_segments():
    rng = np.random.default_rng(0)
    rows = []
    for s in range(80):
        for code in ("a", "b", "c"):
            truth = rng.random() < 0.3
            for coder in ("x", "y"):
                if (truth if rng.random() < 0.9 else rng.random() < 0.3):
                    rows.append((f"s{s}", code, coder))
    codings = pd.DataFrame(rows, columns=["segment", "code", "coder"])
    segs = pd.DataFrame({"segment": [f"s{i}" for i in range(80)], "text": ""})
    r1 = code_reliability(codings, segments=segs, uncoded="include", n_boot=300, seed=5)
    r2 = code_reliability(codings, segments=segs, uncoded="include", n_boot=300, seed=5)
    assert r1.ci == r2.ci and r1.ci[0] < r1.estimate < r1.ci[1]
    t = r1.table
    assert (t["alpha_ci_low"] <= t["alpha"]).all() and (t["alpha"] <= t["alpha_ci_high"]).all()


def test_disagreements_and_consensus():
    dis = disagreements(CODINGS, segments=SEGS)
    assert list(zip(dis["segment"], dis["code"], strict=True)) == [
        ("s2", "b"), ("s3", "a"), ("s3", "b"), ("s4", "a")]
    assert dis.loc[0, "applied_by"] == "x" and dis.loc[0, "not_applied_by"] == "y"
    assert dis.loc[0, "text"] == "Bananas!" and (dis["decision"] == "").all()
    with pytest.raises(DataError, match="4 majority ties"):
        consensus(CODINGS)
    dis["decision"] = ["apply", "no", "", "reject"]
    with pytest.raises(DataError, match="1 majority ties"):
        consensus(CODINGS, adjudications=dis)
    merged = consensus(CODINGS, adjudications=dis, unresolved="drop")
    assert set(zip(merged["segment"], merged["code"], merged["basis"], strict=True)) == {
        ("s1", "a", "agreement"), ("s2", "b", "adjudicated")}
    assert (merged["coder"] == "consensus").all() and (merged["source"] == "consensus").all()
    anyone = consensus(CODINGS, rule="any")
    assert len(anyone) == 5
    assert len(consensus(CODINGS, rule="unanimous")) == 1
    added = consensus(CODINGS, rule="unanimous", adjudications=pd.DataFrame(
        {"segment": ["s5"], "code": ["b"], "decision": ["apply"]}))
    assert ("s5", "b") in set(zip(added["segment"], added["code"], strict=True))
    with pytest.raises(DataError, match="unknown decision"):
        consensus(CODINGS, adjudications=dis.assign(decision="maybe"))
    with pytest.raises(ParameterError, match="rule"):
        consensus(CODINGS, rule="vote")


def test_bundled_codebook_suggests_on_simulated_answers():
    from researchkit.datasets import simulate_open_ends
    from researchkit.qual import open_ends_to_segments

    sim = simulate_open_ends(400, seed=2)
    segs = open_ends_to_segments(sim.data["responses"], text="why", id="respondent_id",
                                 document="why")
    book = load_codebook(example_path("omnichannel_cx_codebook.yaml"))
    sugg = suggest_codes(segs, book)
    acc = suggestion_accuracy(sugg, sim.data["true_codings"]).set_index("code")
    # keyword rules catch much but not all of the truth, with some false positives
    assert 0.5 < acc.loc["(all codes)", "precision"] < 1
    assert 0.3 < acc.loc["(all codes)", "recall"] < 0.95
