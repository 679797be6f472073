"""Quotes per code, with speaker attributes, redacted before they leave the project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from researchkit.datasets.base import make_rng
from researchkit.errors import DataError, ParameterError
from researchkit.qual._checks import check_choice
from researchkit.qual.coding import select_coder
from researchkit.qual.redaction import Redactor
from researchkit.qual.segments import check_segments

if TYPE_CHECKING:
    from researchkit.qual.codebook import Codebook

__all__ = ["extract_quotes"]


def extract_quotes(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    code: str | Sequence[str],
    *,
    coder: str | None = None,
    codebook: Codebook | None = None,
    include_children: bool = False,
    attributes: Sequence[str] | None = None,
    redact: bool = True,
    names: Sequence[str] = (),
    redact_speakers: bool = True,
    min_words: int = 0,
    max_quotes: int | None = None,
    order: Literal["document", "length", "random"] = "document",
    seed: int = 0,
) -> pd.DataFrame:
    """Quotes (segment texts) carrying a code, with who said them, redacted.

    Parameters
    ----------
    codings, segments : DataFrame
        Coding and segments tables (segments joined with the screener show attributes).
    code : str or list of str
        The code(s) to quote.
    coder : str, optional
        Whose coding (needed when there are several).
    codebook : Codebook, optional
        For labels and ``include_children``.
    include_children : bool
        Also quote segments carrying a descendant of ``code``.
    attributes : sequence of str, optional
        Segment columns to show (default: every column added by the screener join).
    redact : bool
        Replace e-mails, phone numbers and names with ``[EMAIL]``, ``[PHONE]``, ``[NAME]``.
    names : sequence of str
        Names to redact (participants, staff, places...).
    redact_speakers : bool
        Also redact every non-moderator speaker label found in the segments (first names in
        transcripts), so quotes show participant ids, not names.
    min_words : int
        Leave out quotes shorter than this.
    max_quotes : int, optional
        At most this many quotes per code.
    order : {"document", "length", "random"}
        Which quotes come first: transcript order, longest first, or a seeded random order.
    seed : int
        Seed of ``order="random"``.

    Returns
    -------
    DataFrame
        ``code, label, segment, document, participant, <attributes>, quote, n_redacted`` —
        never the speaker label itself when ``redact`` is on.
    """
    check_segments(segments)
    check_choice(order, "order", ("document", "length", "random"), "order")
    codes = [code] if isinstance(code, str) else list(code)
    rows, coder = select_coder(codings, coder)
    targets: dict[str, str] = {}
    for c in codes:
        if codebook is not None:
            codebook[c]
        elif include_children:
            raise ParameterError("include_children needs the codebook", parameter="codebook")
        if c not in set(rows["code"]) and not (include_children and codebook):
            raise DataError(f"{coder!r} never applied code {c!r}", column="code", got=c)
        targets[c] = c
        if include_children and codebook is not None:
            for d in codebook.descendants(c):
                targets.setdefault(d, c)
    base = {"segment", "document", "turn", "speaker", "role", "start", "end", "text", "line",
            "participant"}
    attrs = list(attributes) if attributes is not None else [
        c for c in segments.columns if c not in base]
    unknown = [a for a in attrs if a not in segments.columns]
    if unknown:
        raise ParameterError("no such segment columns", parameter="attributes", got=unknown)
    name_list = list(names)
    if redact and redact_speakers and "speaker" in segments.columns:
        speakers = segments.loc[~segments.get("role", pd.Series("", index=segments.index))
                                .eq("moderator"), "speaker"].dropna().astype(str).unique()
        name_list.extend(s for s in speakers if s)
    rd = Redactor(names=name_list) if redact else None
    seg = segments.copy()
    seg["segment"] = seg["segment"].astype(str)
    seg["_order"] = np.arange(len(seg))
    hits = rows[rows["code"].isin(list(targets))].assign(target=lambda d: d["code"].map(targets))
    merged = hits[["segment", "target"]].drop_duplicates().merge(seg, on="segment", how="inner")
    rng = make_rng(seed)
    out = []
    for c in codes:
        sub = merged[merged["target"].eq(c)].copy()
        sub["_words"] = sub["text"].fillna("").astype(str).str.split().str.len()
        sub = sub[sub["_words"] >= min_words]
        if order == "document":
            sub = sub.sort_values("_order")
        elif order == "length":
            sub = sub.sort_values(["_words", "_order"], ascending=[False, True])
        else:
            sub = sub.sort_values("_order").iloc[rng.permutation(len(sub))]
        if max_quotes is not None:
            sub = sub.head(max_quotes)
        for rec in sub.to_dict("records"):
            text = str(rec.get("text", ""))
            n_red = 0
            if rd is not None:
                text, counts = rd.redact(text)
                n_red = sum(counts.values())
            row = {"code": c, "label": codebook.label(c) if codebook else c,
                   "segment": rec["segment"], "document": rec.get("document"),
                   "participant": rec.get("participant", None if redact else rec.get("speaker"))}
            if not redact:
                row["speaker"] = rec.get("speaker")
            row.update({a: rec.get(a) for a in attrs})
            row.update(quote=text, n_redacted=n_red)
            out.append(row)
    cols = ["code", "label", "segment", "document", "participant",
            *([] if redact else ["speaker"]), *attrs, "quote", "n_redacted"]
    return pd.DataFrame(out, columns=cols)
