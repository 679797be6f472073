"""Fitting the Bass model to an adoption history: non-linear least squares and Bass's OLS.

NLS (Srinivasan & Mason 1986)
-----------------------------
Minimise ``Σ_t (n_t − m [F(t; p, q) − F(t−1; p, q)])²`` over p, q, m with bounds
``1e-8 ≤ p ≤ 1``, ``0 ≤ q ≤ 5``, ``m > 0``, by a trust-region reflective solver
(``scipy.optimize.least_squares``), started
from the best point of a grid over (p, q) with m profiled out (for fixed p, q the best m is
linear least squares). ``curve="density"`` fits ``m f(t)`` instead, as many textbooks do.

Standard errors come from the Jacobian ``J`` at the optimum: ``Cov = s² (JᵀJ)⁻¹`` with
``s² = SSE / (n − 3)``; intervals are ``estimate ± t_{n−3} · se``. They are asymptotic and
assume independent, homoscedastic errors: the diagnostics (Durbin–Watson, lag-1 residual
autocorrelation, Ljung–Box) say whether that is credible.

OLS (Bass 1969)
---------------
Regress ``n_t = a + b N_{t−1} + c N²_{t−1}`` (``N`` cumulative adopters before period t), then
``m = (−b − √(b² − 4ac)) / (2c)``, ``p = a/m``, ``q = −c m``. Standard errors of a, b, c are the
usual OLS ones; those of p, q, m follow by the delta method. The OLS estimator is simple but
suffers from multicollinearity and time-interval bias (Schmittlein & Mahajan 1982; Srinivasan &
Mason 1986), so NLS is the default.

Diagnostics
-----------
``R² = 1 − SSE/SST``; ``RMSE = √(SSE/n)``; Durbin–Watson ``d = Σ(e_t − e_{t−1})² / Σ e_t²``
(≈ 2 without autocorrelation); lag-1 autocorrelation ``r₁ = Σ e_t e_{t−1} / Σ e_t²``;
Ljung–Box ``Q = n(n+2) Σ_{k=1}^{h} r_k² / (n−k)`` with ``h = min(5, n//3)`` lags, compared with
χ²(h).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.sizing.bass import _cdf, bass_adoptions, bass_pdf, bass_peak

__all__ = ["BassFit", "fit_bass", "fit_bass_ols", "residual_diagnostics"]

Curve = Literal["interval", "density"]
P_BOUNDS = (1e-8, 1.0)
Q_BOUNDS = (0.0, 5.0)
REFERENCE_NLS = ("Srinivasan, V. & Mason, C. H. (1986). Nonlinear least squares estimation of "
                 "new product diffusion models. Marketing Science 5(2), 169-178; Bass, F. M. "
                 "(1969). A new product growth for model consumer durables. Management Science "
                 "15(5), 215-227.")
REFERENCE_OLS = ("Bass, F. M. (1969). A new product growth for model consumer durables. "
                 "Management Science 15(5), 215-227.")


@dataclass(eq=False)
class BassFit(Result):
    """A fitted Bass model.

    Extra attributes
    ----------------
    p, q, m : float
        Estimates.
    se : dict
        Standard errors of p, q, m (NaN when not available).
    cov : array (3, 3) or None
        Covariance of (p, q, m).
    estimator : {"nls", "ols"}
    curve : {"interval", "density"}
    labels : list
        Time labels of the observed periods.
    observed, fitted, residuals : arrays
    diagnostics : dict
        r2, rmse, durbin_watson, lag1_autocorrelation, ljung_box, ljung_box_p, ljung_box_lags.
    """

    p: float = float("nan")
    q: float = float("nan")
    m: float = float("nan")
    se: dict[str, float] = field(default_factory=dict)
    cov: np.ndarray | None = field(default=None, repr=False)
    estimator: str = "nls"
    curve: str = "interval"
    labels: list[Any] = field(default_factory=list, repr=False)
    observed: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    fitted: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    diagnostics: dict[str, float] = field(default_factory=dict)

    def predict(self, periods: int) -> np.ndarray:
        """Adopters in periods 1..periods under the fitted curve."""
        return bass_adoptions(periods, self.p, self.q, self.m, self.curve)  # type: ignore[arg-type]

    def fit_table(self) -> pd.DataFrame:
        """Observed, fitted and residual adopters per period."""
        return pd.DataFrame({"period": np.arange(1, self.observed.size + 1),
                             "label": self.labels, "observed": self.observed,
                             "fitted": self.fitted, "residual": self.residuals})


# -- input handling ------------------------------------------------------------------------
def _series(data: Any, adopters: str, time: str | None) -> tuple[np.ndarray, list[Any]]:
    if isinstance(data, pd.DataFrame):
        if adopters not in data.columns:
            raise DataError(f"no column {adopters!r}", column=adopters,
                            expected=f"one of {list(data.columns)}")
        y = data[adopters]
        labels = list(data[time]) if time is not None else list(range(1, len(data) + 1))
        if time is not None:
            if time not in data.columns:
                raise DataError(f"no column {time!r}", column=time,
                                expected=f"one of {list(data.columns)}")
            tv = pd.to_numeric(data[time], errors="coerce")
            if tv.isna().any():
                bad = int(np.flatnonzero(tv.isna().to_numpy())[0]) + 1
                raise DataError("time must be numeric (e.g. years)", row=bad, column=time,
                                got=data[time].iloc[bad - 1])
            steps = np.diff(tv.to_numpy(dtype=float))
            if steps.size and (np.any(steps <= 0) or not np.allclose(steps, steps[0])):
                bad = int(np.flatnonzero((steps <= 0) | ~np.isclose(steps, steps[0]))[0]) + 2
                raise DataError("periods must be consecutive and equally spaced, in order",
                                row=bad, column=time, got=data[time].iloc[bad - 1])
    else:
        if time is not None:
            raise ParameterError("time needs a DataFrame", parameter="time")
        y = pd.Series(np.asarray(data, dtype=float).ravel())
        labels = list(range(1, len(y) + 1))
    values = pd.to_numeric(y, errors="coerce")
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
    if bad.size:
        raise DataError("adopters must be finite numbers", row=int(bad[0]) + 1,
                        column=adopters if isinstance(data, pd.DataFrame) else None,
                        got=y.iloc[int(bad[0])])
    arr = values.to_numpy(dtype=float)
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        raise DataError("adopters per period cannot be negative", row=int(neg[0]) + 1,
                        column=adopters if isinstance(data, pd.DataFrame) else None,
                        got=arr[neg[0]])
    if arr.size < 4:
        raise DataError("too few periods to fit three parameters", expected="at least 4",
                        got=int(arr.size))
    if arr.sum() <= 0:
        raise DataError("no adoptions in the history", expected="some adopters")
    return arr, labels


def residual_diagnostics(residuals: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    """R², RMSE, Durbin–Watson, lag-1 autocorrelation and Ljung–Box of fit residuals."""
    from scipy.stats import chi2

    e = np.asarray(residuals, dtype=float)
    y = np.asarray(observed, dtype=float)
    n = e.size
    sse = float(e @ e)
    sst = float(np.sum((y - y.mean()) ** 2))
    d = float(np.sum(np.diff(e) ** 2) / sse) if sse > 0 else float("nan")
    ec = e - e.mean()
    denom = float(ec @ ec)
    h = max(1, min(5, n // 3))
    r = [float(ec[k:] @ ec[:-k] / denom) if denom > 0 else float("nan") for k in range(1, h + 1)]
    qstat = float(n * (n + 2) * sum(rk**2 / (n - k) for k, rk in enumerate(r, start=1)))
    return {"r2": 1 - sse / sst if sst > 0 else float("nan"), "rmse": float(np.sqrt(sse / n)),
            "sse": sse, "durbin_watson": d,
            "lag1_autocorrelation": float(e[1:] @ e[:-1] / sse) if sse > 0 else float("nan"),
            "ljung_box": qstat, "ljung_box_lags": h,
            "ljung_box_p": float(chi2.sf(qstat, h)) if np.isfinite(qstat) else float("nan")}


def _diag_warnings(diag: dict[str, float]) -> list[str]:
    out = []
    if np.isfinite(diag["ljung_box_p"]) and diag["ljung_box_p"] < 0.05:
        out.append(f"residuals are autocorrelated (Ljung-Box p = {diag['ljung_box_p']:.3f}, "
                   f"Durbin-Watson {diag['durbin_watson']:.2f}): standard errors and "
                   "intervals are too narrow")
    return out


# -- NLS -----------------------------------------------------------------------------------
def _basis(t: Any, p: Any, q: Any, curve: str) -> Any:
    if curve == "interval":
        return _cdf(t, p, q) - _cdf(t - 1, p, q)
    e = np.exp(-(p + q) * np.maximum(t, 0))
    return np.where(t >= 0, ((p + q) ** 2 / p) * e / (1 + (q / p) * e) ** 2, 0.0)


def _start(y: np.ndarray, t: np.ndarray, curve: str, m_min: float) -> np.ndarray:
    """Best point of a grid over (p, q), with m profiled out by linear least squares."""
    pg, qg = np.meshgrid(np.geomspace(1e-4, 0.5, 40), np.linspace(0.0, 1.5, 61), indexing="ij")
    pv, qv = pg.ravel()[:, None], qg.ravel()[:, None]
    g = _basis(t[None, :], pv, qv, curve)
    gg = np.einsum("ij,ij->i", g, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.maximum((g @ y) / gg, m_min)
    sse = np.sum((y[None, :] - m[:, None] * g) ** 2, axis=1)
    sse = np.where(gg > 0, sse, np.inf)
    i = int(np.argmin(sse))
    return np.array([pv[i, 0], qv[i, 0], m[i]])


def _nls(y: np.ndarray, curve: str, x0: np.ndarray | None = None,
         m_bounds: tuple[float, float] | None = None) -> Any:
    from scipy.optimize import least_squares

    t = np.arange(1, y.size + 1, dtype=float)
    # m is only required to be positive: with noisy counts the least-squares m of a nearly
    # complete diffusion can lie slightly below the adopters observed (fit_bass warns then)
    m_lo, m_hi = m_bounds or (1e-9 * max(float(y.sum()), 1.0), np.inf)
    if x0 is None:
        x0 = _start(y, t, curve, m_lo)
    lo = np.array([P_BOUNDS[0], Q_BOUNDS[0], m_lo])
    hi = np.array([P_BOUNDS[1], Q_BOUNDS[1], m_hi])
    upper = np.array([h - 1e-12 * max(1.0, abs(h)) if np.isfinite(h) else np.inf for h in hi])
    x0 = np.clip(x0, lo + 1e-12 * np.maximum(1, np.abs(lo)), upper)

    def resid(x: np.ndarray) -> np.ndarray:
        return x[2] * _basis(t, x[0], x[1], curve) - y

    def jac(x: np.ndarray) -> np.ndarray:
        p, q, m = x
        if curve == "interval":
            dp, dq = _dF(t, p, q)
            dp0, dq0 = _dF(t - 1, p, q)
            gp, gq = dp - dp0, dq - dq0
        else:
            gp, gq = _df(t, p, q)
        return np.column_stack([m * gp, m * gq, _basis(t, p, q, curve)])

    return least_squares(resid, x0, jac=jac, bounds=(lo, hi), method="trf", x_scale="jac",
                         xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=5000)


def _dF(t: np.ndarray, p: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Partial derivatives of F(t) with respect to p and q (0 for t ≤ 0)."""
    tt = np.maximum(t, 0)
    b = p + q
    e = np.exp(-b * tt)
    a = q / p
    den = 1 + a * e
    num = 1 - e
    # F = num/den; dnum/db = t e; dden/dp = -q/p² e + a (-t e); dden/dq = e/p + a (-t e)
    dnum = tt * e
    dden_p = -q / p**2 * e - a * tt * e
    dden_q = e / p - a * tt * e
    fp = (dnum * den - num * dden_p) / den**2
    fq = (dnum * den - num * dden_q) / den**2
    zero = t <= 0
    return np.where(zero, 0.0, fp), np.where(zero, 0.0, fq)


