"""Arrow helpers for large text columns (identifiers, record and person ids).

pandas 3 stores text in Arrow arrays (dtype ``str``); these helpers work on those arrays
directly, so millions of identifiers are hashed, compared and rebuilt in Arrow's C++ kernels
instead of as Python objects. Everything here is exact: results equal the pandas / Python
operations they replace (the stitching and journey tests compare both on random inputs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: pandas' default text dtype (Arrow storage, NaN for missing).
STR = pd.StringDtype("pyarrow", na_value=np.nan)


def text_array(values: pd.Series) -> pa.Array | None:
    """The values as one Arrow string array (nulls = missing), or ``None`` unless all are text.

    Only the default ``str`` dtype and object columns holding nothing but ``str`` (and missing
    values) qualify; anything else (numbers, mixed objects) stays with the generic code.
    """
    if values.dtype == STR:
        arr = pa.array(values.array)
    elif values.dtype == object and len(values) and \
            pd.api.types.infer_dtype(values, skipna=True) == "string":
        try:
            arr = pa.array(values.to_numpy(), type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return None
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def str_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index | None = None,
               name: str | None = None) -> pd.Series:
    """A pandas ``str`` Series on an Arrow string array (no copy)."""
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return pd.Series(pd.array(arr, dtype=STR), index=index, name=name, copy=False)


def factorize_text(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes (int64, -1 for null) and distinct values (in order of first appearance)."""
    enc = pc.dictionary_encode(arr)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64,
                                                                           copy=False)
    return codes, enc.dictionary


def int_like(arr: pa.Array) -> np.ndarray | None:
    """Integer keys of ids such as ``"P000123"`` or ``"R0000001"``, or ``None``.

    Applies when every value is the same prefix of non-digits followed by up to 18 digits,
    all of the same length (zero-padded): the integers then sort, compare and hash exactly
    like the strings, at a fraction of the cost.
    """
    found = id_numbers(arr)
    return None if found is None else found[0]


def id_numbers(arr: pa.Array) -> tuple[np.ndarray, tuple[str, int]] | None:
    """:func:`int_like` keys and the format (prefix, number of digits) they were read in."""
    if len(arr) == 0 or arr.null_count:
        return None
    data, offsets = utf8_bytes(arr)
    size = int(offsets[1] - offsets[0])
    if not len(data) == size * len(arr) or not np.array_equal(
            offsets, np.arange(len(arr) + 1, dtype=np.int64) * size):
        return None  # not all of one length
    chars = data.reshape(len(arr), size)
    first = chars[0]
    k = 0  # the prefix is the non-digit head of the first value
    while k < size and not 48 <= first[k] <= 57:
        k += 1
    width = size - k
    if not 0 < width <= 18 or (first[:k] >= 128).any():
        return None
    if k and not (chars[:, :k] == first[:k]).all():
        return None
    digits = chars[:, k:]
    if not ((digits >= 48) & (digits <= 57)).all():
        return None
    value = np.zeros(len(arr), dtype=np.int64)
    for j in range(width):
        value *= 10
        value += digits[:, j] - 48
    return value, (bytes(first[:k]).decode("ascii"), width)


def positions_in(reference: pd.Series, query: pd.Series) -> np.ndarray | None:
    """Position of each ``query`` value in ``reference`` (unique values), -1 where absent;
    ``None`` when the dtypes are not text/text or integer/integer (use pandas then)."""
    if reference.dtype == STR and query.dtype == STR:
        ref_arr, query_arr = text_array(reference), text_array(query)
        ref_keys, query_keys = id_numbers(ref_arr), id_numbers(query_arr)
        if ref_keys is None or query_keys is None or ref_keys[1] != query_keys[1]:
            found = pc.index_in(query_arr, value_set=ref_arr).fill_null(-1)
            return found.to_numpy(zero_copy_only=False).astype(np.int64)
        keys, wanted = ref_keys[0], query_keys[0]
    elif pd.api.types.is_integer_dtype(reference.dtype) and \
            pd.api.types.is_integer_dtype(query.dtype) and \
            isinstance(reference.dtype, np.dtype) and isinstance(query.dtype, np.dtype):
        keys, wanted = reference.to_numpy(np.int64), query.to_numpy(np.int64)
    else:
        return None
    return lookup(keys, wanted)


def lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each ``wanted`` integer in ``keys`` (distinct integers), -1 if absent."""
    if len(keys) == 0 or len(wanted) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo <= 8 * len(keys) + 1024:  # dense ids (the usual case): a direct table
        table = np.full(hi - lo + 1, -1, dtype=np.int64)
        table[keys - lo] = np.arange(len(keys))
        inside = (wanted >= lo) & (wanted <= hi)
        return np.where(inside, table[np.where(inside, wanted - lo, 0)], -1)
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    query_order = np.argsort(wanted, kind="stable")  # sorted queries search fast
    at = np.minimum(np.searchsorted(ranked, wanted[query_order]), len(ranked) - 1)
    found = np.where(ranked[at] == wanted[query_order], order[at], -1)
    out = np.empty(len(wanted), dtype=np.int64)
    out[query_order] = found
    return out


def utf8_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a string array without nulls and the offsets of each string into
    them (``offsets[i]:offsets[i + 1]``), both as numpy views where possible."""
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:
                                                              arr.offset + len(arr) + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    data = arr.buffers()[2]
    data = (np.frombuffer(data, dtype=np.uint8)[start:stop] if data is not None
            else np.empty(0, dtype=np.uint8))
    return data, offsets - start


def count_per_string(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Number of true bytes of ``mask`` (one entry per byte) in each string."""
    total = np.empty(len(mask) + 1, dtype=np.int32 if len(mask) < 2**31 - 1 else np.int64)
    total[0] = 0
    np.cumsum(mask, out=total[1:])
    return np.diff(total[offsets])


def strings_with(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Whether each string has a true byte in ``mask`` (fast when true bytes are rare)."""
    out = np.zeros(len(offsets) - 1, dtype=bool)
    hits = np.flatnonzero(mask)
    if len(hits):
        out[np.searchsorted(offsets, hits, side="right") - 1] = True
    return out


def repeat_text(text: str, n: int) -> pa.Array:
    """``text`` n times, as a large_string array."""
    raw = text.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(raw)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``f"{prefix}{k:0{width}d}"`` for each non-negative ``k`` (fits in ``width`` digits)."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    numbers = np.asarray(numbers, dtype=np.int64)
    chars = np.empty((len(numbers), len(head) + width), dtype=np.uint8)
    chars[:, :len(head)] = head
    rest = numbers.copy()
    for j in range(len(head) + width - 1, len(head) - 1, -1):
        chars[:, j] = 48 + rest % 10
        rest //= 10
    size = chars.shape[1]
    offsets = np.arange(len(numbers) + 1, dtype=np.int64) * size
    return pa.LargeStringArray.from_buffers(len(numbers), pa.py_buffer(offsets),
                                            pa.py_buffer(chars.tobytes()))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy's hash-based unique is slower here)."""
    if len(values) == 0:
        return values
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def int_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct integers and each key's position among them (dense ids: no sort)."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64), keys.astype(np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo <= 8 * len(keys) + 1024:
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[keys - lo] = True
        rank = np.cumsum(present) - 1
        return np.flatnonzero(present) + lo, rank[keys - lo]
    uniq = sorted_unique(keys)
    return uniq, lookup(uniq, keys)
