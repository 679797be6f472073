"""Base (non-media) regressors of a marketing-mix model: trend, Fourier seasonality, controls.

* **Trend**: :math:`\\tau_t = t / (T-1)` (0 at the first week, 1 at the last), plus optional
  hinge terms :math:`\\max(0, \\tau_t - c_k)` at evenly spaced change points :math:`c_k`
  (piecewise-linear trend, as in Prophet; Taylor & Letham 2018).
* **Seasonality**: Fourier terms :math:`\\sin(2\\pi k d_t / P)`, :math:`\\cos(2\\pi k d_t / P)`,
  :math:`k = 1..K`, where :math:`d_t` is the day of the year of week *t* and
  :math:`P = 365.25` days (Harvey 1989; Taylor & Letham 2018), so the seasonal shape is tied to
  the calendar, not to the first week of the data.
* **Controls**: centred on their mean (price, distribution, competitor activity, holidays...).

The intercept, trend, seasonality and controls form the *base*; their coefficients are free in
sign and not penalised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError

__all__ = ["base_design", "fourier_terms", "trend_terms"]

YEAR_DAYS = 365.25


def trend_terms(n: int, n_changepoints: int = 0) -> pd.DataFrame:
    """Linear trend on [0, 1] plus ``n_changepoints`` hinge terms at evenly spaced knots."""
    if isinstance(n_changepoints, bool) or not isinstance(n_changepoints, int) \
            or n_changepoints < 0:
        raise ParameterError("invalid number of trend change points",
                             parameter="n_changepoints", expected="an integer >= 0",
                             got=n_changepoints)
    tau = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(n)
    cols = {"trend": tau}
    for k in range(1, n_changepoints + 1):
        knot = k / (n_changepoints + 1)
        cols[f"trend_cp{k}"] = np.maximum(0.0, tau - knot)
    return pd.DataFrame(cols)


def fourier_terms(dates: pd.Series | pd.DatetimeIndex, order: int,
                  period_days: float = YEAR_DAYS) -> pd.DataFrame:
    """Fourier seasonality terms of the given order from calendar dates.

    Parameters
    ----------
    dates : datetime-like
        One date per period (e.g. the week start).
    order : int
        Number of harmonics :math:`K` (``2K`` columns); 0 gives no columns.
    period_days : float
        Length of the cycle in days (365.25 = yearly).
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ParameterError("invalid Fourier order", parameter="seasonality",
                             expected="an integer >= 0", got=order)
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    # Days since a fixed epoch, so the phase is the same for any data start.
    days = (d - pd.Timestamp("2000-01-01")).days.to_numpy(dtype=float)
    cols = {}
    for k in range(1, order + 1):
        angle = 2.0 * np.pi * k * days / period_days
        cols[f"sin{k}"] = np.sin(angle)
        cols[f"cos{k}"] = np.cos(angle)
    return pd.DataFrame(cols, index=range(len(d)))


def base_design(
    dates: pd.Series, *, trend: bool = True, n_changepoints: int = 0, seasonality: int = 3,
    controls: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The base design matrix: intercept, trend, Fourier terms and centred controls."""
    n = len(dates)
    parts = [pd.DataFrame({"intercept": np.ones(n)})]
    if trend:
        parts.append(trend_terms(n, n_changepoints))
    elif n_changepoints:
        raise ParameterError("change points need a trend", parameter="n_changepoints",
                             expected="0 when trend=False", got=n_changepoints)
    if seasonality:
        parts.append(fourier_terms(dates, seasonality))
    if controls is not None and controls.shape[1]:
        centred = controls.reset_index(drop=True).astype(float)
        parts.append(centred - centred.mean())
    return pd.concat(parts, axis=1)
