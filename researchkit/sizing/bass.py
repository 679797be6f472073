"""The Bass (1969) diffusion curve: how a market of ``m`` eventual adopters is reached over time.

Model
-----
The hazard of adopting at time t among those who have not yet adopted is ``p + q F(t)``:
``p`` is the coefficient of innovation (external influence), ``q`` the coefficient of imitation
(word of mouth), ``F`` the share of the ``m`` eventual adopters who have adopted. Its solution:

* cumulative share ``F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})``;
* density ``f(t) = ((p+q)²/p) e^{−(p+q)t} / (1 + (q/p) e^{−(p+q)t})²``;
* adopters in period t (from t−1 to t) ``n_t = m [F(t) − F(t−1)]`` (Srinivasan & Mason 1986),
  or the density approximation ``n_t ≈ m f(t)``;
* peak of adoptions at ``t* = ln(q/p) / (p+q)`` when ``q > p`` (else at launch);
* average cumulative share over period t: ``F̄_t = 1 − [G(t) − G(t−1)]`` with
  ``G(T) = ∫₀ᵀ (1 − F) = ((1+a)/(ab)) [ln(1+a) − ln(1 + a e^{−bT})]``, ``a = q/p``, ``b = p+q``
  (used for the SOM ramp of a repeat-purchase business: volume in period t is the steady-state
  volume times the average share of eventual customers acquired).

References
----------
Bass, F. M. (1969). A new product growth for model consumer durables. *Management Science*
15(5), 215-227. Srinivasan, V. & Mason, C. H. (1986). Nonlinear least squares estimation of new
product diffusion models. *Marketing Science* 5(2), 169-178.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from researchkit.errors import ParameterError

__all__ = [
    "bass_adoptions",
    "bass_cdf",
    "bass_mean_share",
    "bass_pdf",
    "bass_peak",
    "check_bass_parameters",
]

Curve = Literal["interval", "density"]


def check_bass_parameters(p: Any, q: Any, m: Any = None) -> None:
    """Raise a ParameterError unless p > 0, q ≥ 0 (and m > 0 when given), all finite."""
    for name, value, ok in (("p", p, lambda v: v > 0), ("q", q, lambda v: v >= 0),
                            ("m", m, lambda v: v > 0)):
        if value is None:
            continue
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) or not np.all(ok(arr)):
            expected = {"p": "p > 0", "q": "q >= 0", "m": "m > 0"}[name]
            raise ParameterError("invalid Bass parameter", parameter=name, expected=expected,
                                 got=value if arr.size == 1 else "an array with bad values")


def _cdf(t: Any, p: Any, q: Any) -> Any:
    """``F(t)`` without argument checks (broadcasting; for inner loops)."""
    e = np.exp(-(p + q) * np.maximum(t, 0))
    return np.where(t > 0, (1 - e) / (1 + (q / p) * e), 0.0)


def bass_cdf(t: Any, p: Any, q: Any) -> np.ndarray:
    """Cumulative share ``F(t)`` of eventual adopters adopted by time ``t`` (0 for t < 0)."""
    check_bass_parameters(p, q)
    return _cdf(np.asarray(t, dtype=float), np.asarray(p, dtype=float),
                np.asarray(q, dtype=float))


def bass_pdf(t: Any, p: Any, q: Any) -> np.ndarray:
    """Density ``f(t) = dF/dt`` (0 for t < 0)."""
    check_bass_parameters(p, q)
    t = np.asarray(t, dtype=float)
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    e = np.exp(-(p + q) * np.maximum(t, 0))
    return np.where(t >= 0, ((p + q) ** 2 / p) * e / (1 + (q / p) * e) ** 2, 0.0)


def bass_adoptions(periods: int | Any, p: Any, q: Any, m: Any,
                   curve: Curve = "interval") -> np.ndarray:
    """New adopters in periods 1..periods (or at the given period numbers).

    Parameters
    ----------
    periods : int or array of period numbers
        ``5`` means periods 1-5; an array gives the period numbers t (period t runs from t−1
        to t).
    p, q, m : float
        Innovation, imitation, market potential (eventual adopters).
    curve : {"interval", "density"}
        ``m [F(t) − F(t−1)]`` (exact adopters in the period; Srinivasan & Mason 1986) or
        ``m f(t)`` (density at the period's end, as in many textbook fits).
    """
    check_bass_parameters(p, q, m)
    if np.ndim(periods) == 0:
        n = int(periods)
        if n < 1:
            raise ParameterError("need at least one period", parameter="periods",
                                 expected="an integer >= 1", got=periods)
        t = np.arange(1, n + 1, dtype=float)
    else:
        t = np.asarray(periods, dtype=float)
    if curve == "interval":
        return m * (bass_cdf(t, p, q) - bass_cdf(t - 1, p, q))
    if curve == "density":
        return m * bass_pdf(t, p, q)
    raise ParameterError("unknown Bass curve", parameter="curve",
                         expected="'interval' or 'density'", got=curve)


def _g(t: np.ndarray, p: Any, q: Any) -> np.ndarray:
    """∫₀ᵗ (1 − F(s)) ds."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    b = p + q
    a = q / p
    t = np.maximum(t, 0)
    x = np.exp(-b * t)
    with np.errstate(divide="ignore", invalid="ignore"):
        general = (1 + a) / (a * b) * (np.log1p(a) - np.log1p(a * x))
    no_imitation = (1 - x) / b
    return np.where(a > 0, general, no_imitation)


def bass_mean_share(periods: int | Any, p: Any, q: Any) -> np.ndarray:
    """Average cumulative share ``F̄_t`` over each period t (from t−1 to t).

    ``F̄_t = 1 − [G(t) − G(t−1)]``, ``G(T) = ∫₀ᵀ (1 − F)`` (closed form in the module docstring).
    """
    check_bass_parameters(p, q)
    if np.ndim(periods) == 0:
        t = np.arange(1, int(periods) + 1, dtype=float)
    else:
        t = np.asarray(periods, dtype=float)
    return 1 - (_g(t, p, q) - _g(t - 1, p, q))


def bass_peak(p: float, q: float, m: float | None = None) -> dict[str, float]:
    """Time of peak adoption ``t* = ln(q/p)/(p+q)`` (0 when q ≤ p), the share adopted by then
    ``F(t*) = (q − p)/(2q)``, and (with ``m``) the peak rate ``m (p+q)²/(4q)``."""
    check_bass_parameters(p, q, m)
    if q <= p:
        t_star, share, rate = 0.0, 0.0, p
    else:
        t_star = math.log(q / p) / (p + q)
        share = (q - p) / (2 * q)
        rate = (p + q) ** 2 / (4 * q)
    out = {"t_peak": t_star, "share_at_peak": share, "peak_rate_share": rate}
    if m is not None:
        out["peak_rate"] = m * rate
    return out
