"""Shared Markov-chain helpers, checked against closed forms and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.errors import DataError, ParameterError
from researchkit.markov import forecast_shares, steady_state, transition_matrix


def test_two_state_steady_state_closed_form():
    # For P = [[1-a, a], [b, 1-b]] the stationary distribution is (b, a) / (a + b).
    a, b = 0.2, 0.05
    P = pd.DataFrame([[1 - a, a], [b, 1 - b]], index=["A", "B"], columns=["A", "B"])
    pi = steady_state(P)
    assert pi["A"] == pytest.approx(b / (a + b)) and pi["B"] == pytest.approx(a / (a + b))
    path = forecast_shares(P, [1.0, 0.0], 400)
    np.testing.assert_allclose(path.iloc[-1].to_numpy(), pi.to_numpy(), atol=1e-10)
    assert path.loc[1, "A"] == pytest.approx(0.8)


def test_estimation_recovers_simulated_matrix():
    rng = np.random.default_rng(3)
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    origin = rng.integers(0, 3, size=60_000)
    dest = np.array([rng.choice(3, p=P[o]) for o in origin[:20_000]])
    df = pd.DataFrame({"w1": origin[:20_000], "w2": dest})
    est = transition_matrix(df, "w1", "w2")
    np.testing.assert_allclose(est.to_numpy(), P, atol=0.02)


def test_weights_and_states():
    df = pd.DataFrame({"a": ["x", "x", "y"], "b": ["x", "y", "y"], "w": [1.0, 3.0, 2.0]})
    est = transition_matrix(df, "a", "b", weight="w", states=["x", "y", "z"])
    assert est.loc["x", "y"] == pytest.approx(0.75)
    assert est.loc["z"].isna().all()
    with pytest.raises(DataError, match="states outside"):
        transition_matrix(df, "a", "b", states=["x"])
    with pytest.raises(DataError, match="column not found"):
        transition_matrix(df, "a", "nope")
    df.loc[1, "w"] = -1
    with pytest.raises(DataError, match="non-negative"):
        transition_matrix(df, "a", "b", weight="w")


def test_bad_matrices():
    with pytest.raises(ParameterError, match="sum to 1"):
        steady_state(np.array([[0.5, 0.4], [0.5, 0.5]]))
    with pytest.raises(ParameterError, match="closed classes"):
        steady_state(np.eye(2))
    with pytest.raises(ParameterError, match="sum to 1"):
        forecast_shares(np.eye(2), [0.5, 0.6], 2)
