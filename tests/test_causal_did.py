"""Difference-in-differences (2×2 and two-way fixed effects).

References: statsmodels OLS on the same data with the dummy-variable (LSDV) regression and
``cov_type="cluster"`` (CR1 small-sample correction G/(G-1)·(N-1)/(N-K), t with G-1 df via
``use_t=True``) or ``cov_type="HC1"``; recovery of the known campaign effect of
``regional_sales_panel``; coverage of the intervals in repeated simulations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal import DifferenceInDifferences, did
from researchkit.experiments.causal._ols import absorb, fe_rank, fit_ols


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return ds.regional_sales_panel(n_regions=12, stores_per_region=3, n_weeks=20,
                                   n_treated=4, launch_week=14, seed=5).data


def _codes(s: pd.Series) -> np.ndarray:
    return s.astype("category").cat.codes.to_numpy()


def test_twfe_equals_statsmodels_lsdv_with_clustered_errors(panel):
    r = did(panel, "sales", "treated", "post", unit="store", time="week", cluster="region")
    ref = smf.ols("sales ~ C(store) + C(week) + campaign", panel).fit(
        cov_type="cluster", cov_kwds={"groups": _codes(panel["region"])}, use_t=True)
    assert r.estimate == pytest.approx(ref.params["campaign"], rel=1e-10)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-8)
    assert r.p_value == pytest.approx(ref.pvalues["campaign"], rel=1e-6)
    lo, hi = ref.conf_int().loc["campaign"]
    assert r.ci == pytest.approx((lo, hi), rel=1e-8)
    assert r.df == 11  # G - 1 clusters
    assert "CR1" in r.method and "region" in r.method


def test_default_cluster_is_the_unit(panel):
    r = did(panel, "sales", "treated", "post", unit="store", time="week")
    ref = smf.ols("sales ~ C(store) + C(week) + campaign", panel).fit(
        cov_type="cluster", cov_kwds={"groups": _codes(panel["store"])}, use_t=True)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-8)
    assert r.details["n_clusters"] == panel["store"].nunique()


def test_2x2_equals_statsmodels_interaction_with_hc1(panel):
    r = did(panel, "sales", "treated", "post")
    ref = smf.ols("sales ~ treated * post", panel).fit(cov_type="HC1", use_t=True)
    assert r.estimate == pytest.approx(ref.params["treated:post"], rel=1e-10)
    assert r.details["se"] == pytest.approx(ref.bse["treated:post"], rel=1e-8)
    assert r.p_value == pytest.approx(ref.pvalues["treated:post"], rel=1e-6)
    assert "HC1" in r.method


def test_2x2_equals_difference_of_mean_changes(panel):
    est = DifferenceInDifferences(panel, "sales", "treated", "post")
    m = panel.groupby(["treated", "post"])["sales"].mean()
    hand = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    assert est.result.estimate == pytest.approx(hand, rel=1e-10)
    gm = est.group_means()
    assert gm.loc["treated − control", "change"] == pytest.approx(hand, rel=1e-10)


def test_one_way_designs_and_covariates_equal_statsmodels(panel):
    data = panel.assign(promo=np.random.default_rng(0).normal(size=len(panel)))
    groups = _codes(data["region"])
    r = did(data, "sales", "treated", "post", unit="store", cluster="region")
    ref = smf.ols("sales ~ C(store) + post + campaign", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert r.estimate == pytest.approx(ref.params["campaign"], rel=1e-9)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-8)
    r = did(data, "sales", "treated", "post", time="week", cluster="region")
    ref = smf.ols("sales ~ C(week) + treated + campaign", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert r.estimate == pytest.approx(ref.params["campaign"], rel=1e-9)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-8)
    r = did(data, "sales", "treated", "post", unit="store", time="week", cluster="region",
            covariates=["promo"])
    ref = smf.ols("sales ~ C(store) + C(week) + campaign + promo", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert r.estimate == pytest.approx(ref.params["campaign"], rel=1e-9)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-8)
    assert r.table.loc["promo", "estimate"] == pytest.approx(ref.params["promo"], rel=1e-8)


def test_unbalanced_panel_absorption_equals_dummies():
    rng = np.random.default_rng(3)
    data = ds.regional_sales_panel(n_regions=8, stores_per_region=3, n_weeks=15, n_treated=3,
                                   launch_week=9, seed=2).data
    data = data.drop(index=rng.choice(len(data), 60, replace=False)).reset_index(drop=True)
    r = did(data, "sales", "treated", "post", unit="store", time="week", cluster="region")
    ref = smf.ols("sales ~ C(store) + C(week) + campaign", data).fit(
        cov_type="cluster", cov_kwds={"groups": _codes(data["region"])}, use_t=True)
    assert r.estimate == pytest.approx(ref.params["campaign"], rel=1e-8)
    assert r.details["se"] == pytest.approx(ref.bse["campaign"], rel=1e-7)


def test_fe_rank_counts_connected_components():
    units = np.array([0, 0, 1, 1, 2, 2])
    times = np.array([0, 1, 0, 1, 2, 3])  # units 0,1 share periods; unit 2 is disconnected
    assert fe_rank([units, times]) == 3 + 4 - 2
    assert fe_rank([units]) == 3
    demeaned = absorb(np.arange(6.0), [units])
    assert np.allclose(demeaned.ravel(), [-0.5, 0.5, -0.5, 0.5, -0.5, 0.5])


def test_classical_covariance_equals_statsmodels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 2))
    y = 1 + x @ [2.0, -1.0] + rng.normal(size=50)
    fit = fit_ols(y, x, ["a", "b"], cov_type="classical")
    ref = smf.ols("y ~ a + b", pd.DataFrame({"y": y, "a": x[:, 0], "b": x[:, 1]})).fit()
    assert np.allclose(fit.coef, ref.params.to_numpy(), rtol=1e-10)
    assert np.allclose(fit.se, ref.bse.to_numpy(), rtol=1e-10)
    w = fit.wald(["a", "b"])
    f = ref.f_test("a = 0, b = 0")
    assert w["F"] == pytest.approx(float(np.squeeze(f.fvalue)), rel=1e-8)
    assert w["p_value"] == pytest.approx(float(f.pvalue), rel=1e-6)


def test_recovers_the_known_effect():
    sim = ds.regional_sales_panel(seed=11, effect=6.0)
    r = did(sim.data, "sales", "treated", "post", unit="store", time="week", cluster="region")
    assert r.ci[0] < sim.truth["att"] < r.ci[1]
    assert abs(r.estimate - 6.0) < 1.0


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.0, 3.0])
def test_interval_coverage_in_repeated_simulations(effect):
    """Coverage of 95% cluster-robust intervals over 300 simulated panels (40 clusters).

    The binomial standard error of a coverage estimate from 300 runs is 1.26 points; CR1 with
    t(G-1) is close to nominal with 40 balanced clusters (Cameron & Miller 2015), so we require
    coverage within 3.5 binomial SEs of 95% (91-99%). effect=0 is the A/A case (coverage =
    1 - false-positive rate).
    """
    hits = 0
    reps = 300
    for seed in range(reps):
        sim = ds.regional_sales_panel(n_regions=40, stores_per_region=2, n_weeks=12,
                                      n_treated=20, launch_week=7, effect=effect, seed=seed)
        r = did(sim.data, "sales", "treated", "post", unit="store", time="week",
                cluster="region")
        hits += r.ci[0] <= sim.truth["att"] <= r.ci[1]
    coverage = hits / reps
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(coverage - 0.95) < 3.5 * se, coverage


def test_staggered_adoption_is_detected_and_warned():
    sim = ds.regional_sales_panel(staggered=True, effect_growth=0.05, seed=3)
    est = DifferenceInDifferences(sim.data, "sales", "treated", "post", unit="store",
                                  time="week", cluster="region")
    assert est.staggered
    assert any("Staggered adoption" in w for w in est.result.warnings)
    assert any("Only 20 clusters" in w for w in est.result.warnings)


def test_errors_name_the_problem(panel):
    with pytest.raises(DataError, match="column 'nope' not found"):
        did(panel, "nope", "treated", "post")
    bad = panel.assign(treated=panel["treated"] * 2)
    with pytest.raises(DataError, match="0/1 indicator") as exc:
        did(bad, "sales", "treated", "post")
    assert exc.value.column == "treated" and exc.value.row is not None
    with pytest.raises(DataError, match="missing value"):
        did(panel.assign(sales=panel["sales"].where(panel.index != 7)), "sales", "treated",
            "post")
    with pytest.raises(DataError, match="no variation"):
        did(panel.assign(post=1), "sales", "treated", "post")
    with pytest.raises(DataError, match="changes within a unit"):
        flipped = panel.copy()
        flipped.loc[flipped.index[0], "treated"] = 1 - flipped.loc[flipped.index[0], "treated"]
        did(flipped, "sales", "treated", "post", unit="store")
    with pytest.raises(DataError, match="more than one row"):
        did(pd.concat([panel, panel.head(1)]), "sales", "treated", "post", unit="store",
            time="week")
    with pytest.raises(DataError, match="not numeric"):
        did(panel.assign(sales="x"), "sales", "treated", "post")
    with pytest.raises(ParameterError, match="ci_level"):
        did(panel, "sales", "treated", "post", ci_level=95)
    with pytest.raises(ParameterError, match="DataFrame"):
        did([1, 2], "sales", "treated", "post")


def test_plot_and_result_serialise(panel, run_dir):
    est = DifferenceInDifferences(panel, "sales", "treated", "post", unit="store", time="week")
    fig = est.plot()
    assert fig.axes
    d = est.result.to_dict()
    assert d["estimate"] == pytest.approx(est.result.estimate)
    assert est.result.summary().index.name == "term"


def test_covariate_absorbed_by_fixed_effects_is_an_error(panel):
    data = panel.assign(trend=panel["week"] * 2.0)
    with pytest.raises(DataError, match="constant within the fixed effects"):
        did(data, "sales", "treated", "post", unit="store", time="week", covariates=["trend"])


def test_wild_bootstrap_p_value_is_reproducible_and_stated(panel):
    a = did(panel, "sales", "treated", "post", unit="store", time="week", cluster="region",
            bootstrap=199, seed=3)
    b = did(panel, "sales", "treated", "post", unit="store", time="week", cluster="region",
            bootstrap=199, seed=3)
    assert a.p_value == b.p_value
    assert "wild cluster restricted bootstrap" in a.method
    assert not any("Only" in w and "clusters" in w for w in a.warnings)
    with pytest.raises(ParameterError, match="bootstrap"):
        did(panel, "sales", "treated", "post", bootstrap=199)
    with pytest.raises(ParameterError, match="bootstrap"):
        did(panel, "sales", "treated", "post", unit="store", bootstrap=10)


@pytest.mark.slow
def test_wild_bootstrap_size_with_few_treated_clusters():
    """A/A test with 3 of 16 regions treated: the CR1 t-test over-rejects (MacKinnon & Webb
    2017); the wild cluster restricted bootstrap rejects at most about 5%. 100 replications:
    bootstrap rejection rate below 5% + 3.5 binomial SE (12.6%)."""
    reps, boot, analytic = 100, 0, 0
    for seed in range(reps):
        sim = ds.regional_sales_panel(n_regions=16, stores_per_region=2, n_weeks=10,
                                      n_treated=3, launch_week=6, effect=0.0, seed=seed)
        r = did(sim.data, "sales", "treated", "post", unit="store", time="week",
                cluster="region", bootstrap=199, seed=seed)
        boot += r.p_value < 0.05
        analytic += r.details["p_value_analytic"] < 0.05
    assert boot / reps < 0.05 + 3.5 * np.sqrt(0.05 * 0.95 / reps)
    assert analytic >= boot
