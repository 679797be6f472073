"""Aggregation of unit-level experiment data into sufficient statistics.

This module is the **one place** where rows are touched. Everything downstream (frequentist,
CUPED, Bayesian, sequential analysis) works on the :class:`SufficientStats` it returns.

Two engines compute the same numbers:

* **pandas/numpy** for a DataFrame in memory;
* **DuckDB** for a Parquet file (or a list/glob of files) or a DuckDB relation: the query in
  :func:`aggregation_sql` is pushed down and only one row per group comes back, so the rows
  are never loaded into Python memory. The same SQL is meant to run on a warehouse or Spark
  (through Ibis) when the data outgrow one machine.

For integer/boolean columns and for float columns with declared ``decimals`` (e.g. money with
2 decimals) the statistics are exact integers, hence **identical** in both engines. Float
columns without ``decimals`` are summed in float64 (numpy pairwise summation; DuckDB's
compensated ``fsum``), so the two engines agree to within float summation error; the result
records which columns are exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from researchkit.errors import DataError, ParameterError
from researchkit.experiments._checks import check_columns, check_name
from researchkit.experiments.statistics import (
    ColumnSpec,
    GroupStats,
    SufficientStats,
    pair_key,
    sort_keys,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["aggregate", "aggregation_sql", "rollup_events", "rollup_sql"]

#: Largest magnitude (in units of 10**-d) a fixed-decimal value may have: integers up to
#: 2**52 are exactly representable in float64, so the conversion is exact below it.
MAX_FIXED = 2.0**52
#: A float value ``x`` "has at most d decimals" when ``y = x * 10**d`` satisfies
#: ``|y − round(y)| − TOL_REL · |y| <= TOL_ABS`` (the same expression in numpy and SQL):
#: float64 holds a d-decimal number with a relative error below 2**-53 and the multiplication
#: adds at most the same, so genuine d-decimal data pass with a wide margin while values with
#: more decimals fail.
TOL_ABS = 1e-9
TOL_REL = 1e-13
MAX_DECIMALS = 9

_INT_TYPES = {"tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger",
              "ubigint", "hugeint", "uhugeint", "boolean"}
_FLOAT_TYPES = {"float", "double"}


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------
def aggregate(
    data: Any,
    *,
    arm: str,
    columns: Sequence[str],
    pairs: Sequence[tuple[str, str]] | None = None,
    segments: Sequence[str] = (),
    decimals: int | Mapping[str, int] | None = None,
    engine: str = "numpy",
) -> SufficientStats:
    """Per-arm (and per-segment) counts, sums and cross-products of metric columns.

    Parameters
    ----------
    data : DataFrame, str, Path, list of paths, or duckdb relation
        One row per randomisation unit (user). A path (or glob, or list of paths) is read as
        Parquet by DuckDB; a DuckDB relation is queried in place. Neither is loaded into
        memory.
    arm : str
        Column holding the arm (variant) of each unit.
    columns : sequence of str
        Metric columns to sum (numbers or booleans).
    pairs : sequence of (str, str), optional
        Cross-products ``Σ a·b`` to compute. Default: the square of every column.
    segments : sequence of str
        Columns to break the statistics down by (e.g. ``["device"]``).
    decimals : int or dict, optional
        Number of decimals of float columns (e.g. ``2`` for money). Such columns are summed
        exactly as integers in units of ``10**-decimals``; a value with more decimals is an
        error, never silently rounded. An int applies to every float column; a dict maps
        column names to decimals. Integer and boolean columns are always exact.
    engine : {"numpy", "duckdb"}
        How a DataFrame is aggregated: researchkit's chunked numpy code, or DuckDB scanning
        the DataFrame in place (faster on large frames). Exact columns give identical numbers
        either way. Paths and relations always use DuckDB.

    Returns
    -------
    SufficientStats

    Raises
    ------
    DataError
        Missing columns, missing/non-finite values, a non-numeric metric column, values with
        more decimals than declared, a missing arm value.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["A", "A", "B"], "conv": [1, 0, 1],
    ...                    "revenue": [9.99, 0.0, 12.5]})
    >>> st = aggregate(df, arm="arm", columns=["conv", "revenue"], decimals=2)
    >>> st.group("A").sums
    {'conv': 1, 'revenue': 999}
    """
    arm = check_name(arm, "arm")
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise ParameterError("expected a list of metric columns", parameter="columns",
                             got=columns)
    columns = list(dict.fromkeys(columns))
    for c in columns:
        check_name(c, "columns")
    if isinstance(segments, str):
        segments = [segments]
    segments = tuple(dict.fromkeys(segments))
    keys = (arm, *segments)
    overlap = [c for c in columns if c in keys]
    if overlap:
        raise ParameterError("a metric column is also the arm or a segment column",
                             parameter="columns", got=overlap)
    pair_list = _pairs(columns, pairs)
    dec = _decimals(decimals, columns)

    import pandas as pd

    if isinstance(data, SufficientStats):
        raise ParameterError("these are already sufficient statistics", parameter="data",
                             expected="a DataFrame, a Parquet path or a DuckDB relation")
    if engine not in ("numpy", "duckdb"):
        raise ParameterError("unknown engine", parameter="engine",
                             expected="'numpy' or 'duckdb'", got=engine)
    if isinstance(data, pd.DataFrame):
        if engine == "duckdb":
            import duckdb

            con = duckdb.connect()  # referenced until the query has run
            try:
                return _aggregate_duckdb(_RelationSource(con.from_df(data)), arm, segments,
                                         columns, pair_list, dec)
            finally:
                con.close()
        return _aggregate_frame(data, arm, segments, columns, pair_list, dec)
    if isinstance(data, str | PathLike) or (
            isinstance(data, list | tuple) and data and
            all(isinstance(p, str | PathLike) for p in data)):
        return _aggregate_duckdb(_ParquetSource(data), arm, segments, columns, pair_list, dec)
    if _is_duckdb_relation(data):
        return _aggregate_duckdb(_RelationSource(data), arm, segments, columns, pair_list, dec)
    raise ParameterError("unsupported data", parameter="data",
                         expected="a pandas DataFrame, a Parquet path (or list of paths) or a "
                                  "DuckDB relation", got=type(data).__name__)


def _pairs(columns: list[str], pairs: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if pairs is None:
        return [(c, c) for c in columns]
    out: list[tuple[str, str]] = []
    for p in pairs:
        if not (isinstance(p, tuple | list) and len(p) == 2):
            raise ParameterError("a pair must be two column names", parameter="pairs", got=p)
        a, b = p
        for c in (a, b):
            if c not in columns:
                raise ParameterError("a pair names a column that is not aggregated",
                                     parameter="pairs", expected=f"one of {columns}", got=c)
        key = pair_key(a, b)
        if key not in out:
            out.append(key)
    return out


def _decimals(decimals: int | Mapping[str, int] | None, columns: list[str]) -> dict[str, int]:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 0 <= value <= MAX_DECIMALS:
            raise ParameterError("invalid number of decimals", parameter=where,
                                 expected=f"an integer in 0..{MAX_DECIMALS}", got=value)
        return int(value)

    if decimals is None:
        return {}
    if isinstance(decimals, Mapping):
        unknown = [c for c in decimals if c not in columns]
        if unknown:
            raise ParameterError("decimals given for columns that are not aggregated",
                                 parameter="decimals", expected=f"some of {columns}",
                                 got=unknown)
        return {c: check(v, f"decimals[{c!r}]") for c, v in decimals.items()}
    d = check(decimals, "decimals")
    return {c: d for c in columns}


# ---------------------------------------------------------------------------------------------
# pandas / numpy engine
# ---------------------------------------------------------------------------------------------
def _py(value: Any) -> Any:
    """Python scalar for a group key (numpy scalars unwrapped, NaN/NA as None)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def _first_bad_row(df: pd.DataFrame, mask: np.ndarray) -> Any:
    import numpy as np

    pos = int(np.flatnonzero(mask)[0])
    return _py(df.index[pos])


