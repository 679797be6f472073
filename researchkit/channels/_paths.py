"""Reading journey paths into integer arrays (shared by the attribution models).

A path table has one row per journey or per unique path: ``path`` (a list of channels or an
``"a > b > c"`` string), ``conversions``, optionally ``nulls`` (journeys on that path that did
not convert) and ``value``. Without a ``nulls`` column every row is one journey, and a row with
no conversion counts as one null journey. The paths are encoded once into a flat array of channel
codes with per-path offsets, so every model works on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError

_MARK = "\x00"


@dataclass
class EncodedPaths:
    """Paths as integer arrays.

    Attributes
    ----------
    channels : list of str
        Channel names, sorted; ``codes`` index into it.
    codes : ndarray of int64
        Channel codes of every touch, path after path.
    offsets : ndarray of int64
        ``codes[offsets[i]:offsets[i+1]]`` is path ``i``.
    conversions, nulls, value : ndarray of float
        Per path.
    has_value : bool
        Whether a value column was given.
    """

    channels: list[str]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray
    has_value: bool
    source: str = "path table"

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_paths(self) -> int:
        return len(self.offsets) - 1

    def path_index(self) -> np.ndarray:
        """Path number of every touch."""
        return np.repeat(np.arange(self.n_paths), self.lengths)

    def position(self) -> np.ndarray:
        """0-based position of every touch within its path."""
        return np.arange(len(self.codes)) - np.repeat(self.offsets[:-1], self.lengths)


def _numeric(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    """Column ``col`` as non-negative finite floats; else a DataError naming the first bad row."""
    try:
        arr = pd.to_numeric(data[col], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers", column=col, got=str(exc)[:80]) from None
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{what} must be non-negative numbers", row=i + 1, column=col,
                        got=data[col].iloc[i])
    return arr


def read_paths(
    data: Any,
    *,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> EncodedPaths:
    """Encode a path table (or a :class:`~researchkit.channels.journeys.Journeys`)."""
    if isinstance(data, str | Path) or (hasattr(data, "columns") and hasattr(data, "aggregate")
                                         and not isinstance(data, pd.DataFrame)):
        from researchkit.channels._queries import path_table_sql

        cols = _source_columns(data)
        has_nulls = nulls is not None and nulls in cols
        data = path_table_sql(data, path=path, conversions=conversions,
                              nulls=nulls if has_nulls else None,
                              value=value if value is not None and value in cols else None)
        if not has_nulls:
            nulls = "nulls"
        path, conversions = "path", "conversions"
        value = "value" if "value" in data.columns else value
        if nulls != "nulls":
            data = data.rename(columns={"nulls": nulls})
    journeys_obj = getattr(data, "journeys", None)
    if isinstance(journeys_obj, pd.DataFrame) and hasattr(data, "path_table"):
        data = data.path_table()
        path, conversions, nulls, value, sep = "path", "conversions", "nulls", "value", ">"
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("journeys must be a DataFrame (path table) or a Journeys object",
                             parameter="journeys", got=type(data).__name__)
    if not isinstance(sep, str) or not sep or sep.strip() == "":
        raise ParameterError("invalid path separator", parameter="sep",
                             expected="a non-blank string such as '>'", got=sep)
    for col, param in ((path, "path"), (conversions, "conversions")):
        if col not in data.columns:
            raise DataError("column not found", column=col, parameter=param,
                            expected=f"one of {list(map(str, data.columns))}")
    conv = _numeric(data, conversions, "conversions")
    if nulls is not None and nulls in data.columns:
        nul = _numeric(data, nulls, "nulls")
        source = "unique-path table"
    elif nulls is not None and nulls != "nulls":
        raise DataError("column not found", column=nulls, parameter="nulls",
                        expected=f"one of {list(map(str, data.columns))}")
    else:
        nul = (conv == 0).astype(float)
        source = "one row per journey"
    if value is not None and value in data.columns:
        val = _numeric(data, value, "values")
        has_value = True
        orphan = (val > 0) & (conv == 0)
        if orphan.any():
            i = int(np.flatnonzero(orphan)[0])
            raise DataError("conversion value on a row without conversions", row=i + 1,
                            column=value, got=data[value].iloc[i],
                            hint="value is the total value of the row's conversions")
    elif value is not None and value != "value":
        raise DataError("column not found", column=value, parameter="value",
                        expected=f"one of {list(map(str, data.columns))}")
    else:
        val = np.zeros(len(data))
        has_value = False
    channels, codes, offsets = _encode(data[path], sep, path)
    return EncodedPaths(channels, codes, offsets, conv, nul, val, has_value, source)


def _source_columns(source: Any) -> list[str]:
    if isinstance(source, str | Path):
        import duckdb

        text = str(source)
        if not any(ch in text for ch in "*?[") and not Path(text).exists():
            raise DataError("file not found", file=text)
        con = duckdb.connect()
        try:
            return list(con.read_parquet(text).columns)
        finally:
            con.close()
    return list(source.columns)


def _encode(paths: pd.Series, sep: str, col: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    if len(paths) == 0:
        raise DataError("the path table is empty", column=col)
    fast = _encode_arrow(paths, sep, col)
    if fast is not None:
        return fast
    return _encode_python(paths, sep, col)


def _encode_arrow(paths: pd.Series, sep: str,
                  col: str) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Split and encode with pyarrow compute kernels (strings or lists of strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(paths, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_string(arr.type):
        if arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataError("missing path", row=row + 1, column=col)
        lists = pc.split_pattern(arr, pattern=sep)
    elif (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)) and \
            pa.types.is_string(arr.type.value_type):
        if arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataError("missing path", row=row + 1, column=col)
        lists = arr
    else:
        return None
    offsets = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)
    if lists.offset:
        offsets = offsets - offsets[0]
    tokens = lists.flatten()
    if tokens.null_count:
        return None
    # encode the raw tokens, then trim the (few) distinct spellings and merge equal names
    encoded = pc.dictionary_encode(tokens)
    raw_names = [nm.strip() for nm in encoded.dictionary.to_pylist()]
    names = list(dict.fromkeys(raw_names))
    position = {nm: k for k, nm in enumerate(names)}
    merge = np.array([position[nm] for nm in raw_names], dtype=np.int64)
    codes = merge[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    lengths = np.diff(offsets)
    empty_names = [k for k, nm in enumerate(names) if nm == ""]
    if empty_names or (lengths == 0).any():
        bad = np.zeros(len(lengths), dtype=bool)
        bad |= lengths == 0
        if empty_names:
            hit = np.isin(codes, empty_names)
            bad[np.repeat(np.arange(len(lengths)), lengths)[hit]] = True
        row = int(np.flatnonzero(bad)[0])
        raise DataError("empty channel name in path (an empty path, or two separators in a "
                        "row)", row=row + 1, column=col, got=paths.iloc[row])
    order = sorted(range(len(names)), key=lambda k: names[k])
    remap = np.empty(len(names), dtype=np.int64)
    remap[order] = np.arange(len(names))
    return [names[k] for k in order], remap[codes], offsets


def _encode_python(paths: pd.Series, sep: str,
                   col: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    values = paths.to_numpy(dtype=object)
    tokens: list[str] = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            parts = v.split(sep)
        elif isinstance(v, list | tuple | np.ndarray | pd.Series):
            parts = [x if isinstance(x, str) else str(x) for x in v]
        else:
            raise DataError("a path must be a string 'a > b' or a list of channels",
                            row=i + 1, column=col, got=v)
        if i:
            tokens.append(_MARK)
        tokens.extend(parts)
        if isinstance(v, str) and _MARK in v:
            raise DataError("paths contain the reserved character \\x00", row=i + 1,
                            column=col)
    codes, uniques = pd.factorize(np.asarray(tokens, dtype=object), sort=False)
    names = [u.strip() for u in uniques]
    mark_code = names.index(_MARK) if _MARK in names else -1
    mark = codes == mark_code
    bad_token = [k for k, nm in enumerate(names) if nm == ""]
    if bad_token:
        where = np.flatnonzero(np.isin(codes, bad_token))[0]
        row = int(mark[:where].sum())
        raise DataError("empty channel name in path (an empty path, or two separators in a "
                        "row)", row=row + 1, column=col, got=values[row])
    channel_names = sorted({nm for k, nm in enumerate(names) if k != mark_code})
    lookup = {nm: i for i, nm in enumerate(channel_names)}
    remap = np.array([lookup.get(nm, -1) for nm in names], dtype=np.int64)
    keep = ~mark
    flat = remap[codes[keep]]
    mark_pos = np.flatnonzero(mark)
    # touches before each path start: position of the k-th mark minus k marks before it
    starts = np.concatenate([[0], mark_pos - np.arange(len(mark_pos))])
    offsets = np.concatenate([starts, [len(flat)]]).astype(np.int64)
    return channel_names, flat.astype(np.int64), offsets


def credit_table(channels: list[str], conv: np.ndarray, value: np.ndarray, has_value: bool,
                 extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Per-channel table of attributed conversions, value and share of conversions."""
    total = conv.sum()
    table = pd.DataFrame({"channel": channels})
    for name, col in (extra or {}).items():
        table[name] = col
    table["conversions"] = conv
    table["value"] = value if has_value else np.nan
    table["share"] = conv / total if total > 0 else np.nan
    return table
