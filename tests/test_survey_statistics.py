"""Estimates and tests against independent references (scipy, statsmodels, pingouin, svy,
factor_analyzer outputs stored in tests/data/survey_references.json)."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from researchkit.datasets.survey import simulate_brand_tracker
from researchkit.errors import DataError, ParameterError
from researchkit.survey import (
    chi_square,
    cronbach_alpha,
    efa,
    nps,
    top_box,
    weighted_mean,
    weighted_proportions,
)

REF = json.loads((Path(__file__).parent / "data" / "survey_references.json").read_text())


@pytest.fixture(scope="module")
def data():
    return simulate_brand_tracker(1500, seed=11).data


# --- estimates ----------------------------------------------------------------------------
def test_unweighted_proportions_match_statsmodels_wilson(data):
    from statsmodels.stats.proportion import proportion_confint

    r = weighted_proportions(data, "age_group").table.set_index("category")
    n = data["age_group"].notna().sum()
    for code, row in r.iterrows():
        k = (data["age_group"] == code).sum()
        lo, hi = proportion_confint(k, n, method="wilson")
        assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
        assert row["se"] == pytest.approx(np.sqrt(k / n * (1 - k / n) / n))
    wald = weighted_proportions(data, "age_group", ci_method="wald").table
    lo, hi = proportion_confint((data["age_group"] == 1).sum(), n, method="normal")
    assert wald["ci_low"].iloc[0] == pytest.approx(lo)


def test_weighted_proportion_uses_effective_base():
    df = pd.DataFrame({"y": [1] * 30 + [0] * 70, "w": [2.0] * 50 + [1.0] * 50})
    r = weighted_proportions(df, "y", "w")
    w = df["w"].to_numpy()
    neff = w.sum() ** 2 / (w**2).sum()
    p = (w * df["y"]).sum() / w.sum()
    row = r.table.set_index("category").loc[1]
    assert row["proportion"] == pytest.approx(p)
    assert row["se"] == pytest.approx(np.sqrt(p * (1 - p) / neff))
    assert r.details["n_effective"] == pytest.approx(neff)
    assert "effective" in r.method


def test_weighted_mean_matches_scipy_unweighted_and_formula_weighted(data):
    x = data["spend"].dropna()
    r = weighted_mean(data, "spend")
    assert r.estimate == pytest.approx(x.mean())
    assert r.details["se"] == pytest.approx(stats.sem(x))
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert r.ci == pytest.approx((lo, hi))
    with pytest.raises(DataError, match="non-numeric"):
        weighted_mean(pd.DataFrame({"x": [1, "a", 3]}), "x")


def test_nps_matches_mean_of_trinomial_score(data):
    r = nps(data, "nps")
    x = data["nps"].dropna()
    s = np.where(x >= 9, 1, np.where(x <= 6, -1, 0))
    assert r.estimate == pytest.approx(100 * s.mean())
    assert r.details["se"] == pytest.approx(100 * s.std(ddof=0) / np.sqrt(len(s)))
    r_by = nps(data, "nps", by="gender")
    assert len(r_by.table) == 2
    with pytest.raises(DataError, match="0-10"):
        nps(pd.DataFrame({"r": [11, 5]}), "r")


def test_top_box(data):
    items = ["img_taste", "img_fun"]
    r = top_box(data, items, scale=(1, 5)).table.set_index("item")
    x = data["img_taste"].dropna()
    assert r.loc["img_taste", "top"] == pytest.approx((x >= 4).mean())
    assert r.loc["img_taste", "bottom"] == pytest.approx((x <= 2).mean())


# --- chi-square -----------------------------------------------------------------------------
def test_chi_square_equals_scipy_unweighted(data):
    r = chi_square(data, "age_group", "usage")
    sub = data.dropna(subset=["usage"])
    chi2, p, dof, _ = stats.chi2_contingency(pd.crosstab(sub["age_group"], sub["usage"]),
                                             correction=False)
    assert r.statistic == pytest.approx(chi2) and r.p_value == pytest.approx(p)
    assert r.df == dof


def test_rao_scott_reduces_to_pearson_times_n_minus_1_over_n_with_equal_weights(data):
    # With equal weights and one respondent per PSU, V = (D - pp')/(n - 1), so the design
    # effect matrix is n/(n-1) I: the first-order statistic is X² (n-1)/n (Rao & Scott 1981).
    d = data.dropna(subset=["usage"]).assign(one=1.0)
    n = len(d)
    plain = chi_square(d, "age_group", "usage")
    rs = chi_square(d, "age_group", "usage", weight="one", correction="first-order")
    assert rs.statistic == pytest.approx(plain.statistic * (n - 1) / n, rel=1e-10)
    assert np.allclose(rs.details["design_effects"], n / (n - 1))
    so = chi_square(d, "age_group", "usage", weight="one")
    assert so.df == pytest.approx(plain.df)       # d0 = df when all eigenvalues are equal


def test_rao_scott_is_invariant_to_perfectly_duplicated_clusters(data):
    # Duplicating every respondent inside its own cluster doubles Pearson's X² and the
    # generalised design effects alike: the corrected test must not change (hand derivation:
    # PSU totals equal the original scores, the SRS denominator halves).
    d = data.dropna(subset=["usage"]).assign(w=lambda x: 1 + (x["age_group"] == 1) * 1.5)
    d = d.assign(psu=np.arange(len(d)))
    dup = pd.concat([d, d], ignore_index=True)
    a = chi_square(d, "age_group", "usage", weight="w", cluster="psu")
    b = chi_square(dup, "age_group", "usage", weight="w", cluster="psu")
    assert b.details["pearson_x2"] == pytest.approx(2 * a.details["pearson_x2"])
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9)
    assert b.p_value == pytest.approx(a.p_value, rel=1e-9)
    c = chi_square(d, "age_group", "usage", weight="w")
    assert c.statistic == pytest.approx(a.statistic, rel=1e-9)   # one respondent per PSU


def _design_data(data):
    # Weights and a stratified cluster design (8 PSUs in each of the 4 regions), fixed seed.
    rng = np.random.default_rng(5)
    return data.assign(
        w=np.where(data["age_group"] == 1, 0.6, 1.4) * rng.uniform(0.5, 2.0, len(data)),
        psu=data["region"] * 100 + rng.integers(0, 8, len(data)))


@pytest.mark.parametrize("row,col,design", [
    ("age_group", "usage", {"weight": "w"}),
    ("age_group", "usage", {"weight": "w", "strata": "region", "cluster": "psu"}),
    ("age_group", "usage", {"cluster": "psu"}),
    ("gender", "usage", {"weight": "w", "strata": "region", "cluster": "psu"}),
    ("age_group", "gender", {"weight": "w", "cluster": "psu"}),
    ("age_group", "usage", {"weight": "w", "strata": "region", "cluster": "psu",
                            "drop_psus": [101, 203]}),
])
def test_rao_scott_equals_svy(data, row, col, design):
    # Independent implementation: svy (Rust core; validated by its authors against R's
    # survey::svychisq). Its tabulate() reports Pearson X² with the first-order Rao-Scott
    # p-value (R's statistic="Chisq") and the second-order F test (R's default), so
    # tr(Δ) = X²/F, mean deff = tr(Δ)/df, d0 = tr(Δ)²/tr(Δ²), first-order X² = F·df.
    import polars as pl
    import svy

    design = dict(design)
    drop = design.pop("drop_psus", [])
    d = _design_data(data)
    d.loc[d["psu"].isin(drop), col] = np.nan          # whole PSUs lost to missing answers
    d = d.dropna(subset=[row, col])[[row, col, "w", "region", "psu"]]
    ref = svy.Sample(pl.from_pandas(d), svy.Design(
        wgt=design.get("weight"), stratum=design.get("strata"), psu=design.get("cluster"),
    )).categorical.tabulate(row, col).stats
    so = chi_square(d, row, col, **design)
    fo = chi_square(d, row, col, correction="first-order", **design)
    dof = ref.chisq.df
    assert so.details["pearson_x2"] == pytest.approx(ref.chisq.value, rel=1e-10)
    assert so.statistic == pytest.approx(ref.f.value, rel=1e-10)
    assert so.df == pytest.approx(ref.f.df_num, rel=1e-10)
    assert so.details["denominator_df"] == pytest.approx(ref.f.df_den, rel=1e-10)
    assert so.p_value == pytest.approx(ref.f.p_value, rel=1e-9)
    assert fo.df == dof
    assert fo.statistic == pytest.approx(ref.f.value * dof, rel=1e-10)
    assert fo.p_value == pytest.approx(ref.chisq.p_value, rel=1e-9)
    tr = ref.chisq.value / ref.f.value
    assert so.details["mean_design_effect"] == pytest.approx(tr / dof, rel=1e-10)
    eig = np.asarray(so.details["design_effects"])
    assert eig.sum() == pytest.approx(tr, rel=1e-10)
    assert (eig**2).sum() == pytest.approx(tr**2 / ref.f.df_num, rel=1e-10)
    if drop:   # R's default subsetting: PSUs with no respondent left leave the design df
        assert so.details["nu"] == 30 - 4


def test_rao_scott_weighting_inflates_design_effect(data):
    d = data.assign(w=np.where(data["age_group"] == 1, 0.3, 2.5))
    r = chi_square(d, "gender", "region", weight="w")
    assert r.details["mean_design_effect"] > 1.2
    assert "Rao-Scott" in r.method
    with pytest.raises(ParameterError):
        chi_square(d, "gender", "region", correction="third")


# --- reliability -----------------------------------------------------------------------------
def test_alpha_equals_pingouin(data):
    items = ["img_taste", "img_quality", "img_value", "img_natural"]
    r = cronbach_alpha(data, items)
    a, ci = pg.cronbach_alpha(data[items].dropna())
    assert r.estimate == pytest.approx(a, rel=1e-12)
    assert r.ci == pytest.approx(tuple(ci), abs=6e-4)   # pingouin rounds its CI to 3 dp


def test_alpha_item_analysis_and_reverse_keying(data):
    items = ["img_modern", "img_fun", "img_boring"]
    rev = cronbach_alpha(data, items, reverse=["img_boring"], scale=(1, 5))
    manual = data[items].dropna().assign(img_boring=lambda x: 6 - x["img_boring"])
    assert rev.estimate == pytest.approx(pg.cronbach_alpha(manual)[0])
    t = rev.table.set_index("item")
    # alpha if deleted equals alpha of the remaining items; item-total r vs rest score
    assert t.loc["img_fun", "alpha_if_deleted"] == pytest.approx(
        pg.cronbach_alpha(manual[["img_modern", "img_boring"]])[0])
    rest = manual["img_modern"] + manual["img_boring"]
    assert t.loc["img_fun", "item_total_r"] == pytest.approx(
        np.corrcoef(manual["img_fun"], rest)[0, 1])
    raw = cronbach_alpha(data, items)
    assert raw.estimate < rev.estimate


def test_alpha_errors(data):
    with pytest.raises(ParameterError):
        cronbach_alpha(data, ["img_fun"])
    with pytest.raises(DataError, match="no variance"):
        cronbach_alpha(pd.DataFrame({"a": [1, 1, 1, 1], "b": [1, 2, 3, 4]}), ["a", "b"])


# --- factor analysis ---------------------------------------------------------------------------
def _align_error(a: np.ndarray, b: np.ndarray) -> float:
    best = np.inf
    for perm in permutations(range(b.shape[1])):
        bp = b[:, perm]
        bp = bp * np.sign((a * bp).sum(axis=0))
        best = min(best, float(np.abs(a - bp).max()))
    return best


@pytest.mark.parametrize("rotation", [None, "varimax", "promax", "oblimin"])
def test_efa_equals_factor_analyzer(rotation):
    ref = REF["efa"]
    df = pd.DataFrame(ref["data"])
    r = efa(df, list(df.columns), 2, rotation=rotation)
    key = "minres_unrotated" if rotation is None else rotation
    assert _align_error(r.loadings.to_numpy(), np.array(ref[key])) < 1e-4
    if rotation in ("promax", "oblimin"):
        assert abs(r.phi.iloc[0, 1]) == pytest.approx(abs(ref[f"{rotation}_phi"][0][1]),
                                                      abs=1e-4)


def test_efa_adequacy_and_recovery():
    ref = REF["efa"]
    df = pd.DataFrame(ref["data"])
    r = efa(df, list(df.columns), 2, rotation="oblimin")
    assert r.details["kmo"] == pytest.approx(ref["kmo"], rel=1e-10)
    assert r.details["bartlett_statistic"] == pytest.approx(ref["bartlett"][0], rel=1e-10)
    sim = simulate_brand_tracker(4000, seed=3)
    items = sim.truth["image_items"]
    res = efa(sim.data, items, 2, rotation="oblimin")
    truth = np.array(sim.truth["loadings"])
    main = np.argmax(np.abs(truth), axis=1)
    for perm in permutations(range(2)):
        got = np.argmax(np.abs(res.loadings.to_numpy()[:, perm]), axis=1)
        if (got == main).all():
            break
    else:
        pytest.fail("the oblimin solution does not recover the simulated factor structure")
    assert res.phi.abs().iloc[0, 1] > 0.3               # simulated factor correlation 0.45
    scores = res.scores(sim.data.dropna(subset=items))
    assert scores.shape[1] == 2


def test_efa_errors():
    df = pd.DataFrame(REF["efa"]["data"])
    with pytest.raises(ParameterError):
        efa(df, list(df.columns), 8)
    with pytest.raises(ParameterError):
        efa(df, list(df.columns), 2, rotation="quartimax")