def _df(t: np.ndarray, p: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Partial derivatives of the density f(t) with respect to p and q (numerical, central)."""
    hp = 1e-6 * max(p, 1e-8)
    hq = 1e-6 * max(q, 1e-6)
    fp = (bass_pdf(t, p + hp, q) - bass_pdf(t, max(p - hp, 1e-12), q)) / (
        (p + hp) - max(p - hp, 1e-12))
    fq = (bass_pdf(t, p, q + hq) - bass_pdf(t, p, max(q - hq, 0.0))) / (
        (q + hq) - max(q - hq, 0.0))
    return fp, fq


def _t_quantile(level: float, df: int) -> float:
    from scipy.stats import t as student_t

    return float(student_t.ppf((1 + level) / 2, df))


def _param_table(names: Sequence[str], est: Sequence[float], se: Sequence[float],
                 level: float, df: int) -> pd.DataFrame:
    tq = _t_quantile(level, df)
    est_a = np.asarray(est, dtype=float)
    se_a = np.asarray(se, dtype=float)
    return pd.DataFrame({"parameter": list(names), "estimate": est_a, "se": se_a,
                         "ci_low": est_a - tq * se_a, "ci_high": est_a + tq * se_a})


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ParameterError("level must lie in (0, 1)", parameter="level", got=level)


def fit_bass(
    data: Any, adopters: str = "adopters", time: str | None = None, *,
    curve: Curve = "interval", level: float = 0.95,
) -> BassFit:
    """Fit p, q and m of the Bass model by non-linear least squares with bounds.

    Parameters
    ----------
    data : DataFrame or 1-D array
        Adopters per period (new adopters, not cumulative), oldest first, periods consecutive.
    adopters : str
        Column of adopters per period (when ``data`` is a DataFrame).
    time : str, optional
        Column of period labels (e.g. years); must be numeric, increasing and equally spaced.
    curve : {"interval", "density"}
        Fit ``m [F(t) − F(t−1)]`` (Srinivasan & Mason 1986; default) or ``m f(t)``.
    level : float
        Coverage of the parameter intervals.

    Returns
    -------
    BassFit
        ``estimate`` = {p, q, m}; ``table`` = estimates, standard errors and intervals of p, q, m;
        ``diagnostics`` = R², RMSE, Durbin–Watson, lag-1 autocorrelation, Ljung–Box;
        ``details`` = peak time and peak adopters, convergence.

    Examples
    --------
    >>> from researchkit.datasets import simulate_adoption
    >>> data, truth = simulate_adoption(p=0.03, q=0.4, m=50_000, periods=15, noise=0.03, seed=1)
    >>> fit = fit_bass(data, "adopters", "year")
    >>> round(fit.q, 1)
    0.4
    """
    _check_level(level)
    if curve not in ("interval", "density"):
        raise ParameterError("unknown Bass curve", parameter="curve",
                             expected="'interval' or 'density'", got=curve)
    y, labels = _series(data, adopters, time)
    n = y.size
    res = _nls(y, curve)
    p, q, m = (float(v) for v in res.x)
    resid = res.fun
    fitted = y + resid
    sse = float(resid @ resid)
    dof = n - 3
    warnings: list[str] = []
    cov = None
    se = {"p": float("nan"), "q": float("nan"), "m": float("nan")}
    if dof > 0:
        jtj = res.jac.T @ res.jac
        try:
            cov = (sse / dof) * np.linalg.inv(jtj)
            se = dict(zip(("p", "q", "m"), np.sqrt(np.clip(np.diag(cov), 0, None)).tolist(),
                          strict=True))
        except np.linalg.LinAlgError:
            warnings.append("the Jacobian is singular: standard errors are not available")
    active = [name for name, a in zip(("p", "q", "m"), res.active_mask, strict=True) if a]
    if active:
        warnings.append(f"estimate at a bound ({', '.join(active)}): the data do not pin "
                        "these down; standard errors are not reliable")
    if not res.success:
        warnings.append(f"the optimiser did not converge: {res.message}")
    if n < 8:
        warnings.append(f"only {n} periods: Bass estimates from short histories, especially "
                        "before the peak, are unstable (Heeler & Hustad 1980)")
    diag = residual_diagnostics(resid, y)
    warnings += _diag_warnings(diag)
    peak = bass_peak(p, q, m)
    warnings += _saturation_warnings(n, peak["t_peak"], float(y.sum()), m)
    if m < y.sum():
        warnings.append(f"m ({m:,.4g}) is below the adopters already observed "
                        f"({y.sum():,.4g}): the diffusion looks complete and noise puts the "
                        "least-squares curve slightly under the observed total")
    table = _param_table(("p", "q", "m"), (p, q, m), (se["p"], se["q"], se["m"]), level,
                         max(dof, 1))
    method = (f"Non-linear least squares (trust-region reflective, bounds p in [1e-8, 1], q in "
              f"[0, 5], m > 0) on adopters per period, "
              f"{'m[F(t)-F(t-1)] (Srinivasan & Mason 1986)' if curve == 'interval' else 'm f(t)'}; "
              f"standard errors from the Jacobian, s^2 (J'J)^-1 with {dof} residual df; "
              f"{level:.0%} t intervals; assumes independent, homoscedastic errors.")
    return BassFit(
        name="Bass diffusion fit (NLS)", estimate={"p": p, "q": q, "m": m}, method=method,
        n=n, df=dof, table=table, warnings=warnings, reference=REFERENCE_NLS,
        details={"t_peak": peak["t_peak"], "peak_adopters": peak["peak_rate"],
                 "cumulative_observed": float(y.sum()), "share_of_m_observed": float(y.sum() / m),
                 "converged": bool(res.success), "nfev": int(res.nfev), "curve": curve},
        p=p, q=q, m=m, se=se, cov=cov, estimator="nls", curve=curve, labels=labels,
        observed=y, fitted=fitted, residuals=-resid, diagnostics=diag,
    )


def _saturation_warnings(n: int, t_peak: float, observed: float, m: float) -> list[str]:
    out = []
    if np.isfinite(t_peak) and n < t_peak:
        out.append(f"the history ends before the estimated peak (period {t_peak:.1f}): m and q "
                   "are poorly determined until sales have peaked (Heeler & Hustad 1980)")
    if np.isfinite(m) and m > 20 * observed:
        out.append(f"only {observed / m:.1%} of the estimated m has adopted so far: m is "
                   "extrapolated far beyond the data")
    return out


# -- OLS (Bass 1969) -----------------------------------------------------------------------
def _pqm_from_abc(a: float, b: float, c: float) -> tuple[float, float, float]:
    disc = b * b - 4 * a * c
    if c >= 0 or disc < 0:
        return float("nan"), float("nan"), float("nan")
    m = (-b - np.sqrt(disc)) / (2 * c)
    return float(a / m), float(-c * m), float(m)


def fit_bass_ols(
    data: Any, adopters: str = "adopters", time: str | None = None, *, level: float = 0.95,
) -> BassFit:
    """Bass's (1969) ordinary-least-squares estimator of p, q and m.

    Regress adopters ``n_t`` on ``N_{t−1}`` and ``N²_{t−1}`` (cumulative adopters before
    period t, ``N_0 = 0``): ``n_t = a + b N_{t−1} + c N²_{t−1}``; then
    ``m = (−b − √(b² − 4ac)) / (2c)``, ``p = a/m``, ``q = −c·m``.

    Returns
    -------
    BassFit
        ``table`` has a, b, c (OLS estimates, standard errors, t intervals) and p, q, m
        (delta-method standard errors); ``fitted`` are the regression's fitted values.

    Raises
    ------
    DataError
        If ``c ≥ 0`` or ``b² − 4ac < 0``: the history shows no saturation yet and OLS gives no
        valid Bass parameters (use :func:`fit_bass`).
    """
    _check_level(level)
    y, labels = _series(data, adopters, time)
    n = y.size
    cum = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    x = np.column_stack([np.ones(n), cum, cum**2])
    # scale the columns for a well-conditioned solve, then undo
    scale = np.array([1.0, max(cum.max(), 1.0), max(cum.max(), 1.0) ** 2])
    xs = x / scale
    coef_s, *_ = np.linalg.lstsq(xs, y, rcond=None)
    coef = coef_s / scale
    fitted = x @ coef
    resid = y - fitted
    dof = n - 3
    sse = float(resid @ resid)
    cov_s = (sse / dof) * np.linalg.inv(xs.T @ xs) if dof > 0 else np.full((3, 3), np.nan)
    cov_abc = cov_s / np.outer(scale, scale)
    a, b, c = (float(v) for v in coef)
    p, q, m = _pqm_from_abc(a, b, c)
    if not np.isfinite(m):
        raise DataError(
            "the OLS regression gives no valid Bass parameters "
            f"(c = {c:.4g} must be negative and b^2 - 4ac = {b * b - 4 * a * c:.4g} not "
            "negative): the history shows no saturation yet", expected="a history past its "
            "inflection point", hint="use fit_bass (non-linear least squares) instead")
    # delta method for (p, q, m)
    grad = np.zeros((3, 3))
    base = np.array([a, b, c])
    for j in range(3):
        h = 1e-6 * max(abs(base[j]), 1e-12)
        up, dn = base.copy(), base.copy()
        up[j] += h
        dn[j] -= h
        grad[:, j] = (np.array(_pqm_from_abc(*up)) - np.array(_pqm_from_abc(*dn))) / (2 * h)
    cov_pqm = grad @ cov_abc @ grad.T
    se_abc = np.sqrt(np.clip(np.diag(cov_abc), 0, None))
    se_pqm = np.sqrt(np.clip(np.diag(cov_pqm), 0, None))
    table = _param_table(("a", "b", "c", "p", "q", "m"), (a, b, c, p, q, m),
                         (*se_abc, *se_pqm), level, max(dof, 1))
    warnings: list[str] = []
    if a < 0:
        warnings.append("a < 0 gives p < 0, which the Bass model does not allow")
    diag = residual_diagnostics(resid, y)
    warnings += _diag_warnings(diag)
    if m < y.sum():
        warnings.append("m is below the adopters already observed")
    peak = bass_peak(p, q, m) if p > 0 and q >= 0 else {"t_peak": float("nan"),
                                                        "peak_rate": float("nan")}
    warnings += _saturation_warnings(n, peak["t_peak"], float(y.sum()), m)
    return BassFit(
        name="Bass diffusion fit (OLS, Bass 1969)", estimate={"p": p, "q": q, "m": m},
        method=("Ordinary least squares of adopters on cumulative adopters before the period "
                "and its square (Bass 1969); m from the quadratic's positive root, p = a/m, "
                f"q = -c m; delta-method standard errors for p, q, m; {level:.0%} t intervals "
                f"with {dof} df."),
        n=n, df=dof, table=table, warnings=warnings, reference=REFERENCE_OLS,
        details={"a": a, "b": b, "c": c, "t_peak": peak["t_peak"],
                 "peak_adopters": peak.get("peak_rate"), "cumulative_observed": float(y.sum())},
        p=p, q=q, m=m, se={"p": float(se_pqm[0]), "q": float(se_pqm[1]),
                           "m": float(se_pqm[2])},
        cov=cov_pqm, estimator="ols", curve="interval", labels=labels, observed=y,
        fitted=fitted, residuals=resid, diagnostics=diag,
    )
