"""Projecting retention: the shifted-beta-geometric model and a thinned version for retail.

**sBG** (Fader & Hardie 2007). Each customer leaves at the end of any period with a constant
probability :math:`\\theta`; :math:`\\theta` varies across customers as
:math:`\\mathrm{Beta}(\\alpha, \\beta)`. Then

.. math::

    P(T = t) = \\frac{B(\\alpha + 1, \\beta + t - 1)}{B(\\alpha, \\beta)}, \\qquad
    S(t) = \\frac{B(\\alpha, \\beta + t)}{B(\\alpha, \\beta)}, \\qquad
    r_t = \\frac{S(t)}{S(t-1)} = \\frac{\\beta + t - 1}{\\alpha + \\beta + t - 1},

so aggregate retention rises with tenure although no individual's does (the high-churn
customers leave first). :func:`fit_sbg` estimates :math:`\\alpha, \\beta` by maximum
likelihood from the numbers of a contract cohort still active after each period:
:math:`LL = \\sum_{t=1}^{n} (s_{t-1} - s_t) \\ln P(T=t) + s_n \\ln S(n)` (the last term for the
customers still active, right-censored).

**Thinned sBG for non-contractual purchasing** (:func:`fit_active_curve`). In retail nobody
cancels; a customer is *alive* (sBG) and, while alive, buys in a given period with probability
:math:`p`. The share of a cohort buying at age :math:`k \\ge 1` is then
:math:`a(k) = p\\, S(k)`: a beta-geometric/beta-Bernoulli model (Fader, Hardie & Shang 2010)
with a homogeneous purchase probability. It is fitted to the retention triangle
(customers active :math:`A_k` out of :math:`N_k` observed at age *k*) by maximising the
binomial composite log-likelihood :math:`\\sum_k A_k \\ln a(k) + (N_k - A_k)\\ln(1 - a(k))`
(cells of one cohort are not independent, so use the customer bootstrap of
:func:`~researchkit.channels.customers.customer_ltv` for intervals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import per_eligible
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["active_curve", "fit_active_curve", "fit_sbg", "sbg_churn_probability",
           "sbg_retention_rate", "sbg_survival"]

SBG_REFERENCE = ("Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. "
                 "Journal of Interactive Marketing 21(1), 76-90.")
BGBB_REFERENCE = ("Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis "
                  "in a discrete-time noncontractual setting. Marketing Science 29(6), "
                  "1086-1108.")


def _check_ab(alpha: float, beta: float) -> None:
    for name, v in (("alpha", alpha), ("beta", beta)):
        if not np.all(np.isfinite(v)) or np.any(np.asarray(v) <= 0):
            raise ParameterError("sBG parameter must be positive", parameter=name,
                                 expected="> 0", got=v)


def sbg_survival(t: Any, alpha: float, beta: float) -> np.ndarray:
    """:math:`S(t) = B(\\alpha, \\beta + t) / B(\\alpha, \\beta)`, t = 0, 1, 2, ..."""
    from scipy.special import betaln

    _check_ab(alpha, beta)
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def sbg_churn_probability(t: Any, alpha: float, beta: float) -> np.ndarray:
    """:math:`P(T = t) = B(\\alpha + 1, \\beta + t - 1) / B(\\alpha, \\beta)`, t = 1, 2, ..."""
    from scipy.special import betaln

    _check_ab(alpha, beta)
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta))


def sbg_retention_rate(t: Any, alpha: float, beta: float) -> np.ndarray:
    """:math:`r_t = (\\beta + t - 1) / (\\alpha + \\beta + t - 1)`, t = 1, 2, ..."""
    _check_ab(alpha, beta)
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def _sbg_loglik(log_ab: np.ndarray, cohorts: list[np.ndarray]) -> float:
    from scipy.special import betaln

    a, b = np.exp(log_ab)
    ll = 0.0
    for s in cohorts:
        n = len(s) - 1
        t = np.arange(1, n + 1)
        log_p = betaln(a + 1, b + t - 1) - betaln(a, b)
        ll += float((s[:-1] - s[1:]) @ log_p) + s[-1] * (betaln(a, b + n) - betaln(a, b))
    return ll


def _hessian(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    d = len(x)
    H = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei, ej = np.eye(d)[i] * h, np.eye(d)[j] * h
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) \
                / (4 * h * h)
    return H


def fit_sbg(
    survivors: Sequence[float] | Sequence[Sequence[float]], *, ci_level: float = 0.95,
    horizon: int | None = None,
) -> Result:
    """Fit the shifted-beta-geometric retention model to contract cohorts by maximum likelihood.

    Parameters
    ----------
    survivors : sequence of counts, or a list of such sequences
        Customers still active at the end of periods 0, 1, ..., n (period 0 = the cohort's
        starting size). Several cohorts (of different lengths) are pooled into one
        likelihood.
    ci_level : float
        Level of the Wald intervals for alpha and beta (computed on the log scale from the
        observed information, then exponentiated).
    horizon : int, optional
        Project survival and retention up to this period (default: twice the longest cohort).

    Returns
    -------
    Result
        ``estimate`` = {"alpha", "beta"}; ``table`` = observed and fitted survival and
        retention per period (fitted beyond the data = the projection); ``details`` =
        log-likelihood, mean churn probability :math:`\\alpha / (\\alpha + \\beta)`, intervals.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing* 21(1), 76-90.

    Examples
    --------
    >>> res = fit_sbg([1000, 869, 743, 653, 593, 551, 517, 491])   # "High End", F&H Table 1
    >>> round(res.estimate["alpha"], 3), round(res.estimate["beta"], 3)
    (0.668, 3.806)
    """
    from scipy.optimize import minimize
    from scipy.stats import norm

    if len(survivors) and np.ndim(survivors[0]) == 0:  # type: ignore[index]
        raw = [survivors]
    else:
        raw = list(survivors)  # type: ignore[arg-type]
    cohorts = []
    for i, s in enumerate(raw):
        arr = np.asarray(s, dtype=float)
        where = f"cohort {i + 1}" if len(raw) > 1 else None
        if arr.ndim != 1 or len(arr) < 2 or not np.all(np.isfinite(arr)):
            raise DataError("need counts for at least two periods", row=where,
                            parameter="survivors", got=list(np.atleast_1d(arr)))
        if arr[0] <= 0 or np.any(arr < 0) or np.any(np.diff(arr) > 0):
            raise DataError("survivor counts must start positive and never increase",
                            row=where, parameter="survivors", got=arr.tolist())
        cohorts.append(arr)
    if not 0 < ci_level < 1:
        raise ParameterError("invalid interval level", parameter="ci_level",
                             expected="between 0 and 1", got=ci_level)

    def nll(x: np.ndarray) -> float:
        return -_sbg_loglik(x, cohorts)

    best = None
    for start in ([0.0, 0.0], [np.log(0.01), np.log(0.01)], [1.0, 2.0], [-1.0, 1.0]):
        res = minimize(nll, np.array(start), method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    x = best.x
    a, b = np.exp(x)
    warnings = []
    try:
        cov = np.linalg.inv(_hessian(nll, x))
        se = np.sqrt(np.diag(cov))
        if not np.all(np.isfinite(se)):
            raise np.linalg.LinAlgError
        z = float(norm.ppf(0.5 + ci_level / 2))
        ci_a = (float(np.exp(x[0] - z * se[0])), float(np.exp(x[0] + z * se[0])))
        ci_b = (float(np.exp(x[1] - z * se[1])), float(np.exp(x[1] + z * se[1])))
    except np.linalg.LinAlgError:
        ci_a = ci_b = (float("nan"), float("nan"))
        warnings.append("The information matrix is singular; no intervals.")
    n_max = max(len(s) for s in cohorts) - 1
    H = horizon if horizon is not None else 2 * n_max
    t = np.arange(0, H + 1)
    longest = max(cohorts, key=len)
    obs_s = np.full(len(t), np.nan)
    m = min(len(longest), len(t))
    obs_s[:m] = longest[:m] / longest[0]
    fitted = sbg_survival(t, a, b)
    table = pd.DataFrame({
        "period": t,
        "observed_survival": obs_s,
        "fitted_survival": fitted,
        "observed_retention": np.r_[np.nan, obs_s[1:] / obs_s[:-1]],
        "fitted_retention": np.r_[np.nan, sbg_retention_rate(t[1:], a, b)],
        "in_sample": t <= n_max,
    }).set_index("period")
    return Result(
        name="Shifted-beta-geometric retention model",
        estimate={"alpha": float(a), "beta": float(b)},
        method=("Maximum likelihood for the shifted-beta-geometric (sBG) model: constant "
                "individual churn probability, beta-distributed across customers; customers "
                "still active at the end are right-censored; Nelder-Mead on log(alpha), "
                "log(beta) from four starting points; Wald intervals on the log scale from "
                "the observed information."),
        n=int(sum(s[0] for s in cohorts)),
        table=table,
        details={"log_likelihood": float(-best.fun), "alpha_ci": ci_a, "beta_ci": ci_b,
                 "ci_level": ci_level, "mean_churn": float(a / (a + b)),
                 "n_cohorts": len(cohorts)},
        warnings=warnings,
        reference=SBG_REFERENCE,
    )


def active_curve(k: Any, p: float, alpha: float, beta: float) -> np.ndarray:
    """Share of a cohort buying at age k: 1 at k = 0, :math:`p\\,S(k)` afterwards."""
    k = np.asarray(k, dtype=float)
    return np.where(k == 0, 1.0, p * sbg_survival(k, alpha, beta))


def _fit_curve(active: np.ndarray, at_risk: np.ndarray, ages: np.ndarray,
               start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """ML of (logit p, log alpha, log beta) from age >= 1 cells; returns (params, loglik).

    Analytic gradient: with :math:`q_k = p S(k)`, :math:`\\partial LL/\\partial q_k =
    A_k/q_k - (N_k - A_k)/(1 - q_k)`, :math:`\\partial \\ln S/\\partial \\alpha =
    \\psi(\\alpha+\\beta) - \\psi(\\alpha+\\beta+k)` and :math:`\\partial \\ln S/\\partial
    \\beta = \\psi(\\beta+k) - \\psi(\\alpha+\\beta+k) - \\psi(\\beta) + \\psi(\\alpha+\\beta)`.
    """
    from scipy.optimize import minimize
    from scipy.special import betaln, digamma, expit

    keep = (ages >= 1) & (at_risk > 0)
    A, N, k = active[keep], at_risk[keep], ages[keep].astype(float)

    def nll(x: np.ndarray) -> tuple[float, np.ndarray]:
        p = expit(x[0])
        a, b = np.exp(x[1]), np.exp(x[2])
        q = np.clip(p * np.exp(betaln(a, b + k) - betaln(a, b)), 1e-12, 1 - 1e-12)
        ll = float(A @ np.log(q) + (N - A) @ np.log1p(-q))
        dq = A / q - (N - A) / (1 - q)  # dLL/dq
        ab = digamma(a + b)
        abk = digamma(a + b + k)
        dlogS_da = ab - abk
        dlogS_db = digamma(b + k) - abk - digamma(b) + ab
        grad = np.array([
            float(dq @ (q * (1 - p))),
            float(dq @ (q * dlogS_da)) * a,
            float(dq @ (q * dlogS_db)) * b,
        ])
        return -ll, -grad

    starts = [start] if start is not None else \
        [np.array([0.0, 0.0, 0.0]), np.array([1.0, -1.0, 0.5]), np.array([-1.0, 0.5, 1.5])]
    best = None
    for x0 in starts:
        res = minimize(nll, x0, jac=True, method="L-BFGS-B",
                       bounds=[(-20, 20), (-10, 10), (-10, 10)],
                       options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    return best.x, float(-best.fun)


def fit_active_curve(
    active: Sequence[float], at_risk: Sequence[float], *, ages: Sequence[int] | None = None,
    horizon: int = 36,
) -> Result:
    """Fit :math:`a(k) = p\\,S_{sBG}(k)` to the share of customers buying at each age.

    Parameters
    ----------
    active, at_risk : sequences
        Customers who bought at age *k* and customers observed at age *k* (e.g. the pooled
        ``curve`` of :func:`~researchkit.channels.customers.retention_triangle`).
    ages : sequence of int, optional
        The ages (default 0, 1, 2, ...); age 0 (the first purchase) is not used.
    horizon : int
        Project the curve up to this age.

    Returns
    -------
    Result
        ``estimate`` = {"p", "alpha", "beta"}; ``table`` = observed and fitted share per age
        up to ``horizon``.
    """
    from scipy.special import expit

    A = np.asarray(active, dtype=float)
    N = np.asarray(at_risk, dtype=float)
    k = np.arange(len(A)) if ages is None else np.asarray(ages)
    if A.shape != N.shape or A.shape != k.shape:
        raise ParameterError("active, at_risk and ages must have the same length",
                             parameter="at_risk", got=(len(A), len(N), len(k)))
    if np.any(A < 0) or np.any(A > N) or not np.all(np.isfinite(A + N)):
        raise DataError("active counts must lie between 0 and the customers at risk",
                        parameter="active")
    if ((k >= 1) & (N > 0)).sum() < 3:
        raise DataError("need at least three ages after the first purchase",
                        parameter="active", got=int(((k >= 1) & (N > 0)).sum()))
    x, ll = _fit_curve(A, N, k)
    p, a, b = float(expit(x[0])), float(np.exp(x[1])), float(np.exp(x[2]))
    grid = np.arange(0, max(horizon, int(k.max())) + 1)
    obs = np.full(len(grid), np.nan)
    obs[k[k <= grid.max()]] = per_eligible(A, N)[k <= grid.max()]
    table = pd.DataFrame({"age": grid, "observed": obs,
                          "fitted": active_curve(grid, p, a, b),
                          "survival": sbg_survival(grid, a, b)}).set_index("age")
    return Result(
        name="Active-customer curve (sBG survival thinned by a purchase probability)",
        estimate={"p": p, "alpha": a, "beta": b},
        method=("Share buying at age k >= 1 modelled as p * S(k), S the shifted-beta-geometric "
                "survival; binomial composite maximum likelihood over ages (Nelder-Mead on "
                "logit p, log alpha, log beta)."),
        n=int(N[k == 0].sum()) if (k == 0).any() else None,
        table=table,
        details={"log_likelihood": ll, "mean_churn": a / (a + b)},
        reference=f"{SBG_REFERENCE}; {BGBB_REFERENCE}",
    )
