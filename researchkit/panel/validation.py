"""Checking a long-format panel before analysis: one tidy table of every problem.

Panels go wrong in a few typical ways: a respondent recorded twice in a wave (a re-import, a
second interview), waves not at equal intervals (a skipped or late wave breaks "per period"
rates), respondents who come back after dropping out (their transitions skip waves), a
fixed attribute (age group, region) that changes between waves, fieldwork dates that fall in
the wrong wave. :func:`validate_panel` finds all of them at once and lists them, one row per
problem; it raises only for tables no check can read (no rows, missing columns, waves without
an order, fewer than two waves).

Reference: Lynn, P. (ed.) (2009). *Methodology of Longitudinal Surveys*. Wiley, ch. 1 and 8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.panel.layout import (
    check_columns,
    check_data,
    plain_label,
    row_label,
    wave_levels,
)
from researchkit.results import Result

__all__ = ["PROBLEM_COLUMNS", "PanelValidation", "validate_panel"]

#: Columns of the problem table.
PROBLEM_COLUMNS = ["check", "severity", "respondent", "wave", "rows", "detail"]

_METHOD = (
    "Structural checks of a long-format panel: missing respondent ids or waves and duplicate "
    "respondent-waves are errors (analyses refuse such tables); unequal spacing of the waves "
    "(wave numbers, and median fieldwork date per wave when a date column is given, with a "
    "relative tolerance), respondents re-entering after missing a wave, attributes that should "
    "be constant but change within a respondent, and interview dates out of order or closer to "
    "another wave are warnings. Rows are 1-based data rows (or index labels)."
)


@dataclass(eq=False)
class PanelValidation(Result):
    """Result of :func:`validate_panel`; ``table`` (also ``problems``) lists every problem."""

    @property
    def problems(self) -> pd.DataFrame:
        assert self.table is not None
        return self.table

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.details.get("n_errors", 0) == 0


def _rows_text(data: pd.DataFrame, positions: Sequence[int]) -> str:
    labels = [str(row_label(data, int(p))) for p in positions]
    if len(labels) > 20:
        labels = [*labels[:20], f"... ({len(labels)} rows)"]
    return ", ".join(labels)


def validate_panel(
    data: pd.DataFrame, respondent: str = "respondent", wave: str = "wave", *,
    date: str | None = None, constant: Sequence[str] | None = None,
    waves: Sequence[Any] | None = None, spacing_tolerance: float = 0.2,
) -> PanelValidation:
    """List every problem of a long-format panel table, one row per problem.

    Parameters
    ----------
    data : DataFrame
        One row per respondent-wave.
    respondent, wave : str
        Column names of the respondent id and the wave (numbers, dates, ordered categorical, or
        text labels with ``waves=``).
    date : str, optional
        Fieldwork date of each interview. Adds checks: the median date of each wave must be
        equally spaced, each respondent's dates must increase with the wave, and an interview
        must lie nearer its own wave's median date than any other wave's.
    constant : sequence of str, optional
        Columns that must not change within a respondent (age group at recruitment, region...).
    waves : sequence, optional
        Order of the waves (required for text labels). A listed wave without rows is reported.
    spacing_tolerance : float
        Relative tolerance for date gaps: a gap between wave dates more than
        ``spacing_tolerance`` × the median gap away from the median gap is unequal. Numeric wave
        labels must be exactly equally spaced (the most common gap).

    Returns
    -------
    PanelValidation
        ``table`` (alias ``problems``) with columns ``check``, ``severity`` ("error" or
        "warning"), ``respondent``, ``wave``, ``rows`` (1-based rows), ``detail``;
        ``estimate`` = number of problems; ``details`` counts respondents, waves, complete
        respondents, singletons (one wave only), late entrants (first seen after the first
        wave); ``ok`` is True when there are no errors.

    Raises
    ------
    DataError
        For a table no check can read: no rows, a missing column, waves with no order, fewer than
        two waves.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"respondent": [1, 1, 2, 2, 2], "wave": [1, 2, 1, 1, 3]})
    >>> validate_panel(df).problems[["check", "respondent", "wave"]]  # doctest: +SKIP
    """
    check_data(data)
    constant = list(constant or [])
    check_columns(data, {"respondent": respondent, "wave": wave, "date": date})
    for col in constant:
        check_columns(data, {"constant": col})
    if not isinstance(spacing_tolerance, int | float) or not 0 <= spacing_tolerance < 1:
        raise ParameterError("invalid tolerance", parameter="spacing_tolerance",
                             expected="a number in [0, 1)", got=spacing_tolerance)
    levels = wave_levels(data, wave, waves)
    problems: list[dict[str, Any]] = []

    def add(check: str, severity: str, detail: str, *, resp: Any = None, wv: Any = None,
            rows: Sequence[int] = ()) -> None:
        problems.append({"check": check, "severity": severity,
                         "respondent": None if resp is None else plain_label(resp),
                         "wave": None if wv is None else plain_label(wv),
                         "rows": _rows_text(data, rows), "detail": detail})

    # 1. missing ids and waves -------------------------------------------------------------
    miss_id = data[respondent].isna().to_numpy()
    miss_wave = data[wave].isna().to_numpy()
    for pos in np.flatnonzero(miss_id):
        add("missing respondent id", "error", "the row has no respondent id",
            wv=None if miss_wave[pos] else data[wave].iloc[pos], rows=[pos])
    for pos in np.flatnonzero(miss_wave & ~miss_id):
        add("missing wave", "error", "the row has no wave", resp=data[respondent].iloc[pos],
            rows=[pos])
    ok_rows = np.flatnonzero(~miss_id & ~miss_wave)
    sub = data.iloc[ok_rows]
    if pd.api.types.is_datetime64_any_dtype(sub[wave]):
        wave_pos = pd.Categorical(sub[wave], categories=pd.DatetimeIndex(levels)).codes
    else:
        wave_pos = pd.Categorical(sub[wave], categories=levels).codes
    wave_pos = np.asarray(wave_pos, dtype=np.int64)
    resp_code, resp_ids = pd.factorize(sub[respondent], sort=True)
    resp_code = np.asarray(resp_code, dtype=np.int64)
    n_resp, n_waves = len(resp_ids), len(levels)

    # 2. duplicate respondent-waves --------------------------------------------------------
    key = pd.Series(resp_code * n_waves + wave_pos)
    dup_mask = key.duplicated(keep=False).to_numpy()
    if dup_mask.any():
        groups = pd.Series(np.flatnonzero(dup_mask)).groupby(key[dup_mask].to_numpy(),
                                                             sort=True)
        other_cols = [c for c in data.columns if c not in (respondent, wave)]
        for _, idx in groups:
            positions = ok_rows[idx.to_numpy()]
            block = data.iloc[positions][other_cols]
            differing = [str(c) for c in other_cols
                         if block[c].astype(object).where(block[c].notna(), None)
                         .nunique(dropna=False) > 1]
            detail = f"{len(positions)} rows for the same respondent and wave, " + (
                f"differing in {', '.join(differing)}" if differing else "identical")
            first = positions[0]
            add("duplicate respondent-wave", "error", detail, resp=data[respondent].iloc[first],
                wv=data[wave].iloc[first], rows=positions)

    # 3. spacing of the waves --------------------------------------------------------------
    counts = np.bincount(wave_pos, minlength=n_waves)
    for k in np.flatnonzero(counts == 0):
        add("empty wave", "warning", "no respondent answered this wave", wv=levels[k])
    if all(isinstance(v, int | float | np.integer | np.floating) for v in levels):
        gaps = np.diff(np.asarray(levels, dtype=float))
        _spacing_problems(add, levels, gaps, exact=True, unit="", tolerance=0.0)
    elif all(isinstance(v, pd.Timestamp) for v in levels):
        gaps = np.diff(pd.DatetimeIndex(levels).asi8) / 86_400e9
        _spacing_problems(add, levels, gaps, exact=False, unit=" days",
                          tolerance=spacing_tolerance)
    wave_dates = None
    if date is not None:
        dates = pd.to_datetime(sub[date], errors="coerce") \
            if not pd.api.types.is_datetime64_any_dtype(sub[date]) else sub[date]
        bad_date = dates.isna().to_numpy() & sub[date].notna().to_numpy()
        if bad_date.any():
            raise DataError("dates that cannot be read", column=date,
                            row=row_label(data, int(ok_rows[np.flatnonzero(bad_date)[0]])),
                            got=sub[date].iloc[int(np.flatnonzero(bad_date)[0])],
                            expected="dates such as 2026-03-31")
        for pos in ok_rows[dates.isna().to_numpy()]:
            add("missing date", "warning", "the interview has no fieldwork date",
                resp=data[respondent].iloc[pos], wv=data[wave].iloc[pos], rows=[pos])
        ns = dates.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
        ns[dates.isna().to_numpy()] = np.nan
        med = pd.Series(ns).groupby(wave_pos).median().reindex(range(n_waves)).to_numpy()
        wave_dates = med
        have = np.isfinite(med)
        if have.sum() >= 3 or (have.sum() == 2 and n_waves == 2):
            idx = np.flatnonzero(have)
            gaps = np.diff(med[idx]) / 86_400e9
            _spacing_problems(add, [levels[i] for i in idx], gaps, exact=False,
                              unit=" days between median fieldwork dates",
                              tolerance=spacing_tolerance, check="unequal fieldwork spacing")
        # nearest wave and order
        finite = np.isfinite(ns)
        if have.sum() >= 2:
            centres = med[have]
            centre_wave = np.flatnonzero(have)
            dist = np.abs(ns[finite][:, None] - centres[None, :])
            nearest = centre_wave[np.argmin(dist, axis=1)]
            own = wave_pos[finite]
            wrong = np.flatnonzero(nearest != own)
            pos_finite = ok_rows[finite]
            for j in wrong:
                pos = pos_finite[j]
                add("date closer to another wave", "warning",
                    f"interview date {pd.Timestamp(int(ns[finite][j])).date()} lies nearer "
                    f"wave {plain_label(levels[nearest[j]])} than its own wave",
                    resp=data[respondent].iloc[pos], wv=data[wave].iloc[pos], rows=[pos])
        order = np.lexsort((wave_pos, resp_code))
        r_sorted, d_sorted = resp_code[order], ns[order]
        w_sorted = wave_pos[order]
        same = (r_sorted[1:] == r_sorted[:-1]) & (w_sorted[1:] != w_sorted[:-1]) & \
            np.isfinite(d_sorted[1:]) & np.isfinite(d_sorted[:-1])
        back = np.flatnonzero(same & (d_sorted[1:] <= d_sorted[:-1]))
        for j in back:
            pos = ok_rows[order[j + 1]]
            add("dates out of order", "warning",
                "the interview is not later than the respondent's previous wave",
                resp=data[respondent].iloc[pos], wv=data[wave].iloc[pos],
                rows=[ok_rows[order[j]], pos])

    # 4. re-entries --------------------------------------------------------------------------
    presence = np.zeros((n_resp, n_waves), dtype=bool)
    presence[resp_code, wave_pos] = True
    first = presence.argmax(axis=1)
    last = n_waves - 1 - presence[:, ::-1].argmax(axis=1)
    span = last - first + 1
    n_present = presence.sum(axis=1)
    for r in np.flatnonzero(n_present < span):
        gaps_at = [k for k in range(first[r], last[r] + 1) if not presence[r, k]]
        back_at = next(k for k in range(gaps_at[0], last[r] + 1) if presence[r, k])
        rows_r = ok_rows[(resp_code == r) & (wave_pos == back_at)]
        add("re-entry after dropout", "warning",
            f"absent from wave(s) {', '.join(str(plain_label(levels[k])) for k in gaps_at)}, "
            f"back at wave {plain_label(levels[back_at])}",
            resp=resp_ids[r], wv=levels[back_at], rows=rows_r)

    # 5. attributes that must stay constant ---------------------------------------------------
    for col in constant:
        values = sub[col]
        nun = values.groupby(resp_code).nunique(dropna=True)
        for r in nun.index[nun.to_numpy() > 1]:
            rows_r = ok_rows[resp_code == r]
            seen = pd.unique(values.iloc[np.flatnonzero(resp_code == r)].dropna())
            add("inconsistent attribute", "warning",
                f"column {col!r} changes within the respondent: "
                f"{', '.join(map(str, seen))}", resp=resp_ids[r], rows=rows_r)

    table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    n_errors = int((table["severity"] == "error").sum())
    complete = int((n_present == n_waves).sum())
    details: dict[str, Any] = {
        "n_rows": len(data),
        "n_respondents": int(n_resp),
        "n_waves": n_waves,
        "waves": [plain_label(v) for v in levels],
        "n_complete": complete,
        "balanced": bool(complete == n_resp and n_errors == 0),
        "n_singletons": int((n_present == 1).sum()),
        "n_late_entrants": int((first > 0).sum()),
        "n_reentries": int((n_present < span).sum()),
        "n_errors": n_errors,
        "n_warnings": int((table["severity"] == "warning").sum()),
        "rows_per_wave": {str(plain_label(levels[k])): int(counts[k]) for k in range(n_waves)},
    }
    if wave_dates is not None:
        details["wave_dates"] = {
            str(plain_label(levels[k])): (pd.Timestamp(int(v)).date().isoformat()
                                        if np.isfinite(v) else None)
            for k, v in enumerate(wave_dates)}
    warnings = []
    if n_errors:
        warnings.append(f"{n_errors} error(s): the analyses refuse this table until they are "
                        "fixed (see the problems table)")
    return PanelValidation(
        name="Panel validation", estimate=len(table), method=_METHOD, n=len(data),
        table=table, details=details, warnings=warnings,
        reference="Lynn, P. (ed.) (2009). Methodology of Longitudinal Surveys. Wiley.",
    )


def _spacing_problems(add: Any, levels: Sequence[Any], gaps: np.ndarray, *, exact: bool,
                      unit: str, tolerance: float, check: str = "unequal wave spacing") -> None:
    if len(gaps) == 0:
        return
    if exact:
        values, counts = np.unique(np.round(gaps, 9), return_counts=True)
        expected = float(values[np.argmax(counts)])  # most common gap (smallest on ties)
        off = np.flatnonzero(~np.isclose(gaps, expected, rtol=1e-9, atol=1e-12))
    else:
        expected = float(np.median(gaps))
        off = np.flatnonzero(np.abs(gaps - expected) > tolerance * expected)
    if np.any(gaps <= 0):
        off = np.union1d(off, np.flatnonzero(gaps <= 0))
    for j in off:
        add(check, "warning",
            f"gap of {gaps[j]:g}{unit} from wave {plain_label(levels[j])} to wave "
            f"{plain_label(levels[j + 1])}, expected {expected:g}{unit}",
            wv=levels[j + 1])
