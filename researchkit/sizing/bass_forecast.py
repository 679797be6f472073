"""Bass forecasts with intervals: from a fitted history, from analogs, and as the SOM ramp.

From a fit (parametric bootstrap)
---------------------------------
``B`` new histories are simulated from the fitted curve plus normal errors with the fit's
residual standard deviation ``s``; each is refitted with the same estimator, and the refitted
curve is extended over the horizon. Percentiles of the refitted forecasts give a
**confidence** interval for the expected adopters; adding a fresh N(0, s²) error to every
forecast period gives a **prediction** interval for the adopters that will be observed
(Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 6 and 9). Cumulative
intervals accumulate the same draws.

From analogs
------------
Before launch, p and q come from analogous categories (:mod:`researchkit.sizing.analogs`) and
``m`` from the sizing model. With several analogs, each draw uses one analog's (p, q) chosen
with equal probability; ``m`` may be a number or Monte Carlo draws (e.g. SOM draws), so the
interval reflects both the uncertainty of the market size and the spread of the analogs.

SOM ramp
--------
For a repeat-purchase business the SOM is a steady-state volume per period (orders or revenue
once every eventual customer has adopted). The volume in period t of the planning horizon is
``SOM × F̄_t``, with ``F̄_t`` the Bass share of eventual customers acquired, averaged over the
period (``basis="average"``) or at its end (``basis="end"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.datasets.base import check_positive_int, make_rng
from researchkit.errors import ParameterError
from researchkit.results import Result
from researchkit.sizing.analogs import analog_parameters
from researchkit.sizing.bass import bass_adoptions, bass_cdf, bass_mean_share, check_bass_parameters
from researchkit.sizing.bass_fit import BassFit, _nls, _pqm_from_abc

__all__ = ["BassForecast", "forecast_bass", "forecast_from_analogs", "som_ramp"]


@dataclass(eq=False)
class BassForecast(Result):
    """A Bass forecast: one row per period with the median and interval.

    Extra attributes
    ----------------
    draws : array (n_draws, periods)
        Simulated per-period values behind the intervals.
    """

    draws: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        from researchkit.sizing.simulate import _result_dict

        return _result_dict(self, exclude=("draws",))


def _check_common(level: float, horizon: int) -> int:
    if not 0 < level < 1:
        raise ParameterError("level must lie in (0, 1)", parameter="level", got=level)
    return check_positive_int(horizon, "horizon")


def _quantiles(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, med, hi = np.percentile(draws, [50 * (1 - level), 50, 50 * (1 + level)], axis=0)
    return lo, med, hi


def _refit_ols(y: np.ndarray) -> tuple[float, float, float] | None:
    n = y.size
    cum = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    scale = max(cum.max(), 1.0)
    x = np.column_stack([np.ones(n), cum / scale, (cum / scale) ** 2])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    a, b, c = coef[0], coef[1] / scale, coef[2] / scale**2
    p, q, m = _pqm_from_abc(a, b, c)
    if not (np.isfinite(m) and p > 0 and q >= 0):
        return None
    return p, q, m


def forecast_bass(
    fit: BassFit, horizon: int = 5, *, level: float = 0.9, n_boot: int = 500,
    seed: int | np.random.Generator = 0,
    interval: Literal["prediction", "confidence"] = "prediction",
) -> BassForecast:
    """Forecast adopters beyond a fitted history, with parametric-bootstrap intervals.

    Parameters
    ----------
    fit : BassFit
        From :func:`fit_bass` or :func:`fit_bass_ols`.
    horizon : int
        Periods to forecast after the last observed one.
    level : float
        Interval coverage.
    n_boot : int
        Bootstrap replicates (each refits the model).
    seed : int or Generator
    interval : {"prediction", "confidence"}
        Interval for future observed adopters (adds period noise) or for the expected curve.

    Returns
    -------
    BassForecast
        ``table``: ``period``, ``label``, ``kind`` (fit/forecast), ``observed``, ``adopters``
        (point forecast from the fitted curve), ``adopters_low``/``adopters_high``,
        ``cumulative``, ``cumulative_low``/``cumulative_high``. ``estimate``: cumulative adopters
        at the end of the horizon (point forecast).
    """
    horizon = _check_common(level, horizon)
    n_boot = check_positive_int(n_boot, "n_boot", minimum=20)
    if interval not in ("prediction", "confidence"):
        raise ParameterError("unknown interval type", parameter="interval",
                             expected="'prediction' or 'confidence'", got=interval)
    rng = make_rng(seed)
    y = fit.observed
    n = y.size
    total = n + horizon
    t_all = np.arange(1, total + 1)
    point = bass_adoptions(t_all, fit.p, fit.q, fit.m, fit.curve)  # type: ignore[arg-type]
    s = float(np.sqrt(fit.diagnostics["sse"] / max(n - 3, 1)))
    base = fit.fitted
    x0 = np.array([fit.p, fit.q, fit.m])
    sims = np.empty((n_boot, total))
    failed = 0
    for b in range(n_boot):
        ystar = base + rng.normal(0.0, s, n)
        est: tuple[float, float, float] | None
        if fit.estimator == "ols":
            est = _refit_ols(ystar)
        else:
            res = _nls(ystar, fit.curve, x0=x0.copy())
            est = (float(res.x[0]), float(res.x[1]), float(res.x[2])) if res.success else None
        if est is None:
            failed += 1
            est = (fit.p, fit.q, fit.m)
        sims[b] = bass_adoptions(t_all, *est, curve=fit.curve)  # type: ignore[arg-type]
    if interval == "prediction":
        sims[:, n:] += rng.normal(0.0, s, (n_boot, horizon))
    lo, _, hi = _quantiles(sims, level)
    lo = np.maximum(lo, 0.0)
    cum_obs = np.cumsum(y)
    cum_point = np.concatenate([cum_obs, cum_obs[-1] + np.cumsum(point[n:])])
    cum_sims = np.concatenate([np.tile(cum_obs, (n_boot, 1)),
                               cum_obs[-1] + np.cumsum(sims[:, n:], axis=1)], axis=1)
    c_lo, _, c_hi = _quantiles(cum_sims, level)
    labels = _extend_labels(fit.labels, horizon)
    table = pd.DataFrame({
        "period": t_all, "label": labels,
        "kind": ["fit"] * n + ["forecast"] * horizon,
        "observed": np.concatenate([y, np.full(horizon, np.nan)]),
        "adopters": point, "adopters_low": lo, "adopters_high": hi,
        "cumulative": cum_point, "cumulative_low": c_lo, "cumulative_high": c_hi,
    })
    warnings = []
    if failed:
        warnings.append(f"{failed} of {n_boot} bootstrap refits failed and were replaced by the "
                        "original estimates (intervals may be too narrow)")
    return BassForecast(
        name=f"Bass forecast, {horizon} periods ahead", estimate=float(cum_point[-1]),
        ci=(float(c_lo[-1]), float(c_hi[-1])), ci_level=level,
        method=(f"Point forecast from the fitted curve; {level:.0%} {interval} intervals from a "
                f"parametric bootstrap: {n_boot} histories simulated from the fitted values plus "
                f"N(0, {s:.4g}^2) errors, each refitted ({fit.estimator.upper()})"
                + ("; fresh period errors added to forecasts" if interval == "prediction"
                   else "") + "; lower bounds floored at 0 adopters. Cumulative = observed to "
                "date + forecast."),
        n=n, table=table, warnings=warnings,
        details={"horizon": horizon, "n_boot": n_boot, "failed_refits": failed,
                 "residual_sd": s, "interval": interval},
        reference="Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. "
                  "Chapman & Hall.",
        draws=sims,
    )


def _extend_labels(labels: Sequence[Any], horizon: int) -> list[Any]:
    labels = list(labels)
    nums = pd.to_numeric(pd.Series(labels), errors="coerce")
    if len(labels) >= 2 and nums.notna().all():
        step = float(nums.iloc[-1] - nums.iloc[-2])
        last = float(nums.iloc[-1])
        ext = [last + step * (i + 1) for i in range(horizon)]
        if all(float(v).is_integer() for v in [*nums, *ext]):
            return [int(v) for v in [*nums, *ext]]
        return [*nums.tolist(), *ext]
    return [*labels, *[f"+{i + 1}" for i in range(horizon)]]


def _pq_choice(p: Any, q: Any, analog: str | Sequence[str] | None, n: int,
               rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame | None]:
    """The candidate (p, q) pairs, which pair each draw uses, and the analog rows."""
    if analog is not None:
        if p is not None or q is not None:
            raise ParameterError("give either p and q or analog, not both", parameter="analog")
        rows = analog_parameters(analog)
        pick = rng.integers(0, len(rows), n) if len(rows) > 1 else np.zeros(n, dtype=int)
        return rows["p"].to_numpy(float), rows["q"].to_numpy(float), pick, rows
    if p is None or q is None:
        raise ParameterError("give p and q, or an analog product", parameter="p")
    check_bass_parameters(p, q)
    return np.array([float(p)]), np.array([float(q)]), np.zeros(n, dtype=int), None


def _pq_draws(p: Any, q: Any, analog: str | Sequence[str] | None, n: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
    ps, qs, pick, rows = _pq_choice(p, q, analog, n, rng)
    return ps[pick], qs[pick], rows


def _m_draws(m: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    arr = np.asarray(m, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError("m must be positive (a number or draws)", parameter="m")
    if arr.size == 1:
        return np.full(n, arr[0])
    if arr.size == n:
        return arr
    return arr[rng.integers(0, arr.size, n)]


def forecast_from_analogs(
    m: Any, horizon: int = 10, *, analog: str | Sequence[str] | None = None,
    p: float | None = None, q: float | None = None, level: float = 0.9,
    n_draws: int = 10_000, seed: int | np.random.Generator = 0, start: int = 1,
    curve: Literal["interval", "density"] = "interval",
) -> BassForecast:
    """Forecast adopters without a history: p and q from analogs (or given), m from sizing.

    Parameters
    ----------
    m : float or array
        Eventual adopters; an array of Monte Carlo draws carries the sizing uncertainty.
    horizon : int
        Periods to forecast (period 1 = launch year).
    analog : str or list of str, optional
        Product names from :func:`bass_analogs`; several = equal-probability mixture.
    p, q : float, optional
        Given coefficients instead of analogs.
    level : float
        Interval coverage.
    n_draws : int
        Draws of (m, analog).
    start : int
        Label of the first period (e.g. the launch year).

    Returns
    -------
    BassForecast
        ``table``: ``period``, ``label``, ``adopters`` (median), ``adopters_low``/``_high``,
        ``cumulative`` (median) with its interval, ``share_adopted`` (F at the period's end
        for the median p, q).
    """
    horizon = _check_common(level, horizon)
    n_draws = check_positive_int(n_draws, "n_draws", minimum=1)
    rng = make_rng(seed)
    pd_, qd, rows = _pq_draws(p, q, analog, n_draws, rng)
    md = _m_draws(m, n_draws, rng)
    t = np.arange(1, horizon + 1, dtype=float)
    if curve == "interval":
        share = bass_cdf(t[None, :], pd_[:, None], qd[:, None])
        prev = bass_cdf(t[None, :] - 1, pd_[:, None], qd[:, None])
        per = md[:, None] * (share - prev)
    elif curve == "density":
        from researchkit.sizing.bass import bass_pdf

        per = md[:, None] * bass_pdf(t[None, :], pd_[:, None], qd[:, None])
        share = np.cumsum(per / md[:, None], axis=1)
    else:
        raise ParameterError("unknown Bass curve", parameter="curve",
                             expected="'interval' or 'density'", got=curve)
    cum = np.cumsum(per, axis=1)
    lo, med, hi = _quantiles(per, level)
    c_lo, c_med, c_hi = _quantiles(cum, level)
    table = pd.DataFrame({"period": t.astype(int), "label": start + np.arange(horizon),
                          "adopters": med, "adopters_low": lo, "adopters_high": hi,
                          "cumulative": c_med, "cumulative_low": c_lo, "cumulative_high": c_hi,
                          "share_adopted": np.median(share, axis=0)})
    src = "given p and q" if rows is None else \
        f"analog(s) {', '.join(rows['product'])} (equal weights)"
    return BassForecast(
        name=f"Bass forecast from {'analogs' if rows is not None else 'given p, q'}",
        estimate=float(c_med[-1]), ci=(float(c_lo[-1]), float(c_hi[-1])), ci_level=level,
        method=(f"Bass curve with p, q from {src}; m "
                f"{f'from {np.size(m):,} sizing draws' if np.size(m) > 1 else 'fixed'}; "
                f"{n_draws:,} draws; medians and central {level:.0%} intervals per period."),
        table=table, n=n_draws,
        details={"p_median": float(np.median(pd_)), "q_median": float(np.median(qd)),
                 "m_median": float(np.median(md)), "horizon": horizon},
        reference="Bass, F. M. (1969). Management Science 15(5), 215-227; Lilien, G. L., "
                  "Rangaswamy, A. & Van den Bulte, C. (2000). Diffusion models: managerial "
                  "applications and software. In Mahajan, Muller & Wind (eds.), New-Product "
                  "Diffusion Models, Kluwer.",
        draws=per,
    )


def som_ramp(
    result: Any, *, p: float | None = None, q: float | None = None,
    analog: str | Sequence[str] | None = None, chain: str | None = None, level: str = "som",
    measure: str = "money", horizon: int | None = None, start: int | None = None,
    interval: float = 0.9, basis: Literal["average", "end"] = "average",
    seed: int | np.random.Generator = 0,
) -> BassForecast:
    """The SOM reached period by period over the planning horizon, on a Bass curve.

    Parameters
    ----------
    result : SizingResult
        A simulation; the SOM draws carry the sizing uncertainty into the ramp.
    p, q, analog
        Diffusion coefficients, or analog products; default the spec's ``ramp`` settings.
    chain, level, measure
        Which output is ramped (default: the spec's ramp chain and level, money).
    horizon : int
        Periods in the planning horizon (default the spec's ``ramp.horizon``, else 5).
    start : int
        Label of the first period (default the spec's ``ramp.start``, else 1).
    interval : float
        Coverage of the intervals.
    basis : {"average", "end"}
        Share of eventual customers averaged over each period, or reached at its end.
    seed : int or Generator
        Seed for choosing among several analogs.

    Returns
    -------
    BassForecast
        ``table``: ``period``, ``label``, ``share_of_som`` (Bass share for the median p, q),
        ``volume`` (median), ``volume_low``/``volume_high``, ``mean``. ``estimate``: median
        volume in the last period of the horizon.
    """
    spec = getattr(result, "spec", None)
    if spec is None:
        raise ParameterError("expected a SizingResult from simulate()", parameter="result")
    ramp = spec.ramp
    if p is None and q is None and analog is None:
        if ramp is None:
            raise ParameterError("no diffusion coefficients: give p and q or an analog, or a "
                                 "ramp section in the spec", parameter="analog")
        p, q = ramp.p, ramp.q
        analog = list(ramp.analog) if ramp.analog else None
    chain = chain or (ramp.chain if ramp is not None else next(iter(spec.chains)))
    horizon = horizon or (ramp.horizon if ramp is not None else 5)
    start = start if start is not None else (ramp.start if ramp is not None and ramp.start
                                             is not None else 1)
    key = f"{chain}.{level}.{measure}"
    if key not in result.outputs:
        raise ParameterError("unknown sizing output", parameter="level", got=key,
                             expected=f"one of {list(result.outputs)}")
    horizon = _check_common(interval, horizon)
    if basis not in ("average", "end"):
        raise ParameterError("unknown basis", parameter="basis",
                             expected="'average' or 'end'", got=basis)
    som = result.outputs[key]
    rng = make_rng(seed)
    ps, qs, pick, rows = _pq_choice(p, q, analog, som.size, rng)
    t = np.arange(1, horizon + 1, dtype=float)
    share_rows = np.array([bass_mean_share(t, pp, qq) if basis == "average"
                           else bass_cdf(t, pp, qq) for pp, qq in zip(ps, qs, strict=True)])
    shares = share_rows[pick] if len(ps) > 1 else np.broadcast_to(share_rows[0],
                                                                    (som.size, horizon))
    vol = som[:, None] * shares
    lo, med, hi = _quantiles(vol, interval)
    p_med, q_med = float(np.median(ps[pick])), float(np.median(qs[pick]))
    share_med = bass_mean_share(t, p_med, q_med) if basis == "average" else bass_cdf(t, p_med,
                                                                                        q_med)
    table = pd.DataFrame({"period": t.astype(int), "label": start + np.arange(horizon),
                          "share_of_som": share_med, "volume": med, "volume_low": lo,
                          "volume_high": hi, "mean": vol.mean(axis=0)})
    src = f"p = {p_med:g}, q = {q_med:g}" if rows is None else \
        f"analog(s) {', '.join(rows['product'])}"
    return BassForecast(
        name=f"SOM ramp: {key}", estimate=float(med[-1]), ci=(float(lo[-1]), float(hi[-1])),
        ci_level=interval,
        method=(f"Volume in period t = SOM draw x Bass share of eventual customers "
                f"({'averaged over the period' if basis == 'average' else 'at the period end'}); "
                f"Bass coefficients from {src}; {som.size:,} SOM draws; medians and central "
                f"{interval:.0%} intervals."),
        table=table, n=int(som.size),
        details={"output": key, "p": p_med, "q": q_med, "horizon": horizon, "basis": basis,
                 "share_of_som_at_horizon": float(share_med[-1])},
        reference="Bass, F. M. (1969). Management Science 15(5), 215-227.",
        draws=None,
    )
