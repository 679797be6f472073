"""Coding data: a tidy table of code applications, one row per (segment, code, coder).

Columns: ``segment``, ``code``, ``coder`` and ``source`` — ``human`` for a person's coding,
``suggestion`` for keyword/regex suggestions (:mod:`researchkit.qual.suggest`), ``consensus``
for an adjudicated merge. Suggestions are never counted as a coder in reliability, frequencies
or co-occurrence unless selected explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.io import read_table
from researchkit.qual._checks import check_choice

if TYPE_CHECKING:
    from researchkit.qual.codebook import Codebook

__all__ = ["CODING_COLUMNS", "SOURCES", "check_codings", "human_codings", "presence",
           "read_codings", "select_coder", "write_codings"]

CODING_COLUMNS = ["segment", "code", "coder", "source"]
SOURCES = ("human", "suggestion", "consensus")


def check_codings(
    codings: pd.DataFrame,
    *,
    codebook: Codebook | None = None,
    segments: pd.DataFrame | None = None,
    duplicates: Literal["error", "drop"] = "error",
    file: str | None = None,
) -> pd.DataFrame:
    """Validate a coding table and return it with the standard columns.

    Checks: required columns; no missing segment, code or coder (the row is named);
    ``source`` one of human/suggestion/consensus; codes in the codebook and codable; segments
    in the segments table; no repeated (segment, code, coder) rows unless
    ``duplicates="drop"`` (the same code applied twice to one segment by one coder).

    Returns
    -------
    DataFrame
        Columns ``segment, code, coder, source`` (+ any extra columns), strings.
    """
    if not isinstance(codings, pd.DataFrame):
        raise ParameterError("codings must be a DataFrame", parameter="codings",
                             got=type(codings).__name__)
    missing = [c for c in ("segment", "code", "coder") if c not in codings.columns]
    if missing:
        raise DataError("the coding table lacks required columns", file=file,
                        column=missing[0], expected="columns segment, code, coder",
                        got=list(map(str, codings.columns)))
    check_choice(duplicates, "duplicates", ("error", "drop"))
    df = codings.copy()
    if "source" not in df.columns:
        df["source"] = "human"
    for col in ("segment", "code", "coder", "source"):
        isna = df[col].isna() | df[col].astype(str).str.strip().eq("")
        if isna.any():
            row = int(np.flatnonzero(isna.to_numpy())[0]) + 1
            raise DataError(f"{int(isna.sum())} rows have no {col}", file=file, row=row,
                            column=col)
        df[col] = df[col].astype(str).str.strip()
    bad = ~df["source"].isin(SOURCES)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise DataError("unknown coding source", file=file, row=row, column="source",
                        expected=f"one of {SOURCES}", got=df["source"][bad].iloc[0])
    if codebook is not None:
        unknown = ~df["code"].isin(codebook.ids)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0]) + 1
            raise DataError(f"{int(unknown.sum())} rows use codes that are not in the codebook "
                            f"{codebook.title!r}", file=file, row=row, column="code",
                            got=sorted(df.loc[unknown, "code"].unique())[:10])
        notcod = df["code"].isin([c for c in codebook.ids if not codebook[c].codable])
        if notcod.any():
            row = int(np.flatnonzero(notcod.to_numpy())[0]) + 1
            raise DataError("rows apply codes marked codable: false (categories that only "
                            "group other codes)", file=file, row=row, column="code",
                            got=sorted(df.loc[notcod, "code"].unique())[:10])
    if segments is not None:
        known = set(segments["segment"].astype(str))
        unknown = ~df["segment"].isin(known)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0]) + 1
            raise DataError(f"{int(unknown.sum())} rows code segments that are not in the "
                            "segments table", file=file, row=row, column="segment",
                            got=sorted(df.loc[unknown, "segment"].unique())[:10])
    dup = df.duplicated(["segment", "code", "coder"], keep="first")
    if dup.any():
        if duplicates == "error":
            row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            raise DataError(f"{int(dup.sum())} rows repeat a (segment, code, coder) "
                            "combination", file=file, row=row,
                            hint="pass duplicates='drop' to keep one of each")
        df = df[~dup.to_numpy()].reset_index(drop=True)
        df.attrs["n_duplicates_dropped"] = int(dup.sum())
    return df


def read_codings(
    path: str | Path,
    *,
    segment: str = "segment",
    code: str = "code",
    coder: str = "coder",
    source: str | None = None,
    codebook: Codebook | None = None,
    segments: pd.DataFrame | None = None,
    duplicates: Literal["error", "drop"] = "error",
) -> pd.DataFrame:
    """Read a coding table from CSV, Parquet or Excel and validate it.

    Parameters
    ----------
    path : str or Path
    segment, code, coder, source : str
        Column names in the file (renamed to the standard names).
    codebook, segments, duplicates
        As in :func:`check_codings`.
    """
    df = read_table(path)
    names = {segment: "segment", code: "code", coder: "coder"}
    if source:
        names[source] = "source"
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise DataError("column not in the file", file=path, column=missing[0],
                        expected=f"columns {list(names)}", got=list(map(str, df.columns)))
    df = df.rename(columns=names)
    return check_codings(df, codebook=codebook, segments=segments, duplicates=duplicates,
                         file=str(path))


def write_codings(codings: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a coding table to ``.csv`` or ``.parquet`` (never over an existing file unless
    ``overwrite=True``)."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".parquet"):
        raise ParameterError("coding tables are written as .csv or .parquet", parameter="path",
                             got=str(p))
    if p.exists() and not overwrite:
        raise DataError("file exists; refusing to overwrite it", file=p,
                        hint="choose a new name or pass overwrite=True")
    df = check_codings(codings)
    if p.suffix.lower() == ".csv":
        df.to_csv(p, index=False)
    else:
        df.to_parquet(p, index=False)
    return p


def human_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """Only the rows of human coders (suggestions and consensus rows removed)."""
    df = codings if "source" in codings.columns else codings.assign(source="human")
    return df[df["source"].eq("human")]


def select_coder(codings: pd.DataFrame, coder: str | None, *, parameter: str = "coder"
                 ) -> tuple[pd.DataFrame, str]:
    """The rows of one coder; with ``coder=None`` the only non-suggestion coder there is.

    Analyses (frequencies, co-occurrence, quotes) describe one coding: a single coder's, or a
    consensus. Suggestions are used only when asked for by name.
    """
    df = check_codings(codings, duplicates="drop")
    if coder is None:
        coders = sorted(df.loc[~df["source"].eq("suggestion"), "coder"].unique())
        if len(coders) != 1:
            raise ParameterError("the coding table has several coders; analyse one coder or a "
                                 "consensus", parameter=parameter,
                                 expected=f"one of {coders} (or build consensus(...) first)"
                                 if coders else "a human or consensus coding",
                                 got=None)
        coder = coders[0]
    sub = df[df["coder"].eq(coder)]
    if sub.empty:
        raise ParameterError("no codings by this coder", parameter=parameter, got=coder,
                             expected=f"one of {sorted(df['coder'].unique())}")
    return sub, coder


def presence(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    codes: Sequence[str] | None = None,
    coders: Sequence[str] | None = None,
    uncoded: Literal["exclude", "include"] = "exclude",
    assignments: pd.DataFrame | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, object]]:
    """Presence/absence of each code: units (segments) × coders, 1/0, NaN = not coded.

    Parameters
    ----------
    codings : DataFrame
        Human codings (suggestion rows are removed).
    segments : DataFrame, optional
        All segments that could have been coded; needed for ``uncoded="include"``.
    codes, coders : sequences, optional
        Which codes and coders (default: all that appear).
    uncoded : {"exclude", "include"}
        Segments that no coder coded at all are left out (``exclude``, default: they were
        probably out of scope, e.g. moderator turns), or count as "absent" for every coder
        (``include``; needs ``segments``).
    assignments : DataFrame, optional
        ``segment, coder`` rows saying which coder reviewed which segments (when coders
        coded different subsets): a coder's value for a segment not assigned to them is NaN.
        Without it every coder is taken to have reviewed every unit.

    Returns
    -------
    tables : dict
        ``{code: DataFrame(units × coders)}``.
    info : dict
        ``n_units``, ``n_uncoded_excluded``, ``n_suggestions_ignored``, ``rule`` (plain words).
    """
    df = check_codings(codings, duplicates="drop")
    n_sugg = int(df["source"].eq("suggestion").sum())
    df = df[df["source"].eq("human")]
    if df.empty:
        raise DataError("there are no human codings (suggestions are never counted as a coder)")
    check_choice(uncoded, "uncoded", ("exclude", "include"))
    all_coders = sorted(df["coder"].unique())
    if coders is not None:
        unknown = [c for c in coders if c not in all_coders]
        if unknown:
            raise ParameterError("coders without human codings", parameter="coders",
                                 got=unknown, expected=f"some of {all_coders}")
        df = df[df["coder"].isin(coders)]
        all_coders = list(coders)
    if len(all_coders) < 2:
        raise DataError("reliability needs codings from at least two human coders",
                        got=all_coders)
    code_list = list(codes) if codes is not None else sorted(df["code"].unique())
    coded_units = pd.Index(df["segment"].unique())
    if segments is not None:
        seg_ids = pd.Index(segments["segment"].astype(str))
        unknown = coded_units.difference(seg_ids)
        if len(unknown):
            raise DataError(f"{len(unknown)} coded segments are not in the segments table",
                            column="segment", got=list(unknown[:10]))
    if uncoded == "include":
        if segments is None:
            raise ParameterError("uncoded='include' needs the segments table",
                                 parameter="segments")
        units = pd.Index(segments["segment"].astype(str))
        rule = ("every segment in the segments table is a unit; a segment a coder did not code "
                "counts as absence of every code")
    else:
        units = pd.Index(segments["segment"].astype(str)).intersection(coded_units, sort=False) \
            if segments is not None else coded_units.sort_values()
        rule = ("segments that no coder coded at all were excluded (pass uncoded='include' to "
                "count them as absence)")
    n_excluded = (len(segments) - len(units)) if (segments is not None and uncoded == "exclude") \
        else 0
    applied = pd.crosstab([df["segment"]], [df["code"], df["coder"]]).clip(upper=1)
    if assignments is not None:
        miss = [c for c in ("segment", "coder") if c not in assignments.columns]
        if miss:
            raise DataError("assignments lack required columns", column=miss[0],
                            expected="columns segment, coder")
        assigned = pd.crosstab(assignments["segment"].astype(str),
                               assignments["coder"].astype(str)).clip(upper=1)
        assigned = assigned.reindex(index=units, columns=all_coders, fill_value=0).astype(bool)
        outside = df[~df.set_index(["segment", "coder"]).index.isin(
            assigned.stack()[lambda s: s].index)]
        if len(outside):
            raise DataError(f"{len(outside)} codings are for segments not assigned to their "
                            "coder", column="segment",
                            got=outside[["segment", "coder"]].head(5).values.tolist())
        rule += "; a coder's value is missing for segments not assigned to them"
    tables = {}
    for code in code_list:
        if code in applied.columns.get_level_values(0):
            tab = applied[code].reindex(index=units, columns=all_coders, fill_value=0)
        else:
            tab = pd.DataFrame(0, index=units, columns=all_coders)
        tab = tab.astype(float)
        if assignments is not None:
            tab = tab.where(assigned.to_numpy())
        tab.index.name = "segment"
        tab.columns.name = "coder"
        tables[code] = tab
    info: dict[str, object] = {"n_units": len(units), "n_uncoded_excluded": n_excluded,
                               "n_suggestions_ignored": n_sugg, "rule": rule,
                               "coders": list(all_coders)}
    return tables, info
