"""The marketing-mix simulator: reproducible, and its truth consistent with its data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels.mmm import geometric_adstock, hill_saturation
from researchkit.errors import ParameterError


def test_same_seed_same_data():
    a, b = ds.simulate_marketing_mix(80, seed=4), ds.simulate_marketing_mix(80, seed=4)
    pd.testing.assert_frame_equal(a.data["weekly"], b.data["weekly"])
    assert not ds.simulate_marketing_mix(80, seed=5).data["weekly"].equals(a.data["weekly"])


def test_truth_is_consistent_with_the_data():
    sim = ds.simulate_marketing_mix(seed=2)
    w, t = sim.data["weekly"], sim.truth
    contrib = t["contributions"]
    for c, p in t["params"].iterrows():
        x = w[c].to_numpy(float)
        # the package's transforms (an independent implementation) give the same contributions
        h = hill_saturation(geometric_adstock(x, p.alpha), p.half, p.slope)
        np.testing.assert_allclose(p.beta * h, contrib[c], rtol=1e-9)
        assert t["roi"][c] == pytest.approx(contrib[c].sum() / x.sum())
        assert 0 < t["mroi"][c] < t["roi"][c] * 1.5
    base = t["base"].drop(columns="date").sum(axis=1)
    resid = w["sales"] - base - contrib[t["channels"]].sum(axis=1)
    assert resid.std() == pytest.approx(t["noise_sd"], rel=0.2)
    lifts = sim.data["lift_tests"]
    assert list(lifts["channel"]) == t["channels"]  # one go-dark test per channel
    assert (lifts["se"] == (0.15 * pd.Series([q["true_lift"] for q in t["lift_truth"]])).round(2)
            ).all()
    for row, truth in zip(lifts.itertuples(), t["lift_truth"], strict=True):
        assert abs(row.lift - truth["true_lift"]) < 4 * row.se


def test_simulator_errors():
    with pytest.raises(ParameterError, match="n_weeks"):
        ds.simulate_marketing_mix(20)
    with pytest.raises(ParameterError, match="noise"):
        ds.simulate_marketing_mix(noise=2.0)
    with pytest.raises(ParameterError, match="roi"):
        ds.simulate_marketing_mix(roi={"radio": 1.0})
    sim = ds.simulate_marketing_mix(seed=0, roi={"tv": 0.5})
    assert sim.truth["roi"]["tv"] == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="lift_tests"):
        ds.simulate_marketing_mix(lift_tests="tv")
    with pytest.raises(ParameterError, match=r"lift_tests.*radio"):
        ds.simulate_marketing_mix(lift_tests=["tv", "radio"])
    with pytest.raises(ParameterError, match="lift_tests"):
        ds.simulate_marketing_mix(lift_tests=["tv", "tv"])


def test_lift_tests_for_chosen_channels_leave_the_weekly_data_unchanged():
    full = ds.simulate_marketing_mix(seed=3)
    some = ds.simulate_marketing_mix(seed=3, lift_tests=["outdoor", "search"])
    none = ds.simulate_marketing_mix(seed=3, lift_tests=False)
    pd.testing.assert_frame_equal(full.data["weekly"], some.data["weekly"])
    pd.testing.assert_frame_equal(full.data["weekly"], none.data["weekly"])
    assert list(some.data["lift_tests"]["channel"]) == ["outdoor", "search"]
    assert none.data["lift_tests"].empty
    # the windows of different channels start in different weeks, each on a week with spend
    w = full.data["weekly"].set_index("date")
    starts = pd.to_datetime(full.data["lift_tests"]["start"])
    assert starts.nunique() == len(starts)
    for row in full.data["lift_tests"].itertuples():
        assert w.loc[pd.Timestamp(row.start), row.channel] > 0
