"""Two-arm comparisons against scipy / statsmodels, CUPED, ratios, non-inferiority, coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
)
from statsmodels.stats.proportion import (
    test_proportions_2indep as sm_test_proportions_2indep,
)

from researchkit.errors import DataError, ParameterError
from researchkit.experiments import (
    Mean,
    Proportion,
    Ratio,
    aggregate,
    compare_arms,
    compare_means,
    compare_proportions,
    compare_ratios,
    cuped,
    cuped_adjust,
    cuped_variance_reduction,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = 6000
    arm = rng.choice(["control", "treatment"], n, p=[0.45, 0.55])
    pre = np.round(rng.gamma(2.0, 10.0, n), 2)
    y = np.round(0.6 * pre + rng.gamma(1.5, 8.0, n) + 1.5 * (arm == "treatment"), 2)
    sessions = rng.poisson(3, n) + 1
    conv = (rng.random(n) < np.where(arm == "treatment", 0.12, 0.10)).astype(int)
    return pd.DataFrame({"arm": arm, "pre": pre, "y": y, "sessions": sessions, "conv": conv})


def _split(df, col):
    return df.loc[df.arm == "treatment", col].to_numpy(), df.loc[df.arm == "control", col]\
        .to_numpy()


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_welch_matches_scipy(data, alternative):
    res = compare_means(data, "y", decimals=2, alternative=alternative)
    yt, yc = _split(data, "y")
    ref = stats.ttest_ind(yt, yc, equal_var=False, alternative=alternative)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.df == pytest.approx(ref.df, rel=1e-10)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-14)
    ci = ref.confidence_interval(0.95)
    assert res.ci[0] == pytest.approx(ci.low, rel=1e-9) if math.isfinite(ci.low) \
        else res.ci[0] == -math.inf
    assert res.ci[1] == pytest.approx(ci.high, rel=1e-9) if math.isfinite(ci.high) \
        else res.ci[1] == math.inf


def test_proportion_tests_match_statsmodels(data):
    xt, xc = _split(data, "conv")
    wald = compare_proportions(data, "conv")
    ref = sm_test_proportions_2indep(xt.sum(), len(xt), xc.sum(), len(xc), method="wald",
                                  correction=False)
    assert wald.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert wald.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = confint_proportions_2indep(xt.sum(), len(xt), xc.sum(), len(xc), method="wald",
                                        correction=False)
    assert wald.ci == pytest.approx((lo, hi), rel=1e-12)
    pooled = compare_proportions(data, "conv", test="pooled")
    z, p = proportions_ztest([xt.sum(), xc.sum()], [len(xt), len(xc)])
    assert pooled.statistic == pytest.approx(z, rel=1e-12)
    assert pooled.p_value == pytest.approx(p, rel=1e-10)
    # the pooled z-test is Pearson's chi-square without continuity correction
    table = [[xt.sum(), len(xt) - xt.sum()], [xc.sum(), len(xc) - xc.sum()]]
    chi2 = stats.chi2_contingency(table, correction=False)
    assert pooled.p_value == pytest.approx(chi2.pvalue, rel=1e-10)


def test_relative_lift_delta_method_by_hand(data):
    res = compare_means(data, "y", decimals=2)
    yt, yc = _split(data, "y")
    mt, mc = yt.mean(), yc.mean()
    vt, vc = yt.var(ddof=1) / len(yt), yc.var(ddof=1) / len(yc)
    lift = mt / mc - 1
    se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)  # Kohavi, Tang & Xu (2020), §18
    a, b = vt / mc**2, mt**2 * vc / mc**4
    df = (a + b) ** 2 / (a**2 / (len(yt) - 1) + b**2 / (len(yc) - 1))
    q = stats.t.ppf(0.975, df)
    assert res.details["relative_lift"] == pytest.approx(lift, rel=1e-12)
    assert res.details["relative_ci"] == pytest.approx([lift - q * se, lift + q * se],
                                                       rel=1e-10)
    log = compare_means(data, "y", decimals=2, relative_ci="log", use_t=False)
    sl = math.sqrt(vt / mt**2 + vc / mc**2)
    z = stats.norm.ppf(0.975)
    assert log.details["relative_ci"] == pytest.approx(
        [mt / mc * math.exp(-z * sl) - 1, mt / mc * math.exp(z * sl) - 1], rel=1e-10)


def test_ratio_metric_equals_linearisation(data):
    """Delta method for Σy/Σd: Var(R) = Var(y − R d)/(n d̄²) (Deng, Knoblich & Lu 2018, §3)."""
    res = compare_ratios(data, "y", "sessions", decimals=2)
    out = []
    for arm in ("control", "treatment"):
        g = data[data.arm == arm]
        r = g.y.sum() / g.sessions.sum()
        lin = (g.y - r * g.sessions) / g.sessions.mean()
        out.append((r, lin.var(ddof=1) / len(g)))
    (rc, vc), (rt, vt) = out
    assert res.estimate == pytest.approx(rt - rc, rel=1e-12)
    se = math.sqrt(vc + vt)
    assert res.details["std_error"] == pytest.approx(se, rel=1e-10)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(rt - rc) / se), rel=1e-9)
    assert res.statistic_name == "z"


def test_cuped_equals_welch_on_adjusted_values(data):
    """CUPED with θ from the pooled arms is Welch's test on y − θ(x − x̄) (Deng et al. 2013)."""
    res = cuped(data, "y", "pre", decimals=2)
    adj, theta = cuped_adjust(data, "y", "pre")
    assert res.details["theta"] == pytest.approx(theta, rel=1e-10)
    at, ac = adj[data.arm == "treatment"], adj[data.arm == "control"]
    ref = stats.ttest_ind(at, ac, equal_var=False)
    assert res.estimate == pytest.approx(at.mean() - ac.mean(), rel=1e-10)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    rho2 = data[["y", "pre"]].corr().iloc[0, 1] ** 2
    assert res.details["variance_reduction"] == pytest.approx(rho2, abs=0.02)
    assert cuped_variance_reduction(data, "y", "pre", decimals=2) == pytest.approx(rho2,
                                                                                  rel=1e-9)
    assert res.details["variance_reduction"] > 0.3  # the covariate is strongly correlated
    raw = res.table.iloc[0]
    assert res.table.iloc[1]["std_error"] < raw["std_error"]


