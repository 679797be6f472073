"""Sizing distributions: quantiles and moments against scipy.stats, samplers against quantiles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from researchkit.errors import ParameterError
from researchkit.sizing import (
    PERT,
    Interval,
    LogitNormal,
    LogNormal,
    Normal,
    Point,
    Triangular,
    Uniform,
)
from researchkit.sizing.distributions import distribution_from_params, distribution_problems

Q = np.array([0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])


@pytest.mark.parametrize(("dist", "reference"), [
    (Uniform(2, 7), stats.uniform(2, 5)),
    (Triangular(1, 3, 10), stats.triang((3 - 1) / 9, loc=1, scale=9)),
    (Triangular(0, 0, 4), stats.triang(0, loc=0, scale=4)),
    (PERT(40, 55, 80), stats.beta(1 + 4 * 15 / 40, 1 + 4 * 25 / 40, loc=40, scale=40)),
    (PERT(0, 0.2, 1, lamb=6), stats.beta(1 + 6 * 0.2, 1 + 6 * 0.8, loc=0, scale=1)),
    (Normal(100, 15), stats.norm(100, 15)),
    (LogNormal(1.2, 0.4), stats.lognorm(0.4, scale=math.exp(1.2))),
])
def test_quantiles_and_mean_match_scipy(dist, reference):
    np.testing.assert_allclose(dist.ppf(Q), reference.ppf(Q), rtol=1e-10, atol=1e-12)
    assert dist.mean == pytest.approx(reference.mean(), rel=1e-12)
    assert dist.median == pytest.approx(reference.median(), rel=1e-10)


def test_logitnormal_quantiles_and_mean():
    d = LogitNormal(-1.0, 0.7)
    np.testing.assert_allclose(d.ppf(Q), special.expit(stats.norm(-1.0, 0.7).ppf(Q)))
    from scipy.integrate import quad

    mean = quad(lambda z: special.expit(-1 + 0.7 * z) * stats.norm.pdf(z), -12, 12)[0]
    assert d.mean == pytest.approx(mean, rel=1e-10)


def test_lognormal_from_mean_sd_and_median():
    d = LogNormal.from_mean_sd(50.0, 20.0)
    assert d.mean == pytest.approx(50.0)
    assert d.sd == pytest.approx(20.0)
    assert LogNormal.from_median(30.0, 0.5).median == pytest.approx(30.0)


@pytest.mark.parametrize("shape", ["normal", "lognormal", "logitnormal", "uniform"])
@pytest.mark.parametrize("level", [0.9, 0.8])
def test_interval_puts_low_and_high_at_the_stated_percentiles(shape, level):
    low, high = (0.05, 0.3) if shape == "logitnormal" else (12.0, 40.0)
    d = Interval(low, high, level=level, shape=shape)
    lo, hi = d.ppf([(1 - level) / 2, (1 + level) / 2])
    assert lo == pytest.approx(low, rel=1e-10)
    assert hi == pytest.approx(high, rel=1e-10)
    assert d.stated_range() == (low, high)
    assert d.interval(level) == pytest.approx((low, high), rel=1e-10)


def test_interval_normal_parameters_are_the_textbook_ones():
    d = Interval(10, 20, shape="normal")
    assert d.base.mean == pytest.approx(15)
    assert d.base.sd == pytest.approx(5 / stats.norm.ppf(0.95))
    ln = Interval(10, 40, shape="lognormal").base
    assert ln.mu == pytest.approx(math.log(20))
    assert ln.sigma == pytest.approx(math.log(2) / stats.norm.ppf(0.95))


@pytest.mark.parametrize("dist", [
    Uniform(2, 7), Triangular(1, 3, 10), PERT(40, 55, 80), Normal(100, 15),
    LogNormal(1.2, 0.4), LogitNormal(-1, 0.7), Interval(12, 40), Interval(0.1, 0.3,
                                                                         shape="logitnormal"),
])
def test_native_samplers_draw_from_the_same_distribution(dist):
    rng = np.random.default_rng(7)
    x = dist.sample(40_000, rng)
    # Kolmogorov-Smirnov distance between the sample and the quantile function, on a grid of
    # probabilities (a lower bound of the full KS statistic), against the 1% critical value.
    grid = np.linspace(0.001, 0.999, 999)
    ecdf = np.searchsorted(np.sort(x), dist.ppf(grid), side="right") / x.size
    assert np.max(np.abs(ecdf - grid)) < 1.63 / math.sqrt(x.size)


def test_point():
    d = Point(5.0)
    assert d.is_point and d.mean == 5 and d.median == 5
    np.testing.assert_array_equal(d.sample(3, np.random.default_rng(0)), [5, 5, 5])
    assert d.stated_range() == (5, 5)


def test_same_seed_same_draws():
    a = PERT(1, 2, 5).sample(100, np.random.default_rng(3))
    b = PERT(1, 2, 5).sample(100, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("uniform", {"low": 5, "high": 2}, "low"),
    ("triangular", {"low": 6, "mode": 5, "high": 5}, "low"),
    ("triangular", {"low": 1, "mode": 9, "high": 8}, "mode"),
    ("pert", {"low": 1, "mode": 2, "high": 3, "lambda": 0}, "lambda"),
    ("normal", {"mean": 1, "sd": 0}, "sd"),
    ("normal", {"mean": 1}, "sd"),
    ("lognormal", {"mean": 1, "sd": 1, "mu": 0}, ""),
    ("lognormal", {"mean": -1, "sd": 1}, "mean"),
    ("interval", {"low": -1, "high": 3}, "low"),
    ("interval", {"low": 0.1, "high": 1.2, "shape": "logitnormal"}, "high"),
    ("interval", {"low": 1, "high": 3, "level": 1.2}, "level"),
    ("interval", {"low": 1, "high": 3, "shape": "gamma"}, "shape"),
    ("point", {"value": 1, "low": 0}, "low"),
    ("weibull", {"value": 1}, "dist"),
])
def test_distribution_problems_name_the_parameter(kind, params, field):
    problems = distribution_problems(kind, params)
    assert problems, f"{kind} {params} should be invalid"
    assert field in [p for p, _ in problems]


def test_constructors_refuse_bad_parameters():
    with pytest.raises(ParameterError, match="low"):
        Uniform(3, 1)
    with pytest.raises(ParameterError, match="mode"):
        PERT(1, 7, 5)
    with pytest.raises(ParameterError):
        Normal(0, -1)
    with pytest.raises(ParameterError):
        distribution_from_params("triangular", {"low": 1, "high": 2})
    with pytest.raises(ParameterError, match="quantile"):
        Normal(0, 1).ppf([0.5, 1.5])


def test_to_dict_round_trip():
    for d in (PERT(1, 2, 5, lamb=3), Interval(2, 9, level=0.8, shape="normal"), Normal(1, 2),
              LogNormal(0.3, 0.2), Triangular(0, 1, 2), Uniform(0, 1), Point(3.0)):
        spec = d.to_dict()
        kind = spec.pop("dist")
        back = distribution_from_params(kind, spec)
        np.testing.assert_allclose(back.ppf(Q), d.ppf(Q))
