"""Interrupted time series (CausalImpact-style structural time-series counterfactual).

References: with the variances plugged in, pointwise forecast means and variances equal
statsmodels' ``UnobservedComponentsResults.get_forecast`` on the same fitted model; the
covariance used for cumulative intervals equals the closed form of the local-level model
(Durbin & Koopman 2012, section 2.4: Var(ŷ_{n+j}) = P + (j−1)σ²_η + σ²_ε,
Cov(ŷ_{n+i}, ŷ_{n+j}) = P + (i−1)σ²_η for i < j) and the moments of forecast paths drawn with
statsmodels' simulation smoother. Integrated over the variances (the default), the
importance-sampling posterior predictive equals a brute-force quadrature over a grid of the
two standard deviations; recovery of a known effect and interval coverage (pointwise and
cumulative) in repeated simulations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal import InterruptedTimeSeries
from researchkit.experiments.causal.its import forecast_covariance

Z95 = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def series():
    return ds.weekly_sales_series(n_weeks=104, launch_week=80, effect=10.0, seed=1)


@pytest.fixture(scope="module")
def fitted(series):
    return InterruptedTimeSeries(series.data, "sales", "week", 80,
                                 controls=["control_1", "control_2", "control_3"],
                                 seasonal_period=52)


@pytest.fixture(scope="module")
def plugin(series):
    return InterruptedTimeSeries(series.data, "sales", "week", 80,
                                 controls=["control_1", "control_2", "control_3"],
                                 seasonal_period=52, intervals="plug-in")


def test_pointwise_forecast_equals_statsmodels(series, plugin):
    x_post = series.data[["control_1", "control_2", "control_3"]].to_numpy()[79:]
    ref = plugin.fit.get_forecast(steps=25, exog=x_post)
    post = plugin.effects[plugin.effects["post"]]
    assert np.allclose(post["predicted"].to_numpy(), ref.predicted_mean, rtol=1e-10)
    sd = (post["predicted_high"] - post["predicted"]).to_numpy() / Z95
    assert np.allclose(sd, np.sqrt(ref.var_pred_mean), rtol=1e-8)


def test_cumulative_covariance_equals_local_level_closed_form():
    rng = np.random.default_rng(3)
    y = 20 + np.cumsum(rng.normal(0, 0.5, 60)) + rng.normal(0, 1.0, 60)
    data = pd.DataFrame({"t": np.arange(60), "y": y})
    its = InterruptedTimeSeries(data, "y", "t", 45, intervals="plug-in")
    res = its.fit
    params = dict(zip(res.model.param_names, np.asarray(res.params), strict=True))
    s_eps, s_eta = params["sigma2.irregular"], params["sigma2.level"]
    p = float(res.predicted_state_cov[0, 0, -1])
    h = 15
    idx = np.arange(1, h + 1)
    cov = p + (np.minimum.outer(idx, idx) - 1) * s_eta + np.eye(h) * s_eps
    _, got = forecast_covariance(its.filtered, 45)
    assert np.allclose(got, cov, rtol=1e-9)
    post = its.effects[its.effects["post"]]
    cum_sd = (post["cumulative_high"] - post["cumulative_effect"]).to_numpy() / Z95
    expected = np.sqrt([cov[:k, :k].sum() for k in range(1, h + 1)])
    assert np.allclose(cum_sd, expected, rtol=1e-9)
    # the headline: average effect = cumulative / h, with the same relative precision
    assert its.result.estimate == pytest.approx(post["effect"].mean())
    assert its.result.details["se_average"] == pytest.approx(expected[-1] / h)


def test_recovers_the_known_effect(series, fitted):
    r = fitted.result
    assert r.ci[0] < series.truth["effect"] < r.ci[1]
    lo, hi = r.details["cumulative_ci"]
    assert lo < series.truth["cumulative_effect"] < hi
    assert r.p_value < 0.001
    assert "seasonal (period 52" in r.method and "control_1" in r.method


@pytest.mark.filterwarnings("ignore:the 'random_state' keyword:FutureWarning")
def test_forecast_paths_match_statsmodels_simulation_smoother():
    """Given the variances, the forecast path distribution (means and the full covariance that
    the cumulative interval uses) equals that of paths drawn by statsmodels' simulation
    smoother from the model with the post-period outcome missing (1500 paths; checks at 4
    Monte Carlo standard errors)."""
    rng = np.random.default_rng(11)
    n, start = 70, 50
    x = 10 + np.cumsum(rng.normal(0, 1, n))
    y = 5 + np.cumsum(rng.normal(0, 0.3, n)) + 0.8 * x + rng.normal(0, 1, n)
    its = InterruptedTimeSeries(pd.DataFrame({"t": np.arange(n), "y": y, "x": x}), "y", "t",
                                start, controls=["x"], intervals="plug-in")
    mean, cov = forecast_covariance(its.filtered, start)
    model = its.filtered.model
    h = float(np.asarray(its.fit.params)[0])  # sigma2.irregular
    design = np.asarray(model.ssm["design"])[0, :, start:]  # states x steps
    sim = model.simulation_smoother(random_state=np.random.default_rng(5))
    paths = []
    for _ in range(1500):
        sim.simulate()
        states = np.asarray(sim.simulated_state)[:, start:n]
        paths.append(np.einsum("kt,kt->t", design, states))
    paths = np.array(paths) + rng.normal(0, np.sqrt(h), (1500, n - start))
    reps = len(paths)
    sums = np.cumsum(paths, axis=1)
    cum_var = np.array([cov[:k, :k].sum() for k in range(1, n - start + 1)])
    assert np.all(np.abs(sums.mean(0) - np.cumsum(mean)) < 4 * np.sqrt(cum_var / reps))
    # variance of a normal sample: SE ≈ σ² √(2 / reps)
    assert np.all(np.abs(sums.var(0) / cum_var - 1) < 4 * np.sqrt(2 / reps))
    assert np.all(np.abs(paths.var(0) / np.diag(cov) - 1) < 4 * np.sqrt(2 / reps))
    corr = np.corrcoef(paths[:, 0], paths[:, -1])[0, 1]
    assert corr == pytest.approx(cov[0, -1] / np.sqrt(cov[0, 0] * cov[-1, -1]), abs=0.08)


def test_batched_filter_equals_statsmodels_filter(series, fitted):
    """The vectorised Kalman filter used for the variance draws reproduces statsmodels'
    filter (log-likelihood, predicted states and covariances over the post-period) on the
    seasonal model with three controls, at the MLE and at perturbed variances. Tolerance
    1e-7 relative: both run the same recursions from a 10^6 approximate-diffuse start, whose
    cancellation leaves differences of about 1e-10."""
    from researchkit.experiments.causal._ssm_forecast import _batched_filter

    model = fitted.filtered.model
    mle = np.asarray(fitted.fit.params, dtype=float)
    params = np.vstack([mle, mle * 2.0 + 0.01, mle * 0.3 + 0.001])
    llf, m, p, h = _batched_filter(model, params, fitted.n_pre)
    for i, par in enumerate(params):
        ref = model.filter(par)
        assert llf[i] == pytest.approx(ref.llf, rel=1e-7)
        assert np.allclose(m[i], ref.predicted_state[:, fitted.n_pre:-1], rtol=1e-7, atol=1e-7)
        assert np.allclose(p[i], ref.predicted_state_cov[:, :, fitted.n_pre:-1], rtol=1e-7,
                           atol=1e-7)
        assert h[i] == pytest.approx(par[0])
    model.update(mle)


def test_posterior_predictive_equals_grid_quadrature():
    """Local level, no controls: the importance-sampling posterior predictive of the
    cumulative counterfactual equals brute-force quadrature over a 40 x 40 grid of the two
    standard deviations (flat prior), with the likelihood and the forecast state at each grid
    point from statsmodels' Kalman filter and the closed-form local-level covariance."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    from researchkit.experiments.causal._ssm_forecast import mixture_quantiles

    rng = np.random.default_rng(8)
    n, start = 50, 35
    y = 20 + np.cumsum(rng.normal(0, 0.4, n)) + rng.normal(0, 1.0, n)
    its = InterruptedTimeSeries(pd.DataFrame({"t": np.arange(n), "y": y}), "y", "t", start,
                                draws=2000, seed=2)
    steps = n - start
    model = UnobservedComponents(y[:start], level="local level")
    s_eps = np.linspace(0.02, 2.5, 40)
    s_eta = np.linspace(0.0, 2.0, 40)
    mus, sds, logw = [], [], []
    idx = np.arange(1, steps + 1)
    for a in s_eps:
        for b in s_eta:
            model.update([a ** 2, b ** 2])
            res = model.ssm.filter()
            logw.append(res.llf_obs[model.loglikelihood_burn:].sum())
            p = float(res.predicted_state_cov[0, 0, -1])  # state variance, first forecast
            cov = p + (np.minimum.outer(idx, idx) - 1) * b ** 2 + np.eye(steps) * a ** 2
            mus.append(steps * float(res.predicted_state[0, -1]))
            sds.append(float(np.sqrt(cov.sum())))
    logw = np.array(logw)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    mus, sds = np.array(mus)[:, None], np.array(sds)[:, None]
    # the grid covers the posterior: negligible mass on its outer edges
    edge = w.reshape(40, 40)
    assert edge[-1].sum() + edge[:, -1].sum() < 1e-3
    total = y[start:].sum()
    for q, col in [(0.025, "cumulative_high"), (0.975, "cumulative_low"), (0.5, None)]:
        ref = total - float(mixture_quantiles(q, mus, sds, w)[0])
        if col is None:
            got = its.result.details["cumulative_effect"]
            ref = total - float(w @ mus[:, 0])
        else:
            got = float(its.effects[col].iloc[-1])
        assert got == pytest.approx(ref, rel=0.03, abs=0.03 * float(w @ sds[:, 0])), (q, got,
                                                                                      ref)


