"""Event study and pre-trend test.

References: the event-study coefficients and their clustered covariance equal statsmodels'
LSDV regression on the same relative-period dummies (CR1, t with G-1 df); the joint pre-trend
test equals statsmodels' ``f_test`` of the leads with that covariance. Recovery: leads ~ 0 and
lags ~ the simulated effect; a simulated pre-trend violation is detected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal import DifferenceInDifferences, EventStudy
from researchkit.experiments.causal.checks import placebo_in_time, pretrend_test


@pytest.fixture(scope="module")
def sim():
    return ds.regional_sales_panel(n_regions=16, stores_per_region=2, n_weeks=16, n_treated=6,
                                   launch_week=10, seed=8)


def _dummies(data: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    rel = np.where(data["treated"] == 1, data["week"] - data["launch_week"], 0)
    rel = np.clip(rel, lo, hi)
    out = data.copy()
    for e in range(lo, hi + 1):
        if e != -1:
            name = f"e_m{-e}" if e < 0 else f"e_p{e}"
            out[name] = ((rel == e) & (data["treated"] == 1)).astype(float)
    return out


def test_coefficients_and_pretrend_test_equal_statsmodels(sim):
    data = sim.data
    es = EventStudy(data, "sales", "store", "week", "campaign", leads=4, lags=3,
                    cluster="region")
    d = _dummies(data, -4, 3)
    terms = [c for c in d.columns if c.startswith("e_")]
    ref = smf.ols("sales ~ C(store) + C(week) + " + " + ".join(terms), d).fit(
        cov_type="cluster", cov_kwds={"groups": d["region"].astype("category").cat.codes},
        use_t=True)
    for e in [-4, -3, -2, 0, 1, 2, 3]:
        name = f"e_m{-e}" if e < 0 else f"e_p{e}"
        assert es.coefficients.loc[e, "estimate"] == pytest.approx(ref.params[name], rel=1e-9)
        assert es.coefficients.loc[e, "se"] == pytest.approx(ref.bse[name], rel=1e-8)
    assert es.coefficients.loc[-1, "estimate"] == 0.0
    test = pretrend_test(es)
    f = ref.f_test("e_m4 = 0, e_m3 = 0, e_m2 = 0")
    assert test.statistic == pytest.approx(float(np.squeeze(f.fvalue)), rel=1e-7)
    assert test.p_value == pytest.approx(float(f.pvalue), rel=1e-6)
    assert test.df == 3 and test.details["df_denominator"] == 15


def test_recovers_dynamic_effects_and_flat_pretrends(sim):
    es = EventStudy(sim.data, "sales", "store", "week", "campaign", cluster="region")
    post = es.coefficients.loc[es.coefficients.index >= 0]
    pre = es.coefficients.loc[es.coefficients.index < -1]
    assert ((post["ci_low"] < 6.0) & (post["ci_high"] > 6.0)).mean() >= 0.8
    assert ((pre["ci_low"] < 0) & (pre["ci_high"] > 0)).mean() >= 0.8
    assert abs(es.result.estimate - sim.truth["att"]) < 1.5


def test_pretrend_violation_is_detected():
    bad = ds.regional_sales_panel(n_regions=20, stores_per_region=3, n_weeks=30, n_treated=8,
                                  launch_week=20, pretrend=0.6, seed=4)
    es = EventStudy(bad.data, "sales", "store", "week", "campaign", leads=8, lags=4,
                    cluster="region")
    assert pretrend_test(es).p_value < 0.01
    # and the DiD placebo in time picks it up too
    est = DifferenceInDifferences(bad.data, "sales", "treated", "post", unit="store",
                                  time="week", cluster="region")
    placebo = placebo_in_time(est, fake_start=12)
    assert placebo.p_value < 0.01
    assert placebo.name.startswith("Placebo in time")


def test_placebo_in_time_is_null_without_violation(sim):
    est = DifferenceInDifferences(sim.data, "sales", "treated", "post", unit="store",
                                  time="week", cluster="region")
    placebo = placebo_in_time(est, fake_start=6)
    assert placebo.ci[0] < 0 < placebo.ci[1]
    with pytest.raises(ParameterError, match="inside the pre-period"):
        placebo_in_time(est, fake_start=12)


def test_unbinned_window_drops_far_periods(sim):
    es = EventStudy(sim.data, "sales", "store", "week", "campaign", leads=3, lags=2,
                    bin_endpoints=False)
    assert list(es.coefficients.index) == [-3, -2, -1, 0, 1, 2]
    assert es.fit.n < len(sim.data)


def test_staggered_event_study_warns():
    st = ds.regional_sales_panel(staggered=True, effect_growth=0.05, seed=1)
    es = EventStudy(st.data, "sales", "store", "week", "campaign", leads=6, lags=8)
    assert es.staggered and any("Sun & Abraham" in w for w in es.result.warnings)


def test_event_study_errors(sim):
    with pytest.raises(ParameterError, match="leads"):
        EventStudy(sim.data, "sales", "store", "week", "campaign", leads=1)
    with pytest.raises(ParameterError, match="reference"):
        EventStudy(sim.data, "sales", "store", "week", "campaign", reference=0)
    with pytest.raises(DataError, match="no unit is ever treated"):
        EventStudy(sim.data.assign(campaign=0), "sales", "store", "week", "campaign")
    early = ds.regional_sales_panel(n_regions=6, stores_per_region=2, n_weeks=8, n_treated=2,
                                    launch_week=2, seed=1).data
    es = EventStudy(early, "sales", "store", "week", "campaign")
    assert es.leads_names == []
    with pytest.raises(DataError, match="no lead"):
        pretrend_test(es)
    with pytest.raises(ParameterError, match="EventStudy"):
        pretrend_test("not a design")


def test_plot(sim, run_dir):
    es = EventStudy(sim.data, "sales", "store", "week", "campaign")
    fig = es.plot(truth=sim.truth["att_by_event_time"])
    assert fig.axes


def test_wild_cluster_bootstrap_equals_direct_refits():
    """The vectorised WCR bootstrap equals refitting the regression draw by draw."""
    from researchkit.datasets.base import make_rng
    from researchkit.experiments.causal._ols import fit_ols

    data = ds.regional_sales_panel(n_regions=10, stores_per_region=2, n_weeks=12, n_treated=4,
                                   launch_week=8, seed=2).data
    es = EventStudy(data, "sales", "store", "week", "campaign", leads=4, lags=2,
                    cluster="region")
    test = pretrend_test(es, bootstrap=99, seed=5)
    des = es._design
    names = es.leads_names
    keep = [i for i, n in enumerate(des["names"]) if n not in names]
    restricted = fit_ols(des["y"], des["x"][:, keep], [des["names"][i] for i in keep],
                         fixed_effects=des["fixed_effects"], cluster=des["cluster"])
    # LSDV residuals of the restricted model (absorbed residuals = LSDV residuals)
    u = restricted.resid
    fitted = des["y"] - u
    codes = pd.factorize(pd.Series(des["cluster"]), sort=True)[0]
    v = make_rng(5).choice([-1.0, 1.0], size=(codes.max() + 1, 99))
    w_obs = es.fit.wald(names)["chi2"]
    count = 0
    for b in range(99):
        ystar = fitted + u * v[codes, b]
        fit = fit_ols(ystar, des["x"], des["names"], fixed_effects=des["fixed_effects"],
                      cluster=des["cluster"])
        count += fit.wald(names)["chi2"] >= w_obs
    assert test.p_value == pytest.approx((count + 1) / 100)
    assert "wild cluster restricted bootstrap" in test.method


@pytest.mark.slow
def test_bootstrap_pretrend_test_has_nominal_size_with_few_treated_clusters():
    """Under the null (pure noise), 6 leads, 20 clusters of which 6 treated: the analytic F
    test over-rejects massively (about 40% in our runs) and warns; the wild cluster bootstrap
    rejects close to 5%. 60 replications: we require the bootstrap rate below 5% + 3.5
    binomial SE (15.7%)."""
    reps, boot, analytic = 60, 0, 0
    for seed in range(reps):
        data = ds.regional_sales_panel(n_regions=20, stores_per_region=2, n_weeks=20,
                                       n_treated=6, launch_week=14, seed=seed).data
        data = data.assign(sales=np.random.default_rng(seed).normal(size=len(data)))
        es = EventStudy(data, "sales", "store", "week", "campaign", leads=6, lags=2,
                        cluster="region")
        boot += pretrend_test(es, bootstrap=199, seed=seed).p_value < 0.05
        plain = pretrend_test(es)
        analytic += plain.p_value < 0.05
        assert plain.warnings
    assert boot / reps < 0.05 + 3.5 * np.sqrt(0.05 * 0.95 / reps)
    assert analytic / reps > boot / reps


def test_as_many_leads_as_clusters_is_an_error():
    data = ds.regional_sales_panel(n_regions=6, stores_per_region=2, n_weeks=16, n_treated=2,
                                   launch_week=12, seed=1).data
    es = EventStudy(data, "sales", "store", "week", "campaign", leads=8, cluster="region")
    with pytest.raises(DataError, match="as many leads as clusters"):
        pretrend_test(es)
