"""The segments table: the units that are coded (transcript turns, open-ended answers).

Columns: ``segment`` (unique id), ``document``, ``turn``, ``speaker``, ``role``
(``moderator``, ``participant`` or ``respondent``), ``start``, ``end`` (seconds), ``text``,
``line``; after :func:`join_participants` also ``participant`` and the screener attributes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.qual._checks import check_choice

__all__ = ["check_segments", "join_participants", "open_ends_to_segments"]


def _require(df: pd.DataFrame, columns: Sequence[str], what: str, parameter: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{what} must be a DataFrame", parameter=parameter,
                             got=type(df).__name__)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks required columns", column=missing[0],
                        expected=f"columns {list(columns)}", got=list(map(str, df.columns)))


def check_segments(segments: pd.DataFrame, *, parameter: str = "segments") -> pd.DataFrame:
    """Check a segments table (``segment`` and ``text`` columns, unique segment ids)."""
    _require(segments, ["segment", "text"], "the segments table", parameter)
    ids = segments["segment"]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0]) + 1
        raise DataError("segment id is missing", row=row, column="segment")
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError(f"{int(dup.sum())} rows share a segment id", column="segment",
                        expected="unique ids", got=sorted(ids[dup].astype(str).unique())[:5])
    return segments


def join_participants(
    segments: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    participant: str = "participant",
    label: str | None = None,
    document: str | None = None,
    attributes: Sequence[str] | None = None,
    unmatched: Literal["raise", "keep"] = "raise",
) -> pd.DataFrame:
    """Add participant ids and screener attributes to transcript segments.

    Parameters
    ----------
    segments : DataFrame
        A segments table with ``speaker`` and ``role`` (and ``document``) columns.
    participants : DataFrame
        The screener: one row per participant with a unique id column (``participant``) and
        attributes (age group, segment, channels used...).
    participant : str
        Column of unique participant ids.
    label : str, optional
        Column holding the speaker label used in the transcripts (first name, ``P3``...);
        default: the participant id itself.
    document : str, optional
        Column naming each participant's transcript (focus group); then a label only needs to
        be unique within its document.
    attributes : sequence of str, optional
        Screener columns to add (default: all but the keys).
    unmatched : {"raise", "keep"}
        A participant speaker (not a moderator) without a screener row raises a
        :class:`DataError` listing them, or is kept with empty attributes and a warning.

    Returns
    -------
    DataFrame
        The segments with ``participant`` and attribute columns (moderator turns get none).
    """
    _require(segments, ["speaker", "role", "document"], "the segments table", "segments")
    label = label or participant
    keys = [c for c in (participant, label, document) if c is not None]
    _require(participants, list(dict.fromkeys(keys)), "the participants table", "participants")
    check_choice(unmatched, "unmatched", ("raise", "keep"))
    ids = participants[participant]
    if ids.isna().any() or ids.duplicated().any():
        dup = sorted(ids[ids.duplicated()].astype(str).unique())[:5]
        raise DataError("participant ids must be present and unique", column=participant,
                        got=dup or "missing ids")
    match_on = [document, label] if document else [label]
    folded = participants[match_on].astype(str).apply(lambda c: c.str.casefold())
    dup = folded.duplicated(keep=False)
    if dup.any():
        raise DataError("two participants share a speaker label (compared ignoring case)"
                        + (" within one document" if document else ""), column=label,
                        got=participants.loc[dup, match_on].astype(str).values.tolist()[:5],
                        hint=None if document else "pass document=... if labels repeat across "
                        "focus groups")
    attrs = list(attributes) if attributes is not None else [
        c for c in participants.columns if c not in keys]
    unknown = [c for c in attrs if c not in participants.columns]
    if unknown:
        raise ParameterError("attributes not in the participants table",
                             parameter="attributes", got=unknown)
    clash = [c for c in attrs if c in segments.columns]
    if clash:
        raise DataError("attribute columns already exist in the segments table",
                        column=clash[0], hint="pass attributes=[...] to choose others")
    table = participants[list(dict.fromkeys([*match_on, participant, *attrs]))].copy()
    table["_key"] = table[label].astype(str).str.casefold()
    left = segments.copy()
    left["_key"] = left["speaker"].astype(str).str.casefold()
    on = ["_key"]
    if document:
        table["_doc"] = table[document].astype(str)
        left["_doc"] = left["document"].astype(str)
        on = ["_doc", "_key"]
    drop = [c for c in (label, document) if c not in (participant, *attrs) and c is not None]
    merged = left.merge(table.drop(columns=drop), on=on, how="left", validate="many_to_one")
    if participant != "participant":
        merged = merged.rename(columns={participant: "participant"})
    is_mod = merged["role"].eq("moderator")
    merged.loc[is_mod, ["participant", *attrs]] = np.nan
    missing = merged["participant"].isna() & ~is_mod & merged["speaker"].notna()
    if missing.any():
        who = merged.loc[missing, ["document", "speaker"]].drop_duplicates()
        listed = [f"{d}/{s}" for d, s in who.itertuples(index=False)][:10]
        if unmatched == "raise":
            raise DataError(f"{len(who)} speakers have no row in the participants table",
                            column="speaker", got=listed,
                            hint="add them to the screener, mark them as moderators, or pass "
                            "unmatched='keep'")
        warnings.warn(f"{len(who)} speakers have no screener row: {listed}", stacklevel=2)
    merged = merged.drop(columns=[c for c in ("_key", "_doc") if c in merged.columns])
    merged.attrs = dict(segments.attrs)
    return merged


def open_ends_to_segments(
    data: pd.DataFrame,
    *,
    text: str,
    id: str,
    document: str = "open_ends",
    attributes: Sequence[str] | None = None,
    drop_empty: bool = True,
) -> pd.DataFrame:
    """Open-ended survey answers as segments (one segment per answer).

    Parameters
    ----------
    data : DataFrame
        Survey responses, one row per respondent.
    text : str
        Column with the open answer.
    id : str
        Respondent id column (unique); becomes ``participant`` and ``speaker``.
    document : str
        Document id, e.g. the question name; segment ids are ``<document>:<id>``.
    attributes : sequence of str, optional
        Closed answers to carry along (segment, channels, satisfaction...); default all other
        columns.
    drop_empty : bool
        Leave out blank answers (their number is in ``df.attrs["n_empty"]``).

    Returns
    -------
    DataFrame
        Segments with ``role = "respondent"``, ``turn = 1``, ``line`` = the 1-based data row.
    """
    _require(data, [text, id], "the responses table", "data")
    ids = data[id]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0]) + 1
        raise DataError("respondent id is missing", row=row, column=id)
    if ids.duplicated().any():
        raise DataError("respondent ids repeat", column=id,
                        got=sorted(ids[ids.duplicated()].astype(str).unique())[:5])
    attrs = list(attributes) if attributes is not None else [
        c for c in data.columns if c not in (text, id)]
    unknown = [c for c in attrs if c not in data.columns]
    if unknown:
        raise ParameterError("attributes not in the table", parameter="attributes", got=unknown)
    reserved = {"segment", "document", "turn", "speaker", "role", "start", "end", "text",
                "line", "participant"}
    clash = [c for c in attrs if c in reserved]
    if clash:
        raise DataError("attribute column names clash with segment columns", column=clash[0],
                        hint="rename them first")
    answers = data[text]
    nonstr = answers.notna() & ~answers.map(lambda v: isinstance(v, str))
    if nonstr.any():
        row = int(np.flatnonzero(nonstr.to_numpy())[0]) + 1
        raise DataError("open answers must be text", row=row, column=text,
                        got=answers[nonstr].iloc[0])
    empty = answers.isna() | answers.astype(str).str.strip().eq("")
    keep = ~empty if drop_empty else pd.Series(True, index=data.index)
    sub = data[keep.to_numpy()]
    rows = np.flatnonzero(keep.to_numpy()) + 1
    out = pd.DataFrame({
        "segment": [f"{document}:{v}" for v in sub[id]],
        "document": document,
        "turn": 1,
        "speaker": sub[id].astype(str).to_numpy(),
        "role": "respondent",
        "start": np.nan,
        "end": np.nan,
        "text": sub[text].fillna("").astype(str).str.strip().to_numpy(),
        "line": rows,
        "participant": sub[id].to_numpy(),
    })
    for c in attrs:
        out[c] = sub[c].to_numpy()
    out.attrs["n_empty"] = int(empty.sum())
    return out