def test_posterior_intervals_are_wider_than_plugin_and_reproducible(series, fitted, plugin):
    for col_lo, col_hi in [("effect_low", "effect_high"), ("cumulative_low", "cumulative_high")]:
        post = fitted.effects[fitted.effects["post"]]
        plug = plugin.effects[plugin.effects["post"]]
        assert ((post[col_hi] - post[col_lo]) > (plug[col_hi] - plug[col_lo])).all()
    again = InterruptedTimeSeries(series.data, "sales", "week", 80,
                                  controls=["control_1", "control_2", "control_3"],
                                  seasonal_period=52)
    pd.testing.assert_frame_equal(again.effects, fitted.effects)
    assert fitted.result.details["effective_draws"] > 50
    assert "posterior of the variances" in fitted.result.method


def _coverage_run(reps: int, intervals: str) -> tuple[float, float, float]:
    """Pointwise and cumulative coverage of the 95% intervals and the A/A rejection rate."""
    n, start = 80, 60
    point, cumulative, aa = [], [], []
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        x = 10 + np.cumsum(rng.normal(0, 1, n))
        level = np.cumsum(rng.normal(0, 0.3, n))
        effect = 3.0 if seed % 2 else 0.0
        y = 5 + level + 0.8 * x + rng.normal(0, 1, n) + effect * (np.arange(n) >= start)
        data = pd.DataFrame({"t": np.arange(n), "y": y, "x": x})
        its = InterruptedTimeSeries(data, "y", "t", start, controls=["x"], intervals=intervals,
                                    seed=seed)
        post = its.effects[its.effects["post"]]
        point.append(((post["effect_low"] <= effect) & (effect <= post["effect_high"])).mean())
        lo, hi = its.result.details["cumulative_ci"]
        cumulative.append(lo <= effect * (n - start) <= hi)
        if effect == 0:
            aa.append(its.result.p_value < 0.05)
    return float(np.mean(point)), float(np.mean(cumulative)), float(np.mean(aa))


