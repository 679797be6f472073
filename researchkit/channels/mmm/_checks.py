"""Input checks for the marketing-mix model (private)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError


def check_frame(data: Any, name: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("expected a pandas DataFrame", parameter=name,
                             got=type(data).__name__)
    if data.empty:
        raise DataError("the table is empty", parameter=name)
    return data


def check_columns(data: pd.DataFrame, columns: Sequence[str], parameter: str) -> None:
    for col in columns:
        if col not in data.columns:
            raise DataError("column not found", column=col, parameter=parameter,
                            expected=f"one of {list(map(str, data.columns))}")


def numeric_column(data: pd.DataFrame, col: str, *, non_negative: bool = False,
                   parameter: str | None = None) -> np.ndarray:
    values = pd.to_numeric(data[col], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("value is missing or not a number", row=pos + 1, column=col,
                        parameter=parameter, expected="a finite number",
                        got=data[col].iloc[pos])
    arr = values.to_numpy(dtype=float)
    if non_negative and (arr < 0).any():
        pos = int(np.flatnonzero(arr < 0)[0])
        raise DataError("negative value", row=pos + 1, column=col, parameter=parameter,
                        expected="a number >= 0", got=arr[pos])
    return arr


def date_column(data: pd.DataFrame, col: str) -> pd.Series:
    try:
        dates = pd.to_datetime(data[col], errors="raise")
    except (ValueError, TypeError) as exc:
        raise DataError(f"dates could not be read ({exc})", column=col,
                        expected="dates such as 2024-01-01") from None
    if dates.isna().any():
        pos = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError("missing date", row=pos + 1, column=col, expected="a date")
    diffs = dates.diff().iloc[1:]
    if (diffs <= pd.Timedelta(0)).any():
        pos = int(np.flatnonzero((diffs <= pd.Timedelta(0)).to_numpy())[0]) + 2
        raise DataError("dates must be strictly increasing (one row per period, sorted)",
                        row=pos, column=col, got=str(data[col].iloc[pos - 1]))
    return dates.reset_index(drop=True)


def check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError("invalid value", parameter=name,
                             expected=f"an integer >= {minimum}", got=value)
    return int(value)


def check_level(value: Any, name: str = "ci_level") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ParameterError("invalid interval level", parameter=name,
                             expected="a number between 0 and 1, e.g. 0.95", got=value)
    return float(value)
