"""Bass diffusion: the curve, NLS and OLS fits, forecasts, analogs and the SOM ramp."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from researchkit.datasets import simulate_adoption, sizing_example_path
from researchkit.errors import DataError, ParameterError
from researchkit.sizing import (
    analog_parameters,
    bass_adoptions,
    bass_analogs,
    bass_cdf,
    bass_mean_share,
    bass_pdf,
    bass_peak,
    fit_bass,
    fit_bass_ols,
    forecast_bass,
    forecast_from_analogs,
    load_sizing_spec,
    simulate,
    som_ramp,
)
from researchkit.sizing.bass_fit import _dF

# -- the curve ---------------------------------------------------------------------------------


def test_cdf_pdf_consistency_and_limits():
    p, q = 0.02, 0.45
    t = np.linspace(0.1, 30, 300)
    h = 1e-6
    numeric = (bass_cdf(t + h, p, q) - bass_cdf(t - h, p, q)) / (2 * h)
    # central differences carry rounding error of about eps / h = 1e-10 in absolute terms
    np.testing.assert_allclose(bass_pdf(t, p, q), numeric, rtol=1e-6, atol=1e-9)
    assert bass_cdf(0, p, q) == 0 and bass_cdf(-1, p, q) == 0
    assert bass_cdf(400, p, q) == pytest.approx(1.0)
    # the hazard f / (1 - F) = p + q F (Bass 1969, eq. 1)
    np.testing.assert_allclose(bass_pdf(t, p, q) / (1 - bass_cdf(t, p, q)),
                               p + q * bass_cdf(t, p, q), rtol=1e-9)


def test_adoptions_sum_to_m_and_peak_formula():
    p, q, m = 0.01, 0.5, 1000.0
    per = bass_adoptions(200, p, q, m)
    assert per.sum() == pytest.approx(m)
    peak = bass_peak(p, q, m)
    t = np.linspace(0, 40, 400_001)
    f = bass_pdf(t, p, q)
    assert t[np.argmax(f)] == pytest.approx(peak["t_peak"], abs=1e-4)
    assert bass_cdf(peak["t_peak"], p, q) == pytest.approx(peak["share_at_peak"])
    assert m * f.max() == pytest.approx(peak["peak_rate"], rel=1e-8)
    assert bass_peak(0.5, 0.1)["t_peak"] == 0.0


def test_period_average_share_matches_numerical_integration():
    for p, q in ((0.03, 0.38), (0.005, 0.9), (0.1, 0.0), (0.02, 1e-9)):
        mean_share = bass_mean_share(6, p, q)
        for t in range(1, 7):
            ref = integrate.quad(lambda s, p=p, q=q: float(bass_cdf(s, p, q)), t - 1, t)[0]
            assert mean_share[t - 1] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_analytic_gradient_of_the_cdf():
    t = np.arange(0, 20.0)
    p, q, h = 0.02, 0.4, 1e-7
    fp, fq = _dF(t, p, q)
    np.testing.assert_allclose(fp, (bass_cdf(t, p + h, q) - bass_cdf(t, p - h, q)) / (2 * h),
                               atol=1e-7)
    np.testing.assert_allclose(fq, (bass_cdf(t, p, q + h) - bass_cdf(t, p, q - h)) / (2 * h),
                               atol=1e-7)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="p > 0"):
        bass_cdf(1, 0, 0.3)
    with pytest.raises(ParameterError, match="q >= 0"):
        bass_pdf(1, 0.1, -0.3)
    with pytest.raises(ParameterError, match="m > 0"):
        bass_adoptions(5, 0.1, 0.3, -1)
    with pytest.raises(ParameterError):
        bass_adoptions(5, 0.1, 0.3, 10, curve="weibull")


# -- NLS fit -----------------------------------------------------------------------------------


def test_nls_reproduces_r_nls_on_the_textbook_sales_series():
    # Reference: R stats::nls fit of m f(t) (the Bass density) to the yearly sales series
    # 840, 1470, 2110, 4000, 7590, 10950, 10530, 9470, 7790, 5890 - the example of the DIMORA
    # package's BASS.standard documentation and of Wang Chengjun's RPubs "Bass model" note
    # (https://rpubs.com/chengjun/bass_model, 2012), whose printed nls summary reads:
    #   M 6.80e+04 (se 3.13e+03), P 6.59e-03 (se 1.43e-03), Q 6.38e-01 (se 4.14e-02),
    #   residual standard error 727 on 7 degrees of freedom.
    sales = [840, 1470, 2110, 4000, 7590, 10950, 10530, 9470, 7790, 5890]
    fit = fit_bass(sales, curve="density")
    assert f"{fit.m:.2e}" == "6.80e+04" and f"{fit.se['m']:.2e}" == "3.13e+03"
    assert f"{fit.p:.2e}" == "6.59e-03" and f"{fit.se['p']:.2e}" == "1.43e-03"
    assert f"{fit.q:.2e}" == "6.38e-01" and f"{fit.se['q']:.2e}" == "4.14e-02"
    assert fit.df == 7
    assert round(math.sqrt(fit.diagnostics["sse"] / fit.df)) == 727


def test_nls_matches_scipy_curve_fit_on_the_same_data():
    from scipy.optimize import curve_fit

    data, _ = simulate_adoption(p=0.02, q=0.5, m=80_000, periods=14, noise=0.04, seed=4)
    fit = fit_bass(data, "adopters", "year")
    t = np.arange(1, 15, dtype=float)

    def model(tt, p, q, m):
        return m * (bass_cdf(tt, p, q) - bass_cdf(tt - 1, p, q))

    popt, pcov = curve_fit(model, t, data["adopters"].to_numpy(), p0=[0.03, 0.4, 70_000],
                           maxfev=20_000)
    np.testing.assert_allclose([fit.p, fit.q, fit.m], popt, rtol=1e-5)
    np.testing.assert_allclose([fit.se["p"], fit.se["q"], fit.se["m"]],
                               np.sqrt(np.diag(pcov)), rtol=1e-3)


def test_nls_recovers_known_parameters_from_simulated_histories():
    truth = {"p": 0.03, "q": 0.38, "m": 100_000}
    covered = {"p": 0, "q": 0, "m": 0}
    estimates = []
    n_runs = 60
    for seed in range(n_runs):
        data, _ = simulate_adoption(**truth, periods=16, noise=0.05, seed=seed)
        fit = fit_bass(data, "adopters", "year")
        estimates.append([fit.p, fit.q, fit.m])
        table = fit.table.set_index("parameter")
        for k in covered:
            covered[k] += table.loc[k, "ci_low"] <= truth[k] <= table.loc[k, "ci_high"]
    est = np.array(estimates)
    # unbiased on average (4 standard errors of the mean over the runs)
    for j, k in enumerate(("p", "q", "m")):
        sem = est[:, j].std(ddof=1) / math.sqrt(n_runs)
        assert abs(est[:, j].mean() - truth[k]) < 4 * sem, k
    # 95% intervals cover the truth about 95% of the time (binomial 99.9% band for 60 runs)
    for k, c in covered.items():
        assert c >= 50, (k, c)


def test_noise_free_history_is_recovered_exactly():
    data, _ = simulate_adoption(p=0.015, q=0.6, m=20_000, periods=12, noise=0.0, seed=0)
    fit = fit_bass(data, "adopters", "year")
    assert fit.p == pytest.approx(0.015, rel=1e-6)
    assert fit.q == pytest.approx(0.6, rel=1e-6)
    assert fit.m == pytest.approx(20_000, rel=1e-6)
    assert fit.diagnostics["r2"] == pytest.approx(1.0)


def test_fit_result_contents():
    data, _ = simulate_adoption(periods=15, seed=3)
    fit = fit_bass(data, "adopters", "year")
    assert set(fit.estimate) == {"p", "q", "m"}
    assert list(fit.table["parameter"]) == ["p", "q", "m"]
    for key in ("r2", "rmse", "durbin_watson", "lag1_autocorrelation", "ljung_box_p"):
        assert np.isfinite(fit.diagnostics[key])
    np.testing.assert_allclose(fit.fitted + fit.residuals, fit.observed)
    ft = fit.fit_table()
    assert list(ft["label"]) == list(data["year"])
    np.testing.assert_allclose(fit.predict(15), fit.fitted)
    assert fit.details["t_peak"] == pytest.approx(bass_peak(fit.p, fit.q)["t_peak"])
    d = fit.to_dict()
    assert d["estimate"]["q"] == pytest.approx(fit.q)


def test_short_history_and_bound_warnings():
    data, _ = simulate_adoption(p=0.01, q=0.5, m=1e6, periods=5, noise=0.02, seed=1)
    fit = fit_bass(data, "adopters")
    assert any("only 5 periods" in w for w in fit.warnings)


def test_bad_histories_are_reported_with_row_and_column():
    df = pd.DataFrame({"year": [2001, 2002, 2003, 2004, 2005],
                       "adopters": [10, 30, -5, 40, 20]})
    with pytest.raises(DataError, match="negative") as info:
        fit_bass(df, "adopters", "year")
    assert info.value.row == 3 and info.value.column == "adopters"
    with pytest.raises(DataError, match="at least 4"):
        fit_bass([1, 2, 3])
    with pytest.raises(DataError, match="consecutive") as info:
        fit_bass(df.assign(adopters=[1, 2, 3, 4, 5], year=[2001, 2002, 2004, 2005, 2006]),
                 "adopters", "year")
    assert info.value.row == 3
    with pytest.raises(DataError, match="no column"):
        fit_bass(df, "sales")
    with pytest.raises(DataError, match="finite"):
        fit_bass([1.0, 2.0, float("nan"), 4.0, 5.0])
    with pytest.raises(ParameterError):
        fit_bass(df, "adopters", level=1.5)


# -- OLS (Bass 1969) ---------------------------------------------------------------------------


def _discrete_bass(p: float, q: float, m: float, periods: int) -> np.ndarray:
    """The discrete Bass recursion n_t = (p + q N_{t-1}/m)(m - N_{t-1}), exactly quadratic in
    N_{t-1}, so Bass's regression must recover p, q, m exactly."""
    out, cum = [], 0.0
    for _ in range(periods):
        n = (p + q * cum / m) * (m - cum)
        out.append(n)
        cum += n
    return np.array(out)