class _Values:
    """A chunk of a metric column ready for summation.

    ``data`` is float64 holding exact integers (storage units) for exact kinds, with
    ``max_abs`` their largest magnitude, or plain float64 for float columns.
    """

    __slots__ = ("binary", "data", "max_abs", "spec")

    def __init__(self, data: np.ndarray, spec: ColumnSpec, max_abs: int = 0,
                 binary: bool = False) -> None:
        self.data, self.spec, self.max_abs, self.binary = data, spec, max_abs, binary


class _Column:
    """A metric column of a DataFrame: its kind, and its values (read chunk by chunk)."""

    __slots__ = ("kind", "name", "raw", "spec")

    def __init__(self, name: str, raw: np.ndarray, spec: ColumnSpec, kind: str) -> None:
        # kind: "bool" | "int" | "float" (raw values) | "units" (already storage units)
        self.name, self.raw, self.spec, self.kind = name, raw, spec, kind


def _prepare_column(df: pd.DataFrame, col: str, decimals: dict[str, int]) -> _Column:
    """Classify a column and check what can be checked on the whole column cheaply."""
    import decimal

    import numpy as np
    import pandas as pd

    s = df[col]
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        raise DataError("metric column is categorical", column=col,
                        expected="numbers or booleans", got=str(dtype))
    numpy_backed = isinstance(dtype, np.dtype)
    if not numpy_backed or pd.api.types.is_object_dtype(dtype):
        missing = s.isna().to_numpy()
        if missing.any():
            raise DataError(f"{int(missing.sum()):,} missing value(s) in a metric column",
                            column=col, row=_first_bad_row(df, missing),
                            expected="a number for every unit (fill with 0 if no activity "
                                     "means 0)")
    if pd.api.types.is_bool_dtype(dtype):
        return _Column(col, s.to_numpy(dtype=np.bool_), ColumnSpec("int"), "bool")
    if pd.api.types.is_integer_dtype(dtype):
        raw = s.to_numpy() if numpy_backed else s.to_numpy(dtype=np.int64)
        return _Column(col, raw, ColumnSpec("int"), "int")
    if pd.api.types.is_float_dtype(dtype):
        raw = s.to_numpy() if numpy_backed else s.to_numpy(dtype=np.float64)
        d = decimals.get(col)
        return _Column(col, raw, ColumnSpec("float") if d is None else ColumnSpec("fixed", d),
                       "float")
    if pd.api.types.is_object_dtype(dtype):
        values = s.tolist()
        if all(isinstance(v, decimal.Decimal) for v in values):
            d = decimals.get(col)
            if d is None:
                d = max((-v.as_tuple().exponent for v in values
                         if isinstance(v.as_tuple().exponent, int)), default=0)
                d = max(d, 0)
            out = np.empty(len(values), dtype=np.float64)
            for i, v in enumerate(values):
                scaled = v.scaleb(d) if v.is_finite() else v
                if not v.is_finite() or scaled != scaled.to_integral_value() or \
                        abs(scaled) > MAX_FIXED:
                    raise DataError(f"decimal value with more than {d} decimal(s)",
                                    column=col, row=_py(df.index[i]), got=str(v))
                out[i] = float(int(scaled))
            return _Column(col, out, ColumnSpec("fixed", d) if d else ColumnSpec("int"),
                           "units")
    raise DataError("metric column is not numeric", column=col,
                    expected="numbers or booleans", got=str(dtype))


