"""Bayesian A/B: exact formulas against quadrature and seeded Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from researchkit.errors import ParameterError
from researchkit.experiments import (
    Mean,
    bayes_means,
    bayes_proportions,
    beta_binomial,
    compare_means,
    prob_beta_greater,
)
from researchkit.experiments.bayesian import _beta_loss


def _quad(a1, b1, a2, b2):
    x, y = stats.beta(a1, b1), stats.beta(a2, b2)
    return integrate.quad(lambda t: x.pdf(t) * y.cdf(t), 0, 1, limit=400, epsabs=1e-12)[0]


@pytest.mark.parametrize("params", [(2, 1, 1, 1), (51, 951, 41, 961), (7, 3, 5, 5),
                                    (1201, 20001, 1101, 20101), (3.5, 10.2, 4.1, 9.7)])
def test_probability_to_beat_matches_quadrature(params):
    assert prob_beta_greater(*params) == pytest.approx(_quad(*params), abs=1e-9)


def test_known_value_and_symmetry():
    # X ~ Beta(2, 1), Y ~ U(0, 1): P(X > Y) = ∫ 2x · x dx = 2/3
    assert prob_beta_greater(2, 1, 1, 1) == pytest.approx(2 / 3, abs=1e-14)
    p = prob_beta_greater(30, 70, 25, 75)
    assert p + prob_beta_greater(25, 75, 30, 70) == pytest.approx(1.0, abs=1e-12)


def test_exact_results_agree_with_seeded_monte_carlo():
    """Monte Carlo with N = 2e6 draws: the standard error of a probability is at most
    sqrt(0.25/N) = 3.5e-4; we allow 5 standard errors."""
    rng = np.random.default_rng(11)
    n = 2_000_000
    ac, bc, at, bt = 121, 1881, 141, 1861
    xc, xt = rng.beta(ac, bc, n), rng.beta(at, bt, n)
    p_mc = np.mean(xt > xc)
    assert prob_beta_greater(at, bt, ac, bc) == pytest.approx(p_mc, abs=5 * math.sqrt(
        p_mc * (1 - p_mc) / n))
    loss = np.maximum(xc - xt, 0)
    assert _beta_loss(ac, bc, at, bt) == pytest.approx(loss.mean(),
                                                       abs=5 * loss.std() / math.sqrt(n))


def test_beta_binomial_result():
    res = beta_binomial({"control": 120, "treatment": 140}, {"control": 2000, "treatment": 2000},
                        seed=3)
    row = res.table.set_index("arm").loc["treatment"]
    assert res.estimate == pytest.approx(prob_beta_greater(141, 1861, 121, 1881), abs=1e-12)
    assert row["posterior_mean"] == pytest.approx(141 / 2002)
    assert row["ci_low"] == pytest.approx(stats.beta(141, 1861).ppf(0.025))
    assert res.table["prob_best"].sum() == pytest.approx(1.0)
    assert row["prob_best"] == pytest.approx(res.estimate, abs=5 * math.sqrt(0.25 / 200_000))
    again = beta_binomial({"control": 120, "treatment": 140},
                          {"control": 2000, "treatment": 2000}, seed=3)
    pd.testing.assert_frame_equal(res.table, again.table)  # seeded: same numbers
    assert "Monte Carlo" in res.method and "exact" in res.method


def test_three_arms_probability_best():
    res = beta_binomial({"a": 50, "b": 80, "c": 60}, {"a": 1000, "b": 1000, "c": 1000},
                        control="a", seed=1)
    best = res.table.set_index("arm")["prob_best"]
    assert best.idxmax() == "b" and best.sum() == pytest.approx(1.0)
    assert set(res.prob_beat_control) == {"b", "c"}


def test_bayes_proportions_from_data():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"arm": np.repeat(["control", "treatment"], 3000),
                       "conv": (rng.random(6000) < 0.1).astype(int)})
    res = bayes_proportions(df, "conv", seed=2)
    xc = int(df.conv[df.arm == "control"].sum())
    xt = int(df.conv[df.arm == "treatment"].sum())
    assert res.estimate == pytest.approx(prob_beta_greater(1 + xt, 3001 - xt, 1 + xc,
                                                           3001 - xc))


def test_normal_model_matches_the_frequentist_analysis_with_flat_priors():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"arm": np.repeat(["control", "treatment"], 4000),
                       "y": np.round(rng.gamma(2, 10, 8000) + np.repeat([0, 0.6], 4000), 2)})
    res = bayes_means(df, "y", decimals=2, seed=1)
    freq = compare_means(df, "y", decimals=2, use_t=False)
    se = freq.details["std_error"]
    assert res.details["posterior_mean"] == pytest.approx(freq.estimate, rel=1e-12)
    assert res.estimate == pytest.approx(stats.norm.cdf(freq.estimate / se), rel=1e-12)
    assert res.ci == pytest.approx(freq.ci, rel=1e-10)  # flat prior: same interval
    # expected loss against Monte Carlo on the posterior
    draws = np.random.default_rng(2).normal(freq.estimate, se, 2_000_000)
    loss = np.maximum(-draws, 0)
    assert res.details["expected_loss"] == pytest.approx(loss.mean(),
                                                         abs=5 * loss.std() / math.sqrt(2e6))


def test_normal_prior_shrinks_towards_the_prior_mean():
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"arm": np.repeat(["control", "treatment"], 500),
                       "y": rng.normal(10, 5, 1000) + np.repeat([0, 1.0], 500)})
    flat = bayes_means(df, Mean("y"))
    shrunk = bayes_means(df, Mean("y"), prior_mean=0.0, prior_sd=0.2)
    se2 = flat.details["posterior_sd"] ** 2
    w = (1 / se2) / (1 / se2 + 1 / 0.04)
    assert shrunk.details["posterior_mean"] == pytest.approx(w * flat.details["posterior_mean"])
    assert shrunk.details["posterior_sd"] < flat.details["posterior_sd"]


def test_bayesian_errors():
    with pytest.raises(ParameterError, match="successes"):
        beta_binomial({"a": 5, "b": 11}, {"a": 10, "b": 10})
    with pytest.raises(ParameterError, match="prior"):
        beta_binomial({"a": 5, "b": 1}, {"a": 10, "b": 10}, prior=(0, 1))
    with pytest.raises(ParameterError, match="positive"):
        prob_beta_greater(0, 1, 1, 1)
    df = pd.DataFrame({"arm": ["control", "treatment"] * 5, "y": range(10)})
    with pytest.raises(ParameterError, match="prior_sd"):
        bayes_means(df, "y", prior_mean=0.0)
