"""Adstock and saturation against closed forms and against scipy.stats / numpy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from researchkit.channels.mmm import (
    adstock,
    adstock_weights,
    fourier_terms,
    geometric_adstock,
    hill_saturation,
    logistic_saturation,
    trend_terms,
    weibull_adstock,
)
from researchkit.errors import ParameterError


def test_geometric_adstock_of_an_impulse_is_a_geometric_sequence():
    x = np.zeros(12)
    x[0] = 1.0
    alpha = 0.6
    t = np.arange(12)
    np.testing.assert_allclose(geometric_adstock(x, alpha), (1 - alpha) * alpha**t, rtol=1e-12)
    np.testing.assert_allclose(geometric_adstock(x, alpha, normalize=False), alpha**t,
                               rtol=1e-12)


def test_geometric_adstock_of_a_constant_tends_to_the_constant():
    # normalised weights sum to one: a_t = s (1 - alpha^(t+1)) exactly
    s, alpha = 5.0, 0.7
    t = np.arange(60)
    np.testing.assert_allclose(geometric_adstock(np.full(60, s), alpha),
                               s * (1 - alpha ** (t + 1)), rtol=1e-12)


def test_geometric_adstock_matches_an_explicit_loop_per_channel():
    rng = np.random.default_rng(3)
    X = rng.gamma(2.0, 10.0, size=(50, 3))
    alphas = [0.0, 0.35, 0.9]
    out = geometric_adstock(X, alphas)
    for j, a in enumerate(alphas):
        carry, ref = 0.0, []
        for v in X[:, j]:
            carry = (1 - a) * v + a * carry
            ref.append(carry)
        np.testing.assert_allclose(out[:, j], ref, rtol=1e-12)


@pytest.mark.parametrize("shape,scale", [(0.7, 2.0), (1.5, 4.0), (3.0, 6.0)])
def test_weibull_pdf_weights_follow_scipy_weibull_density(shape, scale):
    w = adstock_weights("weibull_pdf", shape=shape, scale=scale, l_max=10, normalize=False)
    ref = stats.weibull_min.pdf(np.arange(1, 11), c=shape, scale=scale)
    np.testing.assert_allclose(w, ref, rtol=1e-12)
    wn = adstock_weights("weibull_pdf", shape=shape, scale=scale, l_max=10)
    np.testing.assert_allclose(wn, ref / ref.sum(), rtol=1e-10)


@pytest.mark.parametrize("shape,scale", [(0.5, 1.0), (1.0, 3.0), (2.5, 5.0)])
def test_weibull_cdf_weights_are_products_of_weibull_survival(shape, scale):
    w = adstock_weights("weibull_cdf", shape=shape, scale=scale, l_max=8, normalize=False)
    surv = stats.weibull_min.sf(np.arange(1, 8), c=shape, scale=scale)
    ref = np.concatenate([[1.0], np.cumprod(surv)])
    np.testing.assert_allclose(w, ref, rtol=1e-12)


def test_weibull_pdf_with_shape_one_is_a_truncated_geometric_adstock():
    # f(t; 1, lam) = exp(-t/lam)/lam, so normalised weights are alpha^l with alpha = e^(-1/lam)
    lam, L = 2.5, 13
    alpha = np.exp(-1 / lam)
    geo = alpha ** np.arange(L)
    np.testing.assert_allclose(adstock_weights("weibull_pdf", shape=1.0, scale=lam, l_max=L),
                               geo / geo.sum(), rtol=1e-12)


def test_weibull_adstock_is_a_causal_convolution():
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 5.0, 40)
    for kind in ("cdf", "pdf"):
        w = adstock_weights(f"weibull_{kind}", shape=1.8, scale=3.0, l_max=9)
        np.testing.assert_allclose(weibull_adstock(x, 1.8, 3.0, kind=kind, l_max=9),
                                   np.convolve(x, w)[:40], rtol=1e-12)
    # several channels with their own parameters, and the dispatcher
    X = np.column_stack([x, x[::-1]])
    out = adstock(X, "weibull_pdf", {"shape": np.array([1.8, 0.9]),
                                     "scale": np.array([3.0, 1.5])}, l_max=9)
    w2 = adstock_weights("weibull_pdf", shape=0.9, scale=1.5, l_max=9)
    np.testing.assert_allclose(out[:, 1], np.convolve(x[::-1], w2)[:40], rtol=1e-12)


def test_hill_is_one_half_at_the_half_saturation_point():
    for K, s in [(1.0, 1.0), (2500.0, 0.7), (40.0, 3.0)]:
        assert hill_saturation(K, half=K, slope=s) == pytest.approx(0.5, abs=1e-15)
    x = np.array([0.0, 1.0, 3.0, 10.0])
    np.testing.assert_allclose(hill_saturation(x, half=3.0, slope=1.0), x / (x + 3.0))
    np.testing.assert_allclose(hill_saturation(x, half=3.0, slope=2.0),
                               x**2 / (x**2 + 9.0), rtol=1e-12)


def test_logistic_saturation_closed_form():
    lam = 0.02
    assert logistic_saturation(np.log(3) / lam, lam) == pytest.approx(0.5, abs=1e-14)
    x = np.linspace(0, 500, 11)
    np.testing.assert_allclose(logistic_saturation(x, lam),
                               (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x)), rtol=1e-12)


def test_transform_errors_name_the_parameter():
    with pytest.raises(ParameterError, match="alpha"):
        geometric_adstock([1.0, 2.0], 1.0)
    with pytest.raises(ParameterError, match="alpha"):
        geometric_adstock(np.ones((4, 2)), [0.1, 0.2, 0.3])
    with pytest.raises(ParameterError, match="missing or infinite"):
        geometric_adstock([1.0, np.nan], 0.5)
    with pytest.raises(ParameterError, match="'x'"):
        hill_saturation([-1.0], half=1.0, slope=1.0)
    with pytest.raises(ParameterError, match="half"):
        hill_saturation([1.0], half=0.0, slope=1.0)
    with pytest.raises(ParameterError, match="scale"):
        adstock_weights("weibull_cdf", shape=1.0, scale=-1.0)
    with pytest.raises(ParameterError, match="kind"):
        adstock_weights("exponential", alpha=0.5)
    with pytest.raises(ParameterError, match="l_max"):
        adstock_weights("geometric", alpha=0.5, l_max=0)


def test_trend_and_fourier_terms():
    tr = trend_terms(5, n_changepoints=1)
    np.testing.assert_allclose(tr["trend"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(tr["trend_cp1"], [0, 0, 0, 0.25, 0.5])
    import pandas as pd

    dates = pd.date_range("2024-01-01", periods=3, freq="7D")
    f = fourier_terms(dates, 2)
    days = (dates - pd.Timestamp("2000-01-01")).days.to_numpy(float)
    np.testing.assert_allclose(f["sin2"], np.sin(4 * np.pi * days / 365.25))
    with pytest.raises(ParameterError, match="seasonality"):
        fourier_terms(dates, -1)
