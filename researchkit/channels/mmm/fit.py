"""Fitting a marketing-mix model: constrained ridge regression + a search over transformations.

:func:`fit_mmm` fits, to weekly (or other regular-period) sales :math:`y_t`,

.. math::

    y_t = \\underbrace{\\gamma_0 + \\text{trend}_t + \\text{seasonality}_t
    + \\text{controls}_t}_{\\text{base}}
    + \\sum_c \\beta_c\\, h_c\\big(a_c(x_c)\\big)_t + \\varepsilon_t, \\qquad \\beta_c \\ge 0,

where :math:`a_c` is an adstock (geometric or Weibull) and :math:`h_c` a saturation (Hill or
logistic) with channel-specific parameters :math:`\\theta_c`.

Estimation, in four steps:

1. **Search.** For fixed :math:`\\theta` the coefficients solve a ridge problem with
   non-negative media coefficients (free, unpenalised base coefficients profiled out; NNLS on
   the augmented system). :math:`\\theta` is searched on its bounds: a seeded Latin-hypercube
   sample of ``n_candidates`` points, then a bounded Gauss-Newton (trust-region reflective,
   ``scipy.optimize.least_squares``) on the variable-projection residuals with analytic
   derivatives (Golub & Pereyra 1973; Kaufman 1975) from the ``n_starts`` best points; the
   best local optimum is kept.
2. **Ridge penalty** by rolling-origin time-series cross-validation (``cv_folds`` folds, each
   forecasting the next ``cv_horizon`` periods from the periods before) over a grid of
   :math:`\\lambda`, with :math:`\\theta` held at the step-1 optimum; :math:`\\theta` is then
   re-optimised for the chosen :math:`\\lambda`.
3. **Calibration** (if lift tests are given): :math:`\\hat\\sigma` is taken from the
   uncalibrated fit, and each measured lift enters the objective as an extra observation with
   its standard error (see :mod:`researchkit.channels.mmm.calibration`).
4. **Uncertainty** by a moving-block residual bootstrap (Künsch 1989): residual blocks of
   ``block_length`` consecutive periods are resampled to build new sales
   :math:`y^* = \\hat y + e^*`, measured lifts are redrawn from :math:`N(L_k, se_k^2)`, and
   :math:`\\theta` and the coefficients are re-estimated from the point estimate (the ridge
   penalty is kept). Intervals are bootstrap percentiles.

ROI of channel *c* is its decomposed contribution over the data divided by its spend,
:math:`\\sum_t \\beta_c h_c(a_c(x_c))_t / \\sum_t x_{ct}` (carry-over past the last period is
not counted); marginal ROI is the extra contribution per extra unit of spend when the channel's
spend rises by 1% in every period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.mmm._checks import (
    check_columns,
    check_frame,
    check_int,
    check_level,
    date_column,
    numeric_column,
)
from researchkit.channels.mmm._core import (
    ADSTOCK_PARAMS,
    DEFAULT_BOUNDS,
    SATURATION_PARAMS,
    Core,
    Transform,
    latin_hypercube,
    single_thread_blas,
)
from researchkit.channels.mmm.adstock import ADSTOCK_KINDS
from researchkit.channels.mmm.calibration import prepare_lifts
from researchkit.channels.mmm.features import base_design
from researchkit.channels.mmm.result import FittedMMM, MMMResult, channel_metrics
from researchkit.channels.mmm.saturation import SATURATION_KINDS
from researchkit.datasets.base import make_rng
from researchkit.errors import ParameterError

__all__ = ["DEFAULT_RIDGE_GRID", "fit_mmm"]

#: Ridge penalties tried by cross-validation when ``ridge`` is not given.
DEFAULT_RIDGE_GRID: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2)
MROI_STEP = 0.01

REFERENCE = (
    "Jin, Y., Wang, Y., Sun, Y., Chan, D. & Koehler, J. (2017). Bayesian methods for media mix "
    "modeling with carryover and shape effects. Google Inc.; Künsch, H. R. (1989). The jackknife "
    "and the bootstrap for general stationary observations. Ann. Statist. 17, 1217-1241; "
    "Lawson, C. L. & Hanson, R. J. (1974). Solving Least Squares Problems. Prentice-Hall."
)


def _bounds_matrix(channels: Sequence[str], names: Sequence[str],
                   bounds: Mapping[str, Any] | None, l_max: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    C, P = len(channels), len(names)
    lo, hi = np.empty((C, P)), np.empty((C, P))
    log = np.array([DEFAULT_BOUNDS[n][2] for n in names])
    for j, name in enumerate(names):
        d_lo, d_hi, _ = DEFAULT_BOUNDS[name]
        if name == "scale":
            d_hi = min(d_hi, float(l_max))
        lo[:, j], hi[:, j] = d_lo, d_hi
    bounds = dict(bounds or {})
    for key, value in bounds.items():
        if key in names:
            targets, spec = range(C), {key: value}
        elif key in channels:
            if not isinstance(value, Mapping):
                raise ParameterError("per-channel bounds must be a mapping",
                                     parameter=f"bounds[{key!r}]",
                                     expected="{parameter: (low, high)}", got=value)
            targets, spec = [list(channels).index(key)], dict(value)
        else:
            raise ParameterError("unknown key in bounds", parameter="bounds",
                                 expected=f"a parameter in {list(names)} or a channel",
                                 got=key)
        for name, pair in spec.items():
            if name not in names:
                raise ParameterError("unknown transformation parameter in bounds",
                                     parameter="bounds", expected=f"one of {list(names)}",
                                     got=name)
            try:
                low, high = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise ParameterError("bounds must be (low, high) pairs of numbers",
                                     parameter=f"bounds[{key!r}]", got=pair) from None
            j = list(names).index(name)
            if not (np.isfinite(low) and np.isfinite(high)) or low > high \
                    or (log[j] and low <= 0) or (name == "alpha" and (low < 0 or high >= 1)):
                raise ParameterError("invalid bounds", parameter=f"bounds[{key!r}]",
                                     expected="low <= high, positive for scale parameters, "
                                     "alpha in [0, 1)", got=pair)
            for c in targets:
                lo[c, j], hi[c, j] = low, high
    return lo, hi, log


def _moving_blocks(n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    starts = rng.integers(0, n - block + 1, size=int(np.ceil(n / block)))
    idx = (starts[:, None] + np.arange(block)[None, :]).ravel()
    return idx[:n]


def _search(core: Core, n_candidates: int, n_starts: int, rng: np.random.Generator,
            extra: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, float]:
    shape = core.transform.lo.shape
    d = int(np.prod(shape))
    candidates = [np.full(shape, 0.5), *extra]
    if n_candidates > 0:
        sample = latin_hypercube(n_candidates, d, rng)
        candidates.extend(s.reshape(shape) for s in sample)
    scores = np.array([core.objective(u.ravel()) for u in candidates])
    order = np.argsort(scores, kind="stable")[:max(1, n_starts)]
    best_u, best_obj = None, np.inf
    for i in order:
        u, obj, _ = core.minimise_ls(candidates[i], max_nfev=200)
        if obj < best_obj - 1e-14:
            best_u, best_obj = u, obj
    assert best_u is not None
    return best_u, best_obj


def _cv_ridge(core: Core, theta: np.ndarray, grid: Sequence[float], folds: int,
              horizon: int) -> pd.DataFrame:
    """Rolling-origin CV error of each ridge penalty with theta fixed."""
    T = core.n
    H = core.transform.columns(core.X, theta)
    g = core.lifts.g(core.transform, core.X, theta, H)
    saved = core.ridge
    rows = []
    for lam in grid:
        core.ridge = float(lam)
        errors = []
        for k in range(folds):
            end = T - (folds - k) * horizon
            rows_tr = np.arange(end)
            rows_te = np.arange(end, min(end + horizon, T))
            sol = core.solve(H, g, rows=rows_tr)
            pred = core.F[rows_te] @ sol.gamma + H[rows_te] @ sol.beta
            errors.append(np.mean((core.y[rows_te] - pred) ** 2))
        rows.append({"ridge": float(lam), "cv_rmse": float(np.sqrt(np.mean(errors)))})
    core.ridge = saved
    return pd.DataFrame(rows)


def fit_mmm(
    data: pd.DataFrame,
    *,
    y: str,
    channels: Sequence[str],
    date: str = "date",
    controls: Sequence[str] = (),
    adstock: str = "geometric",
    saturation: str = "hill",
    l_max: int = 13,
    trend: bool = True,
    n_changepoints: int = 0,
    seasonality: int = 2,
    ridge: float | Sequence[float] | None = None,
    bounds: Mapping[str, Any] | None = None,
    lift_tests: pd.DataFrame | None = None,
    n_candidates: int = 128,
    n_starts: int = 3,
    n_boot: int = 200,
    block_length: int | None = None,
    ci_level: float = 0.95,
    cv_folds: int = 4,
    cv_horizon: int = 13,
    seed: int = 0,
) -> MMMResult:
    """Fit a marketing-mix model with adstock, saturation and bootstrap uncertainty.

    Parameters
    ----------
    data : DataFrame
        One row per period (week), sorted by ``date``.
    y : str
        Sales column (revenue, so that ROI is revenue per unit of spend).
    channels : list of str
        Spend columns, one per channel (non-negative).
    date : str
        Date column (period start), strictly increasing.
    controls : list of str
        Control variables (price, distribution, competitor activity, holidays...), centred;
        their coefficients are free in sign.
    adstock : {"geometric", "weibull_cdf", "weibull_pdf"}
    saturation : {"hill", "logistic"}
    l_max : int
        Lag window of the Weibull adstocks (the geometric adstock is exact, untruncated).
    trend : bool
        Include a linear trend.
    n_changepoints : int
        Hinge terms for a piecewise-linear trend.
    seasonality : int
        Number of yearly Fourier harmonics (0 = none).
    ridge : float, list of float or None
        Ridge penalty :math:`\\lambda` on :math:`\\beta / \\mathrm{sd}(y)` (dimensionless); a list
        is searched by time-series cross-validation; ``None`` searches
        :data:`DEFAULT_RIDGE_GRID`.
    bounds : dict, optional
        Search bounds: ``{"alpha": (0, 0.8)}`` for every channel, or
        ``{"tv": {"alpha": (0.3, 0.9)}}`` for one channel; ``(v, v)`` fixes a value. ``half``
        (Hill) is a multiple, and ``lam`` (logistic) a multiple of the inverse, of the channel's
        mean spend in periods with spend. Defaults: alpha 0-0.9, half 0.2-5, slope 1-3,
        Weibull shape 0.3-5 and scale 0.3-min(10, l_max) periods, lam 0.1-10.
    lift_tests : DataFrame, optional
        Experiment lifts (columns channel, start, end, lift, se) to calibrate with.
    n_candidates : int
        Latin-hypercube candidates in the search (0 = start from the box centre only).
    n_starts : int
        Local optimisations from the best candidates.
    n_boot : int
        Bootstrap replicates (0 = no intervals).
    block_length : int, optional
        Block length of the moving-block bootstrap; default :math:`\\lceil T^{1/3} \\rceil`.
    ci_level : float
        Level of the percentile intervals.
    cv_folds, cv_horizon : int
        Rolling-origin folds and periods forecast per fold for the ridge penalty.
    seed : int
        Seeds the search and the bootstrap.

    Returns
    -------
    MMMResult
        ``estimate`` = ROI per channel; ``table`` = ROI, marginal ROI, contributions and
        intervals per channel; ``decomposition`` = base and channel contributions per period
        (they sum to the fitted sales); ``parameters`` = transformation parameters and
        coefficients. Methods :meth:`~MMMResult.response_curves` and
        :meth:`~MMMResult.optimize_budget` work on the fitted curves.

    References
    ----------
    Jin, Y. et al. (2017). Bayesian methods for media mix modeling with carryover and shape
    effects. Google Inc. Künsch, H. R. (1989). The jackknife and the bootstrap for general
    stationary observations. *Ann. Statist.* 17, 1217-1241.

    Examples
    --------
    >>> import researchkit.datasets as ds
    >>> sim = ds.simulate_marketing_mix(seed=1)               # doctest: +SKIP
    >>> res = fit_mmm(sim.data["weekly"], y="sales",
    ...               channels=sim.truth["channels"], n_boot=50)  # doctest: +SKIP
    >>> res.summary()                                         # doctest: +SKIP
    """
    with single_thread_blas():
        return _fit(data, y=y, channels=channels, date=date, controls=controls,
                    adstock=adstock, saturation=saturation, l_max=l_max, trend=trend,
                    n_changepoints=n_changepoints, seasonality=seasonality, ridge=ridge,
                    bounds=bounds, lift_tests=lift_tests, n_candidates=n_candidates,
                    n_starts=n_starts, n_boot=n_boot, block_length=block_length,
                    ci_level=ci_level, cv_folds=cv_folds, cv_horizon=cv_horizon, seed=seed)


def _fit(data: Any, *, y: str, channels: Any, date: str, controls: Any, adstock: str,
         saturation: str, l_max: int, trend: bool, n_changepoints: int, seasonality: int,
         ridge: Any, bounds: Any, lift_tests: Any, n_candidates: int, n_starts: int,
         n_boot: int, block_length: int | None, ci_level: float, cv_folds: int,
         cv_horizon: int, seed: int) -> MMMResult:
    data = check_frame(data)
    if isinstance(channels, str) or not channels:
        raise ParameterError("give the spend columns as a list", parameter="channels",
                             expected="a non-empty list of column names", got=channels)
    channels = list(channels)
    controls = [controls] if isinstance(controls, str) else list(controls)
    dupes = sorted({c for c in channels + controls if (channels + controls).count(c) > 1})
    if dupes or y in channels + controls:
        raise ParameterError("a column is used twice", parameter="channels/controls",
                             got=dupes or y)
    check_columns(data, [date, y, *channels, *controls], "data")
    if adstock not in ADSTOCK_KINDS:
        raise ParameterError("unknown adstock", parameter="adstock",
                             expected=f"one of {ADSTOCK_KINDS}", got=adstock)
    if saturation not in SATURATION_KINDS:
        raise ParameterError("unknown saturation", parameter="saturation",
                             expected=f"one of {SATURATION_KINDS}", got=saturation)
    l_max = check_int(l_max, "l_max", 1)
    n_candidates = check_int(n_candidates, "n_candidates", 0)
    n_starts = check_int(n_starts, "n_starts", 1)
    n_boot = check_int(n_boot, "n_boot", 0)
    cv_folds = check_int(cv_folds, "cv_folds", 1)
    cv_horizon = check_int(cv_horizon, "cv_horizon", 1)
    ci_level = check_level(ci_level)
    rng = make_rng(seed)

    dates = date_column(data, date)
    yv = numeric_column(data, y)
    X = np.column_stack([numeric_column(data, c, non_negative=True) for c in channels])
    for j, c in enumerate(channels):
        if not X[:, j].any():
            raise ParameterError("channel has no spend at all", parameter="channels", got=c)
    ctrl = pd.DataFrame({c: numeric_column(data, c) for c in controls})
    base = base_design(dates, trend=trend, n_changepoints=n_changepoints,
                       seasonality=seasonality, controls=ctrl)
    clash = [c for c in controls if c in ("intercept", "trend") or c.startswith("trend_cp")
             or (c[:3] in ("sin", "cos") and c[3:].isdigit())]
    if clash:
        raise ParameterError("control names clash with the model's own base terms",
                             parameter="controls", got=clash,
                             hint="rename them (intercept, trend, trend_cpK, sinK, cosK are "
                                  "reserved)")
    T, C = X.shape
    n_free = base.shape[1]
    if T < n_free + C + 10:
        raise ParameterError("too few periods for this model", parameter="data",
                             expected=f"at least {n_free + C + 10} rows for {C} channels and "
                             f"{n_free} base terms", got=T)
    if np.linalg.matrix_rank(base.to_numpy()) < n_free:
        raise ParameterError("the base regressors are collinear (a control is constant or a "
                             "copy of another term)", parameter="controls", got=controls)

    names = ADSTOCK_PARAMS[adstock] + SATURATION_PARAMS[saturation]
    lo, hi, log = _bounds_matrix(channels, names, bounds, l_max)
    ref = np.array([X[X[:, j] > 0, j].mean() for j in range(C)])
    transform = Transform(adstock, saturation, l_max, ref, lo, hi, log, tuple(names))
    lifts = prepare_lifts(lift_tests, dates, X, channels)

    if ridge is None:
        grid: list[float] = list(DEFAULT_RIDGE_GRID)
    elif isinstance(ridge, int | float) and not isinstance(ridge, bool):
        grid = [float(ridge)]
    else:
        try:
            grid = [float(v) for v in ridge]  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ParameterError("invalid ridge penalty", parameter="ridge",
                                 expected="a number >= 0, a list of them, or None",
                                 got=ridge) from None
    if not grid or any(not np.isfinite(v) or v < 0 for v in grid):
        raise ParameterError("invalid ridge penalty", parameter="ridge",
                             expected="numbers >= 0", got=ridge)
    if len(grid) > 1 and T - cv_folds * cv_horizon < n_free + C + 5:
        raise ParameterError("too few periods for this cross-validation", parameter="cv_folds",
                             expected=f"cv_folds * cv_horizon <= {T - n_free - C - 5}",
                             got=cv_folds * cv_horizon)

    F = base.to_numpy(dtype=float)
    start_ridge = grid[0] if len(grid) == 1 else float(np.median(grid))
    core = Core(yv, F, X, transform, start_ridge, lifts, sigma=None)
    u_hat, _ = _search(core, n_candidates, n_starts, rng)
    dof = max(T - n_free - C, 1)
    cv_table = None
    if len(grid) > 1:
        cv_table = _cv_ridge(core, transform.natural(u_hat), grid, cv_folds, cv_horizon)
        best = cv_table["cv_rmse"].to_numpy()
        chosen = float(cv_table["ridge"].iloc[int(np.argmin(best))])
        if chosen != core.ridge:
            core.ridge = chosen
            u_hat, _, _ = core.minimise_ls(u_hat, max_nfev=200)
    sigma_uncal = float(np.sqrt(np.sum(core.solve_theta(transform.natural(u_hat)).resid ** 2)
                                / dof))
    if lifts.size:
        core.sigma = sigma_uncal
        u_hat, _ = _search(core, n_candidates, n_starts, rng, extra=[u_hat])
    theta = transform.natural(u_hat)
    sol = core.solve_theta(theta)

    # -- bootstrap -----------------------------------------------------------------------
    fitted = F @ sol.gamma + sol.H @ sol.beta
    resid = yv - fitted
    block = check_int(block_length, "block_length", 1) if block_length is not None \
        else int(np.ceil(T ** (1 / 3)))
    if block > T:
        raise ParameterError("bootstrap block longer than the data", parameter="block_length",
                             expected=f"at most {T}", got=block)
    theta_draws = np.empty((n_boot, *theta.shape))
    beta_draws = np.empty((n_boot, C))
    gamma_draws = np.empty((n_boot, n_free))
    centred = resid - resid.mean()
    for b in range(n_boot):
        idx = _moving_blocks(T, block, rng)
        lift_star = lifts.lift + rng.normal(0.0, 1.0, lifts.size) * lifts.se
        core.set_y(fitted + centred[idx], lift_star)
        u_b, _, _ = core.minimise_ls(u_hat, max_nfev=50, tol=1e-8)
        theta_b = transform.natural(u_b)
        sol_b = core.solve_theta(theta_b)
        theta_draws[b], beta_draws[b], gamma_draws[b] = theta_b, sol_b.beta, sol_b.gamma
    core.set_y(yv, lifts.lift)

    state = FittedMMM(
        channels=channels, dates=dates, y=yv, X=X, base=base, transform=transform,
        theta=theta, beta=sol.beta, gamma=sol.gamma, theta_draws=theta_draws,
        beta_draws=beta_draws, gamma_draws=gamma_draws, ci_level=ci_level,
        mroi_step=MROI_STEP, y_name=y, controls=controls,
    )
    return _build_result(state, core, sol, lifts, u_hat, cv_table, sigma_uncal, block, n_boot,
                         seed, n_candidates, n_starts)


def _build_result(state: FittedMMM, core: Core, sol: Any, lifts: Any, u_hat: np.ndarray,
                  cv_table: pd.DataFrame | None, sigma_uncal: float, block: int, n_boot: int,
                  seed: int, n_candidates: int, n_starts: int) -> MMMResult:
    channels, X, yv = state.channels, state.X, state.y
    T, C = X.shape
    contrib, roi, mroi = channel_metrics(state.transform, X, state.theta, state.beta,
                                         state.mroi_step)
    fitted = state.fitted()
    resid = yv - fitted
    alpha = (1 - state.ci_level) / 2
    table = pd.DataFrame({
        "channel": channels,
        "spend": X.sum(axis=0),
        "contribution": contrib,
        "contribution_share": contrib / fitted.sum(),
        "roi": roi,
        "mroi": mroi,
    })
    draws = None
    if n_boot:
        rows = [channel_metrics(state.transform, X, state.theta_draws[b], state.beta_draws[b],
                                state.mroi_step) for b in range(n_boot)]
        d_contrib = np.array([r[0] for r in rows])
        d_roi = np.array([r[1] for r in rows])
        d_mroi = np.array([r[2] for r in rows])
        for name, arr in (("roi", d_roi), ("mroi", d_mroi), ("contribution", d_contrib)):
            table[f"{name}_ci_low"] = np.quantile(arr, alpha, axis=0)
            table[f"{name}_ci_high"] = np.quantile(arr, 1 - alpha, axis=0)
        table["roi_se"] = d_roi.std(axis=0, ddof=1) if n_boot > 1 else np.nan
        draws = pd.DataFrame({
            "draw": np.repeat(np.arange(n_boot), C),
            "channel": np.tile(channels, n_boot),
            "roi": d_roi.ravel(), "mroi": d_mroi.ravel(), "contribution": d_contrib.ravel(),
        })
    table = table.set_index("channel")

    tr = state.transform
    params = pd.DataFrame(tr.param_dict(state.theta), index=channels)
    params.insert(0, "coefficient", state.beta)
    at_bound = ((u_hat < 1e-3) | (u_hat > 1 - 1e-3)) & (tr.hi > tr.lo)
    params["at_bound"] = [", ".join(np.array(tr.names)[at_bound[c]]) for c in range(C)]
    params.index.name = "channel"

    ss_res = float(resid @ resid)
    ss_tot = float(((yv - yv.mean()) ** 2).sum())
    dw = float(np.sum(np.diff(resid) ** 2) / ss_res) if ss_res > 0 else float("nan")
    details: dict[str, Any] = {
        "r2": 1 - ss_res / ss_tot,
        "mape": float(np.mean(np.abs(resid / yv))) if np.all(yv != 0) else float("nan"),
        "nrmse": float(np.sqrt(ss_res / T) / (yv.max() - yv.min())),
        "durbin_watson": dw,
        "sigma": float(np.sqrt(ss_res / max(T - state.base.shape[1] - C, 1))),
        "ridge": core.ridge,
        "media_share": float(contrib.sum() / fitted.sum()),
        "adstock": tr.adstock,
        "saturation": tr.saturation,
        "n_boot": n_boot,
        "block_length": block,
        "n_candidates": n_candidates,
        "n_starts": n_starts,
        "seed": seed,
    }
    if cv_table is not None:
        details["ridge_cv"] = cv_table
    warnings = []
    for c in range(C):
        if state.beta[c] <= 0:
            warnings.append(f"{channels[c]}: the model attributes no sales to this channel "
                            "(coefficient at its lower bound 0).")
        elif params["at_bound"].iloc[c]:
            warnings.append(f"{channels[c]}: {params['at_bound'].iloc[c]} at the edge of the "
                            "search bounds; widen `bounds` if this is implausible.")
    if dw < 1.0:
        warnings.append(f"Residuals are autocorrelated (Durbin-Watson {dw:.2f}); a base term "
                        "(trend, season, control) may be missing.")
    if lifts.size:
        g = lifts.g(tr, X, state.theta)
        model_lift = state.beta[lifts.channel_idx] * g
        cal = pd.DataFrame({"channel": [channels[i] for i in lifts.channel_idx],
                            "measured_lift": lifts.lift, "se": lifts.se,
                            "model_lift": model_lift,
                            "z": (model_lift - lifts.lift) / lifts.se})
        details["calibration"] = cal
        details["sigma_uncalibrated"] = sigma_uncal
        for row in cal.itertuples():
            if abs(row.z) > 2:
                warnings.append(f"{row.channel}: the model's lift differs from the measured "
                                f"lift by {row.z:.1f} standard errors; data and experiment "
                                "disagree.")
    n_harmonics = len(state._generated(("sin",)))
    n_controls = len(state.control_names())
    parts = [
        f"Marketing-mix regression of {state.y_name} on {tr.adstock} adstock + "
        f"{tr.saturation} saturation of {C} channels, with an intercept"
        + (", a linear trend" if "trend" in state.base.columns else "")
        + f", {n_harmonics} yearly Fourier harmonics"
        + (f" and {n_controls} controls" if n_controls else ""),
        "non-negative media coefficients with a ridge penalty on standardised media "
        f"coefficients (lambda = {core.ridge:g}"
        + (", chosen by rolling-origin time-series CV" if cv_table is not None else "")
        + "), base coefficients free",
        "transformation parameters by a seeded Latin-hypercube search refined by bounded "
        "variable-projection Gauss-Newton",
    ]
    if lifts.size:
        parts.append(f"calibrated with {lifts.size} experiment lift(s) as Gaussian "
                     "likelihood terms")
    if n_boot:
        parts.append(f"{state.ci_level:.0%} percentile intervals from {n_boot} moving-block "
                     f"residual bootstrap replicates (block = {block} periods), transformation "
                     "parameters and coefficients re-estimated in each")
    else:
        parts.append("no bootstrap, so no intervals")
    method = "; ".join(parts) + (". ROI = channel contribution / spend over the data; "
                                 "marginal ROI for +1% spend in every period.")
    return MMMResult(
        name="Marketing-mix model: ROI by channel",
        estimate={c: float(r) for c, r in zip(channels, roi, strict=True)},
        method=method,
        n=T,
        table=table,
        details=details,
        warnings=warnings,
        reference=REFERENCE,
        ci_level=state.ci_level if n_boot else None,
        decomposition=state.decomposition(),
        parameters=params,
        draws=draws,
        model=state,
    )
