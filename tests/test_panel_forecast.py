"""Markov forecast, steady state (closed forms), bootstrap, and the Anderson-Goodman test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.panel import markov_forecast, transition_homogeneity


def _two_wave(moves: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows, r = [], 0
    for (a, b), count in moves.items():
        for _ in range(count):
            rows += [(r, 1, a), (r, 2, b)]
            r += 1
    return pd.DataFrame(rows, columns=["respondent", "wave", "brand"])


def test_steady_state_two_states_closed_form():
    # P = [[0.8, 0.2], [0.05, 0.95]] exactly; pi = (b, a) / (a + b) = (0.2, 0.8)
    df = _two_wave({("A", "A"): 80, ("A", "B"): 20, ("B", "A"): 5, ("B", "B"): 95})
    res = markov_forecast(df, "brand", periods=5, n_boot=0)
    np.testing.assert_allclose(res.matrix.to_numpy(), [[0.8, 0.2], [0.05, 0.95]])
    steady = res.steady.set_index("state")["share"]
    assert steady["A"] == pytest.approx(0.05 / 0.25) and steady["B"] == pytest.approx(0.8)
    # forecast = s0 P^k, s0 = wave-2 shares (85 A, 115 B of 200)
    s0 = np.array([85, 115]) / 200
    P = np.array([[0.8, 0.2], [0.05, 0.95]])
    f = res.forecast.pivot(index="period", columns="state", values="share")
    for k in range(6):
        np.testing.assert_allclose(f.loc[k].to_numpy(), s0 @ np.linalg.matrix_power(P, k))
    assert res.forecast["wave"].drop_duplicates().tolist() == [2, 3, 4, 5, 6, 7]
    assert res.estimate == pytest.approx({"A": 0.2, "B": 0.8})


def test_doubly_stochastic_chain_has_uniform_steady_state():
    moves = {("A", "A"): 50, ("A", "B"): 30, ("A", "C"): 20, ("B", "A"): 20,
             ("B", "B"): 50, ("B", "C"): 30, ("C", "A"): 30, ("C", "B"): 20, ("C", "C"): 50}
    res = markov_forecast(_two_wave(moves), "brand", n_boot=0)
    np.testing.assert_allclose(res.steady["share"], [1 / 3] * 3)


def test_given_initial_shares():
    df = _two_wave({("A", "A"): 80, ("A", "B"): 20, ("B", "A"): 5, ("B", "B"): 95})
    res = markov_forecast(df, "brand", periods=1, n_boot=0, initial={"A": 1.0})
    f = res.forecast.query("period == 1").set_index("state")["share"]
    assert f["A"] == pytest.approx(0.8) and f["B"] == pytest.approx(0.2)
    with pytest.raises(ParameterError, match="unknown brands"):
        markov_forecast(df, "brand", n_boot=0, initial={"Z": 1.0})
    with pytest.raises(ParameterError, match="sum to 1"):
        markov_forecast(df, "brand", n_boot=0, initial={"A": 0.5})


def test_bootstrap_is_seeded_and_matches_binomial_errors():
    # two waves: each respondent brings one move, so resampling respondents is multinomial
    # sampling and the interval of P[i, j] should be about p ± 1.96 sqrt(p(1-p)/n_i)
    sim = ds.brand_panel(n=5000, waves=2, seed=8, dropout={"18-34": 0, "35-54": 0, "55+": 0})
    a = markov_forecast(sim.data, "brand", n_boot=400, seed=3)
    b = markov_forecast(sim.data, "brand", n_boot=400, seed=3)
    c = markov_forecast(sim.data, "brand", n_boot=400, seed=4)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    assert not a.forecast["ci_low"].equals(c.forecast["ci_low"])
    counts = pd.crosstab(sim.data.query("wave == 1")["brand"].to_numpy(),
                         sim.data.query("wave == 2")["brand"].to_numpy()).sum(axis=1)
    ci = a.matrix_ci
    n_i = ci["from"].map(counts).to_numpy()
    p = ci["probability"].to_numpy()
    width = (ci["ci_high"] - ci["ci_low"]).to_numpy()
    expected = 2 * 1.959964 * np.sqrt(p * (1 - p) / n_i)
    np.testing.assert_allclose(width, expected, rtol=0.2)
    assert np.all((ci["ci_low"] <= p) & (p <= ci["ci_high"]))


def test_bootstrap_in_chunks_gives_the_same_numbers(monkeypatch):
    import researchkit.panel.forecast as fc

    sim = ds.brand_panel(n=300, waves=3, seed=2)
    whole = markov_forecast(sim.data, "brand", n_boot=60, seed=5)
    monkeypatch.setattr(fc, "_BOOT_CELLS", 300 * 7)  # chunks of 7 resamples
    chunked = markov_forecast(sim.data, "brand", n_boot=60, seed=5)
    pd.testing.assert_frame_equal(whole.forecast, chunked.forecast)
    pd.testing.assert_frame_equal(whole.matrix_ci, chunked.matrix_ci)


def test_forecast_recovers_simulated_steady_state():
    sim = ds.brand_panel(n=4000, waves=6, seed=21)
    res = markov_forecast(sim.data, "brand", weight="weight", n_boot=300, seed=1,
                          ci_level=0.99)
    st = res.steady.set_index("state")
    for brand, truth in sim.truth["steady_state"].items():
        assert st.loc[brand, "ci_low"] <= truth <= st.loc[brand, "ci_high"]
    np.testing.assert_allclose(res.matrix.to_numpy(), sim.truth["switching"].to_numpy(),
                               atol=0.03)
    assert res.forecast.query("period == 0")["share"].sum() == pytest.approx(1)
    assert res.details["n_boot_failed"] == 0
    assert any("transition_homogeneity" in w for w in res.warnings)


def test_forecast_errors():
    df = _two_wave({("A", "A"): 5, ("A", "B"): 5})  # B never an origin
    with pytest.raises(DataError, match="never observed at an earlier wave"):
        markov_forecast(df, "brand", n_boot=0)
    ok = _two_wave({("A", "A"): 5, ("B", "B"): 5, ("A", "B"): 2, ("B", "A"): 3})
    with pytest.raises(ParameterError, match="periods"):
        markov_forecast(ok, "brand", periods=0)
    with pytest.raises(ParameterError, match="n_boot"):
        markov_forecast(ok, "brand", n_boot=5)
    with pytest.raises(ParameterError, match="ci_level"):
        markov_forecast(ok, "brand", ci_level=95)
    with pytest.raises(ParameterError, match="seed"):
        markov_forecast(ok, "brand", seed=-1)
    with pytest.raises(DataError, match="three"):
        transition_homogeneity(ok, "brand")


def _chain(P_by_period, n, seed):
    rng = np.random.default_rng(seed)
    m = len(P_by_period[0])
    state = rng.integers(0, m, n)
    rows = [(i, 1, state[i]) for i in range(n)]
    for t, P in enumerate(P_by_period):
        P = np.asarray(P)
        state = np.array([rng.choice(m, p=P[s]) for s in state])
        rows += [(i, t + 2, state[i]) for i in range(n)]
    df = pd.DataFrame(rows, columns=["respondent", "wave", "brand"])
    df["brand"] = df["brand"].map(dict(enumerate("ABC")))
    return df


def test_anderson_goodman_equals_summed_g_tests():
    P1 = [[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]]
    P2 = [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]]
    df = _chain([P1, P2, P1], n=600, seed=1)
    res = transition_homogeneity(df, "brand")
    # reference: scipy's G-test of independence (period x destination) for each origin
    g_total, df_total = 0.0, 0
    wide = df.pivot(index="respondent", columns="wave", values="brand")
    for origin in "ABC":
        tables = []
        for t in (1, 2, 3):
            sub = wide.loc[wide[t] == origin, t + 1]
            tables.append(sub.value_counts().reindex(list("ABC"), fill_value=0).to_numpy())
        tab = np.array(tables)
        g, _, dof, _ = stats.chi2_contingency(tab, correction=False,
                                              lambda_="log-likelihood")
        g_total += g
        df_total += dof
    assert res.statistic == pytest.approx(g_total)
    assert res.df == df_total == 12
    assert res.p_value == pytest.approx(stats.chi2.sf(g_total, df_total))
    assert res.p_value < 1e-6  # the matrix does change


def test_anderson_goodman_size_under_homogeneity():
    # under a homogeneous chain the test should reject about 5% of the time
    rejections = 0
    for seed in range(100):
        sim = ds.brand_panel(n=300, waves=3, seed=seed)
        rejections += transition_homogeneity(sim.data, "brand").p_value < 0.05
    assert 1 <= rejections <= 12
