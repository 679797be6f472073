"""Propensity-score weighting and matching, and balance diagnostics.

References: logistic regression against statsmodels ``Logit``; IPW estimates and standard
errors against statsmodels ``TreatmentEffect.ipw`` (GMM with the propensity model's moments,
i.e. the same stacked estimating equations); the sandwich against a numerical-Jacobian
sandwich; SMD formulas of Austin (2009, equations 1 and 2) computed by hand; matching against a
hand computation; recovery of the known ATT of ``campaign_observational`` and coverage of the
IPW interval in repeated simulations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.treatment.treatment_effects import TreatmentEffect

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal import PropensityScoreMatching, PropensityScoreWeighting
from researchkit.experiments.causal.checks import (
    balance_table,
    love_plot,
    standardized_mean_difference,
)
from researchkit.experiments.causal.propensity import fit_logit

COVS = ["age", "log_past_spend", "member", "urban", "visits"]


@pytest.fixture(scope="module")
def obs():
    return ds.campaign_observational(n=2000, seed=1)


def test_logit_equals_statsmodels(obs):
    x = sm.add_constant(obs.data[COVS].astype(float))
    ref = sm.Logit(obs.data["joined"], x).fit(disp=0)
    beta = fit_logit(x.to_numpy(), obs.data["joined"].to_numpy(dtype=float))
    assert np.allclose(beta, ref.params.to_numpy(), rtol=1e-8)


@pytest.mark.parametrize("estimand,group", [("ATT", 1), ("ATE", "all")])
def test_ipw_equals_statsmodels_treatment_effect(obs, estimand, group):
    data = obs.data
    x = sm.add_constant(data[COVS].astype(float))
    te = TreatmentEffect(sm.OLS(data["spend"], x), data["joined"],
                         results_select=sm.Logit(data["joined"], x).fit(disp=0))
    ref = te.ipw(effect_group=group)
    got = PropensityScoreWeighting(data, "spend", "joined", COVS, estimand=estimand).result
    # statsmodels solves the stacked moment conditions numerically (GMM optimiser), so the
    # agreement is limited by its convergence tolerance, not by ours
    assert got.estimate == pytest.approx(ref.effect[0], rel=1e-4)
    assert got.details["se"] == pytest.approx(ref.sd[0], rel=1e-3)


def _numeric_sandwich(x, d, y, estimand):
    """Sandwich with a finite-difference Jacobian of the stacked estimating equations."""
    n, k = x.shape

    def psi(theta):
        beta, mu1, mu0 = theta[:k], theta[k], theta[k + 1]
        e = 1 / (1 + np.exp(-(x @ beta)))
        if estimand == "ATE":
            w1, w0 = d / e, (1 - d) / (1 - e)
        else:
            w1, w0 = d, (1 - d) * e / (1 - e)
        return np.column_stack([x * (d - e)[:, None], w1 * (y - mu1), w0 * (y - mu0)])

    beta = fit_logit(x, d)
    e = 1 / (1 + np.exp(-(x @ beta)))
    w1, w0 = (d / e, (1 - d) / (1 - e)) if estimand == "ATE" else (d, (1 - d) * e / (1 - e))
    theta = np.concatenate([beta, [np.sum(w1 * y) / np.sum(w1), np.sum(w0 * y) / np.sum(w0)]])
    jac = np.zeros((k + 2, k + 2))
    for j in range(k + 2):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        jac[:, j] = (psi(up).mean(axis=0) - psi(dn).mean(axis=0)) / (2 * h)
    p = psi(theta)
    ainv = np.linalg.inv(jac)
    v = ainv @ (p.T @ p / n) @ ainv.T / n
    g = np.zeros(k + 2)
    g[k], g[k + 1] = 1, -1
    return float(np.sqrt(g @ v @ g))


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_sandwich_equals_numerical_jacobian(obs, estimand):
    data = obs.data.iloc[:600]
    x = sm.add_constant(data[COVS].astype(float)).to_numpy()
    want = _numeric_sandwich(x, data["joined"].to_numpy(float), data["spend"].to_numpy(),
                             estimand)
    got = PropensityScoreWeighting(data, "spend", "joined", COVS, estimand=estimand)
    assert got.result.details["se"] == pytest.approx(want, rel=1e-5)


def test_recovers_the_att_and_removes_confounding(obs):
    w = PropensityScoreWeighting(obs.data, "spend", "joined", COVS)
    r = w.result
    assert r.ci[0] < obs.truth["att"] < r.ci[1]
    naive = obs.truth["naive_difference"]
    assert abs(r.estimate - obs.truth["att"]) < abs(naive - obs.truth["att"]) / 5
    assert w.balance.details["max_abs_smd_before"] > 0.5
    assert w.balance.details["max_abs_smd_after"] < w.balance.details["max_abs_smd_before"] / 3
    ate = PropensityScoreWeighting(obs.data, "spend", "joined", COVS, estimand="ATE").result
    # one draw: within 3 standard errors (interval coverage is tested in repeated samples)
    assert abs(ate.estimate - obs.truth["ate"]) < 3 * ate.details["se"]
    assert abs(ate.estimate - obs.truth["ate"]) < abs(naive - obs.truth["ate"]) / 5


@pytest.mark.slow
def test_ipw_att_interval_coverage():
    """95% IPW intervals over 200 simulated samples (n = 1000, moderate confounding so that
    overlap is good): the binomial SE of the coverage estimate is 1.5 points, and the sandwich
    is consistent for a correctly specified score, so we accept 95% ± 3.5 SE (89.6-100%).

    (With the simulator's default, stronger confounding the ATT weights of some controls reach
    ~50 and the sandwich under-covers in finite samples: about 90% at n = 2000 in our runs. The
    estimator warns about such extreme weights and offers trimming.)
    """
    reps, hits = 200, 0
    pop_att = ds.campaign_observational(n=400_000, confounding=0.5, seed=99).truth["att"]
    for seed in range(reps):
        sim = ds.campaign_observational(n=1000, confounding=0.5, seed=1000 + seed)
        r = PropensityScoreWeighting(sim.data, "spend", "joined", COVS).result
        # the estimand is the population ATT
        hits += r.ci[0] <= pop_att <= r.ci[1]
    coverage = hits / reps
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(coverage - 0.95) < 3.5 * se, coverage


def test_trimming_is_stated_and_changes_the_sample(obs):
    w = PropensityScoreWeighting(obs.data, "spend", "joined", COVS, trim=0.1)
    assert w.n_trimmed > 0
    assert w.result.n == len(obs.data) - w.n_trimmed
    assert "overlap population" in w.result.method
    assert w.scores.min() >= 0.0  # re-fitted scores on the kept units


def test_matching_hand_computation():
    # one covariate: nearest neighbours on the logit score = nearest on x (monotone)
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.2, 1.1, 2.6, 3.4, 4.4, 6.0])
    d = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    x = x + np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) * 0
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 3.0, 3.5, 6.0, 6.5, 8.0, 9.0])
    data = pd.DataFrame({"x": x, "d": d, "y": y})
    m = PropensityScoreMatching(data, "y", "d", ["x"], caliper=None)
    # greedy, largest score first, without replacement:
    # 6.0->5.0 (y 6), 4.4->4.0 (5), 3.4->3.0 (4), 2.6->2.0 (3), 1.1->1.0 (2), 0.2->0.0 (1)
    diffs = np.array([9 - 6, 8 - 5, 6.5 - 4, 6 - 3, 3.5 - 2, 3 - 1])
    assert m.result.estimate == pytest.approx(diffs.mean())
    assert m.result.details["se"] == pytest.approx(
        np.sqrt(np.sum((diffs - diffs.mean()) ** 2)) / 6)
    with_repl = PropensityScoreMatching(data, "y", "d", ["x"], caliper=None, replace=True)
    # 0.2->0.0, 1.1->1.0, 2.6->3.0 (0.4 < 0.6), 3.4->3.0, 4.4->4.0, 6.0->5.0
    matched = np.array([1.0, 2.0, 4.0, 4.0, 5.0, 6.0])
    treated_y = np.array([3.0, 3.5, 6.0, 6.5, 8.0, 9.0])
    dd = treated_y - matched
    assert with_repl.result.estimate == pytest.approx(dd.mean())
    # control x=3 used twice: K(K-1)/M^2 * sigma2, sigma2 = (y3 - y_nearest other control)^2/2
    sigma2 = 0.5 * (4.0 - 3.0) ** 2  # nearest other control to x=3 on the score: x=2 or 4
    var = (np.sum((dd - dd.mean()) ** 2) + 2 * sigma2) / 36
    assert with_repl.result.details["se"] == pytest.approx(np.sqrt(var))


def test_matching_recovers_att_and_balances(obs):
    m = PropensityScoreMatching(obs.data, "spend", "joined", COVS, caliper=0.2)
    assert m.balance.details["max_abs_smd_after"] < 0.1
    assert m.result.details["n_treated_unmatched"] > 0
    assert any("caliper" in w for w in m.result.warnings)
    full = PropensityScoreMatching(obs.data, "spend", "joined", COVS, caliper=None,
                                   replace=True)
    assert full.result.ci[0] < obs.truth["att"] < full.result.ci[1]
    assert len(full.pairs) == int(obs.data["joined"].sum())


def test_smd_formulas_austin_2009():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    d = (rng.random(300) < 0.4).astype(float)
    hand = (x[d == 1].mean() - x[d == 0].mean()) / np.sqrt(
        (x[d == 1].var(ddof=1) + x[d == 0].var(ddof=1)) / 2)
    assert standardized_mean_difference(x, d) == pytest.approx(hand)
    b = (rng.random(300) < 0.3).astype(float)
    p1, p0 = b[d == 1].mean(), b[d == 0].mean()
    hand_b = (p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    assert standardized_mean_difference(b, d) == pytest.approx(hand_b)
    w = rng.uniform(0.5, 2, 300)
    hand_w = (np.average(x[d == 1], weights=w[d == 1]) - np.average(x[d == 0],
                                                                    weights=w[d == 0])) / \
        np.sqrt((x[d == 1].var(ddof=1) + x[d == 0].var(ddof=1)) / 2)
    assert standardized_mean_difference(x, d, w) == pytest.approx(hand_w)


def test_balance_table_and_love_plot(obs, run_dir):
    w = PropensityScoreWeighting(obs.data, "spend", "joined", COVS)
    bal = balance_table(obs.data, "joined", COVS, weights=w.weights)
    assert list(bal.table.index) == COVS
    assert bal.table.loc["member", "binary"]
    assert bal.estimate == pytest.approx(bal.table["smd_after"].abs().max())
    before = balance_table(obs.data, "joined", COVS)
    assert "smd_after" not in before.table
    assert love_plot(bal).axes
    assert w.plot().axes


def test_errors(obs):
    data = obs.data
    with pytest.raises(ParameterError, match="estimand"):
        PropensityScoreWeighting(data, "spend", "joined", COVS, estimand="ATC")
    with pytest.raises(ParameterError, match="trimming"):
        PropensityScoreWeighting(data, "spend", "joined", COVS, trim=0.7)
    with pytest.raises(ParameterError, match="caliper"):
        PropensityScoreMatching(data, "spend", "joined", COVS, caliper=-1)
    with pytest.raises(ParameterError, match="covariates"):
        PropensityScoreWeighting(data, "spend", "joined", [])
    with pytest.raises(DataError, match="one treatment group"):
        PropensityScoreWeighting(data.assign(joined=1), "spend", "joined", COVS)
    separated = data.assign(perfect=data["joined"] * 10.0)
    with pytest.raises(DataError, match=r"separation|perfectly predicted"):
        PropensityScoreWeighting(separated, "spend", "joined", ["perfect"])
    with pytest.raises(DataError, match="not found"):
        balance_table(data, "joined", ["nope"])
    with pytest.raises(ParameterError, match="length"):
        balance_table(data, "joined", COVS, weights=np.ones(3))


def test_text_covariates_become_dummies(obs):
    data = obs.data.assign(region=np.where(obs.data["urban"] == 1, "city", "rural"))
    a = PropensityScoreWeighting(data, "spend", "joined",
                                 ["age", "log_past_spend", "member", "region", "visits"]).result
    b = PropensityScoreWeighting(data, "spend", "joined", COVS).result
    assert a.estimate == pytest.approx(b.estimate, rel=1e-10)