def test_non_inferiority_is_a_shifted_one_sided_test(data):
    margin = 0.5
    res = compare_means(data, "y", decimals=2, margin=margin)
    yt, yc = _split(data, "y")
    ref = stats.ttest_ind(yt + margin, yc, equal_var=False, alternative="greater")
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.ci[1] == math.inf
    assert res.details["non_inferior"] == (ref.pvalue < 0.05)
    assert "non-inferiority" in res.method
    lower = compare_means(data, "y", decimals=2, margin=margin, higher_is_better=False)
    ref2 = stats.ttest_ind(yt - margin, yc, equal_var=False, alternative="less")
    assert lower.p_value == pytest.approx(ref2.pvalue, rel=1e-9)
    rel = compare_proportions(data, "conv", margin=0.1, margin_type="relative")
    xt, xc = _split(data, "conv")
    m = 0.1 * xc.mean()
    se = math.sqrt(xt.mean() * (1 - xt.mean()) / len(xt) + xc.mean() * (1 - xc.mean())
                   / len(xc))
    assert rel.p_value == pytest.approx(stats.norm.sf((xt.mean() - xc.mean() + m) / se),
                                        rel=1e-9)


def test_method_text_states_the_test(data):
    assert "Welch" in compare_means(data, "y", decimals=2).method
    assert "delta-method" in compare_ratios(data, "y", "sessions", decimals=2).method
    assert "pooled proportion" in compare_proportions(data, "conv", test="pooled").method
    assert "no correction" in compare_proportions(data, "conv").method


