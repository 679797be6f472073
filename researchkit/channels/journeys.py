"""Customer journeys: touches and conversions of each person, cut into journeys.

A **journey** ends at a conversion (the paid order, online or offline) and holds the person's
touches before it, after their previous conversion and inside the ``lookback`` window. Touches
after a person's last conversion form a **non-converting** (null) journey, cut to the lookback
window before that person's last touch: attribution models need those journeys too (a channel
that appears on many paths that never convert is not worth much), so they are kept.

Time is pushed to the conversion: a touch at the same timestamp as a conversion belongs to that
conversion's journey. A conversion with no touch inside its window gets a single pseudo-touch
``no_touch`` (default ``"(no touch)"``), so totals are conserved; pass ``no_touch=None`` to drop
such conversions instead (they are counted in ``details``).

The unique-path table (:meth:`Journeys.path_table`) is the format the Markov, Shapley and
ChannelAttribution models read: one row per distinct path with conversions, nulls and value.

Journeys are cut with integer arrays: person ids become codes, each touch finds the next
conversion of its person in the conversions sorted by person and time, and journey ids follow
from cumulative counts, so millions of touches take seconds. The tables equal those of the
straightforward ``merge_asof`` implementation kept in ``tests/_attribution_reference.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from researchkit.channels._arrow import (
    STR,
    factorize_text,
    id_numbers,
    int_codes,
    numbered,
    repeat_text,
    text_array,
)
from researchkit.channels._paths import _numeric
from researchkit.errors import DataError, ParameterError

__all__ = ["Journeys", "build_journeys", "path_table"]

PATH_SEP = " > "


@dataclass
class Journeys:
    """Journeys built by :func:`build_journeys`.

    Attributes
    ----------
    journeys : DataFrame
        One row per journey: ``journey_id``, ``person``, ``start``, ``end``, ``converted``,
        ``conversions`` (0/1), ``value``, ``kind`` (e.g. online/offline, when given),
        ``n_touches``, ``path`` (``"a > b"``), ``first_channel``, ``last_channel``, ``cost``,
        ``days_to_conversion`` (first touch to conversion, converting journeys only).
    touches : DataFrame
        The touches that belong to a journey: ``journey_id``, ``person``, ``time``,
        ``channel``, ``campaign``, ``cost``, ``position`` (0-based), ``n_touches``,
        ``days_before_end`` (days from touch to conversion / end of the null journey),
        ``converted``.
    details : dict
        Counts: touches used / outside the window, conversions without touch...
    """

    journeys: pd.DataFrame
    touches: pd.DataFrame
    details: dict[str, Any] = field(default_factory=dict)

    def path_table(self, *, collapse_repeats: bool = False) -> pd.DataFrame:
        """Unique paths with ``conversions``, ``nulls``, ``value`` and ``journeys`` counts."""
        return path_table(self.journeys, collapse_repeats=collapse_repeats)

    @property
    def converting(self) -> pd.DataFrame:
        """The converting journeys."""
        return self.journeys[self.journeys["converted"]]

    def summary(self) -> pd.DataFrame:
        """Headline counts as a one-row table."""
        j = self.journeys
        return pd.DataFrame([{
            "people": j["person"].nunique(), "journeys": len(j),
            "converting": int(j["converted"].sum()),
            "non_converting": int((~j["converted"]).sum()),
            "conversions": float(j["conversions"].sum()), "value": float(j["value"].sum()),
            "touches": len(self.touches), "unique_paths": j["path"].nunique(),
        }])


def _require(data: pd.DataFrame, cols: dict[str, str | None], what: str) -> None:
    for param, col in cols.items():
        if col is None:
            continue
        if col not in data.columns:
            raise DataError(f"column not found in {what}", column=col, parameter=param,
                            expected=f"one of {list(map(str, data.columns))}")


def _times(data: pd.DataFrame, col: str, what: str) -> pd.Series:
    try:
        t = pd.to_datetime(data[col], errors="raise")
    except (TypeError, ValueError) as exc:
        raise DataError(f"timestamps in {what} cannot be read", column=col,
                        got=str(exc)[:80]) from None
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise DataError(f"missing timestamp in {what}", row=i + 1, column=col)
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.astype("datetime64[ns]")


def _no_missing(data: pd.DataFrame, col: str, what: str) -> None:
    miss = data[col].isna().to_numpy()
    if miss.any():
        i = int(np.flatnonzero(miss)[0])
        raise DataError(f"missing value in {what}", row=i + 1, column=col)


def build_journeys(
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    person: str = "person_id",
    time: str = "timestamp",
    channel: str = "channel",
    campaign: str | None = None,
    cost: str | None = None,
    value: str | None = "value",
    kind: str | None = None,
    lookback: str | pd.Timedelta = "30D",
    no_touch: str | None = "(no touch)",
) -> Journeys:
    """Cut each person's touches into journeys ending at conversions (or not converting).

    Parameters
    ----------
    touches : DataFrame
        One row per touch: ``person``, ``time``, ``channel`` and optionally ``campaign`` and
        ``cost``. Offline touches (store visits, calls) are touches like any other.
    conversions : DataFrame
        One row per conversion (paid order), online or offline: ``person``, ``time``,
        ``value`` and optionally ``kind`` (e.g. ``"online"``/``"offline"``). Both tables use
        the same column names.
    person, time, channel, campaign, cost, value, kind : str
        Column names (``campaign``, ``cost``, ``kind`` optional; ``value=None`` counts
        conversions only).
    lookback : str or Timedelta
        Attribution window (pandas offset such as ``"30D"``, ``"14D"``, ``"12h"``).
    no_touch : str or None
        Pseudo-channel for conversions without a touch in their window (``None`` drops them).

    Returns
    -------
    Journeys

    Examples
    --------
    >>> t = pd.DataFrame({"person_id": [1, 1, 1, 2], "channel": ["search", "email", "store",
    ...                   "social"], "timestamp": pd.to_datetime(["2026-01-01", "2026-01-03",
    ...                   "2026-01-04", "2026-01-02"])})
    >>> c = pd.DataFrame({"person_id": [1], "timestamp": pd.to_datetime(["2026-01-04"]),
    ...                   "value": [120.0]})
    >>> build_journeys(t, c).journeys[["person", "path", "conversions", "value"]]
      person                    path  conversions  value
    0      1  search > email > store            1  120.0
    1      2                  social            0    0.0
    """
    if not isinstance(touches, pd.DataFrame) or not isinstance(conversions, pd.DataFrame):
        raise ParameterError("touches and conversions must be DataFrames",
                             parameter="touches/conversions")
    _require(touches, {"person": person, "time": time, "channel": channel,
                       "campaign": campaign, "cost": cost}, "touches")
    _require(conversions, {"person": person, "time": time, "value": value, "kind": kind},
             "conversions")
    try:
        window = pd.Timedelta(lookback)
    except (TypeError, ValueError):
        raise ParameterError("invalid lookback window", parameter="lookback",
                             expected="a duration such as '30D' or '12h'", got=lookback) from None
    if window <= pd.Timedelta(0):
        raise ParameterError("lookback window must be positive", parameter="lookback",
                             got=lookback)
    for col in (person, channel):
        _no_missing(touches, col, "touches")
    _no_missing(conversions, person, "conversions")

    n_t, n_c = len(touches), len(conversions)
    t_time = _times(touches, time, "touches").to_numpy().view(np.int64)
    t_channel = _column(touches[channel].astype(str))
    t_campaign = _column(touches[campaign]) if campaign else np.full(n_t, None, dtype=object)
    t_cost = _numeric(touches, cost, "costs") if cost else np.zeros(n_t)
    c_time = _times(conversions, time, "conversions").to_numpy().view(np.int64)
    c_value = _numeric(conversions, value, "conversion values") if value else np.zeros(n_c)
    c_kind = _column(conversions[kind].astype(str)) if kind else None
    t_person, c_person = _column(touches[person]), _column(conversions[person])
    if n_t and n_c:
        kinds = (_infer(t_person), _infer(c_person))
        if kinds[0] != kinds[1]:
            raise DataError("person ids of touches and conversions have different types",
                            column=person, got=kinds)
    # person codes shared by both tables (ordering by person id keeps ids deterministic)
    all_people, t_code, c_code, person_keys = _person_codes(t_person, c_person)
    n_people = len(all_people)

    # conversions by person and time (ties: input order): conv_id = position in that order
    c_order = np.lexsort((c_time, c_code))
    c_code, c_time, c_value = c_code[c_order], c_time[c_order], c_value[c_order]
    # each touch belongs to the first conversion of its person at or after it (time is pushed
    # to the conversion: a touch at the time of a conversion is part of it)
    conv_id = _next_conversion(t_code, t_time, c_code, c_time, n_people)
    has_conv = conv_id >= 0
    # null journeys: touches after the person's last conversion, anchored at their last touch
    anchor = np.full(n_people, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(anchor, t_code[~has_conv], t_time[~has_conv])
    end_time = np.where(has_conv, np.append(c_time, 0)[conv_id], anchor[t_code])
    in_window = end_time - t_time <= window.value
    n_outside = int(n_t - in_window.sum())
    conv_touch = in_window & has_conv
    null_touch = in_window & ~has_conv
    touched = np.bincount(conv_id[conv_touch], minlength=n_c) > 0
    n_no_touch = int((~touched).sum())
    keep = touched if no_touch is None else np.ones(n_c, dtype=bool)
    has_null = np.bincount(t_code[null_touch], minlength=n_people) > 0

    # journey ids: per person (in person order) the kept conversions in time order, then the
    # null journey
    null_before = np.cumsum(has_null) - has_null
    conv_jid = np.cumsum(keep) - 1 + null_before[c_code]
    null_jid = np.cumsum(np.bincount(c_code[keep], minlength=n_people)) + null_before
    n_journeys = int(keep.sum() + has_null.sum())
    j_code = np.empty(n_journeys, dtype=np.int64)
    j_code[conv_jid[keep]] = c_code[keep]
    people_with_null = np.flatnonzero(has_null)
    j_code[null_jid[people_with_null]] = people_with_null
    j_converted = np.zeros(n_journeys, dtype=bool)
    j_converted[conv_jid[keep]] = True
    j_end = np.empty(n_journeys, dtype=np.int64)
    j_end[conv_jid[keep]] = c_time[keep]
    j_end[null_jid[people_with_null]] = anchor[people_with_null]
    j_value = np.zeros(n_journeys)
    j_value[conv_jid[keep]] = c_value[keep]

    # touches of the journeys (in time order, ties in input order), then a pseudo-touch for
    # each conversion without touches
    by_time = (np.arange(n_t) if n_t < 2 or bool(np.all(t_time[1:] >= t_time[:-1]))
               else np.argsort(t_time, kind="stable"))
    rows = by_time[in_window[by_time]]
    jid = np.where(has_conv[rows], np.append(conv_jid, 0)[conv_id[rows]],
                   null_jid[t_code[rows]])
    extra = np.flatnonzero(~touched) if no_touch is not None else np.empty(0, dtype=np.int64)
    source = rows
    if len(extra):
        jid = np.concatenate([jid, conv_jid[extra]])
        source = np.concatenate([rows, n_t + c_order[extra]])
    order = np.argsort(jid, kind="stable")
    jid, source = jid[order], source[order]
    from_touch = source < n_t
    touch_row = np.where(from_touch, source, 0)
    conv_row = np.where(from_touch, 0, source - n_t)
    # (positions in the sorted conversions of the pseudo-touches' conversions)
    c_rank = np.empty(n_c, dtype=np.int64)
    c_rank[c_order] = np.arange(n_c)
    tt_time = np.where(from_touch, np.append(t_time, 0)[touch_row],
                       np.append(c_time, 0)[np.append(c_rank, 0)[conv_row]])
    tt_end = j_end[jid]
    starts = np.flatnonzero(np.concatenate([[True], jid[1:] != jid[:-1]])) if len(jid) \
        else np.empty(0, dtype=np.int64)
    sizes = np.diff(np.append(starts, len(jid)))
    n_touches = np.repeat(sizes, sizes)
    position = np.arange(len(jid)) - np.repeat(starts, sizes)
    with_extra = len(extra) > 0
    touches_out = pd.DataFrame({
        "journey_id": jid.astype(np.int64),
        "person": (_pick(t_person, c_person if with_extra else None, source)
                   if person_keys is None else pd.array(numbered(
                       person_keys[1][0], person_keys[0][source], person_keys[1][1]),
                       dtype=STR)),
        "time": tt_time.view("datetime64[ns]"),
        "channel": _pick(t_channel, _repeat(no_touch, n_c) if with_extra else None, source,
                         few=True),
        "campaign": _pick(t_campaign, np.full(n_c, None, dtype=object) if with_extra else None,
                          source, few=True),
        "cost": np.where(from_touch, np.append(t_cost, 0.0)[touch_row], 0.0).astype(float),
        "position": position.astype(np.int64),
        "n_touches": n_touches.astype(np.int64),
        "days_before_end": (tt_end - tt_time) / _DAY_NS,
        "converted": ~from_touch | np.append(has_conv, False)[touch_row],
    })

    start = tt_time[starts] if len(starts) else np.empty(0, dtype=np.int64)
    last = starts + sizes - 1
    channel_col = touches_out["channel"]
    out = pd.DataFrame({
        "journey_id": np.arange(n_journeys, dtype=np.int64),
        "person": all_people[j_code],
        "start": start.view("datetime64[ns]"),
        "end": j_end.view("datetime64[ns]"),
        "converted": j_converted,
        "conversions": j_converted.astype(np.int64),
        "value": j_value,
        "kind": _journey_kinds(c_kind, c_order, keep, conv_jid, n_journeys) if kind else None,
        "n_touches": sizes.astype(np.int64),
        "path": _paths(channel_col, starts, sizes),
        "first_channel": _as_objects_column(channel_col, starts),
        "last_channel": _as_objects_column(channel_col, last),
        "cost": (touches_out["cost"].groupby(jid, sort=True).sum().to_numpy(dtype=float)
                 if len(jid) else np.empty(0)),
    })
    out["days_to_conversion"] = np.where(
        out["converted"], (j_end - start) / _DAY_NS if len(start) else np.empty(0), np.nan)
    if kind is None:
        out = out.drop(columns="kind")
    details = {
        "lookback": str(window), "touches_in": len(touches), "touches_used": int(
            (touches_out["channel"] != no_touch).sum() if no_touch else len(touches_out)),
        "touches_outside_window": n_outside, "conversions_in": len(conversions),
        "conversions_without_touch": n_no_touch,
        "conversions_dropped": 0 if no_touch is not None else n_no_touch,
        "journeys": len(out), "converting": int(out["converted"].sum()),
    }
    return Journeys(journeys=out.reset_index(drop=True), touches=touches_out, details=details)


_DAY_NS = 86_400 * 10**9


def _next_conversion(t_code: np.ndarray, t_time: np.ndarray, c_code: np.ndarray,
                     c_time: np.ndarray, n_people: int) -> np.ndarray:
    """For each touch, the first conversion (index into conversions sorted by person, time
    and input order) of the same person at or after the touch; -1 if there is none."""
    first = np.searchsorted(c_code, np.arange(n_people + 1))  # c_code is sorted
    count = np.diff(first)
    out = np.full(len(t_code), -1, dtype=np.int64)
    active = np.flatnonzero(count[t_code] > 0)
    step = 0
    # people have few conversions: look at their 1st, 2nd... conversion in turn
    while len(active) and step < 8:
        at = first[t_code[active]] + step
        hit = c_time[at] >= t_time[active]
        out[active[hit]] = at[hit]
        active = active[~hit]
        active = active[count[t_code[active]] > step + 1]
        step += 1
    if len(active):  # people with many conversions: binary search within their range
        code = t_code[active]
        lo, hi = first[code] + step, first[code + 1]
        while True:
            open_ = lo < hi
            if not open_.any():
                break
            mid = (lo + hi) // 2
            later = open_ & (c_time[np.minimum(mid, len(c_time) - 1)] >= t_time[active])
            hi = np.where(later, mid, hi)
            lo = np.where(open_ & ~later, mid + 1, lo)
        found = lo < first[code + 1]
        out[active[found]] = lo[found]
    return out


def _column(values: pd.Series) -> Any:
    """``values.to_numpy()`` as a DataFrame column would hold it (object arrays of text are
    inferred as ``str``); ``str`` columns pass through without conversion."""
    if values.dtype == STR:
        return values.array if values.notna().any() else values.to_numpy()
    arr = values.to_numpy()
    if arr.dtype == object:
        return pd.Series(arr, copy=False).array
    return arr


def _infer(values: Any) -> str:
    """``pd.api.types.infer_dtype`` of the values as a numpy array."""
    if getattr(values, "dtype", None) == STR:
        return "string"  # text without missing values (checked before)
    return pd.api.types.infer_dtype(np.asarray(values))


def _person_codes(t_person: Any, c_person: Any
                  ) -> tuple[pd.Index, np.ndarray, np.ndarray, Any]:
    """Sorted person ids of both tables and each row's position in them; for ids such as
    ``"P000123"`` also their numbers (touches then conversions) and format."""
    if getattr(t_person, "dtype", None) == STR and getattr(c_person, "dtype", None) == STR:
        a, b = pa.array(t_person), pa.array(c_person)
        a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        b = b.combine_chunks() if isinstance(b, pa.ChunkedArray) else b
        na, nb = id_numbers(a), id_numbers(b)
        keys = None
        if na is not None and nb is not None and na[1] == nb[1]:
            keys = (np.concatenate([na[0], nb[0]]), na[1])
            uniq, codes = int_codes(keys[0])
            names = numbered(na[1][0], uniq, na[1][1])
        else:
            codes, found = factorize_text(pa.chunked_array([a, b]).combine_chunks())
            order = pc.sort_indices(found).to_numpy(zero_copy_only=False)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = rank[codes]
            names = found.take(pa.array(order))
        people = pd.Index(pd.array(names, dtype=STR))
        return people, codes[:len(a)], codes[len(a):], keys
    t_arr, c_arr = np.asarray(t_person), np.asarray(c_person)
    if t_arr.dtype.kind in "iu" and c_arr.dtype.kind in "iu":
        uniq, codes = int_codes(np.concatenate([t_arr.astype(np.int64),
                                                c_arr.astype(np.int64)]))
        return pd.Index(uniq.astype(object), dtype=object), codes[:len(t_arr)], \
            codes[len(t_arr):], None
    people = pd.Index(pd.unique(np.concatenate([t_arr.astype(object), c_arr.astype(object)])))
    try:
        people = people.sort_values()
    except TypeError:
        people = pd.Index(sorted(people, key=str))
    return people, people.get_indexer(t_arr), people.get_indexer(c_arr), None


def _repeat(text: str, n: int) -> Any:
    return pd.array(repeat_text(text, n), dtype=STR)


def _pick(first: Any, second: Any, index: np.ndarray, *, few: bool = False) -> pd.Series:
    """Rows ``index`` of ``first`` followed by ``second``, stacked as ``pd.concat`` stacks
    them (text and objects give objects). ``few``: the columns hold few distinct values
    (channels, campaigns), which are then picked through their codes."""
    parts = [first] if second is None else [first, second]
    final = pd.concat([pd.Series([], dtype=getattr(p, "dtype", np.dtype(object)))
                       for p in parts], ignore_index=True).dtype
    coded = _codes_of_few(parts) if few else None
    if coded is not None:
        codes, uniques = coded
        if final == STR:
            return pd.Series(pd.array(_lstr([None if isinstance(u, float) else u
                                              for u in uniques]).take(pa.array(codes[index])),
                                      dtype=STR))
        if pd.api.types.is_object_dtype(final):
            return pd.Series(np.array(uniques, dtype=object)[codes[index]], dtype=object)
    series = [pd.Series(p, copy=False) for p in parts]
    both = pd.concat(series, ignore_index=True) if len(series) > 1 else series[0]
    return both.take(index).reset_index(drop=True)


def _codes_of_few(parts: list[Any]) -> tuple[np.ndarray, list[Any]] | None:
    """Codes into the distinct values of ``str`` columns (NaN for missing, as ``astype(object)``
    gives) and of object columns holding only None; ``None`` for other columns."""
    codes, uniques = [], []
    for part in parts:
        if getattr(part, "dtype", None) == STR:
            arr = pa.array(part)
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            code, found = factorize_text(arr)
            values = [*found.to_pylist(), np.nan]
            code = np.where(code < 0, len(values) - 1, code)
        elif isinstance(part, np.ndarray) and part.dtype == object and \
                bool(np.equal(part, None).all()):
            code, values = np.zeros(len(part), dtype=np.int64), [None]
        else:
            return None
        codes.append(code + len(uniques))
        uniques += values
    return np.concatenate(codes), uniques


def _lstr(values) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def _as_objects_column(values: pd.Series, index: np.ndarray) -> Any:
    """Rows of a text column as a DataFrame built from its ``to_numpy()`` would hold them."""
    picked = values.take(index)
    if picked.dtype == STR:
        return picked.array if len(picked) else picked.to_numpy()
    return pd.Series(picked.to_numpy(), copy=False).array


def _paths(channel: pd.Series, starts: np.ndarray, sizes: np.ndarray) -> Any:
    """``"a > b > c"`` per journey (touches are sorted by journey and time)."""
    if not len(starts):
        return np.empty(0, dtype=object)
    arr = pa.array(channel.astype(STR).array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    offsets = pa.array(np.append(starts, starts[-1] + sizes[-1]).astype(np.int64))
    lists = pa.LargeListArray.from_arrays(offsets, arr.cast(pa.large_string()))
    joined = pc.binary_join(lists, pa.scalar(PATH_SEP, pa.large_string()))
    return pd.array(joined, dtype=STR)


def _journey_kinds(c_kind: Any, c_order: np.ndarray, keep: np.ndarray, conv_jid: np.ndarray,
                   n_journeys: int) -> Any:
    """Conversion kind per journey (None for null journeys), as a DataFrame column built
    from those objects would hold it."""
    kinds = pd.Series(c_kind, copy=False).take(c_order[keep])
    target = conv_jid[keep]
    if kinds.dtype == STR and kinds.notna().any():
        slots = np.full(n_journeys, -1, dtype=np.int64)
        slots[target] = np.arange(len(target))
        arr = pa.array(kinds.array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return pd.array(arr.take(pa.array(slots, mask=slots < 0)), dtype=STR)
    out = np.full(n_journeys, None, dtype=object)
    out[target] = kinds.astype(object).to_numpy()
    return pd.Series(out, copy=False).array


def path_table(journeys: pd.DataFrame | Journeys, *, path: str = "path",
               conversions: str = "conversions", value: str | None = "value",
               collapse_repeats: bool = False) -> pd.DataFrame:
    """Unique-path table: ``path``, ``conversions``, ``nulls``, ``value``, ``journeys``.

    Parameters
    ----------
    journeys : DataFrame or Journeys
        One row per journey with ``path`` (``"a > b"``) and ``conversions``.
    collapse_repeats : bool
        Merge consecutive touches of the same channel (``a > a > b`` → ``a > b``).

    Returns
    -------
    DataFrame
        Sorted by conversions then journeys (descending), then path.
    """
    df = journeys.journeys if isinstance(journeys, Journeys) else journeys
    _require(df, {"path": path, "conversions": conversions}, "journeys")
    paths = df[path].astype(str)
    if collapse_repeats:
        def collapse(p: str) -> str:
            parts = p.split(PATH_SEP)
            return PATH_SEP.join(x for i, x in enumerate(parts) if i == 0 or x != parts[i - 1])

        paths = paths.map(collapse)
    conv = _numeric(df, conversions, "conversions")
    val = _numeric(df, value, "values") if value and value in df.columns else np.zeros(len(df))
    text = text_array(paths) if len(paths) else None
    if text is None:
        frame = pd.DataFrame({"path": paths.to_numpy(), "conversions": conv,
                              "nulls": (conv == 0).astype(float), "value": val, "journeys": 1})
        out = frame.groupby("path", sort=True).sum().reset_index()
    else:
        # group on integer codes numbered in path order: the same groups, the same order
        # and the same (compensated) sums as grouping on the strings
        codes, uniques = factorize_text(text)
        order = pc.sort_indices(uniques).to_numpy(zero_copy_only=False)
        rank = np.empty(len(order) + 1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        keep = codes >= 0
        group = rank[codes[keep]] if not keep.all() else rank[codes]
        frame = pd.DataFrame({"conversions": conv[keep], "nulls": (conv[keep] == 0).astype(float),
                              "value": val[keep], "journeys": 1})
        sums = frame.groupby(group, sort=True).sum()
        out = pd.DataFrame({"path": pd.array(uniques.take(pa.array(order[sums.index])),
                                             dtype=STR)})
        for col in sums.columns:
            out[col] = sums[col].to_numpy()
    # by conversions and journeys (descending), then path: rows are in path order already
    order = np.lexsort((np.arange(len(out)), -out["journeys"].to_numpy(),
                        -out["conversions"].to_numpy()))
    return out.take(order).reset_index(drop=True)
