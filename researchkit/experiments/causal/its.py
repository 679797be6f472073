"""Interrupted time series: a CausalImpact-style counterfactual from a structural time-series
model fitted on the pre-period.

A structural (unobserved-components) model is fitted to the outcome **before** the
intervention, with control series that the intervention did not affect as regressors::

    y_t = μ_t + γ_t + β'x_t + ε_t,         ε_t ~ N(0, σ²_ε)
    μ_{t+1} = μ_t + ν_t + ξ_t              (local level; ν_t is a slope with "trend")
    γ_t  = trigonometric seasonal with the given period and harmonics

(statsmodels ``UnobservedComponents``, maximum likelihood; the regression coefficients sit in
the state vector, so their estimation error is part of the forecast variance). Its forecast
over the post-period, given the controls, is the counterfactual ``ŷ_t``; the pointwise effect is
``y_t − ŷ_t`` and the cumulative effect ``Σ (y_t − ŷ_t)``. Given the variances, the forecast
path is exactly Gaussian: pointwise variances ``Z P_t Z' + H`` and covariances
``Cov(ŷ_s, ŷ_t) = Z T^{t−s} P_s Z'`` (s < t), so the cumulative interval accounts for the
positive correlation between forecast errors.

Plugging the maximum-likelihood variances into that distribution (``intervals="plug-in"``)
ignores their estimation error. With a short pre-period the level variance is often
estimated near zero, and since the random-walk part of the cumulative forecast variance grows
like h³σ²_η/3, the cumulative interval is then far too narrow: in repeated simulations (local
level σ_η = 0.3, σ_ε = 1, one control, 60 pre- and 20 post-periods, 400 series) the plug-in
95% intervals covered the truth 93.3% of the time pointwise and 89.8% cumulatively (A/A
rejections 8.5%), against 95.3% / 96.3% with the true variances on the same series. By
default (``intervals="posterior"``), as in the Bayesian CausalImpact, the forecast
distribution is integrated over the posterior of the variances (flat prior on the standard
deviations, importance sampling; see :mod:`researchkit.experiments.causal._ssm_forecast`):
coverage 96.3% pointwise and 96.3% cumulative, A/A rejections 4.5%.

Assumptions: the pre-period model describes how the outcome would have evolved; the
controls were not affected by the intervention; their relation to the outcome is stable.

References
----------
Brodersen, K. H., Gallusser, F., Koehler, J., Remy, N., & Scott, S. L. (2015). Inferring
causal impact using Bayesian structural time-series models. *Annals of Applied Statistics*,
9(1), 247-274.
Harvey, A. C. (1989). *Forecasting, Structural Time Series Models and the Kalman Filter*.
Durbin, J., & Koopman, S. J. (2012). *Time Series Analysis by State Space Methods*, 2nd ed.,
section 4.11 (forecasting).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal._data import (
    check_ci_level,
    check_columns,
    check_frame,
    check_numeric,
    column_list,
)
from researchkit.experiments.causal._ssm_forecast import (
    ForecastMixture,
    design_rows,
    forecast_moments,
    mixture_cdf,
    mixture_quantiles,
    posterior_forecast,
    state_matrix,
)
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["InterruptedTimeSeries", "forecast_covariance", "segmented_regression"]


def forecast_covariance(results: Any, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and full covariance of the forecasts from period ``start`` on.

    ``results`` is a state-space model *filtered* over the whole series with the outcome set
    to missing from ``start`` on, so its predicted states ``a_t ~ N(m_t, P_t)`` for t ≥ start
    are forecasts from the pre-period. Then ``E y_t = Z_t m_t + d_t``, ``Var y_t = Z_t P_t
    Z_t' + H`` and ``Cov(y_s, y_t) = Z_t T^{t−s} P_s Z_s'`` for s < t (Durbin & Koopman 2012,
    section 4.11). The transition ``T`` must be time-invariant; the design ``Z_t`` may vary
    (regression coefficients kept in the state vector have ``Z_t = x_t``).
    """
    ssm = results.model.ssm
    nobs = results.model.nobs
    zs, ds_ = design_rows(ssm, start)
    h = float(state_matrix(ssm, "obs_cov")[0, 0])
    m = np.asarray(results.predicted_state)[:, start:nobs]
    p = np.asarray(results.predicted_state_cov)[:, :, start:nobs]
    mean, cov = forecast_moments(zs, ds_, state_matrix(ssm, "transition"), np.array([h]),
                                 m[None], p[None])
    return mean[0], cov[0]