def _column_chunk(column: _Column, sl: slice, df: pd.DataFrame) -> _Values:
    """One chunk of a column as float64 storage units (exact kinds) or float64 values."""
    import numpy as np

    raw = column.raw[sl]
    offset = sl.start or 0
    col = column.name

    def bad_row(mask: np.ndarray) -> Any:
        return _py(df.index[offset + int(np.flatnonzero(mask)[0])])

    if column.kind == "bool":
        return _Values(raw.astype(np.float64), column.spec, 1, binary=True)
    if column.kind == "units":
        data = raw
        return _Values(data, column.spec, int(np.abs(data).max()) if data.size else 0)
    if column.kind == "int":
        lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, 0)
        max_abs = max(abs(lo), abs(hi))
        if max_abs > 2**53:
            raise DataError("integer values too large for exact sums", column=col,
                            expected="magnitudes up to 2**53", got=lo if abs(lo) > hi else hi)
        return _Values(raw.astype(np.float64), column.spec, max_abs,
                       binary=lo >= 0 and hi <= 1)
    x = raw.astype(np.float64, copy=False)
    finite = np.isfinite(x)
    if not finite.all():
        nan = np.isnan(x)
        what = "missing value(s)" if nan.any() else "non-finite value(s) (inf)"
        mask = nan if nan.any() else ~finite
        raise DataError(f"{what} in a metric column", column=col, row=bad_row(mask),
                        expected="a finite number for every unit (fill with 0 if no "
                                 "activity means 0)")
    if column.spec.kind == "float":
        return _Values(x, column.spec)
    d = column.spec.decimals
    y = x * float(10**d)
    r = np.rint(y)
    ay = np.abs(y)
    dev = np.abs(np.subtract(y, r, out=y), out=y)
    bad = (dev - ay * TOL_REL) > TOL_ABS  # the same expression as the SQL check
    max_abs = float(ay.max()) if ay.size else 0.0
    if bad.any() or max_abs > MAX_FIXED:
        mask = bad | (ay > MAX_FIXED)
        raise DataError(f"value with more than {d} decimal(s) (or too large for exact sums)",
                        column=col, row=bad_row(mask),
                        expected=f"at most {d} decimals (the decimals= you declared)",
                        got=float(x[int(np.flatnonzero(mask)[0])]))
    return _Values(r, column.spec, int(max_abs))


