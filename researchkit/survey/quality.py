"""Response quality: speeders, straight-liners, duplicates, and ``clean()`` with a full log.

* **Speeders**: interview duration below ``threshold`` × the median duration (e.g. 0.4; a
  common rule in online panels, see Greszki, Meyer & Schoen 2015).
* **Straight-liners**: the same answer to every item of a grid (at least ``min_items``
  answered; Kim et al. 2019 review such indicators).
* **Duplicates**: a repeated respondent id, or identical answers on every substantive
  variable (a second submission); the first occurrence is kept.

:func:`clean` applies the flags and the questionnaire validation, and returns the cleaned data
plus a log of every removed respondent and why, and of every value it blanked. Nothing is
dropped silently; the input DataFrame is not modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.survey.questionnaire import OPEN_TYPES, Questionnaire
from researchkit.survey.validate import validate_responses

__all__ = ["CleanResult", "clean", "flag_duplicates", "flag_speeders", "flag_straightliners",
           "quality_flags"]


def flag_speeders(df: pd.DataFrame, duration: str = "duration_sec", threshold: float = 0.4
                  ) -> pd.Series:
    """True for interviews shorter than ``threshold`` × the median duration."""
    if duration not in df.columns:
        raise DataError("duration column not in the data", column=duration)
    if not 0 < threshold < 1:
        raise ParameterError("threshold is a fraction of the median", parameter="threshold",
                             expected="between 0 and 1", got=threshold)
    d = pd.to_numeric(df[duration], errors="coerce")
    med = d.median()
    if not np.isfinite(med) or med <= 0:
        raise DataError("no usable durations", column=duration)
    return (d < threshold * med).fillna(False).rename("speeder")


def flag_straightliners(df: pd.DataFrame, grids: dict[str, Sequence[str]] | Questionnaire,
                        min_items: int = 4) -> pd.DataFrame:
    """Straight-lining per grid: a boolean column per grid, True when every answered item is
    the same (and at least ``min_items`` were answered)."""
    if isinstance(grids, Questionnaire):
        grids = {q.id: [it.id for it in q.items or []] for q in grids.questions()
                 if q.type == "grid"}
    out = pd.DataFrame(index=df.index)
    for gid, items in grids.items():
        missing = [c for c in items if c not in df.columns]
        if missing:
            raise DataError("grid item not in the data", column=missing[0])
        block = df[list(items)].apply(pd.to_numeric, errors="coerce")
        answered = block.notna().sum(axis=1)
        same = block.nunique(axis=1) == 1
        out[gid] = (same & (answered >= min(min_items, len(items)))).to_numpy()
    return out


def flag_duplicates(df: pd.DataFrame, id_column: str | None = "respondent_id",
                    ignore: Sequence[str] = ("duration_sec",)) -> pd.DataFrame:
    """Duplicates: ``duplicate_id`` (repeated id) and ``duplicate_answers`` (same answers as
    an earlier row on every column except the id and ``ignore``); first occurrences are kept.
    """
    out = pd.DataFrame(index=df.index)
    if id_column is not None and id_column in df.columns:
        out["duplicate_id"] = df[id_column].duplicated(keep="first").to_numpy()
    else:
        out["duplicate_id"] = False
    cols = [c for c in df.columns if c != id_column and c not in set(ignore)]
    out["duplicate_answers"] = df[cols].astype(str).duplicated(keep="first").to_numpy()
    return out


def quality_flags(df: pd.DataFrame, qn: Questionnaire, *, duration: str | None = "duration_sec",
                  speeder_threshold: float = 0.4, min_grid_items: int = 4) -> pd.DataFrame:
    """All quality flags in one table (one row per respondent, one column per flag)."""
    flags = pd.DataFrame(index=df.index)
    flags[qn.respondent_id] = df[qn.respondent_id] if qn.respondent_id in df.columns \
        else np.arange(1, len(df) + 1)
    if duration is not None:
        flags["speeder"] = flag_speeders(df, duration, speeder_threshold).to_numpy()
    sl = flag_straightliners(df, qn, min_grid_items)
    flags["straightliner"] = sl.any(axis=1).to_numpy() if sl.shape[1] else False
    for c in sl.columns:
        flags[f"straightliner_{c}"] = sl[c].to_numpy()
    dup = flag_duplicates(df, qn.respondent_id, ignore=[duration] if duration else [])
    flags["duplicate_id"] = dup["duplicate_id"].to_numpy()
    flags["duplicate_answers"] = dup["duplicate_answers"].to_numpy()
    return flags


@dataclass(eq=False)
class CleanResult(Result):
    """Cleaned data plus the logs.

    Attributes
    ----------
    data : DataFrame
        The cleaned responses.
    log : DataFrame
        Every removed respondent: ``respondent, reason, detail``.
    changes : DataFrame
        Every blanked value: ``respondent, variable, old_value, rule``.
    problems : DataFrame
        The validation table of the input (see :func:`validate_responses`).
    flags : DataFrame
        The quality flags of the input.
    """

    data: pd.DataFrame | None = None
    log: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    problems: pd.DataFrame | None = None
    flags: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the logs but without the per-respondent data and flags."""
        out = super().to_dict()
        out.pop("data", None)
        out.pop("flags", None)
        return out


