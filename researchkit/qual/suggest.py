"""Keyword and regular-expression coding suggestions: a first pass, never a coder.

Each codable code's ``keywords`` (whole words, case-insensitive; several words match across any
whitespace) and ``patterns`` (regular expressions, case-insensitive) are searched in every
segment. A hit becomes a row with ``coder = "suggestion"`` and ``source = "suggestion"``, which
reliability, frequencies and co-occurrence never count as a coder. Reviewing them is a
person's job; :func:`suggestion_accuracy` shows how far they can be trusted by comparing them
with a human coding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.qual.coding import check_codings
from researchkit.qual.segments import check_segments

if TYPE_CHECKING:
    from researchkit.qual.codebook import Codebook

__all__ = ["SUGGESTION", "suggest_codes", "suggestion_accuracy"]

SUGGESTION = "suggestion"


def _rules(codebook: Codebook, codes: Sequence[str] | None
           ) -> list[tuple[str, str, re.Pattern[str]]]:
    ids = list(codes) if codes is not None else codebook.codable_ids
    for cid in ids:
        codebook[cid]
    rules = []
    for cid in ids:
        code = codebook[cid]
        for kw in code.keywords:
            words = r"\s+".join(re.escape(w) for w in kw.split())
            rules.append((cid, f"keyword: {kw}",
                          re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)))
        for pat in code.patterns:
            rules.append((cid, f"pattern: {pat}", re.compile(pat, re.IGNORECASE)))
    return rules


def suggest_codes(
    segments: pd.DataFrame,
    codebook: Codebook,
    *,
    codes: Sequence[str] | None = None,
    roles: Sequence[str] | None = ("participant", "respondent"),
) -> pd.DataFrame:
    """Suggest codes for segments from the codebook's keywords and patterns.

    Parameters
    ----------
    segments : DataFrame
        Segments table (``segment``, ``text``; ``role`` if ``roles`` is given).
    codebook : Codebook
    codes : sequence of str, optional
        Only these codes (default: every codable code with keywords or patterns).
    roles : sequence of str or None
        Only segments with these roles (default: participants and respondents, not
        moderators); ``None`` for all.

    Returns
    -------
    DataFrame
        ``segment, code, coder="suggestion", source="suggestion", rule, match`` — one row per
        suggested (segment, code), with the first rule that matched and the matched text.
    """
    check_segments(segments)
    segs = segments
    if roles is not None:
        if "role" not in segments.columns:
            raise ParameterError("the segments have no role column; pass roles=None",
                                 parameter="roles", got=list(roles))
        segs = segments[segments["role"].isin(list(roles))]
    rules = _rules(codebook, codes)
    seen: set[tuple[str, str]] = set()
    rows = []
    texts = segs["text"].fillna("").astype(str).to_numpy()
    ids = segs["segment"].astype(str).to_numpy()
    for cid, rule, rx in rules:
        for sid, text in zip(ids, texts, strict=True):
            if (sid, cid) in seen:
                continue
            m = rx.search(text)
            if m:
                seen.add((sid, cid))
                rows.append((sid, cid, SUGGESTION, SUGGESTION, rule, m.group(0)))
    out = pd.DataFrame(rows, columns=["segment", "code", "coder", "source", "rule", "match"])
    order = {s: i for i, s in enumerate(ids)}
    corder = {c: i for i, c in enumerate(codebook.ids)}
    if len(out):
        out = out.sort_values(["segment", "code"], key=lambda s: s.map(
            order if s.name == "segment" else corder)).reset_index(drop=True)
    return out


def suggestion_accuracy(
    suggestions: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    coder: str | None = None,
    segments: pd.DataFrame | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """How well suggestions match a human coding: precision, recall and F1 per code.

    Parameters
    ----------
    suggestions : DataFrame
        Output of :func:`suggest_codes`.
    codings : DataFrame
        Coding table holding the reference (human or consensus) coding.
    coder : str, optional
        The reference coder (needed when there are several).
    segments : DataFrame, optional
        Restrict both to these segments (e.g. the ones the coder reviewed).
    codes : sequence of str, optional
        Codes to report (default: every code suggested or coded).

    Returns
    -------
    DataFrame
        ``code, n_suggested, n_coded, n_both, precision, recall, f1`` (precision = share of
        suggestions the coder also applied; recall = share of the coder's applications that
        were suggested), plus a row ``(all codes)``.
    """
    from researchkit.qual.coding import select_coder

    sugg = check_codings(suggestions)
    sugg = sugg[sugg["source"].eq(SUGGESTION)]
    ref, _ = select_coder(codings[~codings.get("source", pd.Series("human", index=codings.index))
                                  .eq(SUGGESTION)], coder)
    if segments is not None:
        keep = set(segments["segment"].astype(str))
        sugg = sugg[sugg["segment"].isin(keep)]
        ref = ref[ref["segment"].isin(keep)]
    code_list = list(codes) if codes is not None else sorted(
        set(sugg["code"]) | set(ref["code"]))
    s_pairs = set(zip(sugg["segment"], sugg["code"], strict=True))
    r_pairs = set(zip(ref["segment"], ref["code"], strict=True))
    rows = []
    for code in [*code_list, None]:
        s = {p for p in s_pairs if code is None or p[1] == code}
        r = {p for p in r_pairs if code is None or p[1] == code}
        if code is None:
            s = {p for p in s if p[1] in code_list}
            r = {p for p in r if p[1] in code_list}
        both = len(s & r)
        prec = both / len(s) if s else np.nan
        rec = both / len(r) if r else np.nan
        f1 = 2 * prec * rec / (prec + rec) if s and r and (prec + rec) > 0 else np.nan
        rows.append({"code": code if code is not None else "(all codes)",
                     "n_suggested": len(s), "n_coded": len(r), "n_both": both,
                     "precision": prec, "recall": rec, "f1": f1})
    return pd.DataFrame(rows)
