"""Validation against the questionnaire, quality flags and clean()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets.survey import (
    questionnaire_path,
    simulate_brand_tracker,
    simulate_concept_test,
    simulate_omnichannel_cx,
)
from researchkit.errors import ParameterError
from researchkit.survey import (
    clean,
    flag_speeders,
    flag_straightliners,
    load_questionnaire,
    quality_flags,
    validate_responses,
)


@pytest.fixture(scope="module")
def tracker():
    return load_questionnaire(questionnaire_path("brand_tracker"))


@pytest.mark.parametrize("name, sim", [("brand_tracker", simulate_brand_tracker),
                                       ("omnichannel_cx", simulate_omnichannel_cx),
                                       ("concept_test", simulate_concept_test)])
def test_clean_simulated_data_validate(name, sim):
    qn = load_questionnaire(questionnaire_path(name))
    problems = validate_responses(sim(400, seed=3).data, qn)
    assert problems.empty, problems.head()


def test_every_rule_is_reported_as_a_row(tracker):
    df = simulate_brand_tracker(200, seed=1).data
    df.loc[0, "region"] = 9                            # out of range
    df.loc[1, "spend"] = 1000                          # numeric above max
    df.loc[2, "usage"] = np.nan                        # required missing if shown
    df.loc[2, "aware_1"] = 1.0
    df.loc[3, ["aware_1", "aware_99"]] = 1.0           # exclusive conflict
    shown_nps = df["usage"].isin([1, 2, 3])
    i = df.index[~shown_nps & df["nps"].isna()][0]
    df.loc[i, "nps"] = 7                               # answered though not shown
    df.loc[4, "respondent_id"] = df.loc[5, "respondent_id"]  # duplicate id
    df.loc[6, "aware_2"] = 3                           # dummy not 0/1
    df = df.drop(columns=["nps_why"])                  # missing column
    p = validate_responses(df, tracker)
    rules = set(p["rule"])
    assert {"out_of_range", "required_missing", "exclusive_conflict", "not_shown",
            "duplicate_id", "missing_column"} <= rules
    r0 = p[(p["respondent"] == df.loc[0, "respondent_id"]) & (p["variable"] == "region")]
    assert r0["rule"].tolist() == ["out_of_range"] and r0["value"].tolist() == [9]
    assert ((p["variable"] == "spend") & (p["rule"] == "out_of_range")).sum() == 1
    assert ((p["variable"] == "aware_2") & (p["rule"] == "out_of_range")).sum() == 1
    assert list(p.columns) == ["respondent", "question", "variable", "rule", "value",
                               "message"]


def test_quality_flags(tracker):
    sim = simulate_brand_tracker(800, seed=2, messy=True)
    df, inj = sim.data, sim.truth["injected"]
    flags = quality_flags(df, tracker)
    ids = df["respondent_id"]
    assert set(inj["speeder"]) <= set(ids[flags["speeder"]])
    assert set(inj["straightliner"]) <= set(ids[flags["straightliner"]])
    assert set(inj["duplicate"]) == set(ids[flags["duplicate_answers"]])
    sp = flag_speeders(pd.DataFrame({"duration_sec": [100, 400, 500, 600]}), threshold=0.5)
    assert sp.tolist() == [True, False, False, False]
    sl = flag_straightliners(pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 3], "c": [1, 3, 3]}),
                             {"g": ["a", "b", "c"]}, min_items=3)
    assert sl["g"].tolist() == [True, False, True]
    with pytest.raises(ParameterError):
        flag_speeders(df, threshold=2)


def test_clean_logs_every_removal_and_change(tracker):
    sim = simulate_brand_tracker(800, seed=4, messy=True)
    raw = sim.data
    before = raw.copy()
    res = clean(raw, tracker)
    pd.testing.assert_frame_equal(raw, before)          # input untouched
    removed = set(res.log["respondent"])
    assert len(raw) - len(res.data) == len(removed)     # nothing dropped silently
    assert set(res.data["respondent_id"]).isdisjoint(removed)
    inj = sim.truth["injected"]
    assert set(inj["duplicate"]) <= removed
    assert set(inj["speeder"]) <= removed
    # invalid values were blanked and logged, and the cleaned data now validate
    assert set(res.changes["rule"]) == {"out_of_range", "not_shown"}
    assert validate_responses(res.data, tracker).query(
        "rule in ['out_of_range', 'not_shown']").empty
    assert res.details["removed_by_reason"]["duplicate"] == len(inj["duplicate"])


def test_clean_drop_and_keep_options(tracker):
    raw = simulate_brand_tracker(300, seed=6, messy=True).data
    dropped = clean(raw, tracker, on_invalid="drop", remove=())
    assert set(dropped.log["reason"]) == {"invalid"}
    kept = clean(raw, tracker, on_invalid="keep", remove=())
    assert len(kept.data) == len(raw) and kept.changes.empty
    with pytest.raises(ParameterError):
        clean(raw, tracker, remove=("typo",))