@pytest.mark.slow
def test_interval_coverage_in_repeated_simulations():
    """Coverage of the 95% intervals over 200 simulated series from the fitted model class
    (local level σ_η = 0.3, irregular σ_ε = 1, one random-walk control, 60 pre- and 20
    post-periods; a known effect of 3 in half of them, none in the other half).

    With the variances plugged in, coverage of these 200 series is 92.2% pointwise and 86.0%
    cumulative (the level variance, often estimated near zero from 60 periods, drives the
    width of the cumulative interval); with the true variances it is 94.7% / 95.5%. Integrated
    over the variances, each must be within 2.5 binomial SEs of 95% (cumulative SE 1.5 points
    over 200 reps; the pointwise coverage averages 20 correlated periods per series, so its
    SE is smaller, and the same 2.5 × 1.5-point band is conservative for it).
    """
    reps = 200
    point, cumulative, aa = _coverage_run(reps, "posterior")
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(cumulative - 0.95) < 2.5 * se, cumulative
    assert abs(point - 0.95) < 2.5 * se, point
    assert aa < 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / (reps / 2)), aa


def test_without_controls_the_interval_is_wider(series, fitted):
    plain = InterruptedTimeSeries(series.data, "sales", "week", 80, seasonal_period=52)
    width = plain.result.ci[1] - plain.result.ci[0]
    assert width > fitted.result.ci[1] - fitted.result.ci[0]


