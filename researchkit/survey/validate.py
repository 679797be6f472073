"""Validate a response file against its questionnaire.

Every problem becomes one row of a tidy table, never an exception: a data problem is something
to report and fix, not a crash. Rules:

``missing_column``
    a variable of the questionnaire is not in the data (one row, no respondent);
``duplicate_id``
    the respondent id appears more than once;
``out_of_range``
    a code that the question does not have (closed questions, scales, splits), a number
    outside ``min``/``max`` or not whole when ``integer``, a non-numeric answer to a numeric
    question, a multiple-choice dummy other than 0/1;
``not_shown``
    an answer to a question the routing says was not shown;
``required_missing``
    no answer to a required question that was shown;
``exclusive_conflict``
    an exclusive option ("none of these") selected together with another option;
``too_many_choices``
    more options than ``max_choices``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.survey.questionnaire import OPEN_TYPES, Question, Questionnaire

__all__ = ["RULES", "validate_responses"]

RULES = ("missing_column", "duplicate_id", "out_of_range", "not_shown", "required_missing",
         "exclusive_conflict", "too_many_choices")
COLUMNS = ["respondent", "question", "variable", "rule", "value", "message"]


def _rows(df: pd.DataFrame, mask: np.ndarray, ids: pd.Series, q: str | None, var: str | None,
          rule: str, message: str, values: pd.Series | None = None) -> list[dict[str, Any]]:
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return []
    vals = values.to_numpy()[idx] if values is not None else [None] * len(idx)
    rid = ids.to_numpy()[idx]
    return [{"respondent": r, "question": q, "variable": var, "rule": rule,
             "value": (v.item() if isinstance(v, np.generic) else v), "message": message}
            for r, v in zip(rid, vals, strict=True)]


def _single_codes(q: Question) -> list[Any]:
    codes = list(q.codes)
    return codes


def validate_responses(df: pd.DataFrame, qn: Questionnaire) -> pd.DataFrame:
    """Check responses against a questionnaire.

    Parameters
    ----------
    df : DataFrame
        One row per respondent: the id column, split variables and question variables (see
        :func:`researchkit.survey.data_map`).
    qn : Questionnaire

    Returns
    -------
    DataFrame
        ``respondent, question, variable, rule, value, message`` (empty when all is well),
        sorted by respondent order in the file.

    Examples
    --------
    >>> from researchkit.datasets.survey import simulate_brand_tracker  # doctest: +SKIP
    >>> validate_responses(simulate_brand_tracker(200).data, qn).empty  # doctest: +SKIP
    True
    """
    out: list[dict[str, Any]] = []
    idcol = qn.respondent_id
    if idcol in df.columns:
        ids = df[idcol]
        dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
        out += _rows(df, dup, ids, None, idcol, "duplicate_id",
                     "respondent id appears more than once", ids)
    else:
        out.append({"respondent": None, "question": None, "variable": idcol,
                    "rule": "missing_column", "value": None,
                    "message": "the respondent id column is missing; row numbers are used"})
        ids = pd.Series(np.arange(1, len(df) + 1), index=df.index)
    for s in qn.splits:
        if s.id not in df.columns:
            out.append({"respondent": None, "question": None, "variable": s.id,
                        "rule": "missing_column", "value": None,
                        "message": "split variable missing"})
            continue
        v = pd.to_numeric(df[s.id], errors="coerce")
        bad = ~v.isin(range(1, len(s.variants) + 1)).to_numpy()
        out += _rows(df, bad, ids, None, s.id, "out_of_range",
                     f"split variant code must be 1-{len(s.variants)}", df[s.id])
    for q in qn.questions():
        missing = [v for v in q.variables if v not in df.columns and not v.endswith("_other")]
        if missing:
            out += [{"respondent": None, "question": q.id, "variable": m,
                     "rule": "missing_column", "value": None,
                     "message": "variable of the questionnaire not in the data"}
                    for m in missing]
            continue
        cond = qn.condition(q)
        try:
            shown = np.ones(len(df), dtype=bool) if cond is None else \
                cond.evaluate(df.reset_index(drop=True), qn.columns_of).to_numpy()
        except Exception as exc:  # routing needs a column that is missing
            out.append({"respondent": None, "question": q.id, "variable": None,
                        "rule": "missing_column", "value": None,
                        "message": f"cannot evaluate routing: {exc}"})
            continue
        out += _check_question(df, q, shown, ids)
    table = pd.DataFrame(out, columns=COLUMNS)
    if not table.empty:
        order = {r: i for i, r in enumerate(pd.unique(ids))}
        table["_o"] = table["respondent"].map(order).fillna(-1)
        table = table.sort_values(["_o"], kind="stable").drop(columns="_o")
        table = table.reset_index(drop=True)
    return table


def _check_question(df: pd.DataFrame, q: Question, shown: np.ndarray, ids: pd.Series
                    ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if q.type == "multiple":
        cols = [f"{q.id}_{c}" for c in q.options or {}]
        block = df[cols]
        num = block.apply(pd.to_numeric, errors="coerce")
        for c in cols:
            bad = (block[c].notna() & ~num[c].isin([0, 1])).to_numpy()
            out += _rows(df, bad, ids, q.id, c, "out_of_range",
                         "a multiple-choice dummy must be 0 or 1", block[c])
        answered = num.notna().any(axis=1).to_numpy()
        selected = (num == 1).sum(axis=1).to_numpy()
        out += _rows(df, answered & ~shown, ids, q.id, q.id, "not_shown",
                     f"answered, but the routing ({q.show_if}) says it was not shown")
        if q.is_required:
            out += _rows(df, shown & (selected == 0), ids, q.id, q.id, "required_missing",
                         "no option selected")
        for e in q.exclusive:
            others = [f"{q.id}_{c}" for c in q.options or {} if c not in q.exclusive]
            conflict = ((num[f"{q.id}_{e}"] == 1) & (num[others] == 1).any(axis=1)).to_numpy()
            out += _rows(df, conflict, ids, q.id, f"{q.id}_{e}", "exclusive_conflict",
                         f"exclusive option {e} selected together with other options")
        if q.max_choices:
            out += _rows(df, selected > q.max_choices, ids, q.id, q.id, "too_many_choices",
                         f"more than {q.max_choices} options selected",
                         pd.Series(selected, index=df.index))
        return out
    for var in q.variables:
        if var.endswith("_other") and var not in df.columns:
            continue
        col = df[var]
        answered = col.notna().to_numpy()
        if col.dtype == object:
            answered &= col.astype(str).str.strip().ne("").to_numpy()
        out += _rows(df, answered & ~shown, ids, q.id, var, "not_shown",
                     f"answered, but the routing ({q.show_if}) says it was not shown", col)
        if var.endswith("_other"):
            continue
        if q.is_required:
            out += _rows(df, shown & ~answered, ids, q.id, var, "required_missing",
                         "required answer missing")
        if q.type in OPEN_TYPES:
            continue
        num = pd.to_numeric(col, errors="coerce")
        non_num = (col.notna() & num.isna()).to_numpy()
        out += _rows(df, non_num, ids, q.id, var, "out_of_range", "not a number", col)
        ok = num.notna().to_numpy()
        if q.type == "numeric":
            bad = np.zeros(len(df), dtype=bool)
            if q.min is not None:
                bad |= ok & (num.to_numpy() < q.min)
            if q.max is not None:
                bad |= ok & (num.to_numpy() > q.max)
            out += _rows(df, bad, ids, q.id, var, "out_of_range",
                         f"outside {q.min if q.min is not None else '-inf'}"
                         f"-{q.max if q.max is not None else 'inf'}", col)
            if q.integer:
                frac = ok & (np.mod(num.fillna(0).to_numpy(), 1) != 0)
                out += _rows(df, frac, ids, q.id, var, "out_of_range", "not a whole number",
                             col)
            continue
        codes = _single_codes(q)
        bad = ok & ~num.isin(codes).to_numpy()
        out += _rows(df, bad, ids, q.id, var, "out_of_range",
                     f"code not among {codes}", col)
    return out
