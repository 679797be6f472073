"""Forecast distributions of a structural time-series model, with or without the uncertainty
of its variance parameters (used by :class:`~researchkit.experiments.causal.InterruptedTimeSeries`).

Given the variances θ, the forecast path of a linear Gaussian state-space model is exactly
Gaussian: with predicted states ``a_t ~ N(m_t, P_t)`` from a filter run over the series with
the outcome missing after the pre-period,

    E y_t = Z_t m_t + d_t,   Var y_t = Z_t P_t Z_t' + H,   Cov(y_s, y_t) = Z_t T^{t−s} P_s Z_s'

for s < t (Durbin & Koopman 2012, section 4.11). Plugging in the maximum-likelihood θ̂ ignores
that θ̂ is itself uncertain; with a short pre-period the level variance is often estimated
near zero, and the intervals (above all the cumulative one, whose random-walk part grows like
h³ σ²_η / 3) come out too narrow.

:func:`posterior_forecast` integrates over θ instead. With the standard deviations
``u = √θ`` (statsmodels' unconstrained parameters) and a flat prior on each standard deviation
on [0, ∞) (Gelman 2006), the posterior ``p(u | y_pre) ∝ L(u)`` is sampled by importance
sampling from a folded multivariate t (5 df) centred at the MLE with 1.5 × its asymptotic
scale (inverse negative Hessian of the log-likelihood in ``u``, eigenvalues floored so that a
variance estimated at zero still gets a wide proposal). For each draw a Kalman-filter pass
(vectorised over the draws) gives both the likelihood of the pre-period and the Gaussian
forecast moments, so the
predictive distribution of every forecast, and of every cumulative sum, is a weighted mixture
of normals; intervals are the mixture's quantiles (Geweke 1989; the mixture form is the
Rao-Blackwellised version of drawing paths). The regression coefficients and initial states
sit in the state vector with a diffuse prior, so their uncertainty is in every component.

References
----------
Durbin, J., & Koopman, S. J. (2012). *Time Series Analysis by State Space Methods*, 2nd ed.,
sections 4.11 and 13.
Gelman, A. (2006). Prior distributions for variance parameters in hierarchical models.
*Bayesian Analysis*, 1(3), 515-534.
Geweke, J. (1989). Bayesian inference in econometric models using Monte Carlo integration.
*Econometrica*, 57(6), 1317-1339.
Hamilton, J. D. (1986). A standard error for the estimated state vector of a state-space
model. *Journal of Econometrics*, 33(3), 387-397.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from researchkit.datasets.base import make_rng

__all__ = [
    "ForecastMixture",
    "design_rows",
    "forecast_moments",
    "mixture_cdf",
    "mixture_quantiles",
    "posterior_forecast",
    "state_matrix",
]

_PROPOSAL_DF = 5
_PROPOSAL_SCALE = 1.5


@dataclass
class ForecastMixture:
    """Weighted Gaussian forecast components (one per parameter draw).

    ``means`` (draws × steps) and ``covs`` (draws × steps × steps) are the forecast moments
    of the outcome given each draw; ``weights`` sum to one; ``ess`` is Kish's effective
    sample size ``1 / Σ w²``; ``params`` are the variance draws (draws × parameters).
    """

    means: np.ndarray
    covs: np.ndarray
    weights: np.ndarray
    params: np.ndarray
    ess: float

    @property
    def mean(self) -> np.ndarray:
        """Predictive mean of each forecast."""
        return self.weights @ self.means

    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Means and standard deviations of the running sums Σ_{s ≤ t} ŷ_s, per draw."""
        means = np.cumsum(self.means, axis=1)
        # Var(Σ_{s≤t}) = sum of the leading t×t block of the covariance
        block = np.cumsum(np.cumsum(self.covs, axis=1), axis=2)
        var = np.einsum("ntt->nt", block)
        return means, np.sqrt(np.maximum(var, 0.0))

    def pointwise(self) -> tuple[np.ndarray, np.ndarray]:
        """Means and standard deviations of each forecast, per draw."""
        return self.means, np.sqrt(np.maximum(np.einsum("ntt->nt", self.covs), 0.0))


def state_matrix(ssm: Any, name: str) -> np.ndarray:
    m = np.asarray(ssm[name], dtype=float)
    return m[:, :, 0] if m.ndim == 3 else m


