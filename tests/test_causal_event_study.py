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