def _post_periods(df: pd.DataFrame, time: str, intervention: Any) -> tuple[pd.Series,
                                                                           np.ndarray]:
    """The (strictly increasing) time column and the post-period mask ``time >= intervention``."""
    t = df[time]
    if not t.is_monotonic_increasing or t.duplicated().any():
        raise DataError("periods must be strictly increasing", parameter="time", column=time,
                        expected="one row per period, sorted")
    try:
        post = (t >= intervention).to_numpy()
    except TypeError:
        raise ParameterError("intervention is not comparable with the time column",
                             parameter="intervention", got=intervention) from None
    return t, post


class InterruptedTimeSeries:
    """CausalImpact-style effect of an intervention on one time series.

    Parameters
    ----------
    df : DataFrame
        One row per period, in time order.
    outcome : str
        Outcome column (e.g. weekly sales of the campaign market).
    time : str
        Period column (numbers or dates), strictly increasing.
    intervention : period value
        First period affected by the intervention (the post-period starts here).
    controls : sequence of str, optional
        Control series unaffected by the intervention (regressors).
    trend : bool
        Local linear trend (level + slope) instead of a local level.
    seasonal_period : int, optional
        Length of the seasonal cycle in periods (52 for weekly data with annual seasonality).
    harmonics : int
        Number of trigonometric harmonics of the seasonal component.
    stochastic_seasonal : bool
        Let the seasonal pattern evolve (one more variance to estimate); default fixed.
    intervals : {"posterior", "plug-in"}
        ``"posterior"`` (default): integrate the forecast over the posterior of the model's
        variances (flat prior on the standard deviations, importance sampling; see
        :mod:`researchkit.experiments.causal._ssm_forecast`), so the intervals carry the
        uncertainty of the estimated variances. ``"plug-in"``: the exact Gaussian forecast at
        the maximum-likelihood variances (narrower; under-covers with short pre-periods).
    draws : int
        Importance-sampling draws of the variances (``intervals="posterior"``).
    seed : int
        Seed of the importance sampler (results are reproducible for a given seed).
    ci_level : float

    Attributes
    ----------
    effects : DataFrame
        Per period: actual, predicted (counterfactual), its interval, effect and interval,
        cumulative effect and interval (post-period rows), post flag.
    result : Result
        Average effect per post-period with interval and two-sided p-value; ``details`` has
        the cumulative and relative effects with intervals.
    fit, masked_model, filtered, forecast
        The pre-period maximum-likelihood fit; the model over the whole series with the
        outcome missing after launch; its filter at the fitted parameters (computed on first
        use); the forecast distribution behind the intervals.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        time: str,
        intervention: Any,
        *,
        controls: Sequence[str] | None = None,
        trend: bool = False,
        seasonal_period: int | None = None,
        harmonics: int = 2,
        stochastic_seasonal: bool = False,
        intervals: str = "posterior",
        draws: int = 200,
        seed: int = 0,
        ci_level: float = 0.95,
    ) -> None:
        check_frame(df)
        if intervals not in ("posterior", "plug-in"):
            raise ParameterError("unknown interval method", parameter="intervals",
                                 expected="'posterior' or 'plug-in'", got=intervals)
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 50:
            raise ParameterError("invalid number of draws", parameter="draws",
                                 expected="an integer >= 50", got=draws)
        controls = column_list(controls, "controls")
        check_columns(df, outcome=outcome, time=time, controls=controls)
        self.ci_level = check_ci_level(ci_level)
        y = check_numeric(df, outcome, "outcome")
        xs = np.column_stack([check_numeric(df, c, "controls") for c in controls]) \
            if controls else None
        t, post = _post_periods(df, time, intervention)
        if seasonal_period is not None and (isinstance(seasonal_period, bool) or
                                            not isinstance(seasonal_period, int)
                                            or seasonal_period < 2):
            raise ParameterError("invalid seasonal period", parameter="seasonal_period",
                                 expected="an integer >= 2 or None", got=seasonal_period)
        if isinstance(harmonics, bool) or not isinstance(harmonics, int) or harmonics < 1:
            raise ParameterError("invalid number of harmonics", parameter="harmonics",
                                 expected="an integer >= 1", got=harmonics)
        n_pre = int((~post).sum())
        if n_pre == 0 or post.sum() == 0:
            raise ParameterError("intervention must fall inside the series",
                                 parameter="intervention",
                                 expected=f"a period after {t.iloc[0]} and up to {t.iloc[-1]}",
                                 got=intervention)
        if not post[n_pre:].all():
            raise DataError("post-period rows must follow the pre-period", parameter="time")
        k_params = 2 + int(trend) + (len(controls)) + (1 if seasonal_period else 0)
        min_pre = max(3 * k_params, (seasonal_period or 0) + 4, 10)
        if n_pre < min_pre:
            raise DataError("pre-period too short for the model", parameter="intervention",
                            expected=f"at least {min_pre} pre-period observations", got=n_pre)
        self.outcome, self.time, self.intervention = outcome, time, intervention
        self.controls, self.trend = controls, trend
        self.seasonal_period, self.harmonics = seasonal_period, harmonics
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        kwargs: dict[str, Any] = {"level": "local linear trend" if trend else "local level"}
        if seasonal_period:
            kwargs["freq_seasonal"] = [{"period": seasonal_period,
                                        "harmonics": min(harmonics, seasonal_period // 2)}]
            kwargs["stochastic_freq_seasonal"] = [stochastic_seasonal]
        if controls:
            # coefficients in the state vector (fixed, diffuse prior): their estimation error
            # enters the forecast variance (Durbin & Koopman 2012, section 6.2.2)
            kwargs["mle_regression"] = False
        exog_pre = pd.DataFrame(xs[:n_pre], columns=controls) if xs is not None else None
        model = UnobservedComponents(y[:n_pre], exog=exog_pre, **kwargs)
        self.warnings: list[str] = []
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            fit = model.fit(disp=False, maxiter=500)
        if any("converge" in str(w.message).lower() for w in caught):
            self.warnings.append("The maximum-likelihood fit did not fully converge; check "
                                 "the model (fewer components, more pre-period data).")
        self.fit = fit
        steps = int(post.sum())
        y_masked = y.copy()
        y_masked[n_pre:] = np.nan
        exog_all = pd.DataFrame(xs, columns=controls) if xs is not None else None
        # the model over the whole series with the outcome missing after launch: its
        # predicted states are the forecasts (filtered with the MLE only when asked for)
        self.masked_model = UnobservedComponents(y_masked, exog=exog_all, **kwargs)
        if intervals == "posterior":
            mix = posterior_forecast(self.masked_model, np.asarray(fit.params), n_pre,
                                     draws=draws, seed=seed)
            if mix.ess < 0.1 * draws:
                self.warnings.append(
                    f"The importance sampler of the variances is degenerate (effective "
                    f"sample size {mix.ess:.0f} of {draws}); increase `draws` or simplify "
                    "the model.")
        else:
            mean_, cov_ = forecast_covariance(self.filtered, n_pre)
            mix = ForecastMixture(mean_[None], cov_[None], np.ones(1),
                                  np.asarray(fit.params, dtype=float)[None], 1.0)
        self.forecast = mix

        lo_p, hi_p = 0.5 - self.ci_level / 2, 0.5 + self.ci_level / 2
        mu_t, sd_t = mix.pointwise()
        mean = mix.mean
        actual = y[n_pre:]
        effect = actual - mean
        pred_low = mixture_quantiles(lo_p, mu_t, sd_t, mix.weights)
        pred_high = mixture_quantiles(hi_p, mu_t, sd_t, mix.weights)
        mu_c, sd_c = mix.sums()
        cum_actual = np.cumsum(actual)
        cum = cum_actual - mu_c.T @ mix.weights
        cum_low = cum_actual - mixture_quantiles(hi_p, mu_c, sd_c, mix.weights)
        cum_high = cum_actual - mixture_quantiles(lo_p, mu_c, sd_c, mix.weights)
        # predictive sd of the total (law of total variance over the draws)
        tot_mu, tot_sd = mu_c[:, -1], sd_c[:, -1]
        total_sd = float(np.sqrt(mix.weights @ (tot_sd ** 2 + tot_mu ** 2)
                                 - (mix.weights @ tot_mu) ** 2))
        pre_pred = np.asarray(fit.fittedvalues, dtype=float).copy()
        burn = int(min(getattr(fit, "loglikelihood_burn", 0), n_pre - 1))
        pre_pred[:burn] = np.nan  # diffuse start-up: no real one-step prediction yet
        frame = pd.DataFrame({
            time: t.to_numpy(), "actual": y,
            "predicted": np.concatenate([pre_pred, mean]),
            "predicted_low": np.concatenate([np.full(n_pre, np.nan), pred_low]),
            "predicted_high": np.concatenate([np.full(n_pre, np.nan), pred_high]),
            "effect": np.concatenate([y[:n_pre] - pre_pred, effect]),
            "effect_low": np.concatenate([np.full(n_pre, np.nan), actual - pred_high]),
            "effect_high": np.concatenate([np.full(n_pre, np.nan), actual - pred_low]),
            "cumulative_effect": np.concatenate([np.full(n_pre, np.nan), cum]),
            "cumulative_low": np.concatenate([np.full(n_pre, np.nan), cum_low]),
            "cumulative_high": np.concatenate([np.full(n_pre, np.nan), cum_high]),
            "post": post,
        }).set_index(time)
        self.effects = frame
        self.n_pre = n_pre
        total = float(cum[-1])
        total_ci = [float(cum_low[-1]), float(cum_high[-1])]
        avg, avg_sd = total / steps, total_sd / steps
        counterfactual_total = float(mean.sum())
        zstat = total / total_sd if total_sd > 0 else np.nan
        # two-sided tail probability of "no effect" under the predictive distribution
        f0 = float(mixture_cdf(np.array([cum_actual[-1]]), mu_c[:, -1:], sd_c[:, -1:],
                               mix.weights)[0])
        p = float(min(1.0, 2 * min(f0, 1 - f0)))
        rel = total / counterfactual_total if counterfactual_total != 0 else None
        comp = ["local linear trend" if trend else "local level"]
        if seasonal_period:
            comp.append(f"{'stochastic' if stochastic_seasonal else 'fixed'} trigonometric "
                        f"seasonal (period {seasonal_period}, "
                        f"{min(harmonics, seasonal_period // 2)} harmonics)")
        if controls:
            comp.append(f"regression on {', '.join(controls)}")
        self.result = Result(
            name=f"Average effect per period on {outcome} (interrupted time series)",
            estimate=avg,
            method=("CausalImpact-style interrupted time series: structural time-series model ("
                    + "; ".join(comp) + f") fitted by maximum likelihood on {n_pre} "
                    f"pre-period observations; counterfactual = its forecast over {steps} "
                    "post-periods; intervals from the exact Gaussian forecast covariance "
                    "(regression-coefficient uncertainty included) "
                    + (f"integrated over the posterior of the variances (flat prior on the "
                       f"standard deviations, {draws} importance-sampling draws, effective "
                       f"sample size {mix.ess:.0f})" if intervals == "posterior" else
                       "with the variances plugged in at their estimates (narrow with a "
                       "short pre-period)")
                    + "; two-sided tail probability of the cumulative effect."),
            ci=(total_ci[0] / steps, total_ci[1] / steps), ci_level=self.ci_level,
            p_value=p,
            statistic=zstat, statistic_name="z", n=len(df),
            table=frame,
            details={"cumulative_effect": total,
                     "cumulative_ci": total_ci,
                     "relative_effect": rel,
                     "relative_ci": None if rel is None else
                     sorted([total_ci[0] / counterfactual_total,
                             total_ci[1] / counterfactual_total]),
                     "n_pre": n_pre, "n_post": steps, "se_average": avg_sd,
                     "intervals": intervals,
                     "effective_draws": mix.ess,
                     "pre_period_rmse": float(np.sqrt(np.nanmean((y[:n_pre] - pre_pred)
                                                                 ** 2)))},
            warnings=list(self.warnings),
            reference="Brodersen et al. (2015), Annals of Applied Statistics 9(1), 247-274",
        )

    @cached_property
    def filtered(self) -> Any:
        """The statsmodels filter of :attr:`masked_model` at the maximum-likelihood
        parameters (the plug-in forecast)."""
        return self.masked_model.filter(self.fit.params)

    def plot(self) -> Figure:
        """Three panels, as in CausalImpact: actual vs counterfactual, pointwise, cumulative."""
        from researchkit.plots import PALETTE, new_figure

        fig, axes = new_figure(3, 1, height=8.5, sharex=True)
        e = self.effects
        x = e.index.to_numpy()
        postm = e["post"].to_numpy()
        axes[0].plot(x, e["actual"], color="black", linewidth=1.2, label="actual")
        axes[0].plot(x[postm], e.loc[postm, "predicted"], color=PALETTE[0], linestyle="--",
                     label="counterfactual")
        axes[0].fill_between(x[postm], e.loc[postm, "predicted_low"],
                             e.loc[postm, "predicted_high"], color=PALETTE[0], alpha=0.2)
        axes[0].set_ylabel(self.outcome)
        axes[0].legend()
        axes[0].set_title("Interrupted time series (CausalImpact-style)")
        axes[1].plot(x[postm], e.loc[postm, "effect"], color=PALETTE[1])
        axes[1].fill_between(x[postm], e.loc[postm, "effect_low"], e.loc[postm, "effect_high"],
                             color=PALETTE[1], alpha=0.2)
        axes[1].axhline(0, color="black", linewidth=0.8)
        axes[1].set_ylabel("pointwise effect")
        axes[2].plot(x[postm], e.loc[postm, "cumulative_effect"], color=PALETTE[2])
        axes[2].fill_between(x[postm], e.loc[postm, "cumulative_low"],
                             e.loc[postm, "cumulative_high"], color=PALETTE[2], alpha=0.2)
        axes[2].axhline(0, color="black", linewidth=0.8)
        axes[2].set_ylabel("cumulative effect")
        axes[2].set_xlabel(self.time)
        for a in axes:
            a.axvline(self.intervention, color="grey", linestyle=":", linewidth=1)
        return fig


def segmented_regression(
    df: pd.DataFrame,
    outcome: str,
    time: str,
    intervention: Any,
    *,
    controls: Sequence[str] | None = None,
    maxlags: int | None = None,
    ci_level: float = 0.95,
) -> Result:
    """Classic interrupted-time-series segmented regression with Newey–West errors.

    ::

        y_t = β0 + β1 t + β2 post_t + β3 (t − t0) post_t + γ'x_t + ε_t

    with ``t`` the period position (0, 1, ...), ``t0`` the first post-period position and
    ``post_t = 1[t ≥ t0]``: β2 is the immediate level change, β3 the change in slope (Wagner
    et al. 2002). Standard errors are heteroskedasticity- and autocorrelation-consistent
    (Newey & West 1987, Bartlett kernel, ``maxlags`` default ``floor(4 (T/100)^(2/9))``, no
    small-sample scaling), t with T − K degrees of freedom.

    Returns
    -------
    Result
        ``estimate`` = level change β2 with interval and p-value; ``table`` = all
        coefficients; ``details``: slope change and the effect at the last period
        ``β2 + β3 (T − 1 − t0)`` with their intervals.

    References
    ----------
    Wagner, A. K., Soumerai, S. B., Zhang, F., & Ross-Degnan, D. (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. *Journal of
    Clinical Pharmacy and Therapeutics*, 27(4), 299-309.
    Newey, W. K., & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity
    and autocorrelation consistent covariance matrix. *Econometrica*, 55(3), 703-708.
    """
    from scipy import stats

    check_frame(df)
    controls = column_list(controls, "controls")
    check_columns(df, outcome=outcome, time=time, controls=controls)
    ci_level = check_ci_level(ci_level)
    y = check_numeric(df, outcome, "outcome")
    _, post = _post_periods(df, time, intervention)
    n = len(y)
    t0 = int(np.argmax(post)) if post.any() else n
    if t0 < 3 or post.sum() < 2:
        raise ParameterError("intervention must leave at least 3 pre- and 2 post-periods",
                             parameter="intervention", got=intervention)
    if maxlags is None:
        maxlags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    if isinstance(maxlags, bool) or not isinstance(maxlags, int) or not 0 <= maxlags < n:
        raise ParameterError("invalid number of lags", parameter="maxlags",
                             expected=f"an integer in 0..{n - 1}", got=maxlags)
    pos = np.arange(n, dtype=float)
    names = ["intercept", "trend", "level_change", "slope_change", *controls]
    cols = [np.ones(n), pos, post.astype(float), np.where(post, pos - t0, 0.0)]
    cols += [check_numeric(df, c, "controls") for c in controls]
    x = np.column_stack(cols)
    k = x.shape[1]
    if n - k < 2:
        raise DataError("too few periods for the model", expected=f"more than {k + 1}", got=n)
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    u = y - x @ beta
    xu = x * u[:, None]
    meat = xu.T @ xu
    for lag in range(1, maxlags + 1):
        gamma = xu[lag:].T @ xu[:-lag]
        meat += (1 - lag / (maxlags + 1)) * (gamma + gamma.T)
    cov = bread @ meat @ bread
    dof = n - k
    q = float(stats.t.ppf(0.5 + ci_level / 2, dof))
    se = np.sqrt(np.diag(cov))
    tvals = beta / se
    pvals = 2 * stats.t.sf(np.abs(tvals), dof)
    table = pd.DataFrame({"estimate": beta, "se": se, "t": tvals, "p_value": pvals,
                          "ci_low": beta - q * se, "ci_high": beta + q * se},
                         index=pd.Index(names, name="term"))
    horizon = n - 1 - t0
    g = np.zeros(k)
    g[2], g[3] = 1.0, horizon
    end_eff = float(g @ beta)
    end_se = float(np.sqrt(g @ cov @ g))
    return Result(
        name=f"Level change in {outcome} at the intervention (segmented regression)",
        estimate=float(beta[2]),
        method=(f"Segmented regression (level and slope change at {intervention!r}) by OLS"
                + (f" with controls {', '.join(controls)}" if controls else "")
                + f"; Newey–West HAC standard errors (Bartlett kernel, {maxlags} lags), t with "
                f"T−K = {dof} df. Assumes the pre-period linear trend would have continued."),
        ci=(float(table.loc["level_change", "ci_low"]),
            float(table.loc["level_change", "ci_high"])), ci_level=ci_level,
        p_value=float(pvals[2]), statistic=float(tvals[2]), statistic_name="t",
        df=float(dof), n=n, table=table,
        details={"slope_change": float(beta[3]),
                 "slope_change_ci": [float(table.loc["slope_change", "ci_low"]),
                                     float(table.loc["slope_change", "ci_high"])],
                 "effect_at_end": end_eff,
                 "effect_at_end_ci": [end_eff - q * end_se, end_eff + q * end_se],
                 "maxlags": maxlags},
        reference="Wagner et al. (2002); Newey & West (1987)")
