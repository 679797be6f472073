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

Scale: identifiers are normalised column by column with Arrow string kernels, every distinct
(kind, value) becomes an integer, hubs are found by counting integer pairs, and the people are the
connected components of an integer graph, so millions of records stitch in seconds. The results
equal the straightforward pandas implementation kept in ``tests/_attribution_reference.py``.

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
import pyarrow as pa
import pyarrow.compute as pc

from researchkit.channels._arrow import (
    STR,
    factorize_text,
    int_like,
    numbered,
    positions_in,
    repeat_text,
    sorted_unique,
    text_array,
)
from researchkit.channels.identifiers import (
    _MISSING,
    _as_given,
    _Normalised,
    _normalize_column,
    _row_columns,
)
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


def _stitching_result(
    per_source: pd.DataFrame, *, n: int, people: pd.DataFrame, records: pd.DataFrame,
    identifiers: pd.DataFrame, problems: pd.DataFrame, conflicts: pd.DataFrame,
    provider_rules: bool, default_country: str, max_links: int, person_keys: Sequence[str],
    record_column: str,
) -> Stitching:
    """The :class:`Stitching` result: the per-source table (records, clients and people per
    source) gets its all-sources total row and the clients-per-person ratio; warnings point to
    the malformed and conflicting identifiers left out of the linkage."""
    clients_before = int(per_source["clients"].sum())
    people_after = len(people)
    total = pd.DataFrame({"records": [n], "clients": [clients_before],
                          "people": [people_after]}, index=pd.Index(["(all sources)"]))
    table = pd.concat([per_source, total])
    table.index.name = "source"
    table["clients_per_person"] = table["clients"] / table["people"]
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
            f"{max_links} distinct {'/'.join(person_keys) or 'person keys'} excluded and "
            "reported; person ids numbered by smallest record id."
        ),
        n=n,
        table=table,
        details={
            "records": n, "clients_before": clients_before, "people_after": people_after,
            "duplication_factor": clients_before / people_after if people_after else None,
            "n_malformed": len(problems), "n_conflicts": len(conflicts),
            "record_column": record_column,
        },
        warnings=warnings,
        reference="Christen (2012) Data Matching, Springer; Tarjan (1975) JACM 22(2)",
        records=records,
        identifiers=identifiers,
        problems=problems,
        conflicts=conflicts,
        people=people,
    )


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
        Column naming the system the record comes from (for the before/after summary and
        client ids); every record needs one.
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

    Raises
    ------
    DataError
        No records; a missing or duplicated record id; a record without a source system (when
        ``source`` is given). Each names the first offending row.

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
    if n == 0:
        raise DataError("no records to stitch", parameter="data", expected="at least one row")
    if record is None:
        record_ids = pd.Series(np.arange(n), index=data.index)
        record_col = "record_id"
    else:
        record_ids = data[record]
        record_col = record
        if record_ids.isna().any():
            bad = int(np.flatnonzero(record_ids.isna().to_numpy())[0]) + 1
            raise DataError("missing record id", row=bad, column=record)
    order = _record_order(record_ids, record)
    if source is not None:
        src_text = data[source].astype(str)
        if src_text.isna().any():
            bad = int(np.flatnonzero(src_text.isna().to_numpy())[0]) + 1
            raise DataError("missing source system", row=bad, column=source,
                            hint="every record needs the system it comes from")
    else:
        src_text = pd.Series(["all"] * n, dtype=STR)

    # -- normalise every identifier column; one integer per distinct (kind, value) ----------
    blocks = []
    for name, col in identifiers.items():
        kind = kinds.get(name, name)
        values = data[col].reset_index(drop=True)
        nz = _normalize_column(values, kind if kind in ("email", "phone") else "plain",
                               provider_rules=provider_rules, default_country=default_country)
        blocks.append(_Block(column=col, kind=kind, values=values, nz=nz))
    value_ids = _ValueIds()
    for kind in dict.fromkeys(b.kind for b in blocks):
        value_ids.add(kind, [b for b in blocks if b.kind == kind])
    src_codes, src_names = pd.factorize(src_text.reset_index(drop=True), sort=True)
    src_codes = src_codes.astype(np.int64)
    client_block = None
    if client is not None:
        cl_values = data[client].reset_index(drop=True)
        client_block = _Block(column=client, kind=_CLIENT, values=cl_values,
                              nz=_normalize_column(cl_values, "plain"))
        value_ids.add_client(client_block, src_codes)

    # -- conflicts: values linking too many distinct person-level keys ----------------------
    kinds_present = {b.kind for b in blocks} | ({_CLIENT} if client is not None else set())
    pk = [k for k in person_keys if k in kinds_present]
    conflict_rows = []
    for pkind in pk:
        linked = [b for b in blocks if b.kind == pkind]
        found = []
        for vid, count in _hub_values(blocks, linked, pkind, max_links, value_ids.total):
            kind, value = value_ids.describe(vid)
            found.append(({"kind": kind, "value": value, "linked_kind": pkind,
                           "distinct_linked": count}, vid))
        # in the order of a group-by on (kind, value)
        conflict_rows += sorted(found, key=lambda r: (r[0]["kind"], r[0]["value"]))
    conflicts = pd.DataFrame([r for r, _ in conflict_rows],
                             columns=["kind", "value", "linked_kind", "distinct_linked"])
    is_hub = np.zeros(value_ids.total, dtype=bool)
    if len(conflicts):
        hubs = np.array([vid for _, vid in conflict_rows], dtype=np.int64)
        conflicts["records"] = _records_per_value(blocks, hubs)
        conflicts = conflicts.sort_values(["distinct_linked", "kind", "value"],
                                          ascending=[False, True, True], ignore_index=True)
        is_hub[hubs] = True

    # -- connected components of the record graph -------------------------------------------
    # every usable value links the records that carry it to the first record carrying it
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows_list, vids_list = [], []
    for b in [*blocks, *([client_block] if client_block is not None else [])]:
        b.usable = b.ok & ~is_hub[np.where(b.ok, b.vid, 0)]
        rows_list.append(np.flatnonzero(b.usable))
        vids_list.append(b.vid[b.usable])
    rows = np.concatenate(rows_list)
    vids = np.concatenate(vids_list)
    anchor = np.full(value_ids.total, -1, dtype=np.int64)
    anchor[vids[::-1]] = rows[::-1]  # the first record of each value (last write wins)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, anchor[vids])),
                       shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # deterministic numbering: by the smallest record id in each component
    first_pos = np.full(labels.max() + 1, n, dtype=np.int64)
    labels_in_order = labels[order]
    first_pos[labels_in_order[::-1]] = np.arange(n)[::-1]
    first_seen = np.argsort(first_pos, kind="stable")
    n_people = len(first_seen)
    rank = np.empty(n_people, dtype=np.int64)
    rank[first_seen] = np.arange(n_people)
    person_num = rank[labels]
    width = max(6, len(str(n_people)))
    person_names = numbered("P", np.arange(1, n_people + 1), width)
    person_arr = person_names.take(pa.array(person_num))

    records = data.copy()
    records["person_id"] = pd.array(person_arr, dtype=STR)
    parts = _identifier_parts(blocks, client_block, record_ids, person_arr, is_hub)
    ids_out = _identifier_table(*parts)
    problems = _identifier_table(
        *parts, rows=[np.flatnonzero(b.nz.status > _MISSING) for b in blocks]).rename(
        columns={"status": "reason"}).drop(columns=["normalized"])

    # -- before / after --------------------------------------------------------------------
    n_src = len(src_names)
    if client is not None:
        ok = client_block.ok
        # a client is an ok client id within its source, or a record without one
        pairs = sorted_unique(src_codes[ok] * (value_ids.client_values + 1) +
                              client_block.raw[ok])
        clients = np.bincount(pairs // (value_ids.client_values + 1), minlength=n_src) + \
            np.bincount(src_codes[~ok], minlength=n_src)
    else:
        clients = np.bincount(src_codes, minlength=n_src)
    sources, people_per_src = _source_combinations(src_codes, list(src_names), person_num,
                                                   n_people)
    per_source = pd.DataFrame({"records": np.bincount(src_codes, minlength=n_src),
                               "clients": clients, "people": people_per_src},
                              index=pd.Index(src_names, name="source"))
    people = pd.DataFrame({"records": np.bincount(person_num, minlength=n_people)},
                          index=pd.Index(pd.array(person_names, dtype=STR), name="person"))
    people["sources"] = sources
    people.index.name = "person_id"
    for kind in sorted({b.kind for b in blocks}):
        # a usable value links all its records, so it belongs to exactly one person
        used = np.zeros(value_ids.total, dtype=bool)
        owner = np.zeros(value_ids.total, dtype=np.int64)
        for b in blocks:
            if b.kind == kind:
                used[b.vid[b.usable]] = True
                owner[b.vid[b.usable]] = person_num[b.usable]
        people[f"n_{kind}"] = np.bincount(owner[used], minlength=n_people).astype(int)

    return _stitching_result(
        per_source, n=n, people=people, records=records, identifiers=ids_out,
        problems=problems, conflicts=conflicts, provider_rules=provider_rules,
        default_country=default_country, max_links=max_links, person_keys=pk,
        record_column=record_col)


_CLIENT = "(client id)"


@dataclass(eq=False)
class _Block:
    """One identifier column: normalised values and the integer id of each usable value."""

    column: Any
    kind: Any
    values: pd.Series
    nz: _Normalised
    vid: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    raw: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    usable: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

    @property
    def ok(self) -> np.ndarray:
        return self.nz.ok


class _ValueIds:
    """One integer per distinct (kind, normalised value), blocks of ids per kind."""

    def __init__(self) -> None:
        self.total = 0
        self.client_values = 0
        self._kinds: list[tuple[int, Any, pa.Array, np.ndarray]] = []

    def add(self, kind: Any, blocks: list[_Block]) -> None:
        parts = [b.nz.normalized.filter(pa.array(b.ok)) for b in blocks]
        values = pa.concat_arrays(parts) if parts else _lstr([])
        codes, n_unique = _factorize_normalized(values, kind)
        first = np.full(n_unique, -1, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]  # first occurrence of each value
        self._kinds.append((self.total, kind, values, first))
        start = 0
        for b, part in zip(blocks, parts, strict=True):
            b.vid = np.full(len(b.ok), -1, dtype=np.int64)
            b.vid[b.ok] = self.total + codes[start:start + len(part)]
            start += len(part)
        self.total += n_unique

    def add_client(self, block: _Block, src_codes: np.ndarray) -> None:
        """Client ids count within their source system: ids are (source, client id) pairs."""
        values = block.nz.normalized.filter(pa.array(block.ok))
        raw, n_raw = _factorize_normalized(values, _CLIENT)
        block.raw = np.full(len(block.ok), -1, dtype=np.int64)
        block.raw[block.ok] = raw
        pair_codes, pairs = pd.factorize(src_codes[block.ok] * (n_raw + 1) + raw)
        block.vid = np.full(len(block.ok), -1, dtype=np.int64)
        block.vid[block.ok] = self.total + pair_codes
        self.total += len(pairs)
        self.client_values = n_raw

    def describe(self, vid: int) -> tuple[Any, str]:
        """(kind, normalised value) of a value id (not for client ids)."""
        for offset, kind, values, first in self._kinds:
            if offset <= vid < offset + len(first):
                return kind, values[int(first[vid - offset])].as_py()
        raise KeyError(vid)  # pragma: no cover


def _factorize_normalized(values: pa.Array, kind: Any) -> tuple[np.ndarray, int]:
    """Codes of normalised values (no nulls) and the number of distinct ones."""
    if len(values) == 0:
        return np.empty(0, dtype=np.int64), 0
    keys = None
    if kind == "phone":  # "+" and at most 15 digits, never a leading zero: an integer
        keys = pc.cast(pc.utf8_slice_codeunits(values, 1), pa.int64()).to_numpy(
            zero_copy_only=False)
    else:
        keys = int_like(values)
    if keys is not None:
        codes, uniques = pd.factorize(keys)
        return codes.astype(np.int64, copy=False), len(uniques)
    codes, uniques = factorize_text(values)
    return codes, len(uniques)


def _record_order(record_ids: pd.Series, record: str | None) -> np.ndarray:
    """Positions of the records sorted by record id (numbers as numbers, text as text; ties
    kept in row order); raises on duplicated record ids (first duplicate row named)."""
    n = len(record_ids)
    keys = None
    if pd.api.types.is_numeric_dtype(record_ids.dtype) and \
            not isinstance(record_ids.dtype, pd.CategoricalDtype):
        keys = record_ids.to_numpy()
    elif record_ids.dtype == STR:
        arr = text_array(record_ids)
        keys = int_like(arr)
        if keys is None:
            order = pc.sort_indices(arr).to_numpy(zero_copy_only=False)  # stable
            ranked = arr.take(pa.array(order))
            same = pc.equal(ranked.slice(1), ranked.slice(0, n - 1)).to_numpy(
                zero_copy_only=False)
            _raise_duplicates(record_ids, record, order, same)
            return order
    if keys is None:
        dup = record_ids.duplicated()
        if dup.any():
            bad = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            raise DataError("record ids must be unique", row=bad, column=record,
                            got=record_ids.iloc[bad - 1])
        return np.argsort(record_ids.astype(str).rank(method="first").to_numpy(),
                          kind="stable")
    if n < 2 or bool(np.all(keys[1:] > keys[:-1])):
        return np.arange(n)
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    _raise_duplicates(record_ids, record, order, ranked[1:] == ranked[:-1])
    return order


def _raise_duplicates(record_ids: pd.Series, record: str | None, order: np.ndarray,
                      same_as_previous: np.ndarray) -> None:
    if same_as_previous.any():
        bad = int(order[1:][same_as_previous].min()) + 1
        raise DataError("record ids must be unique", row=bad, column=record,
                        got=record_ids.iloc[bad - 1])


def _hub_values(blocks: list[_Block], linked: list[_Block], pkind: Any, max_links: int,
                total: int) -> list[tuple[int, int]]:
    """Value ids seen on records with more than ``max_links`` distinct ``pkind`` values, with
    that number, sorted by value id."""
    keys, others = [], []
    for b in blocks:
        if b.kind == pkind:
            continue
        for d in linked:
            both = b.ok & d.ok
            keys.append(b.vid[both])
            others.append(d.vid[both])
    if not keys:
        return []
    key, other = np.concatenate(keys), np.concatenate(others)
    # values with at most max_links records paired cannot have more distinct partners
    candidate = np.bincount(key, minlength=total) > max_links
    pick = candidate[key]
    if not pick.any():
        return []
    pairs = sorted_unique(key[pick] * total + other[pick])
    counts = np.bincount(pairs // total, minlength=total)
    return [(int(v), int(counts[v])) for v in np.flatnonzero(counts > max_links)]


def _records_per_value(blocks: list[_Block], vids: np.ndarray) -> list[int]:
    """Number of distinct records carrying each of ``vids`` (usable or not yet excluded)."""
    n = len(blocks[0].ok)
    wanted = np.zeros(max(int(vids.max()) + 1, 1), dtype=bool)
    wanted[vids] = True
    keys = []
    for b in blocks:
        hit = b.ok & (b.vid < len(wanted))
        hit[hit] = wanted[b.vid[hit]]
        keys.append(b.vid[hit] * n + np.flatnonzero(hit))
    counts = np.bincount(sorted_unique(np.concatenate(keys)) // n, minlength=len(wanted))
    return [int(counts[v]) for v in vids]


def _inferred_dtype(values: Any) -> Any:
    """The dtype a DataFrame column built from ``values`` gets."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        kind = pd.api.types.infer_dtype(values, skipna=True)
        return STR if kind == "string" else np.dtype(object)
    return values.dtype


def _constant(label: Any, n: int) -> Any:
    """A column holding ``label`` n times, as ``DataFrame.insert`` would make it."""
    if isinstance(label, str):
        return pd.array(repeat_text(label, n), dtype=STR)
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame.insert(0, "c", label)
    return frame["c"].array


def _stack(parts: list[Any], extra_dtypes: list[Any],
           rows: list[np.ndarray] | None = None) -> pd.Series:
    """Blocks stacked as ``pd.concat`` of DataFrames would stack them, including the dtype a
    block left out afterwards (the client ids) contributed; ``rows``: only these rows of
    each block (the dtypes stay those of the whole blocks)."""
    dtypes = [_inferred_dtype(p) for p in parts]
    final = pd.concat([pd.Series([], dtype=d) for d in [*dtypes, *extra_dtypes]],
                      ignore_index=True).dtype
    if rows is not None:
        parts = [p.take(r) if isinstance(p, pd.api.extensions.ExtensionArray) else p[r]
                 for p, r in zip(parts, rows, strict=True)]
    series = [pd.Series(p, dtype=d, copy=False) for p, d in zip(parts, dtypes, strict=True)]
    out = pd.concat(series, ignore_index=True) if len(series) > 1 else series[0]
    return out if out.dtype == final else out.astype(final)


def _identifier_parts(blocks: list[_Block], client_block: _Block | None,
                      record_ids: pd.Series, person: pa.Array, is_hub: np.ndarray
                      ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Columns of the identifier table, block by block: record id, column, kind, value as
    given, normalised value, status (``ok``/``missing``/reason/``conflict``), person id;
    and the dtypes the client-id block adds."""
    n = len(record_ids)
    rid = record_ids.array if record_ids.dtype == STR else record_ids.to_numpy()
    parts: dict[str, list[Any]] = {c: [] for c in ("record_id", "column", "kind", "value",
                                                   "normalized", "status", "person_id")}
    constants: dict[str, Any] = {}
    person_col = pd.array(person, dtype=STR)
    for b in blocks:
        cols = _row_columns(b.values, b.nz)
        hub = b.ok & is_hub[np.where(b.ok, b.vid, 0)]
        if hub.any():
            status = b.nz.status.copy()
            status[hub] = len(b.nz.reasons)
            cols["status"] = pd.array(_lstr([*b.nz.reasons, "conflict"]).take(
                pa.array(status)), dtype=STR)
        parts["record_id"].append(rid)
        for c, label in (("column", b.column), ("kind", b.kind)):
            key = label if isinstance(label, str) else None
            if key is None or key not in constants:
                made = _constant(label, n)
                if key is not None:
                    constants[key] = made
            parts[c].append(made if key is None else constants[key])
        parts["person_id"].append(person_col)
        for c in ("value", "normalized", "status"):
            parts[c].append(cols[c])
    extra: dict[str, list[Any]] = {c: [] for c in parts}
    if client_block is not None:
        extra["column"].append(_inferred_dtype(_constant(client_block.column, 1)))
        extra["value"].append(_inferred_dtype(_as_given(client_block.values)))
        extra["normalized"].append(STR if client_block.ok.any() else np.dtype(object))
    return parts, extra


def _identifier_table(parts: dict[str, list[Any]], extra: dict[str, list[Any]],
                      rows: list[np.ndarray] | None = None) -> pd.DataFrame:
    """One row per (record, identifier column) (``rows``: only these of each column)."""
    return pd.DataFrame({c: _stack(parts[c], extra[c], rows) for c in parts})


def _source_combinations(src_codes: np.ndarray, src_names: list[str], person: np.ndarray,
                         n_people: int) -> tuple[Any, np.ndarray]:
    """Per person, the sources of their records (sorted names joined by ", "), and per
    source the number of people with a record there."""
    n_src = len(src_names)
    if n_people * n_src <= 200_000_000:
        present = np.zeros(n_people * n_src, dtype=bool)
        present[person * n_src + src_codes] = True
        pairs = np.flatnonzero(present)
    else:
        pairs = sorted_unique(person * n_src + src_codes)
    per_source = np.bincount(pairs % n_src, minlength=n_src)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(pairs // n_src,
                                                         minlength=n_people))])
    names = _lstr([str(x) for x in src_names]).take(pa.array(pairs % n_src))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), names)
    joined = pd.array(pc.binary_join(lists, pa.scalar(", ", pa.large_string())), dtype=STR)
    return (joined if n_src <= 62 else joined.astype(object)), per_source


def _lstr(values) -> pa.Array:
    return pa.array(values, type=pa.large_string())


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
    records = stitching.records
    record_col = stitching.details["record_column"]
    position = None
    if record_col in records.columns and records["person_id"].dtype == STR:
        position = positions_in(records[record_col], events[record])
    if position is None:
        person = events[record].map(stitching.person_of())
        missing = person.isna().to_numpy()
    else:
        missing = position < 0
    if missing.any():
        bad = int(np.flatnonzero(missing)[0])
        raise DataError("event refers to an unknown record", row=bad + 1, column=record,
                        got=events[record].iloc[bad],
                        hint=f"{int(missing.sum())} events in all; stitch every source first")
    out = events.copy()
    if position is None:
        out["person_id"] = person.to_numpy()
    else:
        people = text_array(records["person_id"])
        out["person_id"] = pd.array(people.take(pa.array(position)), dtype=STR)
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