def test_errors(series):
    data = series.data
    with pytest.raises(ParameterError, match="inside the series"):
        InterruptedTimeSeries(data, "sales", "week", 500)
    with pytest.raises(ParameterError, match="comparable"):
        InterruptedTimeSeries(data, "sales", "week", "2024-05-01")
    with pytest.raises(DataError, match="strictly increasing"):
        InterruptedTimeSeries(data.iloc[::-1], "sales", "week", 80)
    with pytest.raises(DataError, match="pre-period too short"):
        InterruptedTimeSeries(data, "sales", "week", 8, seasonal_period=52)
    with pytest.raises(ParameterError, match="seasonal"):
        InterruptedTimeSeries(data, "sales", "week", 80, seasonal_period=1)
    with pytest.raises(DataError, match="not found"):
        InterruptedTimeSeries(data, "sales", "week", 80, controls=["nope"])
    with pytest.raises(ParameterError, match="interval method"):
        InterruptedTimeSeries(data, "sales", "week", 80, intervals="bayes")
    with pytest.raises(ParameterError, match="draws"):
        InterruptedTimeSeries(data, "sales", "week", 80, draws=10)


def test_dates_work_as_time(series):
    r = InterruptedTimeSeries(series.data, "sales", "date",
                              series.data["date"].iloc[79]).result
    assert r.details["n_pre"] == 79


def test_plot(fitted, run_dir):
    assert len(fitted.plot().axes) == 3


def test_segmented_regression_equals_statsmodels_hac(series):
    import statsmodels.api as sm

    from researchkit.experiments.causal import segmented_regression

    d = series.data
    r = segmented_regression(d, "sales", "week", 80, controls=["control_1"], maxlags=3)
    n = len(d)
    pos = np.arange(n)
    post = (d["week"] >= 80).to_numpy()
    x = np.column_stack([np.ones(n), pos, post, np.where(post, pos - 79, 0), d["control_1"]])
    ref = sm.OLS(d["sales"].to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": 3},
                                                use_t=True)
    assert np.allclose(r.table["estimate"].to_numpy(), ref.params, rtol=1e-9)
    assert np.allclose(r.table["se"].to_numpy(), ref.bse, rtol=1e-9)
    assert r.p_value == pytest.approx(ref.pvalues[2], rel=1e-6)
    assert r.df == ref.df_resid


def test_segmented_regression_recovers_level_and_slope_change():
    from researchkit.experiments.causal import segmented_regression

    rng = np.random.default_rng(4)
    n, t0 = 120, 80
    t = np.arange(n)
    y = 50 + 0.1 * t + 6 * (t >= t0) + 0.2 * np.where(t >= t0, t - t0, 0) + rng.normal(0, 1, n)
    r = segmented_regression(pd.DataFrame({"t": t, "y": y}), "y", "t", t0)
    assert r.ci[0] < 6 < r.ci[1]
    lo, hi = r.details["slope_change_ci"]
    assert lo < 0.2 < hi
    with pytest.raises(ParameterError, match="at least 3 pre"):
        segmented_regression(pd.DataFrame({"t": t, "y": y}), "y", "t", 1)
    with pytest.raises(ParameterError, match="lags"):
        segmented_regression(pd.DataFrame({"t": t, "y": y}), "y", "t", t0, maxlags=-1)
