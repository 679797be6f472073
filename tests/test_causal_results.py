"""Every causal result serialises (results.json), renders in JupyterLab and summarises."""

from __future__ import annotations

import json

import researchkit.datasets as ds
from researchkit.experiments import causal as c
from researchkit.experiments.causal import checks


def test_every_result_is_json_safe_and_renders():
    d = ds.regional_sales_panel(n_regions=10, stores_per_region=2, n_weeks=20, n_treated=3,
                                launch_week=12, seed=1).data
    est = c.DifferenceInDifferences(d, "sales", "treated", "post", unit="store", time="week")
    es = c.EventStudy(d, "sales", "store", "week", "campaign", leads=4)
    s = ds.regional_sales_panel(n_regions=10, stores_per_region=2, n_weeks=20, n_treated=4,
                                staggered=True, cohorts=(8, 14), seed=1).data
    cs = c.CallawaySantAnna(s, "sales", "store", "week", treatment="campaign")
    reg = c.aggregate_panel(d, "sales", "region", "week", "campaign")
    sc = c.SyntheticControl(reg, "sales", "region", "week", "campaign")
    o = ds.campaign_observational(n=400, seed=1).data
    cov = ["age", "log_past_spend", "member"]
    w = c.PropensityScoreWeighting(o, "spend", "joined", cov)
    t = ds.weekly_sales_series(seed=1).data
    results = [
        est.result, checks.placebo_in_time(est, 6), es.result, checks.pretrend_test(es),
        cs.result, cs.aggregate("dynamic"), checks.pretrend_test(cs, leads=3),
        c.goodman_bacon(s, "sales", "store", "week", "campaign"),
        c.twfe_weights(s, "sales", "store", "week", "campaign"), sc.result, sc.placebo_test(),
        w.result, w.balance, c.PropensityScoreMatching(o, "spend", "joined", cov).result,
        c.InterruptedTimeSeries(t, "sales", "week", 80, controls=["control_1"]).result,
        c.segmented_regression(t, "sales", "week", 80),
    ]
    for r in results:
        payload = json.loads(json.dumps(r.to_dict()))
        assert payload["method"]
        assert "<table>" in r._repr_html_()
        assert len(r.summary()) > 0
        assert r.name in str(r)
