"""Simulators of researchkit.datasets.causal: determinism, the truth they report, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import researchkit.datasets as ds
from researchkit.errors import ParameterError


def test_regional_panel_is_deterministic_and_consistent():
    a = ds.regional_sales_panel(seed=4)
    b = ds.regional_sales_panel(seed=4)
    assert a.data.equals(b.data)
    d = a.data
    assert len(d) == 20 * 4 * 52
    assert (d["campaign"] == d["treated"] * d["post"]).all()
    assert sorted(d.loc[d["treated"] == 1, "region"].unique()) == a.truth["treated_regions"]
    # common timing: post is the same for every store in a week
    assert (d.groupby("week")["post"].nunique() == 1).all()
    assert a.truth["att"] == pytest.approx(6.0)


def test_effect_is_exactly_the_difference_from_the_untreated_world():
    kw = {"n_regions": 8, "stores_per_region": 2, "n_weeks": 20, "n_treated": 3,
          "staggered": True, "cohorts": (6, 12), "effect_growth": 0.1, "seed": 2}
    treated = ds.regional_sales_panel(effect=5.0, **kw)
    untreated = ds.regional_sales_panel(effect=0.0, **kw)
    tau = treated.data["sales"] - untreated.data["sales"]
    on = treated.data["campaign"] == 1
    assert tau[on].mean() == pytest.approx(treated.truth["att"])
    assert (tau[~on] == 0).all()
    gt = treated.truth["att_gt"]
    first = gt[(gt["cohort"] == 6) & (gt["week"] == 6)]["att"].iloc[0]
    assert first == pytest.approx(5.0 * 1.5)  # first wave: cohort factor 1.5, e = 0
    assert treated.truth["att_by_event_time"][2] > treated.truth["att_by_event_time"][0]


def test_pretrend_option_adds_a_differential_trend():
    kw = {"n_regions": 10, "stores_per_region": 1, "n_weeks": 10, "n_treated": 4,
          "launch_week": 6, "seed": 1}
    a = ds.regional_sales_panel(pretrend=0.5, **kw).data
    b = ds.regional_sales_panel(**kw).data
    diff = (a["sales"] - b["sales"])[a["treated"] == 1]
    assert np.allclose(diff, 0.5 * a.loc[a["treated"] == 1, "week"])


def test_weekly_series_and_observational_truth():
    s = ds.weekly_sales_series(n_weeks=60, launch_week=40, effect=3.0, seed=1)
    assert np.allclose(s.data["sales"] - s.truth["counterfactual"],
                       3.0 * (s.data["week"] >= 40))
    assert s.truth["cumulative_effect"] == pytest.approx(3.0 * 21)
    o = ds.campaign_observational(n=500, seed=3)
    assert o.truth["att"] != pytest.approx(o.truth["ate"])
    assert o.data["joined"].between(0, 1).all()
    assert np.allclose(np.log(o.data["past_spend"]), o.data["log_past_spend"])


@pytest.mark.parametrize("kwargs", [
    {"n_treated": 20}, {"launch_week": 1}, {"launch_week": 99}, {"effect": "big"},
    {"noise": -1.0}, {"staggered": True, "cohorts": (0, 10)}, {"n_regions": 1},
])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        ds.regional_sales_panel(**kwargs)


def test_bad_parameters_other_simulators():
    with pytest.raises(ParameterError):
        ds.weekly_sales_series(launch_week=2)
    with pytest.raises(ParameterError):
        ds.campaign_observational(n=5)
