"""Experiment lifts for calibrating a marketing-mix model.

A lift test (geo holdout, go-dark or conversion-lift experiment) measures the incremental sales
caused by one channel's spend during a test window. A table of lift tests has one row per test:

=========  ==============================================================================
column     meaning
=========  ==============================================================================
channel    the channel tested (one of the model's channels)
start      first period of the test window (a date in the model's date column)
end        last period of the test window (inclusive)
lift       measured incremental sales caused by the channel's spend in the window, scaled
           to the market the model covers (same units as the sales column)
se         standard error of ``lift`` (> 0)
=========  ==============================================================================

The model's counterpart of a lift is :math:`\\beta_c g_k(\\theta)` with
:math:`g_k = \\sum_{t \\ge start} [h_c(x_c)_t - h_c(x_c^{(k)})_t]`, where :math:`x_c^{(k)}` is
the channel's spend with the test window set to zero: the sales the window's spend generated,
carry-over included, up to the end of the data. The fit adds the Gaussian term
:math:`(\\hat\\sigma / se_k)^2 (\\beta_c g_k - L_k)^2` to the least-squares objective, i.e. the
measured lift enters as an independent observation with its own standard error (the
"calibration with experiments" of Jin et al. 2017, sec. 6, and of Meta's Robyn, written here as
a likelihood penalty rather than a Bayesian prior).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from researchkit.channels.mmm._checks import check_columns, numeric_column
from researchkit.channels.mmm._core import Lifts
from researchkit.errors import DataError, ParameterError

__all__ = ["LIFT_COLUMNS", "prepare_lifts"]

LIFT_COLUMNS = ("channel", "start", "end", "lift", "se")


def prepare_lifts(lift_tests: pd.DataFrame | None, dates: pd.Series, X: np.ndarray,
                  channels: Sequence[str]) -> Lifts:
    """Validate a lift-test table and turn it into the arrays the fit uses."""
    T = len(dates)
    if lift_tests is None or (isinstance(lift_tests, pd.DataFrame) and lift_tests.empty):
        return Lifts(np.zeros(0, int), np.zeros(0, int), np.zeros((T, 0)), np.zeros(0),
                     np.zeros(0))
    if not isinstance(lift_tests, pd.DataFrame):
        raise ParameterError("lift tests must be a DataFrame", parameter="lift_tests",
                             expected=f"columns {list(LIFT_COLUMNS)}",
                             got=type(lift_tests).__name__)
    check_columns(lift_tests, LIFT_COLUMNS, "lift_tests")
    lift = numeric_column(lift_tests, "lift", parameter="lift_tests")
    se = numeric_column(lift_tests, "se", parameter="lift_tests")
    channel_idx, start_idx = [], []
    X_off = np.empty((T, len(lift_tests)))
    day = pd.DatetimeIndex(dates)
    for i, row in enumerate(lift_tests.itertuples(index=False)):
        rownum = i + 1
        if row.channel not in channels:
            raise DataError("lift test for a channel the model does not have", row=rownum,
                            column="channel", parameter="lift_tests",
                            expected=f"one of {list(channels)}", got=row.channel)
        if se[i] <= 0:
            raise DataError("standard error must be positive", row=rownum, column="se",
                            parameter="lift_tests", got=se[i])
        try:
            start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
        except (ValueError, TypeError):
            raise DataError("test window dates could not be read", row=rownum,
                            column="start/end", parameter="lift_tests",
                            got=(row.start, row.end)) from None
        if end < start:
            raise DataError("test window ends before it starts", row=rownum,
                            column="end", parameter="lift_tests", got=str(row.end))
        inside = (day >= start) & (day <= end)
        if not inside.any():
            raise DataError("test window covers no period of the data", row=rownum,
                            column="start/end", parameter="lift_tests",
                            expected=f"dates between {day[0].date()} and {day[-1].date()}",
                            got=(str(row.start), str(row.end)))
        c = list(channels).index(row.channel)
        x = X[:, c].copy()
        if x[inside].sum() <= 0:
            raise DataError("the channel has no spend in the test window", row=rownum,
                            parameter="lift_tests", got=row.channel)
        x[inside] = 0.0
        X_off[:, i] = x
        channel_idx.append(c)
        start_idx.append(int(np.flatnonzero(inside)[0]))
    return Lifts(np.array(channel_idx), np.array(start_idx), X_off, lift, se)