def test_errors(data):
    with pytest.raises(DataError, match="0/1"):
        compare_proportions(data.assign(conv=data.conv * 2), "conv")
    with pytest.raises(DataError, match="integer or boolean"):
        compare_proportions(data.assign(conv=data.conv.astype(float)), "conv")
    with pytest.raises(ParameterError, match="alternative"):
        Mean("y", alternative="bigger")
    with pytest.raises(ParameterError, match="margin"):
        Mean("y", margin=-1)
    with pytest.raises(ParameterError, match="no such arm"):
        compare_means(data, "y", decimals=2, control="ctrl")
    three = data.assign(arm=np.where(data.index % 3 == 0, "b", data.arm))
    with pytest.raises(ParameterError, match="several treatment arms"):
        compare_means(three, "y", decimals=2)
    st = aggregate(data, arm="arm", columns=["y"], decimals=2)
    with pytest.raises(ParameterError, match="columns"):
        compare_arms(st, Mean("pre"))
    with pytest.raises(DataError, match="mean 0"):
        compare_ratios(data.assign(z=0), "y", "z", decimals=2)


# -- coverage in repeated A/A and A/B simulations ----------------------------------------
def _coverage(effect: float, reps: int, n: int, seed: int) -> dict[str, float]:
    """Share of 95% CIs covering the true difference, for three metrics at once."""
    rng = np.random.default_rng(seed)
    rep = np.repeat(np.arange(reps), 2 * n)
    arm = np.tile(np.repeat([0, 1], n), reps)
    # revenue-like skewed outcome, ratio with a Poisson denominator, 10% conversion
    y = rng.gamma(0.5, 20.0, reps * 2 * n) * (1 + effect * arm)
    d = rng.poisson(2.0, reps * 2 * n) + 1
    c = (rng.random(reps * 2 * n) < 0.10 * (1 + effect * arm)).astype(np.int8)
    df = pd.DataFrame({"arm": arm, "rep": rep, "y": y, "d": d, "c": c})
    st = aggregate(df, arm="arm", segments=["rep"], columns=["y", "d", "c"],
                   pairs=[("y", "y"), ("d", "d"), ("d", "y"), ("c", "c")])
    truth = {"mean": 10.0 * effect, "prop": 0.10 * effect,
             "ratio": 10.0 * (1 + effect) / 3.0 - 10.0 / 3.0}
    metrics = {"mean": Mean("y"), "prop": Proportion("c"), "ratio": Ratio("y", "d")}
    hits = dict.fromkeys(metrics, 0)
    for r in range(reps):
        a, b = st.groups[(0, r)], st.groups[(1, r)]
        for name, m in metrics.items():
            comp = m.compare(a, b)
            hits[name] += comp.ci_low <= truth[name] <= comp.ci_high
    return {k: v / reps for k, v in hits.items()}


def _tolerance(reps: int, level: float = 0.95) -> float:
    """Half-width of the central 99.9% range of Binomial(reps, level)/reps: a correct 95%
    interval method lands inside it with probability 0.999 (normal approximation to the
    binomial; reps * 0.05 >= 75 makes it accurate)."""
    return stats.norm.ppf(0.9995) * math.sqrt(level * (1 - level) / reps)


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.0, 0.2], ids=["A/A", "A/B"])
def test_confidence_intervals_cover_at_the_nominal_rate(effect):
    reps = 3000
    cov = _coverage(effect, reps=reps, n=800, seed=7 if effect else 8)
    tol = _tolerance(reps)
    for name, share in cov.items():
        assert abs(share - 0.95) <= tol, (name, share, tol)


def test_the_coverage_check_detects_a_broken_interval():
    """Sanity check of the coverage test itself: a 90% interval fails the 95% criterion."""
    reps = 1500
    rng = np.random.default_rng(3)
    z90 = stats.norm.ppf(0.95)
    est = rng.standard_normal(reps)
    share = np.mean(np.abs(est) <= z90)
    assert abs(share - 0.95) > _tolerance(reps)
