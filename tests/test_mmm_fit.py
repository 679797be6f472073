"""Marketing-mix model: recovery of known ROIs, exact decomposition, inner solver, calibration.

Recovery is tested at realistic noise. The simulator (researchkit.datasets.marketing_mix) draws
flighted and always-on spend that varies largely independently across eight channels (variance
inflation about 1.0-1.2) and weekly sales noise of 3% of mean sales by default, the low end of
real weekly MMM residuals. Measured on seeds 0-9 (benchmarks/bench_mmm_fit.py prints the table),
share of seeds with all eight ROIs within 20% of the truth:

=====  =====================  =========================  ==================================
noise  fit without lift tests  fit calibrated with one    oracle: OLS with the true
                               lift test per channel      adstock and saturation (no tests)
=====  =====================  =========================  ==================================
1%     10/10                  10/10                      10/10
3%     0/10                   6/10                       8/10
5%     0/10                   4/10                       1/10
=====  =====================  =========================  ==================================

Without experiments, three years of weekly data do not pin down 24 transformation parameters
well enough at 3-5% noise: even the oracle, which knows them, misses 20% on some channel in
most seeds at 5%. The realistic recovery claim is therefore for the calibrated model (one
four-week go-dark experiment per channel with a 15% standard error, as a mature measurement
programme has). At 5% noise the per-channel median error over the seeds stays within 20%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime, lsq_linear

import researchkit.datasets as ds
from researchkit.channels.mmm import fit_mmm
from researchkit.channels.mmm._core import Core
from researchkit.channels.mmm.calibration import prepare_lifts
from researchkit.errors import DataError, ParameterError


@pytest.fixture(scope="module")
def sim():
    return ds.simulate_marketing_mix(seed=1)


@pytest.fixture(scope="module")
def fitted(sim):
    return fit_mmm(sim.data["weekly"], y="sales", channels=sim.truth["channels"],
                   controls=sim.truth["controls"], n_boot=30, seed=1)


def _fit(sim, **kw):
    kw.setdefault("n_boot", 0)
    return fit_mmm(sim.data["weekly"], y="sales", channels=sim.truth["channels"],
                   controls=sim.truth["controls"], **kw)


SEEDS = range(10)


def _roi_errors(noise: float, lift_tests: bool, seeds=SEEDS) -> np.ndarray:
    """Relative ROI errors (seeds x channels) of fits on simulated data."""
    errors = []
    for seed in seeds:
        s = ds.simulate_marketing_mix(seed=seed, noise=noise)
        res = _fit(s, seed=seed, lift_tests=s.data["lift_tests"] if lift_tests else None)
        true = np.array([s.truth["roi"][c] for c in s.truth["channels"]])
        errors.append(np.array([res.estimate[c] for c in s.truth["channels"]]) / true - 1)
    return np.abs(np.array(errors))


@pytest.mark.slow
def test_calibrated_mmm_recovers_every_roi_within_20_percent_at_realistic_noise():
    """Default (3%) noise, one lift test per channel, seeds 0-9: most seeds recover all eight
    ROIs within 20% (measured 6/10) and 95% of the 80 channel ROIs are within 20%."""
    err = _roi_errors(0.03, lift_tests=True)
    assert np.mean(err.max(axis=1) < 0.20) >= 0.6, err.max(axis=1).round(3)
    assert np.mean(err < 0.20) >= 0.95, err.round(3)
    assert np.all(np.median(err, axis=0) < 0.15), np.median(err, axis=0).round(3)


@pytest.mark.slow
def test_calibrated_mmm_median_roi_error_within_20_percent_at_5_percent_noise():
    """At 5% noise single seeds can miss (4/10 recover all eight ROIs within 20%), but each
    channel's median error over seeds 0-9 stays within 20% (measured at most 14%)."""
    err = _roi_errors(0.05, lift_tests=True)
    assert np.all(np.median(err, axis=0) < 0.20), np.median(err, axis=0).round(3)
    assert np.mean(err < 0.20) >= 0.9, err.round(3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uncalibrated_mmm_recovers_every_roi_within_20_percent_at_low_noise(seed):
    """Without experiments the fit is consistent: at 1% noise all eight ROIs are within 20%
    (10/10 seeds measured; 0/10 at 3% and 5%, see the module text)."""
    err = _roi_errors(0.01, lift_tests=False, seeds=[seed])
    assert err.max() < 0.20, err.round(3)


def test_decomposition_sums_to_fitted_sales_exactly(fitted, sim):
    dec = fitted.decomposition
    channels = sim.truth["channels"]
    np.testing.assert_allclose(dec["base"] + dec[channels].sum(axis=1), dec["fitted"],
                               rtol=1e-12)
    parts = ["intercept", "trend", "seasonality", *sim.truth["controls"]]
    np.testing.assert_allclose(dec[parts].sum(axis=1), dec["base"], rtol=1e-12)
    np.testing.assert_allclose(dec["actual"] - dec["fitted"], dec["residual"], atol=1e-6)
    # channel contributions are non-negative and total the table's contributions
    assert (dec[channels] >= 0).all().all()
    np.testing.assert_allclose(dec[channels].sum().to_numpy(),
                               fitted.table["contribution"].to_numpy(), rtol=1e-10)
    roi = fitted.table["contribution"] / fitted.table["spend"]
    np.testing.assert_allclose(roi, fitted.table["roi"], rtol=1e-12)


def test_fit_quality_and_intervals(fitted, sim):
    # the truth is in the model class, so the fit explains at least what the true model does
    w, t = sim.data["weekly"], sim.truth
    true_mean = (t["base"].drop(columns="date").sum(axis=1)
                 + t["contributions"][t["channels"]].sum(axis=1))
    ss_tot = ((w["sales"] - w["sales"].mean()) ** 2).sum()
    assert fitted.details["r2"] >= 1 - ((w["sales"] - true_mean) ** 2).sum() / ss_tot
    assert fitted.details["sigma"] == pytest.approx(sim.truth["noise_sd"], rel=0.25)
    t = fitted.table
    assert (t["roi_ci_low"] <= t["roi"]).all() and (t["roi"] <= t["roi_ci_high"]).all()
    assert (t["mroi_ci_low"] <= t["mroi_ci_high"]).all()
    assert len(fitted.draws) == 30 * len(sim.truth["channels"])
    d = fitted.to_dict()
    assert "model" not in d and d["estimate"]["tv"] == pytest.approx(fitted.estimate["tv"])
    assert "moving-block residual bootstrap" in fitted.method


def test_same_seed_same_numbers(sim):
    a = _fit(sim, seed=3, n_boot=4, n_candidates=16, n_starts=1)
    b = _fit(sim, seed=3, n_boot=4, n_candidates=16, n_starts=1)
    pd.testing.assert_frame_equal(a.table, b.table)


def _core_for(res, sim, ridge, lift_tests=None, sigma=None):
    m = res.model
    lifts = prepare_lifts(lift_tests, m.dates, m.X, m.channels)
    return Core(m.y, m.base.to_numpy(), m.X, m.transform, ridge, lifts, sigma), lifts


@pytest.mark.parametrize("ridge", [0.0, 0.01])
def test_inner_solver_matches_scipy_lsq_linear_on_the_full_system(fitted, sim, ridge):
    """Profiled NNLS (projection of the free base terms) = bounded least squares on all terms."""
    m = fitted.model
    core, lifts = _core_for(fitted, sim, ridge, sim.data["lift_tests"], sigma=9000.0)
    sol = core.solve_theta(m.theta)
    F = m.base.to_numpy()
    H = sol.H
    n, f, C = len(m.y), F.shape[1], H.shape[1]
    blocks, targets = [np.hstack([F, H])], [m.y]
    if ridge:
        blocks.append(np.hstack([np.zeros((C, f)), np.sqrt(n * ridge) * np.diag(H.std(axis=0))]))
        targets.append(np.zeros(C))
    w = 9000.0 / lifts.se
    L = np.zeros((lifts.size, f + C))
    L[np.arange(lifts.size), f + lifts.channel_idx] = w * sol.g
    blocks.append(L)
    targets.append(w * lifts.lift)
    lb = np.r_[np.full(f, -np.inf), np.zeros(C)]
    ref = lsq_linear(np.vstack(blocks), np.concatenate(targets), bounds=(lb, np.inf),
                     tol=1e-14, lsmr_tol="auto", max_iter=5000)
    np.testing.assert_allclose(sol.beta, ref.x[f:], rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(sol.gamma, ref.x[:f], rtol=1e-6, atol=1e-2)


def test_profiled_gradient_and_jacobian_match_numerical_derivatives(fitted, sim):
    core, _ = _core_for(fitted, sim, 0.01, sim.data["lift_tests"], sigma=9000.0)
    u = np.clip(fitted.model.transform.to_unit(fitted.model.theta).ravel() * 0.9 + 0.05,
                0.02, 0.98)
    f, g = core.objective_and_grad(u)
    numeric = approx_fprime(u, core.objective, 1e-7)
    np.testing.assert_allclose(g, numeric, atol=1e-7 * max(1.0, np.abs(g).max() * 1e3))
    r, J = core._ls_eval(u)
    assert r @ r == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(2 * J.T @ r, g, atol=1e-12)


def test_residual_cache_follows_the_penalty_settings(fitted, sim):
    """Changing the ridge penalty (as the CV step does) must not reuse a stale residual."""
    core, _ = _core_for(fitted, sim, 0.01)
    u = fitted.model.transform.to_unit(fitted.model.theta).ravel()
    r_ridge, _ = core._ls_eval(u)
    assert len(r_ridge) == core.n + core.transform.n_channels
    core.ridge = 0.0
    r, J = core._ls_eval(u)
    fresh, _ = _core_for(fitted, sim, 0.0)
    r_ref, J_ref = fresh._ls_eval(u)
    np.testing.assert_allclose(r, r_ref, rtol=1e-12)
    np.testing.assert_allclose(J, J_ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("adstock,saturation", [("weibull_cdf", "hill"),
                                                ("weibull_pdf", "logistic")])
def test_other_transformations_fit_and_decompose(sim, adstock, saturation):
    res = _fit(sim, adstock=adstock, saturation=saturation, n_candidates=24, n_starts=1,
               ridge=0.001, seed=0)
    dec = res.decomposition
    np.testing.assert_allclose(dec["base"] + dec[sim.truth["channels"]].sum(axis=1),
                               dec["fitted"], rtol=1e-12)
    assert res.details["r2"] > 0.95
    assert set(res.parameters.columns) >= ({"shape", "scale"} | (
        {"half", "slope"} if saturation == "hill" else {"lam"}))


def test_calibration_pulls_the_channel_toward_the_measured_lift(sim):
    """A (deliberately wrong) lift measured precisely moves the model's lift onto it."""
    lifts = sim.data["lift_tests"].iloc[[0]].copy()
    base = _fit(sim, seed=0, n_candidates=32, ridge=0.001)
    m = base.model
    lt = prepare_lifts(lifts, m.dates, m.X, m.channels)
    model_lift = float(m.beta[lt.channel_idx[0]] * lt.g(m.transform, m.X, m.theta)[0])
    target = 0.6 * model_lift
    got = {}
    for rel_se in (0.1, 0.001):
        lifts["lift"], lifts["se"] = target, rel_se * model_lift
        cal = _fit(sim, seed=0, n_candidates=32, ridge=0.001, lift_tests=lifts)
        got[rel_se] = cal.details["calibration"]["model_lift"].iloc[0]
        assert target <= got[rel_se] < model_lift
    # the more precise the experiment, the closer the model's lift to it
    assert abs(got[0.001] - target) < abs(got[0.1] - target)
    assert abs(got[0.001] - target) < 0.05 * (model_lift - target)
    assert cal.estimate["tv"] < base.estimate["tv"]
    # with the simulator's honest lift tests, the calibrated fit stays close to the truth
    honest = _fit(sim, seed=0, n_candidates=32, ridge=0.001, lift_tests=sim.data["lift_tests"])
    assert abs(honest.estimate["tv"] / sim.truth["roi"]["tv"] - 1) < 0.2
    assert (honest.details["calibration"]["z"].abs() < 3).all()


def test_bad_input_gets_clear_errors(sim):
    w = sim.data["weekly"]
    ch = sim.truth["channels"]
    with pytest.raises(DataError, match="'nope'"):
        fit_mmm(w, y="sales", channels=[*ch[:2], "nope"])
    bad = w.copy()
    bad.loc[5, "tv"] = -1.0
    with pytest.raises(DataError, match=r"row 6, column 'tv'.*negative"):
        fit_mmm(bad, y="sales", channels=ch)
    bad = w.copy()
    bad.loc[7, "sales"] = np.nan
    with pytest.raises(DataError, match=r"row 8, column 'sales'"):
        fit_mmm(bad, y="sales", channels=ch)
    with pytest.raises(DataError, match="strictly increasing"):
        fit_mmm(w.iloc[::-1], y="sales", channels=ch)
    zero = w.assign(display=0.0)
    with pytest.raises(ParameterError, match="no spend"):
        fit_mmm(zero, y="sales", channels=ch)
    with pytest.raises(ParameterError, match="bounds"):
        fit_mmm(w, y="sales", channels=ch, bounds={"decay": (0, 1)})
    with pytest.raises(ParameterError, match="bounds"):
        fit_mmm(w, y="sales", channels=ch, bounds={"tv": {"alpha": (0.5, 1.2)}})
    with pytest.raises(ParameterError, match="too few periods"):
        fit_mmm(w.head(20), y="sales", channels=ch)
    with pytest.raises(ParameterError, match="adstock"):
        fit_mmm(w, y="sales", channels=ch, adstock="koyck")
    with pytest.raises(ParameterError, match="ridge"):
        fit_mmm(w, y="sales", channels=ch, ridge=-1.0)
    with pytest.raises(ParameterError, match="used twice"):
        fit_mmm(w, y="sales", channels=ch, controls=["tv"])
    lifts = sim.data["lift_tests"].copy()
    lifts.loc[0, "channel"] = "radio"
    with pytest.raises(DataError, match=r"row 1.*channel"):
        fit_mmm(w, y="sales", channels=ch, lift_tests=lifts)
    lifts = sim.data["lift_tests"].copy()
    lifts.loc[1, ["start", "end"]] = ["2030-01-01", "2030-02-01"]
    with pytest.raises(DataError, match="covers no period"):
        fit_mmm(w, y="sales", channels=ch, lift_tests=lifts)
    lifts = sim.data["lift_tests"].copy()
    lifts.loc[0, "se"] = 0
    with pytest.raises(DataError, match="standard error"):
        fit_mmm(w, y="sales", channels=ch, lift_tests=lifts)


def test_fixed_parameters_through_degenerate_bounds(sim):
    truth = sim.truth["params"]
    bounds = {c: {"alpha": (truth.loc[c, "alpha"],) * 2} for c in sim.truth["channels"]}
    res = _fit(sim, bounds=bounds, n_candidates=8, n_starts=1, ridge=0.0)
    np.testing.assert_allclose(res.parameters["alpha"], truth["alpha"], rtol=1e-12)


def test_control_names_that_look_like_base_terms(sim):
    w = sim.data["weekly"].rename(columns={"price_index": "cost_index"})
    res = fit_mmm(w, y="sales", channels=sim.truth["channels"],
                  controls=["cost_index", "competitor_promo"], n_boot=0, n_candidates=8,
                  n_starts=1, ridge=0.0)
    dec = res.decomposition
    assert "cost_index" in dec and dec["cost_index"].abs().sum() > 0
    parts = ["intercept", "trend", "seasonality", "cost_index", "competitor_promo"]
    np.testing.assert_allclose(dec[parts].sum(axis=1), dec["base"], rtol=1e-12)
    with pytest.raises(ParameterError, match="reserved"):
        fit_mmm(w.rename(columns={"cost_index": "sin1"}), y="sales",
                channels=sim.truth["channels"], controls=["sin1"])
