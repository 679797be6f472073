"""Reference implementations of identity stitching and journey building.

These are the straightforward pandas versions that researchkit shipped before the vectorised
rewrite (per-value scalar normalisation, string group-bys, ``merge_asof``). The tests check that
the optimised functions give exactly the same tables, person ids and journeys on randomised
inputs. Keep them simple; do not optimise them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels._paths import _numeric as _nonneg
from researchkit.channels.identifiers import normalize_email, normalize_phone
from researchkit.channels.journeys import (
    PATH_SEP,
    Journeys,
    _no_missing,
    _require,
    _times,
)
from researchkit.channels.stitching import Stitching, _check_columns, _stitching_result
from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.datasets.channels import (
    _DOMAINS,
    _FIRST,
    _OFFLINE,
    OMNICHANNEL_CHANNELS,
    _walk,
    channel_chain,
)
from researchkit.errors import DataError, ParameterError

_PERSON_KEYS_DEFAULT = ("email", "phone", "user_id")


def normalize_emails(values, *, provider_rules=True):
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _normalize_many(series, lambda v: normalize_email(v, provider_rules=provider_rules))


def normalize_phones(values, *, default_country="RU"):
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _normalize_many(series, lambda v: normalize_phone(v, default_country=default_country))


def _normalize_many(series: pd.Series, func) -> pd.DataFrame:
    obj = series.astype(object)
    codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    results = [func(u) for u in uniques]
    norm = np.array([r[0] for r in results] + [None], dtype=object)
    status = np.array([r[1] for r in results] + ["missing"], dtype=object)
    idx = np.where(codes < 0, len(results), codes)
    return pd.DataFrame({"value": obj.to_numpy(), "normalized": norm[idx],
                         "status": status[idx]}, index=series.index)


def stitch_identities(
    data: pd.DataFrame,
    identifiers: Mapping[str, str],
    *,
    record: str | None = None,
    source: str | None = None,
    client: str | None = None,
    kinds: Mapping[str, str] | None = None,
    person_keys: Sequence[str] = _PERSON_KEYS_DEFAULT,
    max_links: int = 3,
    default_country: str = "RU",
    provider_rules: bool = True,
) -> Stitching:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("data must be a DataFrame", parameter="data",
                             got=type(data).__name__)
    if not identifiers:
        raise ParameterError("no identifier columns given", parameter="identifiers",
                             expected="a mapping like {'email': 'email_column'}")
    _check_columns(data, list(identifiers.values()), "identifiers")
    for name, col in (("record", record), ("source", source), ("client", client)):
        if col is not None:
            _check_columns(data, [col], name)
    if isinstance(max_links, bool) or not isinstance(max_links, int) or max_links < 1:
        raise ParameterError("invalid max_links", parameter="max_links",
                             expected="an integer >= 1", got=max_links)
    kinds = dict(kinds or {})
    unknown = sorted(set(kinds) - set(identifiers))
    if unknown:
        raise ParameterError("kinds names identifiers that are not in 'identifiers'",
                             parameter="kinds", expected=f"some of {sorted(identifiers)}",
                             got=unknown)
    n = len(data)
    if record is None:
        record_ids = pd.Series(np.arange(n), index=data.index)
        record_col = "record_id"
    else:
        record_ids = data[record]
        record_col = record
        if record_ids.isna().any():
            bad = int(np.flatnonzero(record_ids.isna().to_numpy())[0]) + 1
            raise DataError("missing record id", row=bad, column=record)
        dup = record_ids.duplicated()
        if dup.any():
            bad = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            raise DataError("record ids must be unique", row=bad, column=record,
                            got=record_ids.iloc[bad - 1])

    # -- normalise every identifier column --------------------------------------------------
    long_parts = []
    for name, col in identifiers.items():
        kind = kinds.get(name, name)
        values = data[col].reset_index(drop=True)
        if kind == "email":
            norm = normalize_emails(values, provider_rules=provider_rules)
        elif kind == "phone":
            norm = normalize_phones(values, default_country=default_country)
        else:
            norm = _normalize_plain(values)
        norm.insert(0, "kind", kind)
        norm.insert(0, "column", col)
        norm.insert(0, "row", np.arange(n))
        long_parts.append(norm)
    if client is not None:
        src = data[source].astype(str).to_numpy() if source is not None else np.array([""] * n)
        cl = _normalize_plain(data[client].reset_index(drop=True))
        ok = cl["status"].eq("ok").to_numpy()
        cl["normalized"] = np.where(ok, pd.Series(src) + "\x1f" + cl["normalized"].astype(str),
                                    None)
        cl.insert(0, "kind", "(client id)")
        cl.insert(0, "column", client)
        cl.insert(0, "row", np.arange(n))
        long_parts.append(cl)
    ids = pd.concat(long_parts, ignore_index=True)
    ids["record_id"] = record_ids.to_numpy()[ids["row"].to_numpy()]

    # -- conflicts: values linking too many distinct person-level keys ----------------------
    ok = ids[ids["status"] == "ok"]
    conflict_rows = []
    conflict_keys: set[tuple[str, str]] = set()
    kinds_present = set(ids["kind"].unique())
    pk = [k for k in person_keys if k in kinds_present]
    for pkind in pk:
        left = ok.loc[ok["kind"] != "(client id)", ["row", "kind", "normalized"]]
        right = ok.loc[ok["kind"] == pkind, ["row", "normalized"]].rename(
            columns={"normalized": "other"})
        pairs = left.merge(right, on="row")
        pairs = pairs[pairs["kind"] != pkind]
        counts = pairs.groupby(["kind", "normalized"], sort=True)["other"].nunique()
        for (kind, value), count in counts[counts > max_links].items():
            conflict_keys.add((kind, value))
            conflict_rows.append({"kind": kind, "value": value, "linked_kind": pkind,
                                  "distinct_linked": int(count)})
    conflicts = pd.DataFrame(conflict_rows,
                             columns=["kind", "value", "linked_kind", "distinct_linked"])
    if len(conflicts):
        n_records = ok.groupby(["kind", "normalized"])["row"].nunique()
        conflicts["records"] = [int(n_records[(k, v)]) for k, v in
                                zip(conflicts["kind"], conflicts["value"], strict=True)]
        conflicts = conflicts.sort_values(["distinct_linked", "kind", "value"],
                                          ascending=[False, True, True], ignore_index=True)
        keys = pd.MultiIndex.from_arrays([ids["kind"], ids["normalized"]])
        is_conflict = keys.isin(sorted(conflict_keys)) & (ids["status"] == "ok").to_numpy()
        ids.loc[is_conflict, "status"] = "conflict"

    # -- connected components of the record–identifier graph --------------------------------
    usable = ids[ids["status"] == "ok"]
    key = usable["kind"].astype(str) + "\x1e" + usable["normalized"].astype(str)
    key_codes, _ = pd.factorize(key, sort=True)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = int(key_codes.max()) + 1 if len(key_codes) else 0
    graph = coo_matrix((np.ones(len(usable)), (usable["row"].to_numpy(), n + key_codes)),
                       shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    labels = labels[:n]
    # deterministic numbering: by the smallest record id in each component
    order = np.argsort(_sort_key(record_ids), kind="stable")
    first_seen = pd.unique(labels[order])
    rank = np.empty(labels.max() + 1, dtype=np.int64)
    rank[first_seen] = np.arange(len(first_seen))
    person_num = rank[labels]
    width = max(6, len(str(len(first_seen))))
    person_id = np.array([f"P{k + 1:0{width}d}" for k in range(len(first_seen))])[person_num]

    records = data.copy()
    records["person_id"] = person_id
    ids["person_id"] = person_id[ids["row"].to_numpy()]
    ids_out = ids.loc[ids["kind"] != "(client id)",
                      ["record_id", "column", "kind", "value", "normalized", "status",
                       "person_id"]].reset_index(drop=True)
    problems = ids_out[~ids_out["status"].isin(["ok", "missing", "conflict"])].rename(
        columns={"status": "reason"}).drop(columns=["normalized"]).reset_index(drop=True)

    # -- before / after --------------------------------------------------------------------
    src = data[source].astype(str).to_numpy() if source is not None else np.array(["all"] * n)
    if client is not None:
        cl_ok = _normalize_plain(data[client].reset_index(drop=True))
        client_key = np.where(cl_ok["status"].eq("ok"), cl_ok["normalized"].astype(str),
                              "\x1frow" + pd.Series(np.arange(n)).astype(str))
    else:
        client_key = np.arange(n).astype(str)
    frame = pd.DataFrame({"source": src, "client": client_key, "person": person_id})
    per_source = frame.groupby("source", sort=True).agg(
        records=("client", "size"), clients=("client", "nunique"),
        people=("person", "nunique"))
    people = frame.groupby("person", sort=True).agg(records=("client", "size"))
    # sources of each person as a bitmask, then one label per distinct combination (person
    # numbers k follow the order of the zero-padded ids, i.e. of people.index)
    src_codes, src_names = pd.factorize(frame["source"], sort=True)
    if len(src_names) <= 62:
        mask = np.zeros(len(first_seen), dtype=np.int64)
        np.bitwise_or.at(mask, person_num, np.left_shift(np.int64(1), src_codes.astype(np.int64)))
        combos = {int(v): ", ".join(str(src_names[i]) for i in range(len(src_names))
                                    if v >> i & 1) for v in np.unique(mask)}
        people["sources"] = [combos[int(v)] for v in mask]
    else:
        distinct = frame[["person", "source"]].drop_duplicates().sort_values(["person", "source"])
        people["sources"] = distinct.astype(object).groupby("person")["source"].agg(", ".join)
    people.index.name = "person_id"
    for kind in sorted(ids_out["kind"].unique()):
        sub = ids_out[(ids_out["kind"] == kind) & (ids_out["status"] == "ok")]
        people[f"n_{kind}"] = sub.groupby("person_id")["normalized"].nunique().reindex(
            people.index, fill_value=0).astype(int)

    return _stitching_result(
        per_source, n=n, people=people, records=records, identifiers=ids_out,
        problems=problems, conflicts=conflicts, provider_rules=provider_rules,
        default_country=default_country, max_links=max_links, person_keys=pk,
        record_column=record_col)


def _normalize_plain(values: pd.Series) -> pd.DataFrame:
    """Generic identifiers: text, trimmed; empty → missing; case kept (ids are case-sensitive)."""
    obj = values.astype(object)
    missing = obj.isna().to_numpy()
    text = obj.where(~missing, "").astype(str).str.strip()
    # integers stored as floats by a CSV reader ("123.0") are the same id as "123"
    floaty = text.str.fullmatch(r"-?\d+\.0").fillna(False).to_numpy()
    text = text.where(~floaty, text.str[:-2])
    empty = text.eq("").to_numpy() | missing
    return pd.DataFrame({"value": obj.to_numpy(),
                         "normalized": np.where(empty, None, text.to_numpy(dtype=object)),
                         "status": np.where(empty, "missing", "ok").astype(object)},
                        index=values.index)


def _sort_key(ids: pd.Series) -> np.ndarray:
    """Ranks of record ids: numeric order for numbers, text order otherwise."""
    if pd.api.types.is_numeric_dtype(ids):
        return ids.rank(method="first").to_numpy()
    return ids.astype(str).rank(method="first").to_numpy()


def link_events(
    events: pd.DataFrame, stitching: Stitching, *, record: str = "record_id",
) -> pd.DataFrame:
    """Attach ``person_id`` to event rows (touches, orders, calls) through their record id.

    Parameters
    ----------
    events : DataFrame
        Events carrying the id of the record (CRM client, account, chat...) they belong to.
    stitching : Stitching
        Output of :func:`stitch_identities`.
    record : str
        Column of ``events`` holding the record id.

    Raises
    ------
    DataError
        If an event names a record the stitching does not know (first such row named).
    """
    _check_columns(events, [record], "record")
    mapping = stitching.person_of()
    person = events[record].map(mapping)
    missing = person.isna().to_numpy()
    if missing.any():
        bad = int(np.flatnonzero(missing)[0])
        raise DataError("event refers to an unknown record", row=bad + 1, column=record,
                        got=events[record].iloc[bad],
                        hint=f"{int(missing.sum())} events in all; stitch every source first")
    out = events.copy()
    out["person_id"] = person.to_numpy()
    return out



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
    df = journeys.journeys if hasattr(journeys, "journeys") else journeys
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


# ----------------------------------------------------------------------------------------------
# the omnichannel simulator, one scalar draw at a time (before the bulk version)
# ----------------------------------------------------------------------------------------------
def _email_variant(email: str, rng: np.random.Generator) -> str:
    """The same mailbox spelt differently (case, spaces, Gmail dots/plus, provider aliases)."""
    local, domain = email.split("@")
    k = rng.integers(0, 5)
    if k == 0:
        return email.upper()
    if k == 1:
        return f"  {local.capitalize()}@{domain} "
    if k == 2 and domain == "gmail.com":
        return f"{local[:2]}.{local[2:]}+promo@googlemail.com"
    if k == 3 and domain == "yandex.ru":
        return f"{local}@ya.ru"
    if k == 4 and domain in ("gmail.com", "outlook.com", "yandex.ru"):
        return f"{local}+shop@{domain}"
    return email


def _phone_variant(digits10: str, rng: np.random.Generator) -> str:
    """A Russian mobile number written in one of the usual formats."""
    a, b, c, d = digits10[:3], digits10[3:6], digits10[6:8], digits10[8:]
    k = rng.integers(0, 5)
    return [f"+7 ({a}) {b}-{c}-{d}", f"8{digits10}", f"8 {a} {b} {c} {d}", f"7{digits10}",
            f"+7{digits10}"][k]


def simulate_omnichannel(
    n_people: int = 2000,
    seed: int | np.random.Generator | None = 0,
    *,
    days: int = 120,
    drop: float = 0.2,
    malformed_rate: float = 0.02,
    conflict_rate: float = 0.03,
    anonymous_rate: float = 0.15,
    channels: dict[str, tuple[float, float, float, float, str]] | None = None,
) -> Simulated:
    n_people = check_positive_int(n_people, "n_people")
    days = check_positive_int(days, "days", minimum=90)
    for name, val in (("malformed_rate", malformed_rate), ("conflict_rate", conflict_rate),
                      ("anonymous_rate", anonymous_rate)):
        if not isinstance(val, int | float) or not 0 <= val < 1:
            raise ParameterError("rate must be in [0, 1)", parameter=name, got=val)
    spec = dict(channels or OMNICHANNEL_CHANNELS)
    chain = channel_chain(spec, drop)
    rng = make_rng(seed)
    names = chain["channels"]
    cost = np.array([spec[c][3] for c in names], dtype=float)
    system = [spec[c][4] for c in names]
    K = len(names)
    start = pd.Timestamp("2026-01-01")

    # -- people and their true identifiers ------------------------------------------------
    pid = np.arange(n_people)
    first = rng.choice(_FIRST, size=n_people)
    domain = rng.choice(_DOMAINS, size=n_people)
    email = np.array([f"{f}.{k:05d}@{d}" if d != "gmail.com" else f"{f}{k:05d}@{d}"
                      for f, k, d in zip(first, pid, domain, strict=True)])
    phone = np.array([f"9{x:09d}" for x in rng.choice(10**9, size=n_people, replace=False)])
    card = np.array([f"{10**9 + x:010d}" for x in rng.choice(8 * 10**9, size=n_people,
                                                               replace=False)])

    # -- journeys (walks of the chain), touches, conversions ---------------------------------
    n_j = 1 + (rng.random(n_people) < 0.25)
    journey_person = np.repeat(pid, n_j)
    J = len(journey_person)
    second = np.concatenate([[False], journey_person[1:] == journey_person[:-1]])
    j_start = np.where(second, 0.0, rng.uniform(0, days - 75, size=J))
    prev_start = np.concatenate([[0.0], j_start[:-1]])
    j_start = np.where(second, prev_start + rng.uniform(40, 60, size=J), j_start)
    t_channel, offsets, converted = _walk(rng, J, chain["start"], chain["transition"])
    L = np.diff(offsets)
    t_journey = np.repeat(np.arange(J), L)
    gaps = rng.exponential(1.5, size=len(t_journey))
    pos0 = np.zeros(len(t_journey), dtype=bool)
    pos0[offsets[:-1]] = True
    gaps[pos0] = 0.0
    cum = pd.Series(gaps).groupby(t_journey).cumsum().to_numpy()
    span = pd.Series(cum).groupby(t_journey).transform("max").to_numpy()
    cum = np.where(span > 25, cum * 25 / np.maximum(span, 1e-9), cum)
    t_time = j_start[t_journey] + cum
    last_idx = offsets[1:] - 1
    last_channel = t_channel[last_idx]
    last_time = t_time[last_idx]

    # -- source records of each person -------------------------------------------------------
    rec_rows: list[dict[str, Any]] = []
    rec_key: dict[tuple[int, str], str] = {}
    counter = {"n": 0}
    shop_card, shop_device = "0000000001", "tablet-store-01"

    def record(p: int, source: str) -> str:
        key = (p, source)
        if key in rec_key:
            return rec_key[key]
        counter["n"] += 1
        rid = f"R{counter['n']:07d}"
        row: dict[str, Any] = {"record_id": rid, "source": source, "email": None,
                               "phone": None, "user_id": None, "loyalty_card": None,
                               "device_id": None, "_person": p}
        if source in ("crm", "web"):
            row["email"] = _email_variant(email[p], rng) if source == "web" else email[p]
        if source in ("crm", "call_centre", "messenger") or (
                source == "store" and rng.random() < 0.8):
            row["phone"] = _phone_variant(phone[p], rng)
        if source in ("web", "app"):
            row["user_id"] = f"U{p:06d}"
            row["device_id"] = f"d-{p:06d}-{source}"
        if source == "app":
            row["device_id"] = f"d-{p:06d}-web" if rng.random() < 0.5 else f"d-{p:06d}-app"
        if source in ("crm", "store"):
            row["loyalty_card"] = card[p]
        if source == "store" and rng.random() < conflict_rate:
            row["loyalty_card"] = shop_card
        if row["email"] is not None and rng.random() < malformed_rate:
            row["email"] = row["email"].strip().replace("@", " at ")
        if row["phone"] is not None and rng.random() < malformed_rate:
            row["phone"] = row["phone"][:-4]
        rec_rows.append(row)
        rec_key[key] = rid
        return rid

    anon_rows: list[dict[str, Any]] = []
    t_record = np.empty(len(t_journey), dtype=object)
    t_person = journey_person[t_journey]
    for i in range(len(t_journey)):
        p, c = int(t_person[i]), int(t_channel[i])
        src = system[c]
        if src == "web" and rng.random() < anonymous_rate:
            # an anonymous visit (a cookie/device only), or a log-in on the store's demo tablet
            counter["n"] += 1
            rid = f"R{counter['n']:07d}"
            tablet = rng.random() < conflict_rate * 2
            anon_rows.append({"record_id": rid, "source": "web", "email": None, "phone": None,
                              "user_id": f"U{p:06d}" if tablet else None,
                              "loyalty_card": None,
                              "device_id": shop_device if tablet else f"d-{p:06d}-anon",
                              "_person": p})
            t_record[i] = rid
        else:
            t_record[i] = record(p, src)
    # every person is in the CRM once they buy, and most have a CRM record anyway
    for p in pid:
        if rng.random() < 0.6:
            record(int(p), "crm")
    records = pd.DataFrame(rec_rows + anon_rows)
    campaign_no = rng.integers(1, 4, size=len(t_journey))
    day_secs = 86400.0
    touches = pd.DataFrame({
        "record_id": t_record,
        "timestamp": start + pd.to_timedelta(np.round(t_time * day_secs), unit="s"),
        "channel": np.array(names, dtype=object)[t_channel],
        "campaign": [f"{names[c]}_{k}" for c, k in zip(t_channel, campaign_no, strict=True)],
        "cost": np.round(cost[t_channel] * rng.uniform(0.5, 1.5, size=len(t_journey)), 2),
    })
    conv_j = np.flatnonzero(converted)
    offline = np.isin(np.array(names, dtype=object)[last_channel[conv_j]], list(_OFFLINE))
    order_src = np.where(offline, np.array(names, dtype=object)[last_channel[conv_j]], "web")
    conv_rec = []
    for j, src in zip(conv_j, order_src, strict=True):
        p = int(journey_person[j])
        conv_rec.append(record(p, "store" if src == "store" else
                               "call_centre" if src == "call_centre" else "web"))
        record(p, "crm")
    records = pd.DataFrame(rec_rows + anon_rows).sort_values("record_id", ignore_index=True)
    value = np.round(rng.lognormal(np.log(60), 0.5, size=len(conv_j))
                     * np.where(offline, 1.3, 1.0), 2)
    conversions = pd.DataFrame({
        "record_id": conv_rec,
        "timestamp": start + pd.to_timedelta(
            np.round((last_time[conv_j] + rng.uniform(0.01, 0.3, size=len(conv_j)))
                     * day_secs), unit="s"),
        "value": value,
        "kind": np.where(offline, "offline", "online"),
        "order_channel": np.where(offline, order_src, "web shop"),
    })
    person_of_record = dict(zip(records["record_id"], records.pop("_person"), strict=True))
    touches = touches.sort_values(["timestamp", "record_id"], ignore_index=True)
    conversions = conversions.sort_values(["timestamp", "record_id"], ignore_index=True)
    truth = {
        "n_people": n_people,
        "person_of_record": person_of_record,
        **chain,
        "journeys": J,
        "conversions": int(converted.sum()),
        "conflict_identifiers": {"loyalty_card": shop_card, "device_id": shop_device},
    }
    description = (
        f"{n_people} simulated people, {J} journeys, {len(touches)} touches over {K} channels "
        f"(online and offline), {len(conversions)} paid orders "
        f"({int(offline.sum())} offline), logged by {records['source'].nunique()} systems in "
        f"{len(records)} records. Journeys are walks of a known channel chain "
        "(truth['removal_effects']); identifiers are spelt in variants, some malformed, and a "
        "shared loyalty card and a store tablet link unrelated people."
    )
    return Simulated(data={"records": records, "touches": touches,
                           "conversions": conversions}, truth=truth, description=description)
