"""Adstock: the carry-over of advertising from the week of spend into later weeks.

An adstock turns a spend series :math:`x_t` into an "effective exposure" series

.. math:: a_t = \\sum_{l=0}^{L-1} w_l \\, x_{t-l},

a convolution with a lag-weight vector :math:`w` (Broadbent 1979; Jin, Wang, Sun, Chan &
Koehler 2017, "Bayesian methods for media mix modeling with carryover and shape effects",
Google). Three weight shapes are offered:

* **geometric** (Koyck decay): :math:`w_l = (1-\\alpha)\\,\\alpha^l`, :math:`0 \\le \\alpha < 1`,
  computed exactly (no truncation) as the recursion :math:`a_t = (1-\\alpha) x_t + \\alpha
  a_{t-1}` with :func:`scipy.signal.lfilter`;
* **Weibull CDF** (Robyn's "weibull_cdf"): a time-varying decay whose per-lag survival is
  one minus the Weibull CDF, :math:`v_0 = 1`,
  :math:`v_l = \\prod_{j=1}^{l} \\{1 - F(j; k, \\lambda)\\}`;
* **Weibull PDF** (Robyn's "weibull_pdf"): weights follow the Weibull density one lag on,
  :math:`v_l = f(l+1; k, \\lambda)`, so the peak effect can come weeks after the spend
  (shape :math:`k > 1`).

With ``normalize=True`` (the default) the weights are divided by their sum, so
:math:`\\sum_l w_l = 1`: a constant spend ``s`` gives, once the window has filled, an adstocked
level of exactly ``s``, and the adstocked series stays in spend units. (The geometric weights
above already sum to one over the infinite lag window.) Weeks before the first observation are
treated as zero spend.

All functions are vectorised over channels: ``x`` may be one series (shape ``(T,)``) or a
``(T, C)`` array with one column per channel and one parameter per channel.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from researchkit.errors import ParameterError

__all__ = ["adstock", "adstock_weights", "geometric_adstock", "weibull_adstock"]

AdstockKind = Literal["geometric", "weibull_cdf", "weibull_pdf"]
ADSTOCK_KINDS: tuple[str, ...] = ("geometric", "weibull_cdf", "weibull_pdf")


def _as_2d(x: np.ndarray | list, name: str = "x") -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=float)
    if arr.ndim not in (1, 2):
        raise ParameterError("spend must be one series or a (weeks x channels) array",
                             parameter=name, got=f"an array with shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("spend has missing or infinite values", parameter=name)
    return (arr[:, None], True) if arr.ndim == 1 else (arr, False)


def _per_channel(value: float | np.ndarray | list, n_channels: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1:
        arr = np.repeat(arr, n_channels)
    if arr.shape != (n_channels,):
        raise ParameterError("need one value, or one value per channel", parameter=name,
                             expected=f"a number or {n_channels} numbers", got=arr.tolist())
    if not np.all(np.isfinite(arr)):
        raise ParameterError("parameter must be finite", parameter=name, got=arr.tolist())
    return arr


def geometric_adstock(
    x: np.ndarray | list, alpha: float | np.ndarray | list, *, normalize: bool = True,
) -> np.ndarray:
    """Geometric (Koyck) adstock, exact over the whole history.

    .. math:: a_t = c\\,x_t + \\alpha\\, a_{t-1}, \\qquad a_{-1} = 0,

    i.e. :math:`a_t = c \\sum_{l \\ge 0} \\alpha^l x_{t-l}` with :math:`c = 1-\\alpha` when
    ``normalize`` (weights sum to one) and :math:`c = 1` otherwise.

    Parameters
    ----------
    x : array, shape (T,) or (T, C)
        Spend per period (one column per channel).
    alpha : float or array of C floats
        Retention rate per period, ``0 <= alpha < 1`` (share of the effect that carries over).
    normalize : bool
        Scale the weights to sum to one (the adstocked series stays in spend units).

    Returns
    -------
    ndarray with the shape of ``x``.

    References
    ----------
    Koyck, L. M. (1954). *Distributed lags and investment analysis*. North-Holland.
    Broadbent, S. (1979). One way TV advertisements work. *J. Market Research Society*, 21(3).

    Examples
    --------
    >>> geometric_adstock([1.0, 0.0, 0.0], 0.5).round(3).tolist()
    [0.5, 0.25, 0.125]
    """
    from scipy.signal import lfilter

    arr, was_1d = _as_2d(x)
    a = _per_channel(alpha, arr.shape[1], "alpha")
    if np.any(a < 0) or np.any(a >= 1):
        raise ParameterError("geometric adstock rate out of range", parameter="alpha",
                             expected="0 <= alpha < 1", got=a.tolist())
    out = np.empty_like(arr)
    # One filter call per distinct rate (columns sharing a rate are filtered together).
    for value in np.unique(a):
        cols = np.flatnonzero(a == value)
        gain = (1.0 - value) if normalize else 1.0
        out[:, cols] = lfilter([gain], [1.0, -value], arr[:, cols], axis=0)
    return out[:, 0] if was_1d else out


def adstock_weights(
    kind: AdstockKind, *, alpha: float | None = None, shape: float | None = None,
    scale: float | None = None, l_max: int = 13, normalize: bool = True,
) -> np.ndarray:
    """Lag weights :math:`w_0, \\dots, w_{L-1}` of an adstock (see the module text for formulas).

    Parameters
    ----------
    kind : {"geometric", "weibull_cdf", "weibull_pdf"}
    alpha : float
        Geometric retention rate (``kind="geometric"``); the weights are truncated at ``l_max``.
    shape, scale : float
        Weibull shape :math:`k > 0` and scale :math:`\\lambda > 0` in periods.
    l_max : int
        Number of lags (including lag 0).
    normalize : bool
        Divide by the sum so that the weights sum to one.
    """
    if isinstance(l_max, bool) or not isinstance(l_max, int | np.integer) or l_max < 1:
        raise ParameterError("invalid adstock window", parameter="l_max",
                             expected="an integer >= 1", got=l_max)
    lags = np.arange(l_max, dtype=float)
    if kind == "geometric":
        if alpha is None or not 0 <= alpha < 1:
            raise ParameterError("geometric adstock rate out of range", parameter="alpha",
                                 expected="0 <= alpha < 1", got=alpha)
        w = (1.0 - alpha) * alpha ** lags
    elif kind in ("weibull_cdf", "weibull_pdf"):
        for name, value in (("shape", shape), ("scale", scale)):
            if value is None or not np.isfinite(value) or value <= 0:
                raise ParameterError("Weibull adstock parameter must be positive",
                                     parameter=name, expected="a number > 0", got=value)
        k, lam = float(shape), float(scale)  # type: ignore[arg-type]
        if kind == "weibull_cdf":
            # 1 - F(j) = exp(-(j/lam)^k) for j = 1..L-1; cumulative product, v_0 = 1.
            log_surv = -((lags[1:] / lam) ** k)
            w = np.exp(np.concatenate([[0.0], np.cumsum(log_surv)]))
        else:
            t = lags + 1.0
            log_w = np.log(k / lam) + (k - 1.0) * np.log(t / lam) - (t / lam) ** k
            # Normalised weights are computed from log weights shifted by their maximum, so
            # they never underflow to all zeros.
            w = np.exp(log_w - log_w.max()) if normalize else np.exp(log_w)
    else:
        raise ParameterError("unknown adstock", parameter="kind",
                             expected=f"one of {ADSTOCK_KINDS}", got=kind)
    if normalize:
        total = w.sum()
        if not total > 0 or not np.isfinite(total):
            raise ParameterError("adstock weights vanish on this window", parameter="scale",
                                 hint="increase l_max or the Weibull scale")
        w = w / total
    return w


def weibull_adstock(
    x: np.ndarray | list, shape: float | np.ndarray | list, scale: float | np.ndarray | list,
    *, kind: Literal["cdf", "pdf"] = "cdf", l_max: int = 13, normalize: bool = True,
) -> np.ndarray:
    """Weibull adstock (CDF or PDF weights) over a window of ``l_max`` lags.

    CDF: :math:`v_l = \\prod_{j=1}^{l} e^{-(j/\\lambda)^k}` (``v_0 = 1``);
    PDF: :math:`v_l = f(l+1; k, \\lambda) = \\tfrac{k}{\\lambda}(\\tfrac{l+1}{\\lambda})^{k-1}
    e^{-((l+1)/\\lambda)^k}`; then :math:`a_t = \\sum_l w_l x_{t-l}` with
    :math:`w = v / \\sum v` when ``normalize``.

    Parameters
    ----------
    x : array, shape (T,) or (T, C)
    shape, scale : float or array of C floats
        Weibull shape :math:`k > 0` and scale :math:`\\lambda > 0` (in periods).
    kind : {"cdf", "pdf"}
    l_max : int
        Lags in the window (including lag 0).
    normalize : bool

    References
    ----------
    Meta Open Source (2023). Robyn: ``adstock_weibull`` (weibull_cdf / weibull_pdf).
    Jin, Y. et al. (2017). Bayesian methods for media mix modeling with carryover and shape
    effects. Google Inc.
    """
    from scipy.signal import lfilter

    if kind not in ("cdf", "pdf"):
        raise ParameterError("unknown Weibull adstock", parameter="kind",
                             expected="'cdf' or 'pdf'", got=kind)
    arr, was_1d = _as_2d(x)
    k = _per_channel(shape, arr.shape[1], "shape")
    lam = _per_channel(scale, arr.shape[1], "scale")
    pairs, inverse = np.unique(np.column_stack([k, lam]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out = np.empty_like(arr)
    # One weight vector and one filter call per distinct (shape, scale) pair.
    for group, (kk, ll) in enumerate(pairs):
        w = adstock_weights(f"weibull_{kind}", shape=kk, scale=ll,  # type: ignore[arg-type]
                            l_max=l_max, normalize=normalize)
        cols = np.flatnonzero(inverse == group)
        out[:, cols] = lfilter(w, [1.0], arr[:, cols], axis=0)
    return out[:, 0] if was_1d else out


def adstock(
    x: np.ndarray | list, kind: AdstockKind, params: dict[str, float | np.ndarray],
    *, l_max: int = 13, normalize: bool = True,
) -> np.ndarray:
    """Apply the adstock ``kind`` with parameters ``params``.

    ``params`` holds ``alpha`` for ``"geometric"`` and ``shape``/``scale`` for the Weibull
    kinds (a number, or one per channel).
    """
    if kind == "geometric":
        return geometric_adstock(x, params["alpha"], normalize=normalize)
    if kind in ("weibull_cdf", "weibull_pdf"):
        return weibull_adstock(x, params["shape"], params["scale"], kind=kind[8:],
                               l_max=l_max, normalize=normalize)
    raise ParameterError("unknown adstock", parameter="adstock",
                         expected=f"one of {ADSTOCK_KINDS}", got=kind)
