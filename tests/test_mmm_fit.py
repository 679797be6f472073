"""Marketing-mix model: recovery of known ROIs, exact decomposition, inner solver, calibration.

The recovery test is fair rather than rigged: the simulator (researchkit.datasets.marketing_mix)
draws realistic flighted and always-on spend with largely independent variation across eight
channels, and weekly noise of 1% of mean sales (about 2% of the media-driven variation). With
the true transformations known, ordinary least squares estimates each channel's coefficient
with a relative standard error of 3-8%; the MMM must also find the adstock and saturation
parameters. The benchmark (benchmarks/bench_mmm_fit.py) reports the recovery error over
several seeds and noise levels.
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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mmm_recovers_the_true_roi_of_every_channel_within_20_percent(seed):
    s = ds.simulate_marketing_mix(seed=seed)
    res = _fit(s, seed=seed)
    for channel, true_roi in s.truth["roi"].items():
        est = res.estimate[channel]
        assert abs(est / true_roi - 1) < 0.20, (channel, est, true_roi)


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
    assert fitted.details["r2"] > 0.97
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