def test_ols_recovers_the_discrete_bass_recursion_exactly():
    y = _discrete_bass(0.02, 0.45, 50_000, 14)
    fit = fit_bass_ols(y)
    assert fit.p == pytest.approx(0.02, rel=1e-8)
    assert fit.q == pytest.approx(0.45, rel=1e-8)
    assert fit.m == pytest.approx(50_000, rel=1e-8)
    # and a, b, c are Bass's pm, q - p, -q/m
    assert fit.details["a"] == pytest.approx(0.02 * 50_000)
    assert fit.details["b"] == pytest.approx(0.45 - 0.02)
    assert fit.details["c"] == pytest.approx(-0.45 / 50_000)


def test_ols_regression_matches_statsmodels():
    import statsmodels.api as sm

    data, _ = simulate_adoption(p=0.03, q=0.4, m=60_000, periods=14, noise=0.04, seed=8)
    fit = fit_bass_ols(data, "adopters", "year")
    y = data["adopters"].to_numpy()
    cum = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    ref = sm.OLS(y, np.column_stack([np.ones_like(cum), cum, cum**2])).fit()
    table = fit.table.set_index("parameter")
    np.testing.assert_allclose(table.loc[["a", "b", "c"], "estimate"], ref.params, rtol=1e-7)
    np.testing.assert_allclose(table.loc[["a", "b", "c"], "se"], ref.bse, rtol=1e-6)
    ci = ref.conf_int(0.05)
    np.testing.assert_allclose(table.loc[["a", "b", "c"], "ci_low"], ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(fit.fitted, ref.fittedvalues, rtol=1e-7)


def test_ols_delta_method_matches_simulation_of_the_coefficients():
    data, _ = simulate_adoption(p=0.03, q=0.4, m=60_000, periods=14, noise=0.04, seed=8)
    fit = fit_bass_ols(data, "adopters", "year")
    from researchkit.sizing.bass_fit import _pqm_from_abc

    rng = np.random.default_rng(0)
    abc = np.array([fit.details["a"], fit.details["b"], fit.details["c"]])
    # covariance of a, b, c from the table's standard errors is not enough (correlated):
    # rebuild it from the regression and compare the delta method with Monte Carlo
    y = fit.observed
    cum = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    x = np.column_stack([np.ones_like(cum), cum, cum**2])
    s2 = fit.diagnostics["sse"] / fit.df
    cov = s2 * np.linalg.inv(x.T @ x)
    draws = rng.multivariate_normal(abc, cov, 20_000)
    pqm = np.array([_pqm_from_abc(*d) for d in draws])
    np.testing.assert_allclose(np.nanstd(pqm, axis=0),
                               [fit.se["p"], fit.se["q"], fit.se["m"]], rtol=0.1)


def test_ols_without_saturation_is_refused():
    with pytest.raises(DataError, match="no valid Bass parameters"):
        fit_bass_ols([1, 2, 4, 9, 20, 50, 130])  # accelerating: c > 0


def test_histories_before_the_peak_are_flagged():
    data, _ = simulate_adoption(p=0.002, q=0.6, m=1e6, periods=7, noise=0.01, seed=1)
    fit = fit_bass(data, "adopters")
    assert any("before the estimated peak" in w for w in fit.warnings)


# -- forecasts ---------------------------------------------------------------------------------


def test_bootstrap_forecast_intervals():
    data, truth = simulate_adoption(p=0.02, q=0.5, m=80_000, periods=10, noise=0.04, seed=2)
    fit = fit_bass(data, "adopters", "year")
    pred = forecast_bass(fit, 6, n_boot=150, seed=1)
    conf = forecast_bass(fit, 6, n_boot=150, seed=1, interval="confidence")
    t = pred.table
    fut = t[t["kind"] == "forecast"]
    assert list(fut["label"]) == list(range(2020, 2026))
    assert (fut["adopters_low"] <= fut["adopters"]).all()
    assert (fut["adopters"] <= fut["adopters_high"]).all()
    width_pred = (fut["adopters_high"] - fut["adopters_low"]).to_numpy()
    cf = conf.table[conf.table["kind"] == "forecast"]
    width_conf = (cf["adopters_high"] - cf["adopters_low"]).to_numpy()
    assert (width_pred > width_conf).all()
    np.testing.assert_allclose(t.loc[t["kind"] == "fit", "cumulative"],
                               np.cumsum(data["adopters"]))
    again = forecast_bass(fit, 6, n_boot=150, seed=1)
    pd.testing.assert_frame_equal(pred.table, again.table)
    expected_future = np.array(truth["expected"] + list(
        bass_adoptions(np.arange(11, 17), 0.02, 0.5, 80_000)))[10:]
    inside = (fut["adopters_low"].to_numpy() <= expected_future) & \
        (expected_future <= fut["adopters_high"].to_numpy())
    assert inside.mean() >= 0.5
    ols = forecast_bass(fit_bass_ols(data, "adopters", "year"), 3, n_boot=50, seed=1)
    assert len(ols.table) == 13


def test_forecast_from_one_analog_and_fixed_m_is_the_bass_curve():
    row = analog_parameters("Cable TV").iloc[0]
    fc = forecast_from_analogs(10_000, 8, analog="Cable TV", n_draws=10, start=2027)
    np.testing.assert_allclose(fc.table["adopters"],
                               bass_adoptions(8, row["p"], row["q"], 10_000))
    assert list(fc.table["label"]) == list(range(2027, 2035))
    assert fc.details["p_median"] == pytest.approx(row["p"])


def test_forecast_from_analogs_with_m_draws_and_several_analogs():
    rng = np.random.default_rng(0)
    m = rng.lognormal(math.log(50_000), 0.2, 5000)
    fc = forecast_from_analogs(m, 10, analog=["Cable TV", "Cell telephone"], seed=3)
    t = fc.table
    assert (t["adopters_low"] < t["adopters"]).all() and (t["adopters"] < t["adopters_high"]).all()
    assert (np.diff(t["cumulative"]) > 0).all()
    with pytest.raises(ParameterError, match="unknown analog"):
        forecast_from_analogs(1000, 5, analog="Flying car")
    with pytest.raises(ParameterError, match="not both"):
        forecast_from_analogs(1000, 5, analog="Cable TV", p=0.1, q=0.2)
    with pytest.raises(ParameterError):
        forecast_from_analogs(-5, 5, p=0.1, q=0.2)


def test_analog_table_has_sources_for_every_row():
    table = bass_analogs()
    assert {"category", "product", "p", "q", "source", "url"} <= set(table.columns)
    assert table["source"].str.len().min() > 20
    assert (table["p"] > 0).all() and (table["q"] >= 0).all()
    meta = analog_parameters("meta-analysis average").iloc[0]
    assert (meta["p"], meta["q"]) == (0.03, 0.38)


def test_som_ramp_is_som_times_the_bass_share():
    spec = load_sizing_spec(sizing_example_path())
    res = simulate(spec, 20_000, seed=1)
    ramp = som_ramp(res)
    som = res.outputs["top_down.som.money"]
    share = bass_mean_share(5, 0.03, 0.38)
    np.testing.assert_allclose(ramp.table["share_of_som"], share)
    np.testing.assert_allclose(ramp.table["volume"], np.median(som) * share, rtol=1e-10)
    assert list(ramp.table["label"]) == [2027, 2028, 2029, 2030, 2031]
    end = som_ramp(res, p=0.03, q=0.38, basis="end", horizon=3)
    np.testing.assert_allclose(end.table["share_of_som"], bass_cdf(np.arange(1, 4), 0.03, 0.38))
    mixed = som_ramp(res, analog=["Cable TV", "Cell telephone"], seed=2)
    assert (mixed.table["volume_low"] < mixed.table["volume"]).all()
    with pytest.raises(ParameterError):
        som_ramp(res, level="xom")
