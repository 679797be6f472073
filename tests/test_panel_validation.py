"""Long-format panel layout and validation: hand-made cases and the messy simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.panel import panel_frame, to_wide, validate_panel, wave_levels, wave_pairs


def _small() -> pd.DataFrame:
    # r1: waves 1,2,3; r2: waves 1,3 (re-entry at 3); r3: wave 1 twice (duplicate), 2;
    # r4: waves 2,3 (late entrant)
    return pd.DataFrame({
        "respondent": ["r1", "r1", "r1", "r2", "r2", "r3", "r3", "r3", "r4", "r4"],
        "wave": [1, 2, 3, 1, 3, 1, 1, 2, 2, 3],
        "brand": ["A", "A", "B", "B", "B", "A", "B", "A", "B", "A"],
        "region": ["N", "N", "N", "S", "S", "S", "S", "S", "N", "S"],
    })


def test_validation_lists_every_problem():
    v = validate_panel(_small(), constant=["region"])
    t = v.problems
    assert list(t.columns) == ["check", "severity", "respondent", "wave", "rows", "detail"]
    assert sorted(t["check"]) == ["duplicate respondent-wave", "inconsistent attribute",
                                  "re-entry after dropout"]
    dup = t.loc[t["check"] == "duplicate respondent-wave"].iloc[0]
    assert (dup["respondent"], dup["wave"], dup["rows"]) == ("r3", 1, "6, 7")
    assert dup["severity"] == "error" and "differing in brand" in dup["detail"]
    re = t.loc[t["check"] == "re-entry after dropout"].iloc[0]
    assert (re["respondent"], re["wave"], re["rows"]) == ("r2", 3, "5")
    assert "absent from wave(s) 2" in re["detail"]
    inc = t.loc[t["check"] == "inconsistent attribute"].iloc[0]
    assert inc["respondent"] == "r4" and "region" in inc["detail"]
    assert not v.ok and v.estimate == 3
    d = v.details
    assert (d["n_respondents"], d["n_waves"], d["n_complete"], d["n_late_entrants"],
            d["n_reentries"], d["n_errors"]) == (4, 3, 1, 1, 1, 1)


def test_missing_ids_and_waves_are_problems_not_crashes():
    df = pd.DataFrame({"respondent": ["a", None, "b", "b"], "wave": [1, 1, np.nan, 2]})
    t = validate_panel(df).problems
    assert t["check"].tolist() == ["missing respondent id", "missing wave"]
    assert t["rows"].tolist() == ["2", "3"]
    with pytest.raises(DataError, match=r"row 2.*missing respondent id"):
        panel_frame(df)


def test_unequal_spacing_numeric_and_dates():
    df = pd.DataFrame({"respondent": [1, 1, 1, 1], "wave": [1, 2, 3, 5],
                       "date": ["2025-01-01", "2025-04-01", "2025-07-01", "2025-12-01"]})
    t = validate_panel(df, date="date").problems
    spacing = t.loc[t["check"] == "unequal wave spacing"]
    assert spacing["wave"].tolist() == [5] and "gap of 2" in spacing["detail"].iloc[0]
    fw = t.loc[t["check"] == "unequal fieldwork spacing"]
    assert fw["wave"].tolist() == [5] and "153 days" in fw["detail"].iloc[0]
    # dates as the wave labels
    df2 = pd.DataFrame({"respondent": [1, 1, 1, 1], "wave": pd.to_datetime(
        ["2025-01-01", "2025-04-01", "2025-07-01", "2025-08-31"])})
    t2 = validate_panel(df2).problems
    assert t2["check"].tolist() == ["unequal wave spacing"]


def test_dates_out_of_order_and_in_the_wrong_wave():
    df = pd.DataFrame({"respondent": ["a", "a", "a", "b", "b", "b"],
                       "wave": [1, 2, 3, 1, 2, 3],
                       "date": pd.to_datetime(["2025-01-01", "2025-04-01", "2025-07-01",
                                               "2025-01-02", "2025-06-25", "2025-07-02"])})
    t = validate_panel(df, date="date").problems
    wrong = t.loc[t["check"] == "date closer to another wave"]
    assert wrong["respondent"].tolist() == ["b"] and wrong["wave"].tolist() == [2]
    df.loc[4, "date"] = pd.Timestamp("2024-12-01")
    t = validate_panel(df, date="date").problems
    assert "dates out of order" in t["check"].tolist()


def test_messy_simulator_problems_are_found_exactly():
    sim = ds.brand_panel(n=400, waves=5, seed=4, messy=True)
    v = validate_panel(sim.data, date="date", constant=["age_group", "region"])
    found = v.problems["check"].value_counts().to_dict()
    for check, count in sim.truth["problems"].items():
        assert found.get(check, 0) == count, check
    assert set(found) == set(sim.truth["problems"])
    clean = ds.brand_panel(n=400, waves=5, seed=4)
    assert validate_panel(clean.data, date="date", constant=["age_group"]).estimate == 0


def test_structural_errors():
    with pytest.raises(ParameterError, match="DataFrame"):
        validate_panel([1, 2])
    with pytest.raises(DataError, match="no rows"):
        validate_panel(pd.DataFrame({"respondent": [], "wave": []}))
    with pytest.raises(DataError, match=r"column 'wave'.*column not found"):
        validate_panel(pd.DataFrame({"respondent": [1], "wv": [1]}))
    with pytest.raises(DataError, match="at least two waves"):
        validate_panel(pd.DataFrame({"respondent": [1, 2], "wave": [1, 1]}))
    text = pd.DataFrame({"respondent": [1, 1], "wave": ["W2", "W10"]})
    with pytest.raises(DataError, match="no natural order"):
        validate_panel(text)
    assert validate_panel(text, waves=["W2", "W10"]).details["waves"] == ["W2", "W10"]
    with pytest.raises(DataError, match="not in the given order"):
        validate_panel(text, waves=["W2", "W3"])
    with pytest.raises(ParameterError, match="spacing_tolerance"):
        validate_panel(text, waves=["W2", "W10"], spacing_tolerance=2)
    with pytest.raises(DataError, match="cannot be read"):
        validate_panel(pd.DataFrame({"respondent": [1, 1], "wave": [1, 2],
                                     "date": ["2025-01-01", "soon"]}), date="date")


def test_panel_frame_refuses_duplicates_naming_the_row():
    with pytest.raises(DataError, match=r"row 7.*'r3' answers wave 1 more than once"):
        panel_frame(_small())


def test_wave_levels_orders():
    df = pd.DataFrame({"wave": pd.Categorical(["b", "a"], categories=["b", "a"],
                                              ordered=True)})
    assert wave_levels(df) == ["b", "a"]
    df2 = pd.DataFrame({"wave": pd.Categorical(["b", "a"])})
    with pytest.raises(DataError, match="unordered"):
        wave_levels(df2)


def test_to_wide_and_wave_pairs():
    df = _small().drop(index=6).reset_index(drop=True)
    wide = to_wide(df, "brand")
    assert wide.loc["r2", 1] == "B" and pd.isna(wide.loc["r2", 2]) and wide.loc["r2", 3] == "B"
    assert wide.columns.tolist() == [1, 2, 3]
    pairs = wave_pairs(df, "brand")
    # consecutive pairs: (1,2): r1, r3; (2,3): r1, r4; r2 has no consecutive pair
    assert pairs[["respondent", "from_wave", "to_wave"]].values.tolist() == [
        ["r1", 1, 2], ["r3", 1, 2], ["r1", 2, 3], ["r4", 2, 3]]
    far = wave_pairs(df, "brand", from_wave=1, to_wave=3)
    assert far["respondent"].tolist() == ["r1", "r2"]
    with pytest.raises(ParameterError, match="before"):
        wave_pairs(df, "brand", from_wave=3, to_wave=1)
    with pytest.raises(ParameterError, match="no such wave"):
        wave_pairs(df, "brand", from_wave=1, to_wave=9)
    with pytest.raises(ParameterError, match="both"):
        wave_pairs(df, "brand", from_wave=1)
