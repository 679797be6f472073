"""The brand_panel simulator: reproducible, truthful about what it generated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.errors import ParameterError
from researchkit.markov import steady_state


def test_reachable_from_datasets_and_reproducible():
    a = ds.brand_panel(n=200, waves=4, seed=5)
    b = ds.brand_panel(n=200, waves=4, seed=5)
    c = ds.brand_panel(n=200, waves=4, seed=6)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data.equals(c.data)
    data, _truth = a
    assert {"respondent", "wave", "date", "brand", "spend", "ad_exposure", "promo", "age",
            "age_group", "region", "income", "weight"} <= set(data.columns)
    assert data.groupby("respondent")["wave"].min().eq(1).all()
    assert not data.duplicated(["respondent", "wave"]).any()


def test_attrition_is_monotone_and_depends_on_age():
    data, truth = ds.brand_panel(n=3000, waves=5, seed=1)
    waves = data.groupby("respondent")["wave"].agg(["count", "max"])
    assert (waves["count"] == waves["max"]).all()  # nobody comes back
    last = data.groupby("respondent")["wave"].max()
    group = data.drop_duplicates("respondent").set_index("respondent")["age_group"]
    stayed = (last == 5).groupby(group).mean()
    for g, p in truth["dropout"].items():
        expected = (1 - p) ** 4
        n_g = (group == g).sum()
        assert abs(stayed[g] - expected) < 4 * np.sqrt(expected * (1 - expected) / n_g)


def test_truth_is_consistent():
    sim = ds.brand_panel(n=100, waves=3, seed=2)
    P = sim.truth["switching"]
    np.testing.assert_allclose(P.sum(axis=1), 1)
    pi = steady_state(P)
    np.testing.assert_allclose(pi @ P.to_numpy(), pi)
    assert sim.truth["steady_state"] == pytest.approx(pi.to_dict())
    s = sim.truth["brand_shares"]
    np.testing.assert_allclose(s.loc[2].to_numpy(), s.loc[1].to_numpy() @ P.to_numpy())
    assert sim.truth["wave_dates"] == ["2025-01-15", "2025-04-16", "2025-07-16"]
    assert sim.truth["problems"] == {"duplicate respondent-wave": 0,
                                     "re-entry after dropout": 0,
                                     "unequal fieldwork spacing": 0}


def test_wave_one_shares_follow_initial():
    sim = ds.brand_panel(n=20000, waves=2, seed=3)
    w1 = sim.data.query("wave == 1")["brand"].value_counts(normalize=True)
    for brand, p in sim.truth["initial_shares"].items():
        assert abs(w1[brand] - p) < 4 * np.sqrt(p * (1 - p) / 20000)


def test_custom_brands_and_bad_parameters():
    sim = ds.brand_panel(n=50, waves=2, seed=1, brands=["X", "Y"],
                         switching=[[0.9, 0.1], [0.2, 0.8]])
    assert set(sim.data["brand"]) <= {"X", "Y"}
    assert sim.truth["initial_shares"] == {"X": 0.5, "Y": 0.5}
    with pytest.raises(ParameterError, match="switching"):
        ds.brand_panel(brands=["X", "Y"])
    with pytest.raises(ParameterError, match="row-stochastic"):
        ds.brand_panel(switching=np.eye(4) * 0.5)
    with pytest.raises(ParameterError, match="waves"):
        ds.brand_panel(waves=1)
    with pytest.raises(ParameterError, match="dropout"):
        ds.brand_panel(dropout={"18-34": 1.5})
    with pytest.raises(ParameterError, match="initial"):
        ds.brand_panel(initial=[1, 0, 0])
    with pytest.raises(ParameterError, match="beta"):
        ds.brand_panel(beta={"ad": 1})
