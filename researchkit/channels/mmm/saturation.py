"""Saturation: diminishing returns of (adstocked) spend.

* **Hill** (Jin et al. 2017): :math:`h(x; K, s) = \\dfrac{x^s}{x^s + K^s}` for :math:`x \\ge 0`,
  with half-saturation point :math:`K > 0` (:math:`h(K) = 1/2`) and slope :math:`s > 0`
  (:math:`s \\le 1` concave; :math:`s > 1` S-shaped). Values lie in :math:`[0, 1)`.
* **Logistic** (PyMC-Marketing's ``logistic_saturation``):
  :math:`g(x; \\lambda) = \\dfrac{1 - e^{-\\lambda x}}{1 + e^{-\\lambda x}}
  = \\tanh(\\lambda x / 2)`, concave, :math:`g(0)=0`, :math:`g \\to 1`.

Both are vectorised over channels: ``x`` of shape ``(T, C)`` takes one parameter per channel.
A media coefficient :math:`\\beta` then gives the channel's contribution
:math:`\\beta\\, h(a_t)`, so :math:`\\beta` is the weekly contribution at full saturation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from researchkit.errors import ParameterError

__all__ = ["hill_saturation", "logistic_saturation", "saturation"]

SaturationKind = Literal["hill", "logistic"]
SATURATION_KINDS: tuple[str, ...] = ("hill", "logistic")


def _positive(value: float | np.ndarray | list, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError("saturation parameter must be a positive number", parameter=name,
                             expected="> 0", got=np.atleast_1d(arr).tolist())
    return arr


def _non_negative_x(x: np.ndarray | list) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError("saturation input must be finite and non-negative",
                             parameter="x", expected="spend or adstocked spend >= 0")
    return arr


def hill_saturation(
    x: np.ndarray | list, half: float | np.ndarray | list, slope: float | np.ndarray | list,
) -> np.ndarray:
    """Hill function :math:`x^s / (x^s + K^s)`.

    Parameters
    ----------
    x : array, shape (T,) or (T, C)
        Non-negative (adstocked) spend.
    half : float or array of C floats
        Half-saturation point :math:`K` (same units as ``x``).
    slope : float or array of C floats
        Hill slope :math:`s`.

    References
    ----------
    Hill, A. V. (1910). The possible effects of the aggregation of the molecules of haemoglobin
    on its dissociation curves. *J. Physiol.* 40, iv-vii.
    Jin, Y. et al. (2017). Bayesian methods for media mix modeling with carryover and shape
    effects. Google Inc., eq. (4).

    Examples
    --------
    >>> float(hill_saturation(2.0, half=2.0, slope=1.5))
    0.5
    """
    arr = _non_negative_x(x)
    K = _positive(half, "half")
    s = _positive(slope, "slope")
    # x^s / (x^s + K^s) = 1 / (1 + (K/x)^s), computed stably; h(0) = 0.
    with np.errstate(divide="ignore", over="ignore"):
        ratio = np.where(arr > 0, (K / np.where(arr > 0, arr, 1.0)) ** s, np.inf)
    return 1.0 / (1.0 + ratio)


def logistic_saturation(x: np.ndarray | list, lam: float | np.ndarray | list) -> np.ndarray:
    """Logistic saturation :math:`(1 - e^{-\\lambda x}) / (1 + e^{-\\lambda x})`.

    Parameters
    ----------
    x : array, shape (T,) or (T, C)
        Non-negative (adstocked) spend.
    lam : float or array of C floats
        Rate :math:`\\lambda > 0` (per unit of ``x``); half saturation at
        :math:`x = \\ln 3 / \\lambda`.

    References
    ----------
    PyMC Labs (2023). PyMC-Marketing: ``logistic_saturation``.

    Examples
    --------
    >>> float(logistic_saturation(np.log(3.0), lam=1.0))
    0.5
    """
    arr = _non_negative_x(x)
    lam_arr = _positive(lam, "lam")
    return np.tanh(lam_arr * arr / 2.0)


def saturation(
    x: np.ndarray | list, kind: SaturationKind, params: dict[str, float | np.ndarray],
) -> np.ndarray:
    """Apply saturation ``kind``: ``params`` holds ``half``/``slope`` (Hill) or ``lam``."""
    if kind == "hill":
        return hill_saturation(x, params["half"], params["slope"])
    if kind == "logistic":
        return logistic_saturation(x, params["lam"])
    raise ParameterError("unknown saturation", parameter="saturation",
                         expected=f"one of {SATURATION_KINDS}", got=kind)
