"""Inter-coder reliability against published examples and reference libraries.

References used:
* Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
  Communication, Departmental Papers 43 — the worked example with 4 coders, 12 units and
  missing values ("C. Nominal data, any number of observers, missing data"): alpha = 0.743
  (nominal), 0.815 (ordinal), 0.849 (interval), 0.797 (ratio).
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
  Bulletin 76(5), 378-382, Table 1: 30 patients, 6 psychiatrists, 5 diagnoses, kappa = .430
  (per-category kappas .245, .245, .520, .471, .566; the same data ship as `diagnoses` in R's
  irr package, whose kappam.fleiss reports z = 17.7 and the per-category z values below).
* Wikipedia "Fleiss' kappa" worked example (10 subjects × 14 raters × 5 categories): 0.210.
* scikit-learn ``cohen_kappa_score`` and statsmodels ``cohens_kappa`` for Cohen's kappa and its
  Fleiss-Cohen-Everitt (1969) standard errors; the ``krippendorff`` package for alpha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.errors import DataError, ParameterError
from researchkit.qual import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_agreement,
    percent_agreement,
)
from researchkit.qual._bootstrap import replicate_weights
from researchkit.qual.krippendorff import _CLASSES, alpha_from_matrix

NAN = np.nan
# Krippendorff (2011), section C: observers A-D (columns) × units 1-12 (rows).
K2011 = pd.DataFrame({
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    "C": [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
})

# Fleiss (1971), Table 1 (as in R irr::diagnoses): 30 subjects × 6 raters, categories 1-5.
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])

# Wikipedia "Fleiss' kappa" example: counts of 14 raters per subject and category.
WIKI_COUNTS = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


@pytest.mark.parametrize(("level", "expected"), [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, expected):
    r = krippendorff_alpha(K2011, level, n_boot=0)
    assert round(r.estimate, 3) == expected
    assert r.details["n_units_excluded"] == 1      # unit 12 has a single coding
    assert r.n == 11


def test_krippendorff_2011_nominal_coincidences():
    # Krippendorff (2011): n = 40 pairable values; alpha = 1 - (n-1) Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k
    r = krippendorff_alpha(K2011, "nominal", n_boot=0)
    assert r.details["n_pairable_values"] == 40
    assert r.estimate == pytest.approx(0.743421, abs=1e-6)


def test_ordinal_with_labels_and_order():
    labels = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    df = K2011.apply(lambda c: c.map(labels))
    r = krippendorff_alpha(df, "ordinal", order=list(labels.values()), n_boot=0)
    assert round(r.estimate, 3) == 0.815
    cat = df.apply(lambda c: pd.Categorical(c, categories=list(labels.values()), ordered=True))
    assert krippendorff_alpha(cat, "ordinal", n_boot=0).estimate == pytest.approx(r.estimate)
    assert round(krippendorff_alpha(df, "nominal", n_boot=0).estimate, 3) == 0.743
    with pytest.raises(DataError, match="numeric"):
        krippendorff_alpha(df, "ordinal", n_boot=0)
    with pytest.raises(DataError, match="not in the given order"):
        krippendorff_alpha(df, "ordinal", order=["low", "mid"], n_boot=0)


def test_long_format_equals_wide():
    long = K2011.reset_index().melt(id_vars="index", var_name="coder", value_name="v").dropna()
    r = krippendorff_alpha(long, "interval", unit="index", coder="coder", value="v", n_boot=0)
    assert r.estimate == pytest.approx(krippendorff_alpha(K2011, "interval", n_boot=0).estimate)
    dup = pd.concat([long, long.head(1)])
    with pytest.raises(DataError, match="second value"):
        krippendorff_alpha(dup, "interval", unit="index", coder="coder", value="v")


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_equals_krippendorff_package_on_random_data(level, seed):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    n_units, n_coders = 200, 4
    truth = rng.integers(0, 6, size=n_units)
    x = np.where(rng.random((n_units, n_coders)) < 0.7, truth[:, None],
                 rng.integers(0, 6, size=(n_units, n_coders))).astype(float)
    if level in ("interval", "ratio"):
        x = x * 1.7 + rng.normal(0, 0.3, size=x.shape).round(1)
        x = np.abs(x)
    x[rng.random(x.shape) < 0.25] = np.nan
    ours = krippendorff_alpha(x, level, n_boot=0).estimate
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert ours == pytest.approx(ref, rel=1e-10, abs=1e-12)


def test_alpha_with_strings_matches_package():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(4)
    vals = np.array(["price", "delivery", "staff", "app"], dtype=object)
    x = vals[rng.integers(0, 4, size=(150, 3))]
    x[rng.random(x.shape) < 0.2] = None
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    ref = krippendorff.alpha(reliability_data=np.where(pd.isna(x), "nan", x).astype(str).T,
                             level_of_measurement="nominal")
    assert krippendorff_alpha(df, n_boot=0).estimate == pytest.approx(ref, rel=1e-12)


def test_many_distinct_interval_values_bounded_memory():
    # 10,000 distinct values: no V × V matrix is built (the reference package cannot run this).
    rng = np.random.default_rng(0)
    true = rng.permutation(10_000)[:2000].astype(float)
    x = true[:, None] + rng.normal(0, 300, size=(2000, 5))
    r = krippendorff_alpha(x, "interval", n_boot=0)
    # alpha = var(true) / (var(true) + error variance), up to sampling error
    expected = true.var() / (true.var() + 300**2)
    assert r.estimate == pytest.approx(expected, abs=0.01)
    o = krippendorff_alpha(np.round(x), "ordinal", n_boot=0)
    assert 0.9 < o.estimate < 1


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_vectorised_bootstrap_equals_recomputation(level):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 7, size=(60, 4)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    mask = ~np.isnan(x)
    m = mask.sum(axis=1)
    keep = m >= 2
    stats = _CLASSES[level](x[keep], mask[keep], m[keep].astype(float))
    w = next(replicate_weights(int(keep.sum()), 6, 11))
    reps = stats.boot(w)
    brute = [alpha_from_matrix(np.repeat(x[keep], w[r].astype(int), axis=0), level)["alpha"]
             for r in range(6)]
    np.testing.assert_allclose(reps, brute, rtol=1e-10, atol=1e-12)


def test_bootstrap_interval_is_seeded_and_covers():
    r1 = krippendorff_alpha(K2011, "interval", n_boot=500, seed=3)
    r2 = krippendorff_alpha(K2011, "interval", n_boot=500, seed=3)
    r3 = krippendorff_alpha(K2011, "interval", n_boot=500, seed=4)
    assert r1.ci == r2.ci and r1.ci != r3.ci
    assert r1.ci[0] < r1.estimate < r1.ci[1]
    assert "percentile bootstrap" in r1.method and "resamples of units" in r1.method
    assert 0 <= r1.details["share_boot_below_0667"] <= 1


def test_bootstrap_coverage_on_simulated_data():
    # population alpha ~ kappa = r² = 0.64 for two coders copying the truth with prob 0.8
    rng = np.random.default_rng(12)
    hits = 0
    for rep in range(30):
        truth = rng.integers(0, 3, size=300)
        x = np.where(rng.random((300, 2)) < 0.8, truth[:, None],
                     rng.integers(0, 3, size=(300, 2))).astype(float)
        r = krippendorff_alpha(x, n_boot=300, seed=rep)
        hits += r.ci[0] <= 0.64 <= r.ci[1]
    assert hits >= 24  # nominal 95%: 28.5 expected; binomial 1st percentile ~ 25


def test_alpha_edge_cases():
    same = pd.DataFrame({"a": [1, 1, 1], "b": [1, 1, 1]})
    r = krippendorff_alpha(same, n_boot=100)
    assert np.isnan(r.estimate) and "undefined" in r.warnings[0]
    with pytest.raises(DataError, match="two or more coders"):
        krippendorff_alpha(pd.DataFrame({"a": [1, np.nan], "b": [np.nan, 2]}))
    with pytest.raises(DataError, match="at least two coders"):
        krippendorff_alpha(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(ParameterError, match="level"):
        krippendorff_alpha(K2011, "cardinal")
    with pytest.raises(ParameterError, match="n_boot"):
        krippendorff_alpha(K2011, n_boot=10)
    with pytest.raises(DataError, match="non-negative"):
        krippendorff_alpha(pd.DataFrame({"a": [1, -2], "b": [1, 2]}), "ratio")
    with pytest.raises(DataError, match="numeric"):
        krippendorff_alpha(pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}), "interval")
    low = krippendorff_alpha(pd.DataFrame({"a": [1, 2, 1, 2], "b": [2, 1, 2, 1]}), n_boot=0)
    assert low.estimate < 0 and "below .667" in low.warnings[0]


def test_fleiss_1971_table_1():
    r = fleiss_kappa(DIAGNOSES, n_boot=0)
    assert round(r.estimate, 3) == 0.430
    assert round(r.statistic, 1) == 17.7
    t = r.table.set_index("category")
    np.testing.assert_allclose(t["kappa"].round(3), [0.245, 0.245, 0.520, 0.471, 0.566])
    np.testing.assert_allclose(t["z"].round(2), [5.19, 5.19, 11.03, 9.99, 12.01])


def test_fleiss_wikipedia_counts_and_statsmodels():
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    r = fleiss_kappa(WIKI_COUNTS, counts=True, n_boot=0)
    assert round(r.estimate, 3) == 0.210
    table, _ = aggregate_raters(DIAGNOSES)
    assert fleiss_kappa(DIAGNOSES, n_boot=0).estimate == pytest.approx(sm_fleiss(table))
    boot = fleiss_kappa(DIAGNOSES, n_boot=300, seed=1)
    assert boot.ci[0] < 0.43 < boot.ci[1]


def test_fleiss_errors():
    x = DIAGNOSES.astype(float)
    x[0, 0] = np.nan
    with pytest.raises(DataError, match="same number of ratings"):
        fleiss_kappa(x)
    with pytest.raises(DataError, match="whole numbers"):
        fleiss_kappa(np.array([[1.5, 2], [1, 2]]), counts=True)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_equals_sklearn_and_statsmodels(weights):
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa

    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, 250)
    b = np.where(rng.random(250) < 0.6, a, rng.integers(0, 4, 250))
    r = cohen_kappa(pd.DataFrame({"a": a, "b": b}), weights=weights, n_boot=0)
    assert r.estimate == pytest.approx(cohen_kappa_score(a, b, weights=weights), rel=1e-12)
    table = pd.crosstab(a, b).to_numpy()
    sm = cohens_kappa(table, wt=weights)
    assert r.estimate == pytest.approx(sm.kappa, rel=1e-12)
    assert r.details["se_asymptotic"] == pytest.approx(sm.std_kappa, rel=1e-10)
    assert r.details["se_under_h0"] == pytest.approx(sm.std_kappa0, rel=1e-10)
    if weights is None:
        assert r.p_value == pytest.approx(sm.pvalue_two_sided, rel=1e-8)


def test_cohen_kappa_labels_missing_and_bootstrap():
    from sklearn.metrics import cohen_kappa_score

    a = ["low", "mid", "high", "mid", None, "low", "high", "mid", "low", "high"] * 5
    b = ["low", "mid", "mid", "mid", "low", "low", "high", "high", "low", "high"] * 5
    df = pd.DataFrame({"x": a, "y": b})
    r = cohen_kappa(df, weights="linear", order=["low", "mid", "high"], n_boot=300, seed=2)
    keep = [i for i, v in enumerate(a) if v is not None]
    ref = cohen_kappa_score([a[i] for i in keep], [b[i] for i in keep], weights="linear",
                            labels=["low", "mid", "high"])
    assert r.estimate == pytest.approx(ref)
    assert r.details["n_units_excluded"] == 5 and r.n == 45
    assert r.ci[0] < r.estimate < r.ci[1]
    with pytest.raises(ParameterError, match="ordered categories"):
        cohen_kappa(df, weights="linear")
    with pytest.raises(ParameterError, match="exactly two coders"):
        cohen_kappa(pd.DataFrame({"a": [1], "b": [1], "c": [1]}))
    with pytest.raises(ParameterError, match="weights"):
        cohen_kappa(df, weights="cubic")


def test_percent_agreement_and_pairwise():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3], "b": [1, 2, 2, 2, np.nan], "c": [1, 1, 2, 1, 3]})
    r = percent_agreement(df, n_boot=0)
    # unit shares of agreeing pairs: 1, 1/3, 1, 1/3, 1  (unit 5: a and c agree)
    assert r.estimate == pytest.approx((1 + 1 / 3 + 1 + 1 / 3 + 1) / 5)
    pw = pairwise_agreement(df)
    ab = pw[(pw.coder_a == "a") & (pw.coder_b == "b")].iloc[0]
    assert ab.n_units == 4 and ab.percent_agreement == pytest.approx(0.75)
    from sklearn.metrics import cohen_kappa_score

    assert ab.cohen_kappa == pytest.approx(cohen_kappa_score([1, 1, 2, 2], [1, 2, 2, 2]))
