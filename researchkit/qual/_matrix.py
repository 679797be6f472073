"""Reliability data: one row per unit, one column per coder, NaN where a coder did not code.

Every coefficient in :mod:`researchkit.qual` reads its data through :func:`reliability_table`
(which also turns a long table of ``unit, coder, value`` rows into that shape) and
:func:`value_matrix` (which turns the values into numbers for a level of measurement).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError

__all__ = ["LEVELS", "reliability_table", "value_matrix"]

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def reliability_table(
    data: Any, *, unit: str | None = None, coder: str | None = None, value: str | None = None,
    coders: Sequence[str] | None = None, parameter: str = "data",
) -> pd.DataFrame:
    """Reliability data as a units × coders DataFrame.

    Parameters
    ----------
    data : DataFrame or 2-D array
        Wide (one row per unit, one column per coder) or, with ``unit``, ``coder`` and
        ``value`` given, long (one row per coding).
    unit, coder, value : str, optional
        Columns of a long table.
    coders : sequence of str, optional
        Use only these coders (columns), in this order.
    """
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ParameterError("reliability data must be 2-D (units × coders)",
                                 parameter=parameter, got=f"array with shape {data.shape}")
        data = pd.DataFrame(data, columns=[f"coder_{i + 1}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("reliability data must be a DataFrame", parameter=parameter,
                             expected="a DataFrame with one row per unit and one column per "
                             "coder (NaN = not coded)", got=type(data).__name__)
    long = [unit, coder, value]
    if any(x is not None for x in long):
        if not all(isinstance(x, str) for x in long):
            raise ParameterError("a long table needs all three of unit, coder and value",
                                 parameter="unit/coder/value", got=long)
        missing = [c for c in long if c not in data.columns]
        if missing:
            raise DataError("columns not in the table", column=missing[0],
                            expected=f"columns {long}", got=list(map(str, data.columns)))
        dup = data.duplicated([unit, coder], keep=False)
        if dup.any():
            first = data.index[dup.to_numpy()][:5].tolist()
            raise DataError(f"{int(dup.sum())} rows give a second value for the same unit and "
                            f"coder (first rows: {first})", column=coder,
                            expected="one value per unit and coder")
        wide = data.pivot(index=unit, columns=coder, values=value)
        wide.columns = [str(c) for c in wide.columns]
        data = wide
    if coders is not None:
        unknown = [c for c in coders if c not in data.columns]
        if unknown:
            raise ParameterError("unknown coders", parameter="coders", got=unknown,
                                 expected=f"some of {list(map(str, data.columns))}")
        data = data[list(coders)]
    if data.shape[1] < 2:
        raise DataError("reliability needs at least two coders (columns)",
                        expected="one column per coder", got=list(map(str, data.columns)))
    if data.shape[0] == 0:
        raise DataError("reliability data has no units (rows)")
    return data


def _is_numeric(col: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(col))


def _as_numbers(col: pd.Series) -> pd.Series | None:
    """The column as floats, or None if some non-missing value is not a number."""
    if _is_numeric(col):
        return col.astype(np.float64)
    if isinstance(col.dtype, pd.CategoricalDtype):
        return None
    num = pd.to_numeric(col, errors="coerce")
    if (num.isna() & col.notna()).any() or col.map(lambda v: isinstance(v, str)).any():
        return None
    return num.astype(np.float64)


def value_matrix(
    data: pd.DataFrame, level: str, *, order: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[Any] | None]:
    """Turn values into a float matrix (NaN = missing) for a level of measurement.

    * nominal: each distinct value gets an integer code (values of any type);
    * ordinal: numbers as they are, strings by their position in ``order`` (or the order of
      an ordered categorical); only the order of the values matters;
    * interval: numbers; ratio: non-negative numbers.

    Returns
    -------
    matrix : ndarray (units × coders)
    labels : list or None
        For nominal data, the value of each code.
    """
    if level not in LEVELS:
        raise ParameterError("unknown level of measurement", parameter="level",
                             expected=f"one of {LEVELS}", got=level)
    cols = list(data.columns)
    if level == "nominal":
        if all(_is_numeric(data[c]) for c in cols):
            num = data.to_numpy(dtype=np.float64)
            fast = _small_integer_codes(num)
            if fast is not None:
                return fast
            flat = num.ravel()
        else:
            flat = data.to_numpy(dtype=object).ravel()
        codes, uniques = pd.factorize(flat, use_na_sentinel=True)
        out = codes.astype(np.float64)
        out[codes < 0] = np.nan
        labels = [int(v) if isinstance(v, float) and v.is_integer() else v for v in uniques]
        return out.reshape(data.shape), labels
    if level == "ordinal":
        cat_order = _categorical_order(data)
        if order is None and cat_order is not None:
            order = cat_order
        if order is not None:
            order = list(order)
            if len(set(map(repr, order))) != len(order):
                raise ParameterError("values repeat in the order", parameter="order", got=order)
            position = {v: i for i, v in enumerate(order)}
            out = np.full(data.shape, np.nan)
            for j, c in enumerate(cols):
                col = data[c].astype(object)
                present = col.notna().to_numpy()
                unknown = sorted({repr(v) for v in col[present] if v not in position})
                if unknown:
                    raise DataError("values not in the given order", column=str(c),
                                    expected=f"one of {order}", got=unknown[:10])
                out[present, j] = [position[v] for v in col[present]]
            return out, None
    numbers = {c: _as_numbers(data[c]) for c in cols}
    bad = [c for c in cols if numbers[c] is None]
    if bad:
        col = data[bad[0]]
        example = next((v for v in col.dropna() if isinstance(v, str)
                        or not isinstance(v, int | float)), None)
        hint = ("pass order=[...] listing the values from lowest to highest"
                if level == "ordinal" else None)
        raise DataError(f"{level} reliability needs numeric values", column=str(bad[0]),
                        expected="numbers (NaN = not coded)", got=example, hint=hint)
    out = np.column_stack([numbers[c].to_numpy() for c in cols])
    if level == "ratio" and np.nanmin(out, initial=0.0) < 0:
        where = np.argwhere(out < 0)[0]
        raise DataError("ratio data must be non-negative (a ratio scale has an absolute zero)",
                        row=str(data.index[where[0]]), column=str(cols[where[1]]),
                        got=float(out[tuple(where)]))
    if np.isinf(out).any():
        where = np.argwhere(np.isinf(out))[0]
        raise DataError("infinite value", row=str(data.index[where[0]]),
                        column=str(cols[where[1]]), expected="finite numbers or NaN")
    return out, None


def _small_integer_codes(x: np.ndarray) -> tuple[np.ndarray, list[Any]] | None:
    """Whole-number categories in a small range: codes = value − min, without hashing."""
    finite = x[~np.isnan(x)]
    if finite.size == 0 or not np.isfinite(finite).all():
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo > 100_000 or not np.array_equal(finite, np.floor(finite)):
        return None
    present = np.flatnonzero(np.bincount((finite - lo).astype(np.intp)))
    if present.size == hi - lo + 1:
        codes = x - lo
    else:  # gaps: renumber the values that occur, keeping their order
        lookup = np.full(int(hi - lo) + 1, -1.0)
        lookup[present] = np.arange(present.size)
        codes = np.full(x.shape, np.nan)
        ok = ~np.isnan(x)
        codes[ok] = lookup[(x[ok] - lo).astype(np.intp)]
    return codes, [int(v + lo) for v in present]


def _categorical_order(data: pd.DataFrame) -> list[Any] | None:
    orders = []
    for c in data.columns:
        dtype = data[c].dtype
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            orders.append(list(dtype.categories))
        else:
            return None
    if orders and all(o == orders[0] for o in orders):
        return orders[0]
    return None
