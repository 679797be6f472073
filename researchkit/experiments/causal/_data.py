"""Input checks shared by the causal designs: columns exist, are numeric, binary, complete.

Every check raises a :class:`~researchkit.errors.DataError` or
:class:`~researchkit.errors.ParameterError` that names the parameter, the column and (for a bad
value) the first offending row, so a user never sees a bare pandas traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError

__all__ = [
    "check_binary",
    "check_ci_level",
    "check_columns",
    "check_frame",
    "check_numeric",
    "column_list",
    "first_bad_row",
]


def check_frame(df: Any, parameter: str = "df") -> pd.DataFrame:
    """``df`` must be a non-empty pandas DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise ParameterError("expected a pandas DataFrame", parameter=parameter,
                             got=type(df).__name__)
    if df.empty:
        raise DataError("the table is empty", parameter=parameter,
                        expected="at least one row")
    return df


def column_list(value: str | Sequence[str] | None, parameter: str, *,
                required: str | None = None) -> list[str]:
    """A column-name argument as a list: one name, a sequence of names, or ``None`` (none).

    ``required`` (the description of what is expected, e.g. "the confounders to adjust for")
    makes an empty list a :class:`ParameterError` naming ``parameter``.
    """
    if value is None:
        names: list[str] = []
    elif isinstance(value, str):
        names = [value]
    elif isinstance(value, Sequence | pd.Index | np.ndarray):
        names = list(value)
    else:
        raise ParameterError("expected column names", parameter=parameter,
                             expected="a column name or a list of column names",
                             got=type(value).__name__)
    if required is not None and not names:
        raise ParameterError(f"no {parameter}", parameter=parameter, expected=required)
    return names


def first_bad_row(df: pd.DataFrame, mask: np.ndarray) -> Any:
    """Index label of the first row where ``mask`` is True (for error messages)."""
    pos = int(np.flatnonzero(mask)[0])
    return df.index[pos]


def check_columns(df: pd.DataFrame, **columns: str | Sequence[str] | None) -> None:
    """Every named column (keyword = parameter name) exists in ``df`` and has no missing value.

    ``None`` values are skipped; a sequence checks each of its columns.
    """
    for param, value in columns.items():
        if value is None:
            continue
        names = [value] if isinstance(value, str) else list(value)
        for name in names:
            if not isinstance(name, str):
                raise ParameterError("a column name must be a string", parameter=param,
                                     got=name)
            if name not in df.columns:
                raise DataError(f"column {name!r} not found", parameter=param,
                                expected=f"one of {list(map(str, df.columns))[:20]}")
            missing = df[name].isna().to_numpy()
            if missing.any():
                raise DataError("missing value", parameter=param, column=name,
                                row=first_bad_row(df, missing),
                                expected="complete data (drop or impute missing rows first)",
                                hint=f"{int(missing.sum())} missing value(s) in this column")


def check_numeric(df: pd.DataFrame, column: str, parameter: str) -> np.ndarray:
    """The column as a float array; non-numeric or infinite values are a :class:`DataError`."""
    series = df[column]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        if pd.api.types.is_bool_dtype(series):
            return series.to_numpy(dtype=float)
        raise DataError("column is not numeric", parameter=parameter, column=column,
                        expected="numbers", got=str(series.dtype))
    values = series.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError("infinite value", parameter=parameter, column=column,
                        row=first_bad_row(df, bad), expected="finite numbers",
                        got=float(values[bad][0]))
    return values


def check_binary(df: pd.DataFrame, column: str, parameter: str) -> np.ndarray:
    """The column as a 0/1 float array (booleans or 0/1 numbers); anything else is an error."""
    series = df[column]
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series):
        raise DataError("column is not a 0/1 indicator", parameter=parameter, column=column,
                        expected="0/1 or True/False", got=str(series.dtype))
    values = series.to_numpy(dtype=float)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise DataError("column is not a 0/1 indicator", parameter=parameter, column=column,
                        row=first_bad_row(df, bad), expected="0/1 or True/False",
                        got=values[bad][0].item())
    return values


def check_ci_level(ci_level: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(ci_level, bool) or not isinstance(ci_level, int | float) \
            or not 0 < ci_level < 1:
        raise ParameterError("invalid confidence level", parameter="ci_level",
                             expected="a number strictly between 0 and 1, e.g. 0.95",
                             got=ci_level)
    return float(ci_level)