def _key_codes(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes and the level of each code for one key column (missing is a level)."""
    import numpy as np
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.intp)
        levels = [_py(c) for c in s.cat.categories.tolist()]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(levels), codes)
            levels.append(None)
        return codes, levels
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_extension_array_dtype(
            dtype):
        arr = s.to_numpy()
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if hi - lo < 2**20:
                codes = arr.astype(np.intp) - lo
                return codes, list(range(lo, hi + 1))
    if pd.api.types.is_bool_dtype(dtype) and not s.hasnans:
        return s.to_numpy().astype(np.intp), [False, True]
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=False)
    return codes.astype(np.intp, copy=False), [_py(u) for u in np.asarray(uniques,
                                                                            dtype=object)]


def _group_codes(df: pd.DataFrame, keys: tuple[str, ...]
                 ) -> tuple[np.ndarray, list[tuple]]:
    """Compact group codes (0..G-1) in the deterministic key order, and the keys."""
    import numpy as np

    codes_list, levels_list = zip(*(_key_codes(df[k]) for k in keys), strict=True)
    combined = codes_list[0]
    size = len(levels_list[0])
    for codes, levels in zip(codes_list[1:], levels_list[1:], strict=True):
        combined = combined * len(levels) + codes
        size *= len(levels)
    if size <= 2**22:
        present = np.flatnonzero(np.bincount(combined, minlength=size))
        lookup = None
    else:
        present, inverse = np.unique(combined, return_inverse=True)
        lookup = inverse.ravel()
    raw_keys = []
    for code in present.tolist():
        parts = []
        for levels in reversed(levels_list[1:]):
            code, r = divmod(code, len(levels))
            parts.append(levels[r])
        parts.append(levels_list[0][code])
        raw_keys.append(tuple(reversed(parts)))
    order = sort_keys(raw_keys)
    rank = {k: i for i, k in enumerate(order)}
    remap = np.array([rank[k] for k in raw_keys], dtype=np.intp)
    if lookup is not None:
        return remap[lookup], order
    table = np.full(size, -1, dtype=np.intp)
    table[present] = remap
    codes = table[combined] if not (len(present) == size and
                                   np.array_equal(remap, np.arange(size))) else combined
    return codes, order


_EXACT_LIMIT = 2**53


class _Grouper:
    """Per-group sums by ``np.bincount``, exact for integer-valued data.

    ``bincount`` accumulates in float64; when every partial sum is an integer below 2**53
    each addition is exact whatever the order. Larger integer data are split into k-bit
    limbs (``x = hi * 2**k + lo``) whose sums stay below 2**53, then recombined exactly in
    Python integers.
    """

    #: Up to this many groups, sums are dot products with 0/1 group indicators (exact for the
    #: same reason), faster than bincount.
    GEMV_GROUPS = 4

    def __init__(self, codes: np.ndarray, n_groups: int) -> None:
        import numpy as np

        self.codes, self.n_groups = codes, n_groups
        self.n = len(codes)
        self._masks: list[np.ndarray] | None = None
        self._order: np.ndarray | None = None
        self._ends: np.ndarray | None = None
        self._indicators = None
        if 1 < n_groups <= self.GEMV_GROUPS:
            self._indicators = np.empty((n_groups - 1, self.n), dtype=np.float64)
            for g in range(1, n_groups):
                np.equal(codes, g, out=self._indicators[g - 1])

    def _bincount(self, weights: np.ndarray) -> np.ndarray:
        """Per-group sums of integer-valued float64 weights (exact below 2**53)."""
        import numpy as np

        if self.n_groups == 1:
            return np.array([weights.sum()])
        if self._indicators is not None:
            # einsum's own SIMD loop: no BLAS threads (they stall on a busy machine)
            rest = [float(np.einsum("i,i->", ind, weights)) for ind in self._indicators]
            first = float(weights.sum()) - sum(rest)  # exact: integers < 2**53
            return np.array([first, *rest])
        return np.bincount(self.codes, weights=weights, minlength=self.n_groups)

    def exact(self, values: np.ndarray, max_abs: int) -> list[int]:
        """Exact sums of integer-valued float64 ``values`` (|value| <= max_abs <= 2**53)."""
        import numpy as np

        if self.n * max_abs < _EXACT_LIMIT:
            return [int(v) for v in self._bincount(values)]
        return self.exact_int64(values.astype(np.int64), max_abs)

    def exact_int64(self, values: np.ndarray, max_abs: int) -> list[int]:
        """Exact sums of int64 ``values`` of any magnitude, by limbs."""
        import numpy as np

        k = max(1, 53 - max(self.n, 1).bit_length())
        mask = (1 << k) - 1
        totals = [0] * self.n_groups
        shift = 0
        rem = values
        bound = max_abs
        while True:
            if self.n * bound < _EXACT_LIMIT:
                part = self._bincount(rem.astype(np.float64))
                totals = [t + (int(v) << shift) for t, v in zip(totals, part, strict=True)]
                return totals
            lo = (rem & mask).astype(np.float64)
            part = self._bincount(lo)
            totals = [t + (int(v) << shift) for t, v in zip(totals, part, strict=True)]
            rem = rem >> k
            bound = (bound >> k) + 1
            shift += k

    def floats(self, values: np.ndarray) -> list[float]:
        """Per-group float64 sums with numpy's pairwise summation."""
        import numpy as np

        if self.n_groups == 1:
            return [float(np.sum(values))]
        if self.n_groups <= self.GEMV_GROUPS:
            if self._masks is None:
                self._masks = [self.codes == g for g in range(self.n_groups)]
            return [float(np.sum(values[m])) for m in self._masks]
        if self._order is None:  # sort once, then sum contiguous slices
            self._order = np.argsort(self.codes, kind="stable")
            counts = np.bincount(self.codes, minlength=self.n_groups)
            self._ends = np.cumsum(counts)
        ordered = values[self._order]
        start = 0
        out = []
        for end in self._ends.tolist():
            out.append(float(np.sum(ordered[start:end])))
            start = end
        return out


def _product_sums(grouper: _Grouper, a: _Values, b: _Values, same: bool) -> list[Any]:
    import numpy as np

    if a.spec.exact and b.spec.exact:
        if same and a.binary:  # x**2 == x for 0/1 data
            return grouper.exact(a.data, a.max_abs)
        bound = a.max_abs * b.max_abs
        if bound <= _EXACT_LIMIT:  # the float64 product is exact
            return grouper.exact(a.data * b.data, bound)
        if bound < 2**63:
            return grouper.exact_int64(a.data.astype(np.int64) * b.data.astype(np.int64),
                                       bound)
        # products overflow int64: exact Python integers (slow, rare)
        prod = a.data.astype(np.int64).astype(object) * b.data.astype(np.int64).astype(object)
        return [int(prod[grouper.codes == g].sum()) for g in range(grouper.n_groups)]
    return grouper.floats(a.data * b.data)


#: Rows per chunk of the numpy engine: temporaries stay small (a few MB per column) and the
#: exactness bounds of float64 accumulation (n · max|x| < 2**53) hold for larger values.
CHUNK_ROWS = 1 << 20


def _aggregate_frame(df: pd.DataFrame, arm: str, segments: tuple[str, ...], columns: list[str],
                     pairs: list[tuple[str, str]], decimals: dict[str, int]) -> SufficientStats:
    import numpy as np

    keys = (arm, *segments)
    check_columns([*keys, *columns], [str(c) for c in df.columns], parameter="columns",
                  source="the DataFrame")
    if len(df) == 0:
        raise DataError("the DataFrame has no rows", parameter="data")
    arm_missing = df[arm].isna().to_numpy()
    if arm_missing.any():
        raise DataError(f"{int(arm_missing.sum()):,} unit(s) without an arm", column=arm,
                        row=_first_bad_row(df, arm_missing),
                        expected="an arm for every unit (drop unassigned units first)")
    prepared = {c: _prepare_column(df, c, decimals) for c in columns}
    specs = {c: p.spec for c, p in prepared.items()}
    codes, group_keys = _group_codes(df, keys)
    n_groups = len(group_keys)
    counts = np.bincount(codes, minlength=n_groups)
    for small in (np.int8, np.int16, np.int32):
        if n_groups <= np.iinfo(small).max:
            codes = codes.astype(small)
            break
    sums: dict[str, list[Any]] = {c: [0 if specs[c].exact else 0.0] * n_groups
                                  for c in columns}
    cross: dict[tuple[str, str], list[Any]] = {
        p: [0 if specs[p[0]].exact and specs[p[1]].exact else 0.0] * n_groups for p in pairs}

    def add(acc: list[Any], part: list[Any]) -> None:
        for i, v in enumerate(part):
            acc[i] += v

    for start in range(0, len(df), CHUNK_ROWS):
        sl = slice(start, start + CHUNK_ROWS)
        grouper = _Grouper(codes[sl], n_groups)
        values = {c: _column_chunk(prepared[c], sl, df) for c in columns}
        for c, v in values.items():
            add(sums[c], grouper.exact(v.data, v.max_abs) if v.spec.exact
                else grouper.floats(v.data))
        for a, b in pairs:
            add(cross[(a, b)], _product_sums(grouper, values[a], values[b], a == b))
        del values, grouper
    groups = {}
    for i, key in enumerate(group_keys):
        groups[key] = GroupStats(
            n=int(counts[i]),
            sums={c: sums[c][i] for c in columns},
            cross={p: cross[p][i] for p in pairs},
            specs=dict(specs),
        )
    return SufficientStats(arm, segments, specs, groups, source="pandas DataFrame (numpy)")


# ---------------------------------------------------------------------------------------------
# DuckDB engine
# ---------------------------------------------------------------------------------------------
def _is_duckdb_relation(data: Any) -> bool:
    mod = type(data).__module__ or ""
    return mod.startswith(("duckdb", "_duckdb")) and hasattr(data, "query") and \
        hasattr(data, "columns")


def quote(name: str) -> str:
    """SQL identifier quoting."""
    return '"' + name.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _ParquetSource:
    """Parquet file(s) read by DuckDB in a private in-memory connection."""

    def __init__(self, paths: Any) -> None:
        import glob

        items = [paths] if isinstance(paths, str | PathLike) else list(paths)
        self.paths = [str(Path(p)) for p in items]
        for p in self.paths:
            if any(ch in p for ch in "*?[") :
                if not glob.glob(p):
                    raise DataError("no file matches this pattern", file=p)
            elif not Path(p).is_file():
                raise DataError("file not found", file=p)
        listed = ", ".join(_sql_string(p) for p in self.paths)
        self.from_sql = f"read_parquet([{listed}])"
        self.label = self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files"
        self._con = None

    @property
    def con(self) -> Any:
        if self._con is None:
            import duckdb

            self._con = duckdb.connect()
        return self._con

    def schema(self) -> dict[str, str]:
        try:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.from_sql}").fetchall()
        except Exception as exc:  # duckdb.Error: unreadable file
            raise DataError(f"cannot read as Parquet: {exc}", file=self.label) from None
        return {r[0]: str(r[1]) for r in rows}

    def run(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def describe(self) -> str:
        return f"DuckDB on Parquet {self.label}"


class _RelationSource:
    """A DuckDB relation, queried in place under the name ``__rk_units``."""

    NAME = "__rk_units"

    def __init__(self, rel: Any) -> None:
        self.rel = rel
        self.from_sql = self.NAME
        self.label = "DuckDB relation"

    def schema(self) -> dict[str, str]:
        return {c: str(t) for c, t in zip(self.rel.columns, self.rel.types, strict=True)}

    def run(self, sql: str) -> list[tuple]:
        return self.rel.query(self.NAME, sql).fetchall()

    def describe(self) -> str:
        return "DuckDB relation"


def _spec_from_sql_type(col: str, sql_type: str, decimals: dict[str, int]) -> ColumnSpec:
    base = sql_type.lower().split("(")[0].strip()
    if base in _INT_TYPES:
        return ColumnSpec("int")
    if base in _FLOAT_TYPES:
        d = decimals.get(col)
        return ColumnSpec("float") if d is None else ColumnSpec("fixed", d)
    if base == "decimal":
        scale = int(sql_type.split(",")[1].rstrip(") ")) if "," in sql_type else 0
        d = decimals.get(col, scale)
        return ColumnSpec("fixed", d) if d else ColumnSpec("int")
    raise DataError("metric column is not numeric", column=col,
                    expected="numbers or booleans", got=sql_type)


_SMALL_INTS = {"tinyint", "smallint", "utinyint", "usmallint", "boolean"}
#: Integer widths tried for products, narrowest first: an overflow error makes the query run
#: again one step wider (DuckDB checks integer overflow, it never wraps silently).
WIDTHS = ("native", "bigint", "hugeint")


def _base(sql_type: str) -> str:
    return sql_type.lower().split("(")[0].strip()


def _value_sql(col: str, spec: ColumnSpec, sql_type: str, width: str = "native") -> str:
    """SQL expression of a column in storage units (integers for exact kinds)."""
    q = quote(col)
    base = _base(sql_type)
    if spec.kind == "int":
        if width == "native":
            return f"CAST({q} AS INTEGER)" if base in _SMALL_INTS else q
        return f"CAST({q} AS {width.upper()})"
    if spec.kind == "fixed":
        wide = "HUGEINT" if width == "hugeint" else "BIGINT"
        if base == "decimal":
            return f"CAST({q} * {10**spec.decimals} AS {wide})"
        return (f"CAST(round(CAST({q} AS DOUBLE) * CAST({10**spec.decimals} AS DOUBLE)) "
                f"AS {wide})")
    return f"CAST({q} AS DOUBLE)"


def _scaled_sql(col: str, spec: ColumnSpec, sql_type: str) -> str:
    if _base(sql_type) == "decimal":
        return f"({quote(col)} * {10**spec.decimals})"
    return f"(CAST({quote(col)} AS DOUBLE) * CAST({10**spec.decimals} AS DOUBLE))"


def _fixed_check_sql(col: str, spec: ColumnSpec, sql_type: str) -> tuple[str, str] | None:
    """Two aggregates for a fixed-decimal column: the largest excess of ``|y − round(y)|``
    over the relative tolerance (compared with ``TOL_ABS`` afterwards; exactly 0 is required
    for DECIMAL columns) and the largest ``|y|``, where ``y = x · 10**d``."""
    if spec.kind != "fixed":
        return None
    y = _scaled_sql(col, spec, sql_type)
    if _base(sql_type) == "decimal":
        return f"max(abs({y} - round({y})))", f"max(abs({y}))"
    return (f"max(abs({y} - round({y})) - {TOL_REL!r} * abs({y}))", f"max(abs({y}))")


def aggregation_sql(
    source: str,
    *,
    arm: str,
    segments: Sequence[str],
    columns: Mapping[str, ColumnSpec],
    pairs: Sequence[tuple[str, str]],
    sql_types: Mapping[str, str] | None = None,
    width: str = "native",
) -> str:
    """The aggregation query: one row per (arm, segments) group.

    Output columns: the keys ``k0, k1, ...``, ``n``, ``s0, s1, ...`` (sums of ``columns`` in
    storage units), ``c0, c1, ...`` (sums of the ``pairs`` products), ``m0, m1, ...``
    (non-missing counts), and for fixed-decimal columns ``b0, ...`` (largest rounding excess,
    see :func:`_fixed_check_sql`) and ``a0, ...`` (largest scaled magnitude).

    Exact columns are summed as integers (DuckDB returns HUGEINT sums, exact); float columns
    with ``fsum`` (compensated summation, reproducible across thread schedules).

    Parameters
    ----------
    source : str
        A SQL ``FROM`` item (a table name or ``read_parquet([...])``).
    arm, segments : str
        Key columns.
    columns : dict
        ``column -> ColumnSpec``.
    pairs : sequence of (str, str)
        Cross-products to sum.
    sql_types : dict, optional
        SQL type of each metric column (DECIMAL columns are scaled exactly).
    width : {"native", "bigint", "hugeint"}
        Integer width of the factors of products (see :data:`WIDTHS`).
    """
    types = dict(sql_types or {})
    keys = [arm, *segments]
    select = [f"{quote(k)} AS k{i}" for i, k in enumerate(keys)]
    select.append("count(*) AS n")
    names = list(columns)
    for i, c in enumerate(names):
        spec = columns[c]
        expr = _value_sql(c, spec, types.get(c, "DOUBLE"), "native")
        select.append(f"{'sum' if spec.exact else 'fsum'}({expr}) AS s{i}")
    for j, (a, b) in enumerate(pairs):
        ea = _value_sql(a, columns[a], types.get(a, "DOUBLE"), width)
        eb = _value_sql(b, columns[b], types.get(b, "DOUBLE"), width)
        if columns[a].exact and columns[b].exact:
            select.append(f"sum({ea} * {eb}) AS c{j}")
        else:
            select.append(f"fsum(CAST({ea} AS DOUBLE) * CAST({eb} AS DOUBLE)) AS c{j}")
    for i, c in enumerate(names):
        select.append(f"count({quote(c)}) AS m{i}")
    for i, c in enumerate(names):
        check = _fixed_check_sql(c, columns[c], types.get(c, "DOUBLE"))
        if check is not None:
            select.append(f"{check[0]} AS b{i}")
            select.append(f"{check[1]} AS a{i}")
    group = ", ".join(f"k{i}" for i in range(len(keys)))
    body = ",\n       ".join(select)
    return f"SELECT {body}\nFROM {source}\nGROUP BY {group}"


def _diagnose(src: Any, columns: Mapping[str, ColumnSpec], types: Mapping[str, str]) -> None:
    """After a failed check: find the first offending value and raise a DataError."""
    for c, spec in columns.items():
        q = quote(c)
        base = _base(types[c])
        conds = [f"{q} IS NULL"]
        if base in _FLOAT_TYPES:
            conds.append(f"NOT isfinite({q})")
        if spec.kind == "fixed":
            y = _scaled_sql(c, spec, types[c])
            if base == "decimal":
                conds.append(f"{y} <> round({y})")
            else:
                conds.append(f"abs({y} - round({y})) - {TOL_REL!r} * abs({y}) > {TOL_ABS!r}"
                             f" OR abs({y}) > {MAX_FIXED!r}")
        where = " OR ".join(f"({x})" for x in conds)
        rows = src.run(f"SELECT count(*), any_value({q}) FROM {src.from_sql} WHERE {where}")
        if rows and rows[0][0]:
            raise DataError(f"{rows[0][0]:,} missing, non-finite or over-precise value(s) in a "
                            f"metric column", column=c, file=getattr(src, "label", None),
                            expected="a finite number for every unit"
                                     + (f" with at most {spec.decimals} decimals"
                                        if spec.kind == "fixed" else ""),
                            got=rows[0][1])


def _aggregate_duckdb(src: Any, arm: str, segments: tuple[str, ...], columns: list[str],
                      pairs: list[tuple[str, str]], decimals: dict[str, int]
                      ) -> SufficientStats:
    import duckdb

    schema = src.schema()
    keys = (arm, *segments)
    check_columns([*keys, *columns], list(schema), parameter="columns",
                  source=src.describe())
    specs = {c: _spec_from_sql_type(c, schema[c], decimals) for c in columns}
    types = {c: schema[c] for c in columns}
    rows = None
    for width in WIDTHS:
        sql = aggregation_sql(src.from_sql, arm=arm, segments=segments, columns=specs,
                              pairs=pairs, sql_types=types, width=width)
        try:
            rows = src.run(sql)
            break
        except duckdb.OutOfRangeException as exc:
            if "multiplication" in str(exc).lower() and width != WIDTHS[-1]:
                continue  # a product overflowed: one step wider
            _diagnose(src, specs, types)
            raise DataError(f"DuckDB could not aggregate: {exc}", file=src.label) from None
        except duckdb.Error as exc:
            _diagnose(src, specs, types)
            raise DataError(f"DuckDB could not aggregate: {exc}", file=src.label) from None
    if not rows:
        raise DataError("the data have no rows", file=src.label)
    nk, nc, npairs = len(keys), len(columns), len(pairs)
    fixed = [i for i, c in enumerate(columns) if specs[c].kind == "fixed"]
    groups: dict[tuple, GroupStats] = {}
    for row in rows:
        key = tuple(row[:nk])
        n = int(row[nk])
        s = row[nk + 1: nk + 1 + nc]
        cp = row[nk + 1 + nc: nk + 1 + nc + npairs]
        present = row[nk + 1 + nc + npairs: nk + 1 + 2 * nc + npairs]
        checks = row[nk + 1 + 2 * nc + npairs:]
        if key[0] is None:
            raise DataError(f"{n:,} unit(s) without an arm", column=arm, file=src.label,
                            expected="an arm for every unit (drop unassigned units first)")
        bad = [c for c, m in zip(columns, present, strict=True) if m != n]
        for j, i in enumerate(fixed):
            excess, largest = checks[2 * j], checks[2 * j + 1]
            limit = 0 if _base(types[columns[i]]) == "decimal" else TOL_ABS
            if excess is not None and (float(excess) > limit or float(largest) > MAX_FIXED):
                bad.append(columns[i])
        if bad:
            _diagnose(src, specs, types)
            raise DataError("missing or over-precise values in a metric column",
                            column=bad[0], file=src.label)
        groups[key] = GroupStats(
            n=n,
            sums={c: _as_number(v, specs[c].exact) for c, v in zip(columns, s, strict=True)},
            cross={p: _as_number(v, specs[p[0]].exact and specs[p[1]].exact)
                   for p, v in zip(pairs, cp, strict=True)},
            specs=dict(specs),
        )
    if any(not spec.exact for spec in specs.values()):
        # fsum of an all-float column: make sure non-finite values did not slip through
        for c, spec in specs.items():
            if not spec.exact and any(g.sums[c] != g.sums[c] or abs(g.sums[c]) == float("inf")
                                      for g in groups.values()):
                _diagnose(src, specs, types)
    ordered = {k: groups[k] for k in sort_keys(groups)}
    return SufficientStats(arm, segments, specs, ordered, source=src.describe())


def _as_number(value: Any, exact: bool) -> int | float:
    if value is None:
        return 0 if exact else 0.0
    if exact:
        return int(value)
    return float(value)


# ---------------------------------------------------------------------------------------------
# event log -> one row per unit
# ---------------------------------------------------------------------------------------------
_ROLLUP_FUNCS = ("count", "sum", "any")


def _rollup_spec(metrics: Mapping[str, Any]) -> dict[str, tuple[str, str | None, dict]]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise ParameterError("expected a dict of output columns", parameter="metrics",
                             expected='{"sessions": ("count", None, {"event": "session"}), '
                                      '"revenue": ("sum", "revenue", {...})}', got=metrics)
    out = {}
    for name, spec in metrics.items():
        check_name(name, "metrics")
        if not isinstance(spec, tuple | list) or not 1 <= len(spec) <= 3:
            raise ParameterError("each metric is (function, column, filter)",
                                 parameter=f"metrics[{name!r}]", got=spec)
        fn, col, where = [*list(spec), None, None][:3]
        if fn not in _ROLLUP_FUNCS:
            raise ParameterError("unknown rollup function", parameter=f"metrics[{name!r}]",
                                 expected=f"one of {list(_ROLLUP_FUNCS)}", got=fn)
        if fn == "sum" and not isinstance(col, str):
            raise ParameterError("a sum needs a column", parameter=f"metrics[{name!r}]",
                                 got=col)
        where = dict(where or {})
        for k, v in where.items():
            check_name(k, f"metrics[{name!r}] filter")
            if isinstance(v, list | tuple | set):
                where[k] = list(v)
            else:
                where[k] = [v]
        out[name] = (fn, col, where)
    return out


def _sql_value(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return _sql_string(v)
    raise ParameterError("filter values must be strings, numbers or booleans",
                         parameter="metrics", got=v)


def rollup_sql(source: str, *, unit: str, arm: str, metrics: Mapping[str, Any],
               attributes: Sequence[str] = (), decimals: Mapping[str, int] | None = None
               ) -> str:
    """SQL rolling an event log up to one row per (unit, arm).

    ``count`` counts matching events, ``any`` is 1 if there is one, ``sum`` sums a column over
    matching events (exactly, in units of ``10**-d``, for columns with declared decimals).
    Attributes (e.g. device) must be constant within a unit (checked by
    :func:`rollup_events`); the query keeps that value.
    """
    spec = _rollup_spec(metrics)
    dec = dict(decimals or {})
    sel = [f"{quote(unit)} AS {quote(unit)}", f"{quote(arm)} AS {quote(arm)}"]
    sel += [f"any_value({quote(a)}) AS {quote(a)}" for a in attributes]
    for name, (fn, col, where) in spec.items():
        cond = " AND ".join(
            f"{quote(k)} IN ({', '.join(_sql_value(x) for x in vals)})"
            for k, vals in where.items()) or "TRUE"
        if fn == "count":
            sel.append(f"count(*) FILTER (WHERE {cond}) AS {quote(name)}")
        elif fn == "any":
            sel.append(f"CAST(count(*) FILTER (WHERE {cond}) > 0 AS INTEGER) AS {quote(name)}")
        elif col in dec:
            scale = 10 ** dec[col]
            sel.append(f"CAST(coalesce(sum(CAST(round(CAST({quote(col)} AS DOUBLE) * "
                       f"CAST({scale} AS DOUBLE)) AS BIGINT)) FILTER (WHERE {cond}), 0) "
                       f"AS DOUBLE) / CAST({scale} AS DOUBLE) AS {quote(name)}")
        else:
            sel.append(f"coalesce(sum({quote(col)}) FILTER (WHERE {cond}), 0) "
                       f"AS {quote(name)}")
    body = ",\n       ".join(sel)
    return (f"SELECT {body}\nFROM {source}\nGROUP BY {quote(unit)}, {quote(arm)}\n"
            f"ORDER BY {quote(unit)}")


def rollup_events(events: Any, *, unit: str = "user_id", arm: str = "arm",
                  metrics: Mapping[str, Any], attributes: Sequence[str] = (),
                  decimals: Mapping[str, int] | None = None) -> Any:
    """Roll an event log up to one row per randomisation unit.

    A/B tests randomise units (users), so the analysis needs one row per unit with its totals
    (sessions, orders, revenue...). Units seen in more than one arm are an error (the
    assignment leaked: exclude them upstream, deliberately).

    Parameters
    ----------
    events : DataFrame, Parquet path(s) or DuckDB relation
        One row per event.
    unit, arm : str
        Unit id and arm columns.
    metrics : dict
        ``name -> (function, column, filter)``: ``("count", None, {"event": "session"})``
        counts sessions, ``("sum", "revenue", {"event": "purchase"})`` sums revenue over
        purchases, ``("any", None, {"event": "purchase"})`` is 1 for buyers. A filter maps
        columns to a value or a list of values.
    attributes : sequence of str
        Unit attributes to keep (segments such as device); each must be constant within a
        unit (an error names the first unit where it is not).
    decimals : dict, optional
        ``column -> d`` for summed float columns with ``d`` decimals: summed exactly.

    Returns
    -------
    DataFrame (for a DataFrame input) or DuckDB relation (lazy; pass it to
    :func:`aggregate` and the roll-up and the aggregation run as one query).
    """
    import pandas as pd

    unit, arm = check_name(unit, "unit"), check_name(arm, "arm")
    spec = _rollup_spec(metrics)
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    dec = dict(decimals or {})
    needed = [unit, arm, *attributes]
    for _fn, col, where in spec.values():
        if col:
            needed.append(col)
        needed.extend(where)
    needed = list(dict.fromkeys(needed))
    if isinstance(events, pd.DataFrame):
        check_columns(needed, [str(c) for c in events.columns], parameter="metrics",
                      source="the event log")
        return _rollup_frame(events, unit, arm, spec, attributes, dec)
    import duckdb

    if isinstance(events, str | PathLike) or isinstance(events, list | tuple):
        src = _ParquetSource(events)
        # the lazy relation must outlive this call: use a connection kept for the process
        base = _rollup_connection().sql(f"SELECT * FROM {src.from_sql}")
    elif _is_duckdb_relation(events):
        base = events
    else:
        raise ParameterError("unsupported event data", parameter="events",
                             expected="a DataFrame, Parquet path(s) or a DuckDB relation",
                             got=type(events).__name__)
    check_columns(needed, list(base.columns), parameter="metrics", source="the event log")
    name = "__rk_events"
    checks = [arm, *attributes]
    distinct = ", ".join(f"count(DISTINCT {quote(c)}) AS k{i}" for i, c in enumerate(checks))
    having = " OR ".join(f"k{i} > 1" for i in range(len(checks)))
    bad = base.query(name, f"SELECT {quote(unit)}, {distinct} FROM {name} "
                           f"GROUP BY {quote(unit)} HAVING {having} "
                           f"ORDER BY {quote(unit)} LIMIT 1").fetchall()
    if bad:
        which = next(c for c, k in zip(checks, bad[0][1:], strict=True) if k > 1)
        if which == arm:
            raise DataError("a unit appears in more than one arm", column=unit, got=bad[0][0],
                            expected="each unit in exactly one arm (exclude leaked units "
                                     "first)")
        raise DataError("an attribute changes within a unit", column=which, got=bad[0][0],
                        expected="one value per unit")
    try:
        return base.query(name, rollup_sql(name, unit=unit, arm=arm, metrics=metrics,
                                           attributes=attributes, decimals=dec))
    except duckdb.Error as exc:
        raise DataError(f"DuckDB could not roll up the events: {exc}") from None


_ROLLUP_CON: Any = None


def _rollup_connection() -> Any:
    """A private DuckDB connection that lives as long as the process (relations built on it
    stay valid after :func:`rollup_events` returns)."""
    global _ROLLUP_CON
    if _ROLLUP_CON is None:
        import duckdb

        _ROLLUP_CON = duckdb.connect()
    return _ROLLUP_CON


def _rollup_frame(events: pd.DataFrame, unit: str, arm: str,
                  spec: Mapping[str, tuple[str, str | None, dict]], attributes: list[str],
                  decimals: Mapping[str, int]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    distinct = events.groupby(unit, observed=True, sort=True)[[arm, *attributes]].nunique()
    for c in [arm, *attributes]:
        bad = distinct.index[distinct[c].to_numpy() > 1]
        if len(bad) and c == arm:
            raise DataError("a unit appears in more than one arm", column=unit,
                            got=_py(bad[0]),
                            expected="each unit in exactly one arm (exclude leaked units "
                                     "first)")
        if len(bad):
            raise DataError("an attribute changes within a unit", column=c, got=_py(bad[0]),
                            expected="one value per unit")
    keys = [unit, arm]
    frame = events[[*dict.fromkeys([*keys, *attributes])]].copy()
    out_cols = []
    for name, (fn, col, where) in spec.items():
        mask = np.ones(len(events), dtype=bool)
        for k, vals in where.items():
            mask &= events[k].isin(vals).to_numpy()
        if fn in ("count", "any"):
            frame[name] = mask.astype(np.int64)
        elif col in decimals:
            scale = float(10 ** decimals[col])
            frame[name] = np.where(mask, np.rint(events[col].to_numpy(np.float64) * scale), 0
                                   ).astype(np.int64)
        else:
            frame[name] = np.where(mask, events[col].to_numpy(), 0)
        out_cols.append(name)
    agg = {name: "sum" for name in out_cols}
    agg.update({a: "first" for a in attributes})
    out = frame.groupby(keys, observed=True, sort=True).agg(agg).reset_index()
    for name, (fn, col, _) in spec.items():
        if fn == "any":
            out[name] = (out[name] > 0).astype(np.int32)
        elif fn == "sum" and col in decimals:
            out[name] = out[name].to_numpy().astype(np.float64) / float(10 ** decimals[col])
    return pd.DataFrame(out[[unit, arm, *attributes, *out_cols]]).sort_values(
        unit, kind="stable").reset_index(drop=True)