def clean(
    df: pd.DataFrame, qn: Questionnaire, *, duration: str | None = "duration_sec",
    speeder_threshold: float = 0.4, min_grid_items: int = 4,
    remove: Sequence[str] = ("speeder", "straightliner", "duplicate"),
    on_invalid: Literal["blank", "drop", "keep"] = "blank",
) -> CleanResult:
    """Validate, flag and clean responses, logging every removal and every change.

    Parameters
    ----------
    df : DataFrame
        Raw responses (not modified).
    qn : Questionnaire
    duration : str or None
        Duration column for the speeder rule (None: no speeder check).
    speeder_threshold : float
        Fraction of the median duration below which an interview is a speeder.
    min_grid_items : int
        Straight-lining needs at least this many answered grid items.
    remove : list of {"speeder", "straightliner", "duplicate"}
        Which flags remove a respondent.
    on_invalid : {"blank", "drop", "keep"}
        What to do with invalid values (out-of-range codes, answers to questions not shown,
        exclusive conflicts): blank them (set missing, logged in ``changes``), drop the
        respondent (logged), or keep them (they stay in ``problems``).

    Returns
    -------
    CleanResult
        ``data``, ``log``, ``changes``, ``problems``, ``flags``; ``estimate`` counts.
    """
    bad_rules = [r for r in remove if r not in ("speeder", "straightliner", "duplicate")]
    if bad_rules:
        raise ParameterError("unknown removal rule", parameter="remove",
                             expected="'speeder', 'straightliner', 'duplicate'", got=bad_rules)
    if on_invalid not in ("blank", "drop", "keep"):
        raise ParameterError("unknown option", parameter="on_invalid",
                             expected="'blank', 'drop' or 'keep'", got=on_invalid)
    idcol = qn.respondent_id
    if idcol not in df.columns:
        raise DataError("the respondent id column is missing", column=idcol,
                        hint="clean() logs respondents by id")
    problems = validate_responses(df, qn)
    flags = quality_flags(df, qn, duration=duration, speeder_threshold=speeder_threshold,
                          min_grid_items=min_grid_items)
    ids = df[idcol].to_numpy()
    removed: list[dict[str, Any]] = []
    drop = np.zeros(len(df), dtype=bool)

    def mark(mask: np.ndarray, reason: str, detail: str | list[str]) -> None:
        details = [detail] * len(mask) if isinstance(detail, str) else detail
        for i in np.flatnonzero(mask):
            removed.append({"respondent": ids[i], "row": int(i) + 1, "reason": reason,
                            "detail": details[i]})
        drop[mask] = True

    if "duplicate" in remove:
        mark(flags["duplicate_id"].to_numpy(), "duplicate", "repeats an earlier respondent id")
        mark(flags["duplicate_answers"].to_numpy() & ~flags["duplicate_id"].to_numpy(),
             "duplicate", "same answers as an earlier respondent")
    if "speeder" in remove and "speeder" in flags.columns:
        med = pd.to_numeric(df[duration], errors="coerce").median()
        detail = [f"duration {v:g}s < {speeder_threshold:g} × median {med:g}s"
                  for v in pd.to_numeric(df[duration], errors="coerce").fillna(np.nan)]
        mark(flags["speeder"].to_numpy(), "speeder", detail)
    if "straightliner" in remove:
        grids = [c for c in flags.columns if c.startswith("straightliner_")]
        for g in grids:
            mark(flags[g].to_numpy(), "straightliner",
                 f"same answer to every item of grid {g.removeprefix('straightliner_')}")
    data = df.copy()
    changes: list[dict[str, Any]] = []
    fixable = problems[problems["rule"].isin(["out_of_range", "not_shown",
                                              "exclusive_conflict"])]
    fixable = fixable[fixable["respondent"].notna()]
    if on_invalid == "drop" and len(fixable):
        bad_ids = set(fixable["respondent"])
        mask = np.isin(ids, list(bad_ids)) & ~drop
        reasons = fixable.groupby("respondent")["rule"].agg(lambda s: ", ".join(sorted(set(s))))
        mark(mask, "invalid", [str(reasons.get(r, "")) for r in ids])
    elif on_invalid == "blank" and len(fixable):
        pos = {r: i for i, r in enumerate(ids)}
        for rec in fixable.itertuples(index=False):
            i = pos.get(rec.respondent)
            if i is None or drop[i]:
                continue
            q = qn.owner_of(str(rec.variable)) if rec.variable else None
            if rec.rule == "not_shown" and q is not None:
                targets = q.variables
            elif rec.rule == "exclusive_conflict":
                targets = [str(rec.variable)]
            else:
                targets = [str(rec.variable)]
            for var in targets:
                if var not in data.columns:
                    continue
                old = data.iat[i, data.columns.get_loc(var)]
                if pd.isna(old) if not isinstance(old, str) else False:
                    continue
                changes.append({"respondent": rec.respondent, "variable": var,
                                "old_value": old.item() if isinstance(old, np.generic) else old,
                                "rule": rec.rule})
                data.iat[i, data.columns.get_loc(var)] = np.nan if var not in _text_vars(qn) \
                    else None
    data = data.loc[~drop].copy()
    log = pd.DataFrame(removed, columns=["respondent", "row", "reason", "detail"])
    # one line per respondent and reason
    log = log.drop_duplicates(["respondent", "row", "reason"]).reset_index(drop=True)
    changes_df = pd.DataFrame(changes, columns=["respondent", "variable", "old_value", "rule"])
    counts = log.drop_duplicates(["row"])["reason"].value_counts().to_dict()
    n_in, n_out = len(df), len(data)
    return CleanResult(
        name="Cleaning", estimate={"respondents_in": n_in, "respondents_out": n_out,
                                   "removed": n_in - n_out},
        method=(f"Validation against questionnaire '{qn.id}'; removed: "
                f"{', '.join(remove) or 'nothing'} (speeders: duration < "
                f"{speeder_threshold:g} × median; straight-liners: one answer across a grid of "
                f"≥ {min_grid_items} answered items; duplicates: repeated id or identical "
                f"answers, first kept); invalid values: {on_invalid}."),
        n=n_out, table=log,
        details={"removed_by_reason": {str(k): int(v) for k, v in counts.items()},
                 "values_blanked": len(changes_df), "problems_found": len(problems)},
        data=data, log=log, changes=changes_df, problems=problems, flags=flags)


def _text_vars(qn: Questionnaire) -> set[str]:
    out: set[str] = set()
    for q in qn.questions():
        if q.type in OPEN_TYPES:
            out.update(q.variables)
        out.update(v for v in q.variables if v.endswith("_other"))
    return out
