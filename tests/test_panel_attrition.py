"""Attrition table (counted by hand) and attrition-bias tests (against pingouin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.panel import attrition_bias, attrition_table


def test_attrition_table_counts_by_hand():
    # wave 1: a b c d e ; wave 2: a b c f ; wave 3: a d f g
    rows = {1: "abcde", 2: "abcf", 3: "adfg"}
    df = pd.DataFrame([(r, w) for w, rs in rows.items() for r in rs],
                      columns=["respondent", "wave"])
    t = attrition_table(df).table.set_index("wave")
    assert t["n_respondents"].tolist() == [5, 4, 4]
    # wave 2: continuing a b c; lost d e; new f
    assert (t.loc[2, "continuing"], t.loc[2, "lost"], t.loc[2, "new"],
            t.loc[2, "returning"]) == (3, 2, 1, 0)
    # wave 3: continuing a f; lost b c; returning d; new g
    assert (t.loc[3, "continuing"], t.loc[3, "lost"], t.loc[3, "new"],
            t.loc[3, "returning"]) == (2, 2, 1, 1)
    assert t.loc[2, "retention_rate"] == pytest.approx(3 / 5)
    assert t.loc[3, "retention_rate"] == pytest.approx(2 / 4)
    assert t.loc[3, "attrition_rate"] == pytest.approx(1 / 2)
    assert t["cohort_retained"].tolist() == [5, 3, 2]  # a, d of the first-wave cohort
    assert t.loc[3, "cohort_retention"] == pytest.approx(2 / 5)
    assert pd.isna(t.loc[1, "continuing"]) and pd.isna(t.loc[1, "retention_rate"])


def test_attrition_table_recovers_simulated_dropout():
    sim = ds.brand_panel(n=6000, waves=4, seed=3)
    t = attrition_table(sim.data).table
    # the expected per-wave retention given the age mix of those still present
    df = sim.data
    for w in (2, 3, 4):
        prev = df.loc[df["wave"] == w - 1, "age_group"]
        expected = 1 - prev.map(sim.truth["dropout"]).mean()
        got = t.loc[t["wave"] == w, "retention_rate"].iloc[0]
        se = np.sqrt(expected * (1 - expected) / len(prev))
        assert abs(got - expected) < 4 * se


def _cohort(n=300, seed=0):
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"respondent": range(n), "wave": 1,
                         "age": rng.normal(45, 12, n).round(),
                         "group": rng.choice(["x", "y", "z"], n, p=[.5, .3, .2]),
                         "score": rng.exponential(2, n)})
    stay = rng.random(n) < np.where(base["group"] == "x", 0.8, 0.5)
    w2 = base.loc[stay, ["respondent"]].assign(wave=2)
    return pd.concat([base, w2], ignore_index=True), base, stay


def test_attrition_bias_matches_pingouin():
    df, base, stay = _cohort()
    res = attrition_bias(df, ["age", "group", "score"])
    t = res.table.set_index("variable")
    ref_t = pg.ttest(base.loc[stay, "age"], base.loc[~stay, "age"], correction=True)
    assert t.loc["age", "statistic"] == pytest.approx(ref_t["T"].iloc[0])
    assert t.loc["age", "df"] == pytest.approx(ref_t["dof"].iloc[0])
    assert t.loc["age", "p_value"] == pytest.approx(ref_t["p_val"].iloc[0])
    a, b = base.loc[stay, "age"], base.loc[~stay, "age"]
    d = (a.mean() - b.mean()) / np.sqrt((a.var() + b.var()) / 2)
    assert t.loc["age", "effect_size"] == pytest.approx(d)
    frame = base.assign(status=np.where(stay, "stayer", "leaver"))
    _, _, chi = pg.chi2_independence(frame, "group", "status", correction=False)
    pearson = chi.set_index("test").loc["pearson"]
    assert t.loc["group", "statistic"] == pytest.approx(pearson["chi2"])
    assert t.loc["group", "p_value"] == pytest.approx(pearson["pval"])
    assert t.loc["group", "effect_size"] == pytest.approx(pearson["cramer"])
    assert t.loc["group", "df"] == 2
    # Holm over the three tests
    _, holm = pg.multicomp(t["p_value"].to_numpy(), method="holm")
    np.testing.assert_allclose(t["p_adjusted"].to_numpy(), holm)
    assert res.details["n_stayers"] == int(stay.sum())
    # profile: shares of each level for stayers
    prof = res.profile.query("variable == 'group' and level == 'x'").iloc[0]
    assert prof["stayers"] == pytest.approx((base.loc[stay, "group"] == "x").mean())
    assert "Holm" in res.method and "3 p-values" in res.method


def test_attrition_bias_mann_whitney_matches_pingouin():
    df, base, stay = _cohort(seed=5)
    res = attrition_bias(df, ["score"], numeric_test="mann-whitney", correction="none")
    ref = pg.mwu(base.loc[stay, "score"], base.loc[~stay, "score"])
    row = res.table.iloc[0]
    assert row["statistic"] == pytest.approx(ref["U_val"].iloc[0])
    assert row["p_value"] == pytest.approx(ref["p_val"].iloc[0])
    assert row["effect_size"] == pytest.approx(ref["RBC"].iloc[0])
    assert row["p_adjusted"] == row["p_value"]


def test_attrition_bias_finds_the_simulated_mechanism():
    sim = ds.brand_panel(n=3000, waves=5, seed=7)
    res = attrition_bias(sim.data, ["age", "age_group", "region", "income", "brand"])
    flagged = set(res.details["flagged"])
    assert flagged == set(sim.truth["attrition_depends_on"])
    assert not flagged & set(sim.truth["unrelated_to_attrition"])
    age = res.profile.query("variable == 'age' and statistic == 'mean'").iloc[0]
    assert age["stayers"] > age["leavers"]  # the young leave first


def test_attrition_bias_errors():
    df, _, _ = _cohort(n=50)
    with pytest.raises(ParameterError, match="variables"):
        attrition_bias(df, [])
    with pytest.raises(DataError, match="column not found"):
        attrition_bias(df, ["nope"])
    with pytest.raises(ParameterError, match="numeric_test"):
        attrition_bias(df, ["age"], numeric_test="t")
    with pytest.raises(ParameterError, match="correction"):
        attrition_bias(df, ["age"], correction="sidak2")
    with pytest.raises(ParameterError, match="categorical"):
        attrition_bias(df, ["age"], categorical=["group"])
    with pytest.raises(ParameterError, match="after the baseline"):
        attrition_bias(df, ["age"], baseline=2, until=1)
    everyone = pd.concat([df.loc[df["wave"] == 1], df.loc[df["wave"] == 1].assign(wave=2)])
    with pytest.raises(DataError, match="nobody left"):
        attrition_bias(everyone, ["age"])


def test_attrition_bias_sparse_table_warns():
    df = pd.DataFrame({"respondent": [1, 2, 3, 4, 5, 6, 1, 2, 3],
                       "wave": [1] * 6 + [2] * 3,
                       "g": ["a", "a", "b", "b", "c", "c", "a", "a", "b"]})
    res = attrition_bias(df, ["g"])
    assert any("Cochran" in w for w in res.warnings)
