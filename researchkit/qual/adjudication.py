"""Disagreements for adjudication, and a consensus coding merged from several coders.

Workflow: ``disagreements(codings, segments)`` lists every (segment, code) the coders did not
agree on, with the text and an empty ``decision`` column; the lead researcher fills in
``apply`` or ``reject`` (e.g. in a spreadsheet); ``consensus(codings, adjudications=...)``
merges the coders' agreements and the decisions into one coding (coder ``consensus``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.qual._checks import check_choice
from researchkit.qual.coding import check_codings, presence

__all__ = ["consensus", "disagreements"]

_APPLY = {"apply", "yes", "y", "true", "1", "1.0", "keep", "accept"}
_REJECT = {"reject", "no", "n", "false", "0", "0.0", "drop", "remove"}


def _votes(codings: pd.DataFrame, segments: pd.DataFrame | None, coders: Sequence[str] | None,
           assignments: pd.DataFrame | None) -> tuple[pd.DataFrame, list[str]]:
    """One row per (segment, code) with at least one application: who applied, who reviewed."""
    tables, info = presence(codings, segments=segments, coders=coders, uncoded="exclude",
                            assignments=assignments)
    coder_list = list(info["coders"])  # type: ignore[arg-type]
    frames = []
    for code, tab in tables.items():
        x = tab.to_numpy(dtype=float)
        applied = np.nansum(x, axis=1)
        reviewed = (~np.isnan(x)).sum(axis=1)
        some = applied > 0
        if not some.any():
            continue
        sub = x[some]
        frames.append(pd.DataFrame({
            "segment": tab.index[some], "code": code,
            "n_applied": applied[some].astype(int), "n_coders": reviewed[some].astype(int),
            "applied_by": ["; ".join(c for c, v in zip(coder_list, row, strict=True)
                                     if v == 1) for row in sub],
            "not_applied_by": ["; ".join(c for c, v in zip(coder_list, row, strict=True)
                                         if v == 0) for row in sub],
        }))
    cols = ["segment", "code", "n_applied", "n_coders", "applied_by", "not_applied_by"]
    votes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return votes, coder_list


def disagreements(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    coders: Sequence[str] | None = None,
    assignments: pd.DataFrame | None = None,
    context: Sequence[str] = ("document", "speaker", "text"),
) -> pd.DataFrame:
    """Every (segment, code) on which the human coders disagree, for adjudication.

    Parameters
    ----------
    codings : DataFrame
        Coding table; suggestion rows are ignored.
    segments : DataFrame, optional
        Adds the ``context`` columns (document, speaker, text) so the adjudicator reads the
        segment.
    coders : sequence of str, optional
    assignments : DataFrame, optional
        ``segment, coder`` rows when coders reviewed different subsets.
    context : sequence of str
        Segment columns to show.

    Returns
    -------
    DataFrame
        ``segment, code, n_applied, n_coders, applied_by, not_applied_by``, the context
        columns and an empty ``decision`` column to fill with ``apply`` or ``reject``; in
        segment order.
    """
    votes, _ = _votes(codings, segments, coders, assignments)
    out = votes[(votes["n_applied"] < votes["n_coders"])].copy()
    if segments is not None:
        ctx = [c for c in context if c in segments.columns and c != "segment"]
        seg = segments[["segment", *ctx]].copy()
        seg["_order"] = np.arange(len(seg))
        seg["segment"] = seg["segment"].astype(str)
        out = out.merge(seg, on="segment", how="left").sort_values(["_order", "code"])
        out = out.drop(columns="_order")
    else:
        out = out.sort_values(["segment", "code"])
    out["decision"] = ""
    return out.reset_index(drop=True)


def _decision(value: object, row: int) -> bool:
    text = str(value).strip().lower()
    if text in _APPLY:
        return True
    if text in _REJECT:
        return False
    raise DataError("unknown decision", row=row, column="decision",
                    expected="'apply' or 'reject' (or yes/no, 1/0)", got=value)


def consensus(
    codings: pd.DataFrame,
    *,
    rule: Literal["majority", "unanimous", "any"] = "majority",
    adjudications: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    coders: Sequence[str] | None = None,
    assignments: pd.DataFrame | None = None,
    unresolved: Literal["error", "drop", "keep"] = "error",
    name: str = "consensus",
) -> pd.DataFrame:
    """Merge several coders' codings into one consensus coding.

    Parameters
    ----------
    codings : DataFrame
        Coding table; suggestion rows are ignored.
    rule : {"majority", "unanimous", "any"}
        Where coders disagree and no adjudication decides: apply a code if more than half of
        the coders who reviewed the segment applied it (ties are unresolved), only if all did,
        or if any did.
    adjudications : DataFrame, optional
        ``segment, code, decision`` rows (e.g. the filled-in :func:`disagreements` table);
        a decision (``apply``/``reject``) overrides the rule; an ``apply`` decision may also
        add a code no coder applied. Blank decisions are ignored.
    segments, coders, assignments
        As in :func:`disagreements`.
    unresolved : {"error", "drop", "keep"}
        Majority ties without a decision: raise (listing them), leave the code out, or apply
        it.
    name : str
        Coder name of the consensus rows.

    Returns
    -------
    DataFrame
        Coding table ``segment, code, coder, source="consensus", basis`` where ``basis`` is
        ``agreement``, ``rule`` or ``adjudicated``; ``attrs["n_unresolved"]`` counts ties.
    """
    check_choice(rule, "rule", ("majority", "unanimous", "any"), "consensus rule")
    check_choice(unresolved, "unresolved", ("error", "drop", "keep"))
    votes, _ = _votes(codings, segments, coders, assignments)
    decided: dict[tuple[str, str], bool] = {}
    if adjudications is not None:
        adj = adjudications
        miss = [c for c in ("segment", "code", "decision") if c not in adj.columns]
        if miss:
            raise DataError("adjudications lack required columns", column=miss[0],
                            expected="columns segment, code, decision")
        for i, (seg, code, dec) in enumerate(adj[["segment", "code", "decision"]]
                                             .itertuples(index=False), start=1):
            if dec is None or (isinstance(dec, float) and np.isnan(dec)) or \
                    str(dec).strip() == "":
                continue
            key = (str(seg), str(code))
            value = _decision(dec, i)
            if key in decided and decided[key] != value:
                raise DataError("conflicting decisions for the same segment and code", row=i,
                                got=list(key))
            decided[key] = value
    n_app = votes["n_applied"].to_numpy()
    n_cod = votes["n_coders"].to_numpy()
    agree = n_app == n_cod
    if rule == "majority":
        by_rule = 2 * n_app > n_cod
        tie = 2 * n_app == n_cod
    elif rule == "unanimous":
        by_rule, tie = agree, np.zeros(len(votes), bool)
    else:
        by_rule, tie = n_app > 0, np.zeros(len(votes), bool)
    keys = list(zip(votes["segment"].astype(str), votes["code"].astype(str), strict=True))
    adjudicated = np.array([k in decided for k in keys], dtype=bool)
    final = np.where(adjudicated, [decided.get(k, False) for k in keys], by_rule)
    open_tie = tie & ~adjudicated
    n_unresolved = int(open_tie.sum())
    if n_unresolved and unresolved == "error":
        shown = [f"{s}/{c}" for (s, c), t in zip(keys, open_tie, strict=True) if t][:10]
        raise DataError(f"{n_unresolved} majority ties have no adjudication", got=shown,
                        hint="fill in decisions (see disagreements()), or pass "
                        "unresolved='drop' or 'keep'")
    if unresolved == "keep":
        final = final | open_tie
    basis = np.where(adjudicated, "adjudicated", np.where(agree, "agreement", "rule"))
    out = pd.DataFrame({"segment": votes["segment"].astype(str),
                        "code": votes["code"].astype(str), "coder": name,
                        "source": "consensus", "basis": basis})[final.astype(bool)]
    extra = [k for k, v in decided.items() if v and k not in set(keys)]
    if extra:
        out = pd.concat([out, pd.DataFrame({
            "segment": [k[0] for k in extra], "code": [k[1] for k in extra], "coder": name,
            "source": "consensus", "basis": "adjudicated"})], ignore_index=True)
    out = out.reset_index(drop=True)
    out.attrs["n_unresolved"] = n_unresolved
    out.attrs["rule"] = rule
    return check_codings(out)
