"""Group-sequential boundaries against published values; type-I error and coverage by
simulation under repeated looks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from researchkit.datasets import ab_test_users
from researchkit.errors import ParameterError
from researchkit.experiments import (
    Proportion,
    aggregate,
    confidence_sequence,
    cumulative_looks,
    group_sequential_design,
    look_estimates,
    sequential_monitor,
    spending_function,
)


def test_lan_demets_obrien_fleming_published_values():
    """K = 3 equally spaced looks, one-sided α = 0.025 (= two-sided 0.05): 3.7103, 2.5114,
    1.9930, the output of R gsDesign::gsDesign(k = 3, test.type = 1, sfu = sfLDOF) and
    rpact::getDesignGroupSequential(typeOfDesign = "asOF"). K = 4: 4.3326, 2.9631, 2.3590,
    2.0141 (the LD-OBF boundaries quoted in the public R code accompanying Freidlin & Korn
    2009, Clinical Trials 6:119-125). Note the classic O'Brien–Fleming design (not spending)
    has 3.4711, 2.4544, 2.0040 for K = 3 instead."""
    d3 = group_sequential_design(3, alpha=0.025, sides=1, power=None)
    assert [round(b, 4) for b in d3.boundaries] == [3.7103, 2.5114, 1.9930]
    d4 = group_sequential_design(4, alpha=0.025, sides=1, power=None)
    assert [round(b, 4) for b in d4.boundaries] == [4.3326, 2.9631, 2.3590, 2.0141]
    # two-sided symmetric α = 0.05 spends 0.025 per side: the same boundaries to ~1e-8
    two = group_sequential_design(3, alpha=0.05, sides=2, power=None)
    assert two.boundaries == pytest.approx(d3.boundaries, abs=1e-7)


def test_rpact_unit_test_values():
    """Expected values from rpact's own unit tests (test-f_design_group_sequential.R,
    Wassmer & Pahlke): Pocock-type spending (asP), α = 0.13, information rates
    (0.35, 0.7, 1); Kim–DeMets power spending (asKD, γ = 2.2), α = 0.03, (0.3, 0.7, 1); and
    linear spending (asHSD with γ = 0), α = 0.03, (0.2, 0.4, 1) with its inflation factor for
    power 0.86 and rejection probabilities per stage."""
    p = group_sequential_design(information_fractions=[0.35, 0.7, 1], alpha=0.13, sides=1,
                                spending="pocock", power=None)
    assert p.boundaries == pytest.approx([1.5446617, 1.4828682, 1.4620058], abs=2e-7)
    kd = group_sequential_design(information_fractions=[0.3, 0.7, 1], alpha=0.03, sides=1,
                                 spending="power", rho=2.2, power=None)
    assert kd.boundaries == pytest.approx([2.8594012, 2.2435708, 1.9735737], abs=2e-7)
    lin = group_sequential_design(information_fractions=[0.2, 0.4, 1], alpha=0.03, sides=1,
                                  spending="power", rho=1.0, power=0.86)
    assert lin.boundaries == pytest.approx([2.5121443, 2.4228747, 2.0280392], abs=2e-7)
    assert lin.details["inflation_factor"] == pytest.approx(1.0788327, abs=2e-7)
    assert lin.details["rejection_by_look_h1"] == pytest.approx(
        [0.12783451, 0.21271713, 0.51944835], abs=2e-7)
    assert lin.table["alpha_spent"].tolist() == pytest.approx([0.006, 0.012, 0.03])


def test_spending_functions():
    t = np.array([0.25, 0.5, 1.0])
    of = spending_function("obrien-fleming", 0.025, t)
    assert of[-1] == pytest.approx(0.025)
    assert of[0] == pytest.approx(2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - 0.0125) / 0.5))
    po = spending_function("pocock", 0.05, t)
    assert po == pytest.approx(0.05 * np.log(1 + (math.e - 1) * t))


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_type_one_error_by_simulation(spending):
    """Simulated z-statistic paths under H0 with 4 looks at unequal information: the
    two-sided design rejects in 5% of paths (99.9% binomial range)."""
    t = np.array([0.3, 0.5, 0.8, 1.0])
    d = group_sequential_design(information_fractions=t, alpha=0.05, sides=2,
                                spending=spending, power=None)
    rng = np.random.default_rng(17)
    sims = 400_000
    inc = rng.standard_normal((sims, len(t))) * np.sqrt(np.diff(np.r_[0.0, t]))
    z = np.cumsum(inc, axis=1) / np.sqrt(t)
    reject = (np.abs(z) >= np.array(d.boundaries)).any(axis=1)
    tol = stats.norm.ppf(0.9995) * math.sqrt(0.05 * 0.95 / sims)
    assert abs(reject.mean() - 0.05) <= tol
    naive = (np.abs(z) >= stats.norm.ppf(0.975)).any(axis=1).mean()
    assert naive > 0.10  # peeking at 4 looks without correction: error far above 5%


def test_monitoring_recomputes_boundaries_and_stops():
    d = group_sequential_design(3, alpha=0.05, sides=2, power=None)
    se = [0.30, 0.21, 0.17]
    est = [0.4, 0.75, 0.6]          # z = 1.33, 3.57, 3.53
    res = sequential_monitor(est, se, [0.33, 0.66, 1.0], d)
    assert res.details["stopped_at"] == 2
    b = d.boundaries_at([0.33, 0.66, 1.0])
    assert res.table["z_boundary"].tolist() == pytest.approx(b)
    assert res.table.loc[1, "rci_low"] == pytest.approx(0.75 - b[1] * 0.21)
    assert "look 2" in res.details["decision"]
    cont = sequential_monitor([0.1], [0.3], [0.33], d)
    assert cont.details["stopped_at"] is None and "continue" in cont.details["decision"]


def test_looks_from_enrolment_days_match_filtering():
    users = ab_test_users(n=6000, seed=21, days=14).data
    st = aggregate(users, arm="arm", columns=["converted"], segments=["first_day"])
    looks = cumulative_looks(st, "first_day", [5, 10, 14])
    for day, look in zip([5, 10, 14], looks, strict=True):
        ref = aggregate(users[users.first_day <= day], arm="arm", columns=["converted"])
        assert look == ref
    est = look_estimates(looks, Proportion("converted"))
    assert est["n"].tolist() == [len(users[users.first_day <= d]) for d in (5, 10, 14)]


def test_confidence_sequence_formula():
    res = confidence_sequence([0.5, 0.4], [0.3, 0.2], alpha=0.05, rho=10.0)
    info = np.array([1 / 0.09, 1 / 0.04])
    half = np.sqrt((info + 10) * np.log((info + 10) / (10 * 0.05**2))) / info
    assert res.table["ci_high"].to_numpy() == pytest.approx(np.array([0.5, 0.4]) + half)
    # always-valid p-value: inverse of the mixture martingale, running minimum
    m = np.sqrt(10 / (info + 10)) * np.exp((np.array([0.5, 0.4]) * info) ** 2
                                           / (2 * (info + 10)))
    assert res.table["always_valid_p"].to_numpy() == pytest.approx(
        np.minimum.accumulate(np.minimum(1, 1 / m)))


def _stream_estimates(rng, n_max, step, effect):
    """Cumulative difference of means and its standard error every `step` users per arm."""
    yc = rng.exponential(1.0, n_max)
    yt = rng.exponential(1.0, n_max) + effect
    ns = np.arange(step, n_max + 1, step)
    def stats_at(y):
        c1, c2 = np.cumsum(y)[ns - 1], np.cumsum(y * y)[ns - 1]
        mean = c1 / ns
        var = (c2 - ns * mean**2) / (ns - 1)
        return mean, var
    mc, vc = stats_at(yc)
    mt, vt = stats_at(yt)
    return mt - mc, np.sqrt(vc / ns + vt / ns)


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.0, 0.1], ids=["A/A", "A/B"])
def test_confidence_sequence_covers_under_continuous_monitoring(effect):
    """Looks every 20 users per arm up to 4,000 (200 looks), estimated variances, skewed
    data: the share of experiments where the sequence EVER misses the true difference stays
    below α = 0.05 (upper end of the 99.9% binomial range). Naive 95% CIs at the same looks
    miss far more often, which shows the check can fail."""
    rng = np.random.default_rng(31 if effect else 32)
    reps, alpha = 1500, 0.05
    ever_miss = naive_miss = 0
    for _ in range(reps):
        est, se = _stream_estimates(rng, 4000, 20, effect)
        # skip the first looks (< 100 users per arm): asymptotic validity needs a minimum n
        est, se = est[4:], se[4:]
        res = confidence_sequence(est, se, alpha=alpha, planned_information=1 / se[-1] ** 2)
        t = res.table
        ever_miss += bool(((t["ci_low"] > effect) | (t["ci_high"] < effect)).any())
        naive_miss += bool((np.abs(est - effect) > 1.96 * se).any())
    tol = stats.norm.ppf(0.9995) * math.sqrt(alpha * (1 - alpha) / reps)
    assert ever_miss / reps <= alpha + tol
    assert naive_miss / reps > 0.3


def test_sequential_errors():
    with pytest.raises(ParameterError, match="information fractions"):
        group_sequential_design(information_fractions=[0.5, 0.4, 1.0])
    with pytest.raises(ParameterError, match="last look"):
        group_sequential_design(information_fractions=[0.5, 0.8])
    with pytest.raises(ParameterError, match="spending"):
        group_sequential_design(3, spending="haybittle")
    with pytest.raises(ParameterError, match="standard errors"):
        confidence_sequence([0.1], [0.0])
