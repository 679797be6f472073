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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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


def _nonneg(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
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

    t = pd.DataFrame({"person": touches[person].to_numpy(),
                      "time": _times(touches, time, "touches").to_numpy(),
                      "channel": touches[channel].astype(str).to_numpy(),
                      "campaign": (touches[campaign].to_numpy() if campaign else None),
                      "cost": (_nonneg(touches, cost, "costs") if cost else 0.0),
                      "_row": np.arange(len(touches))})
    c = pd.DataFrame({"person": conversions[person].to_numpy(),
                      "time": _times(conversions, time, "conversions").to_numpy(),
                      "value": (_nonneg(conversions, value, "conversion values")
                                if value else 0.0),
                      "kind": (conversions[kind].astype(str).to_numpy() if kind else None),
                      "_row": np.arange(len(conversions))})
    if len(t) and len(c):
        tp, cp = t["person"].to_numpy(), c["person"].to_numpy()
        if pd.api.types.infer_dtype(tp) != pd.api.types.infer_dtype(cp):
            raise DataError("person ids of touches and conversions have different types",
                            column=person, got=(pd.api.types.infer_dtype(tp),
                                                pd.api.types.infer_dtype(cp)))
    # person codes shared by both tables (ordering by person id keeps ids deterministic)
    all_people = pd.Index(pd.unique(np.concatenate([t["person"].to_numpy(dtype=object),
                                                    c["person"].to_numpy(dtype=object)])))
    try:
        all_people = all_people.sort_values()
    except TypeError:
        all_people = pd.Index(sorted(all_people, key=str))
    t["pcode"] = all_people.get_indexer(t["person"])
    c["pcode"] = all_people.get_indexer(c["person"])
    c = c.sort_values(["pcode", "time", "_row"], kind="stable", ignore_index=True)
    c["conv_id"] = np.arange(len(c))
    t = t.sort_values(["time", "pcode", "_row"], kind="stable", ignore_index=True)
    if len(c):
        cs = c[["time", "pcode", "conv_id"]].rename(columns={"time": "conv_time"})
        cs = cs.sort_values("conv_time", kind="stable")
        cs["time"] = cs["conv_time"]
        merged = pd.merge_asof(t, cs[["time", "pcode", "conv_id", "conv_time"]], on="time",
                               by="pcode", direction="forward", allow_exact_matches=True)
    else:
        merged = t.assign(conv_id=np.nan, conv_time=pd.NaT)
    has_conv = merged["conv_id"].notna().to_numpy()
    # null journeys: touches after the person's last conversion, anchored at their last touch
    anchor = merged["time"].where(~has_conv).groupby(merged["pcode"]).transform("max")
    end_time = np.where(has_conv, merged["conv_time"].to_numpy(), anchor.to_numpy())
    end_time = pd.to_datetime(end_time)
    in_window = (end_time - merged["time"]) <= window
    used = merged[in_window.to_numpy()].copy()
    used["end"] = end_time[in_window.to_numpy()]
    n_outside = int((~in_window).sum())

    conv_used = used[used["conv_id"].notna()]
    null_used = used[used["conv_id"].isna()]
    # journey keys: converting journeys = conversions; null journeys = one per person
    conv_keys = c[["conv_id", "pcode", "time", "value", "kind"]].rename(
        columns={"time": "end"})
    conv_keys["converted"] = True
    touched = np.zeros(len(c), dtype=bool)
    touched[conv_used["conv_id"].astype(np.int64).unique()] = True
    n_no_touch = int((~touched).sum())
    extra = None
    if no_touch is not None and n_no_touch:
        nt = c.loc[~touched, ["pcode", "person", "time", "conv_id"]]
        extra = pd.DataFrame({"person": nt["person"].to_numpy(), "time": nt["time"].to_numpy(),
                              "channel": no_touch, "campaign": None, "cost": 0.0,
                              "_row": -1, "pcode": nt["pcode"].to_numpy(),
                              "conv_id": nt["conv_id"].to_numpy(dtype=float),
                              "conv_time": nt["time"].to_numpy(),
                              "end": nt["time"].to_numpy()})
        conv_used = pd.concat([conv_used, extra], ignore_index=True)
    elif n_no_touch:
        conv_keys = conv_keys[touched]
    null_keys = null_used.groupby("pcode", sort=True)["end"].first().reset_index()
    null_keys["converted"] = False
    null_keys["value"] = 0.0
    null_keys["kind"] = None
    keys = pd.concat([conv_keys.drop(columns="conv_id").assign(_conv=conv_keys["conv_id"]),
                      null_keys.assign(_conv=-1)], ignore_index=True)
    keys = keys.sort_values(["pcode", "end", "converted", "_conv"],
                            ascending=[True, True, False, True], kind="stable",
                            ignore_index=True)
    keys["journey_id"] = np.arange(len(keys))
    ck = keys[keys["converted"]]
    conv_map = pd.Series(ck["journey_id"].to_numpy(), index=ck["_conv"].to_numpy())
    null_map = keys.loc[~keys["converted"]].set_index("pcode")["journey_id"]
    conv_used = conv_used.assign(journey_id=conv_map.reindex(
        conv_used["conv_id"].astype(np.int64).to_numpy()).to_numpy())
    null_used = null_used.assign(journey_id=null_map.reindex(
        null_used["pcode"].to_numpy()).to_numpy())
    tt = pd.concat([conv_used, null_used], ignore_index=True)
    tt = tt.sort_values(["journey_id", "time", "_row"], kind="stable", ignore_index=True)
    tt["position"] = tt.groupby("journey_id").cumcount()
    tt["n_touches"] = tt.groupby("journey_id")["position"].transform("size")
    tt["days_before_end"] = (tt["end"] - tt["time"]) / pd.Timedelta(days=1)
    tt["converted"] = tt["conv_id"].notna().to_numpy()
    touches_out = pd.DataFrame({
        "journey_id": tt["journey_id"].astype(np.int64), "person": tt["person"],
        "time": tt["time"], "channel": tt["channel"], "campaign": tt["campaign"],
        "cost": tt["cost"].astype(float), "position": tt["position"].astype(np.int64),
        "n_touches": tt["n_touches"].astype(np.int64),
        "days_before_end": tt["days_before_end"].astype(float), "converted": tt["converted"],
    })

    g = touches_out.groupby("journey_id", sort=True)
    per = pd.DataFrame({
        "start": g["time"].min(), "n_touches": g.size(),
        "first_channel": g["channel"].first(), "last_channel": g["channel"].last(),
        "cost": g["cost"].sum(),
    })
    # path strings: "channel > " pieces concatenated per journey (touches are sorted by
    # journey and time), then the trailing separator cut
    if len(touches_out):
        ch_codes, ch_names = pd.factorize(touches_out["channel"])
        pieces = np.array([str(c) + PATH_SEP for c in ch_names], dtype=object)[ch_codes]
        starts = np.flatnonzero(np.concatenate([[True], np.diff(
            touches_out["journey_id"].to_numpy()) != 0]))
        joined = np.add.reduceat(pieces, starts)
        cut = len(PATH_SEP)
        per["path"] = [p[:-cut] for p in joined]
    else:
        per["path"] = pd.Series(dtype=object)
    jt = keys.set_index("journey_id")
    jt = jt.loc[jt.index.isin(per.index)]
    out = pd.DataFrame({
        "journey_id": jt.index.to_numpy(),
        "person": all_people[jt["pcode"].to_numpy()],
        "start": per.loc[jt.index, "start"].to_numpy(),
        "end": jt["end"].to_numpy(),
        "converted": jt["converted"].to_numpy(dtype=bool),
        "conversions": jt["converted"].to_numpy(dtype=np.int64),
        "value": jt["value"].to_numpy(dtype=float),
        "kind": jt["kind"].to_numpy(),
        "n_touches": per.loc[jt.index, "n_touches"].to_numpy(dtype=np.int64),
        "path": per.loc[jt.index, "path"].to_numpy(),
        "first_channel": per.loc[jt.index, "first_channel"].to_numpy(),
        "last_channel": per.loc[jt.index, "last_channel"].to_numpy(),
        "cost": per.loc[jt.index, "cost"].to_numpy(dtype=float),
    })
    out["days_to_conversion"] = np.where(
        out["converted"], (out["end"] - out["start"]) / pd.Timedelta(days=1), np.nan)
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
    conv = _nonneg(df, conversions, "conversions")
    val = _nonneg(df, value, "values") if value and value in df.columns else np.zeros(len(df))
    frame = pd.DataFrame({"path": paths.to_numpy(), "conversions": conv,
                          "nulls": (conv == 0).astype(float), "value": val, "journeys": 1})
    out = frame.groupby("path", sort=True).sum().reset_index()
    out = out.sort_values(["conversions", "journeys", "path"], ascending=[False, False, True],
                          kind="stable", ignore_index=True)
    return out
