"""Identity stitching: link customer records across channels into people.

Every system a marketer runs keeps its own "clients": the CRM, the web shop, the call centre,
the messenger bot, the loyalty programme, the app. One person who phones, writes in a messenger
and fills a web form is three clients there. Omnichannel analysis counts **people**, so records
are linked whenever they share a normalised identifier (e-mail, phone in E.164, user id, loyalty
card, device id), transitively: the people are the connected components of the graph whose
nodes are records and identifier values and whose edges say "this record carries this value".
That is what a union-find (disjoint-set) structure computes (Tarjan 1975); it is done here with
``scipy.sparse.csgraph.connected_components`` on the bipartite record–identifier graph, which
gives the same partition in linear time.

Rules that keep the result trustworthy:

* **Malformed identifiers are reported, not repaired** (see :mod:`.identifiers`), and never used
  for linking.
* **Conflicting identifiers are reported, not guessed.** An identifier value that co-occurs with
  more than ``max_links`` distinct values of a person-level key (``person_keys``, by default
  e-mail, phone and user id) is a hub: a loyalty card used by a cashier for every customer, a
  shop's phone typed into every form, a shared family tablet. Linking through it would merge
  unrelated people, so it is excluded from linking and listed in ``conflicts``.
* **Deterministic person ids.** People are numbered in the order of their smallest record id,
  so the same records give the same ids whatever the row order.

Reference: Christen, P. (2012). *Data Matching*. Springer, ch. 2 and 6 (deterministic linkage,
transitive closure); Tarjan, R. E. (1975). Efficiency of a good but not linear set union
algorithm. *JACM* 22(2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.identifiers import normalize_emails, normalize_phones
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["Stitching", "link_events", "plot_stitching", "stitch_identities"]

_PERSON_KEYS_DEFAULT = ("email", "phone", "user_id")


@dataclass(eq=False)
class Stitching(Result):
    """Result of :func:`stitch_identities`.

    Attributes
    ----------
    records : DataFrame
        The input records with ``person_id`` added (input order kept).
    identifiers : DataFrame
        One row per (record, identifier kind): ``record_id``, ``kind``, ``value`` (as given),
        ``normalized``, ``status`` (``ok``, ``missing``, a malformed reason or ``conflict``).
    problems : DataFrame
        Malformed identifiers (record, kind, value, reason).
    conflicts : DataFrame
        Identifier values excluded from linking because they link too many people.
    people : DataFrame
        One row per person: number of records, sources, and the distinct identifiers.
    """

    records: pd.DataFrame = field(default_factory=pd.DataFrame)
    identifiers: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame = field(default_factory=pd.DataFrame)

    def person_of(self) -> pd.Series:
        """Mapping ``record_id -> person_id``."""
        return self.records.set_index(self.details["record_column"])["person_id"]


def _check_columns(data: pd.DataFrame, columns: Sequence[str], parameter: str) -> None:
    for col in columns:
        if col not in data.columns:
            raise DataError("column not found", column=col, parameter=parameter,
                            expected=f"one of {list(map(str, data.columns))}")


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
    """Link records that share a normalised identifier into people.

    Parameters
    ----------
    data : DataFrame
        One row per record (a CRM client, a web account, a call, a messenger chat...).
    identifiers : mapping
        Identifier name → column, e.g. ``{"email": "email", "phone": "phone",
        "user_id": "uid", "loyalty_card": "card", "device_id": "device"}``. Several columns may
        hold the same kind of identifier (``{"email": "email", "email2": "alt_email"}`` with
        ``kinds={"email2": "email"}``).
    record : str, optional
        Column with a unique record id (default: the row position).
    source : str, optional
        Column naming the system the record comes from (for the before/after summary).
    client : str, optional
        Column with each system's own client id (records of one system with the same client id
        are one "client" before stitching, and are linked). Default: every record is a client.
    kinds : mapping, optional
        Identifier name → kind (``email``, ``phone`` or any other name: compared as trimmed
        text). Default: the identifier name itself.
    person_keys : sequence of str
        Kinds that identify one person; an identifier value seen with more than ``max_links``
        distinct values of one of these kinds is a conflict.
    max_links : int
        See ``person_keys``.
    default_country : str
        Country for phone numbers written without ``+`` (see :func:`normalize_phone`).
    provider_rules : bool
        Fold e-mail provider aliases (see :func:`normalize_email`).

    Returns
    -------
    Stitching
        ``estimate`` = number of people; ``details`` holds ``clients_before``,
        ``people_after``, ``records``, ``duplication_factor`` (clients per person),
        ``n_malformed`` and ``n_conflicts``; ``table`` is the before/after summary per source.

    Notes
    -----
    Two records belong to the same person iff a chain of records connects them in which each
    consecutive pair shares a usable identifier value (transitive closure). Missing,
    malformed and conflicting values link nothing.

    Examples
    --------
    >>> df = pd.DataFrame({"src": ["call", "messenger", "web"],
    ...                    "phone": ["8 916 123-45-67", "+7 916 1234567", None],
    ...                    "email": [None, "Ann@Mail.ru", "ann@mail.ru "]})
    >>> s = stitch_identities(df, {"phone": "phone", "email": "email"}, source="src")
    >>> s.details["clients_before"], s.details["people_after"]
    (3, 1)
    """
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
    clients_before = int(per_source["clients"].sum())
    people_after = len(first_seen)
    total = pd.DataFrame({"records": [n], "clients": [clients_before],
                          "people": [people_after]}, index=pd.Index(["(all sources)"]))
    table = pd.concat([per_source, total])
    table.index.name = "source"
    table["clients_per_person"] = table["clients"] / table["people"]

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

    warnings = []
    if len(problems):
        warnings.append(f"{len(problems)} malformed identifiers were not used for linking "
                        "(see .problems)")
    if len(conflicts):
        warnings.append(f"{len(conflicts)} identifier values link more than {max_links} "
                        "distinct person keys and were not used for linking (see .conflicts)")
    return Stitching(
        name="People after identity stitching",
        estimate=people_after,
        method=(
            "Deterministic linkage: identifiers normalised (e-mail lower-cased with provider "
            f"alias rules={'on' if provider_rules else 'off'}; phones to E.164 with default "
            f"country {default_country}); records sharing a usable identifier value linked "
            "transitively (connected components of the record-identifier graph, i.e. "
            "union-find); malformed values and values co-occurring with more than "
            f"{max_links} distinct {'/'.join(pk) or 'person keys'} excluded and reported; "
            "person ids numbered by smallest record id."
        ),
        n=n,
        table=table,
        details={
            "records": n, "clients_before": clients_before, "people_after": people_after,
            "duplication_factor": clients_before / people_after if people_after else None,
            "n_malformed": len(problems), "n_conflicts": len(conflicts),
            "record_column": record_col,
        },
        warnings=warnings,
        reference="Christen (2012) Data Matching, Springer; Tarjan (1975) JACM 22(2)",
        records=records,
        identifiers=ids_out,
        problems=problems,
        conflicts=conflicts,
        people=people,
    )


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


def plot_stitching(stitching: Stitching, ax: Any = None):
    """Bar chart: clients each system counts vs people after stitching, per source."""
    from researchkit.plots import PALETTE, new_figure

    table = stitching.table
    if ax is None:
        fig, ax = new_figure(width=9, height=4.5)
    else:
        fig = ax.figure
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["clients"], 0.4, label="clients before stitching", color=PALETTE[1])
    ax.bar(x + 0.2, table["people"], 0.4, label="people after stitching", color=PALETTE[0])
    ax.set_xticks(x, table.index, rotation=20, ha="right")
    ax.set_ylabel("count")
    ax.set_title("Clients per system vs people after identity stitching")
    ax.legend()
    return fig