def design_rows(ssm: Any, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Design rows ``Z_t`` (steps × states) and observation intercepts ``d_t`` from ``start``."""
    nobs = ssm.nobs
    steps = nobs - start
    design = np.asarray(ssm["design"], dtype=float)
    if design.ndim == 3 and design.shape[2] > 1:
        zs = design[0, :, start:nobs].T
    else:
        zs = np.tile(state_matrix(ssm, "design")[0], (steps, 1))
    obs_int = np.atleast_2d(np.asarray(ssm["obs_intercept"], dtype=float))
    ds_ = obs_int[0, start:nobs] if obs_int.shape[1] > 1 else np.full(steps, obs_int[0, 0])
    return zs, ds_


def forecast_moments(zs: np.ndarray, ds_: np.ndarray, tmat: np.ndarray, h: np.ndarray,
                     m: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forecast means (draws × steps) and covariances (draws × steps × steps), vectorised.

    ``zs`` design rows (steps × k), ``ds_`` intercepts (steps), ``tmat`` the time-invariant
    transition (k × k), ``h`` the irregular variance per draw, ``m`` predicted states
    (draws × k × steps), ``p`` their covariances (draws × k × k × steps).
    """
    steps = zs.shape[0]
    mean = np.einsum("tk,nkt->nt", zs, m) + ds_
    v = np.einsum("nkjs,sj->nsk", p, zs)  # P_s Z_s'
    cov = np.zeros((m.shape[0], steps, steps))
    idx = np.arange(steps)
    cov[:, idx, idx] = np.einsum("sk,nsk->ns", zs, v) + h[:, None]
    for lag in range(1, steps):
        v = v @ tmat.T  # T^lag P_s Z_s'
        s = idx[: steps - lag]
        c = np.einsum("sk,nsk->ns", zs[s + lag], v[:, s])
        cov[:, s, s + lag] = c
        cov[:, s + lag, s] = c
    return mean, cov


def _batched_filter(model: Any, params: np.ndarray, start: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kalman filter over the pre-period and forecast recursion, for many variance vectors.

    ``params`` (draws × parameters) are variances of ``model`` (its outcome missing from
    ``start`` on). Runs ``a_{t|t} = a_t + P_t Z_t' v_t / F_t``, ``P_{t|t} = P_t −
    P_t Z_t' Z_t P_t / F_t``, ``a_{t+1} = T a_{t|t} + c``, ``P_{t+1} = T P_{t|t} T' + R Q R'``
    for all draws at once (the statsmodels recursions and its initialisation, so the numbers
    agree with ``model.filter``), then ``a_{t+1} = T a_t + c``, ``P_{t+1} = T P_t T' + R Q R'``
    over the post-period. Returns the pre-period log-likelihoods (after the diffuse burn-in),
    the predicted states (draws × k × steps), their covariances (draws × k × k × steps) and
    the irregular variances.
    """
    ssm = model.ssm
    nobs = model.nobs
    draws = params.shape[0]
    y = np.asarray(ssm.endog, dtype=float)[0, :start]
    zs, ds_ = design_rows(ssm, 0)
    tmat = state_matrix(ssm, "transition")
    c = np.atleast_2d(np.asarray(ssm["state_intercept"], dtype=float).T)[0]
    sel = state_matrix(ssm, "selection")
    h = np.empty(draws)
    rqr = np.empty((draws, tmat.shape[0], tmat.shape[0]))
    for i in range(draws):
        model.update(params[i])
        h[i] = float(state_matrix(ssm, "obs_cov")[0, 0])
        rqr[i] = sel @ state_matrix(ssm, "state_cov") @ sel.T
    # initial state distribution (approximate diffuse for these models: no variance enters)
    a0, diffuse_cov, stationary_cov = ssm.initialization(model=ssm)
    if np.any(diffuse_cov):  # exact diffuse initialisation: not the statsmodels UC default
        raise NotImplementedError("exact diffuse initialisation is not supported")
    a = np.tile(np.asarray(a0, dtype=float), (draws, 1))
    p = np.tile(np.asarray(diffuse_cov + stationary_cov, dtype=float), (draws, 1, 1))
    burn = model.loglikelihood_burn
    llf = np.zeros(draws)
    for t in range(start):
        z = zs[t]
        v = y[t] - a @ z - ds_[t]
        pz = p @ z
        f = pz @ z + h
        if t >= burn:
            llf -= 0.5 * (np.log(2 * np.pi) + np.log(f) + v ** 2 / f)
        a = a + pz * (v / f)[:, None]
        p = p - pz[:, :, None] * pz[:, None, :] / f[:, None, None]
        a = a @ tmat.T + c
        p = tmat @ p @ tmat.T + rqr
    steps = nobs - start
    m = np.empty((draws, a.shape[1], steps))
    cov = np.empty((draws, a.shape[1], a.shape[1], steps))
    for j in range(steps):
        m[:, :, j], cov[:, :, :, j] = a, p
        a = a @ tmat.T + c
        p = tmat @ p @ tmat.T + rqr
    return llf, m, cov, h


def _hessian(f: Any, x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    k = len(x)
    eps = 1e-3 * np.maximum(np.abs(x), 0.05)
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = eps[i], eps[j]
            hess[i, j] = hess[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                       + f(x - ei - ej)) / (4 * eps[i] * eps[j])
    return hess


def _log_folded_t(draws: np.ndarray, loc: np.ndarray, shape: np.ndarray, df: int) -> np.ndarray:
    """Log density of |X| for X ~ multivariate t(loc, shape, df): sum over sign flips."""
    from scipy import stats

    dist = stats.multivariate_t(loc=loc, shape=shape, df=df)
    k = draws.shape[1]
    terms = [np.atleast_1d(dist.logpdf(draws * np.array(signs)))
             for signs in itertools.product([1.0, -1.0], repeat=k)]
    return np.logaddexp.reduce(np.vstack(terms), axis=0)


def posterior_forecast(model: Any, params: np.ndarray, start: int, *, draws: int = 200,
                       seed: int | np.random.Generator | None = 0) -> ForecastMixture:
    """Forecast distribution integrated over the posterior of the variances.

    ``model`` is the statsmodels ``UnobservedComponents`` of the whole series with the outcome
    missing from ``start`` on (its parameters must all be variances); ``params`` the MLE of
    the variances from the pre-period fit. See the module docstring for the method.
    """
    params = np.asarray(params, dtype=float)
    u_hat = np.sqrt(np.maximum(params, 0.0))
    k = len(u_hat)

    def loglike(u: np.ndarray) -> float:
        return float(model.loglike(u ** 2))

    hess = _hessian(loglike, u_hat)
    vals, vecs = np.linalg.eigh(-(hess + hess.T) / 2)
    top = max(float(vals.max()), 1e-12)
    vals = np.maximum(vals, 1e-3 * top)
    shape = (vecs / vals) @ vecs.T * _PROPOSAL_SCALE ** 2
    rng = make_rng(seed)
    chol = np.linalg.cholesky(shape)
    z = rng.standard_normal((draws, k)) @ chol.T
    w = np.sqrt(rng.chisquare(_PROPOSAL_DF, draws) / _PROPOSAL_DF)
    u = np.abs(u_hat + z / w[:, None])
    log_q = _log_folded_t(u, u_hat, shape, _PROPOSAL_DF)
    log_lik, m, p, h = _batched_filter(model, u ** 2, start)
    model.update(params)  # leave the model at the MLE
    zs, ds_ = design_rows(model.ssm, start)
    log_w = log_lik - log_q  # flat prior on the standard deviations
    log_w[~np.isfinite(log_w)] = -np.inf
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    means, covs = forecast_moments(zs, ds_, state_matrix(model.ssm, "transition"), h, m, p)
    return ForecastMixture(means, covs, weights, u ** 2, float(1.0 / np.sum(weights ** 2)))


def mixture_cdf(x: np.ndarray, mu: np.ndarray, sd: np.ndarray, weights: np.ndarray
                ) -> np.ndarray:
    """CDF at ``x`` (per column) of the mixture Σ_i w_i N(mu[i], sd[i]²)."""
    from scipy import special

    sd = np.where(sd > 0, sd, np.finfo(float).tiny)
    return weights @ special.ndtr((np.asarray(x)[None, :] - mu) / sd)


def mixture_quantiles(prob: float, mu: np.ndarray, sd: np.ndarray, weights: np.ndarray
                      ) -> np.ndarray:
    """Quantile ``prob`` of each column's normal mixture (bisection to ~1e-12 relative)."""
    lo = (mu - 40 * sd).min(axis=0)
    hi = (mu + 40 * sd).max(axis=0)
    for _ in range(100):
        mid = (lo + hi) / 2
        below = mixture_cdf(mid, mu, sd, weights) < prob
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2
