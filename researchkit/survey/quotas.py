"""Quota tracking during fieldwork: achieved vs target per quota cell.

Quotas come from the questionnaire (``quotas:``) or are given as ``{variable: {code:
target}}``. :func:`quota_status` reports every cell (target, achieved, remaining, % complete,
status); :class:`QuotaTracker` keeps counts as completes arrive and says whether a new
respondent still fits (every quota cell they fall in must be open), which is how a fieldwork
system screens out respondents of full cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.survey.questionnaire import Questionnaire, Quota

__all__ = ["QuotaTracker", "quota_status"]


def _normalise(quotas: Any) -> list[Quota]:
    if isinstance(quotas, Questionnaire):
        return list(quotas.quotas)
    if isinstance(quotas, Mapping):
        return [Quota(id=str(var), variable=str(var), targets=dict(t))
                for var, t in quotas.items()]
    if isinstance(quotas, Sequence) and all(isinstance(q, Quota) for q in quotas):
        return list(quotas)
    raise ParameterError("quotas must be a Questionnaire, a list of Quota or "
                         "{variable: {code: target}}", parameter="quotas",
                         got=type(quotas).__name__)


def quota_status(df: pd.DataFrame, quotas: Any, *, labels: Questionnaire | None = None
                 ) -> pd.DataFrame:
    """Achieved vs target for every quota cell.

    Parameters
    ----------
    df : DataFrame
        Completed interviews so far.
    quotas : Questionnaire, list of Quota, or mapping ``{variable: {code: target count}}``
    labels : Questionnaire, optional
        For code labels (taken from ``quotas`` when it is a questionnaire).

    Returns
    -------
    DataFrame
        ``quota, variable, code, label, target, achieved, remaining, pct_complete, status``
        where status is ``open``, ``full`` or ``over``. Codes in the data outside the quota's
        targets are reported as rows with target 0 and status ``over``.
    """
    qn = quotas if isinstance(quotas, Questionnaire) else labels
    rows = []
    for quota in _normalise(quotas):
        if quota.variable not in df.columns:
            raise DataError("quota variable missing from the data", column=quota.variable,
                            expected=f"a column {quota.variable!r}")
        counts = df[quota.variable].value_counts(dropna=True)
        owner = qn.owner_of(quota.variable) if qn is not None else None
        codes = owner.codes if owner is not None else {}
        targets = quota.target_counts()
        extra = [c for c in counts.index if c not in targets]
        for code in [*targets, *extra]:
            target = float(targets.get(code, 0.0))
            achieved = int(counts.get(code, 0))
            status = "over" if achieved > target else "full" if achieved == target else "open"
            rows.append({
                "quota": quota.label or quota.id, "variable": quota.variable, "code": code,
                "label": codes.get(code, str(code)), "target": target, "achieved": achieved,
                "remaining": max(target - achieved, 0.0),
                "pct_complete": achieved / target if target else float("nan"),
                "status": status,
            })
    return pd.DataFrame(rows)


class QuotaTracker:
    """Running quota counts for fieldwork.

    Examples
    --------
    >>> tracker = QuotaTracker({"gender": {1: 2, 2: 2}})
    >>> tracker.accepts({"gender": 1})
    True
    >>> tracker.add({"gender": 1}); tracker.add({"gender": 1})
    >>> tracker.accepts({"gender": 1})
    False
    """

    def __init__(self, quotas: Any) -> None:
        self.quotas = _normalise(quotas)
        self._qn = quotas if isinstance(quotas, Questionnaire) else None
        self.counts: dict[str, dict[Any, int]] = {q.id: {} for q in self.quotas}

    def accepts(self, respondent: Mapping[str, Any]) -> bool:
        """Whether every quota cell this respondent falls in is still open."""
        for q in self.quotas:
            if q.variable not in respondent:
                raise DataError("respondent lacks a quota variable", column=q.variable)
            code = respondent[q.variable]
            target = q.target_counts().get(code)
            if target is None or self.counts[q.id].get(code, 0) >= target:
                return False
        return True

    def add(self, respondent: Mapping[str, Any]) -> None:
        """Count a completed interview."""
        for q in self.quotas:
            code = respondent[q.variable]
            self.counts[q.id][code] = self.counts[q.id].get(code, 0) + 1

    def status(self) -> pd.DataFrame:
        """Like :func:`quota_status` for the counts so far."""
        rows = []
        for q in self.quotas:
            for code, target in q.target_counts().items():
                achieved = self.counts[q.id].get(code, 0)
                rows.append({"quota": q.label or q.id, "variable": q.variable, "code": code,
                             "target": target, "achieved": achieved,
                             "remaining": max(target - achieved, 0),
                             "status": "full" if achieved >= target else "open"})
        return pd.DataFrame(rows)
