"""Staleness of desk research: how old is the source behind each input?

Secondary (desk) data are cheap and fast but go out of date, so every sizing input records its
source and the date of that source. An input whose source is older than the limit (the spec's
``max_source_age_days``, default 730 days) is flagged **stale**; an input without a date is
flagged **undated** (its age cannot be judged).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from researchkit.errors import ParameterError
from researchkit.results import Result
from researchkit.sizing.spec import SizingSpec

__all__ = ["staleness"]


def staleness(spec: SizingSpec, *, as_of: dt.date | str | None = None,
              max_age_days: int | None = None) -> Result:
    """Age of every input's source, with stale and undated inputs flagged.

    Parameters
    ----------
    spec : SizingSpec
    as_of : date or ISO string, optional
        Date to age sources against: default the spec's ``as_of``, else today.
    max_age_days : int, optional
        Limit in days; default the spec's ``max_source_age_days``.

    Returns
    -------
    Result
        ``estimate``: number of stale inputs; ``table``: ``input``, ``label``, ``source``,
        ``source_date``, ``age_days``, ``status`` (``ok`` / ``stale`` / ``undated``), sorted with
        stale and undated first; a warning per flagged input.
    """
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ParameterError("invalid date", parameter="as_of",
                                 expected="YYYY-MM-DD", got=as_of) from None
    if as_of is not None and not isinstance(as_of, dt.date):
        raise ParameterError("invalid date", parameter="as_of", expected="a date",
                             got=as_of)
    ref = as_of or spec.as_of or dt.date.today()
    limit = spec.max_source_age_days if max_age_days is None else max_age_days
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ParameterError("invalid age limit", parameter="max_age_days",
                             expected="a positive number of days", got=limit)
    rows = []
    for name, inp in spec.inputs.items():
        age = None if inp.source_date is None else (ref - inp.source_date).days
        status = "undated" if age is None else "stale" if age > limit else "ok"
        rows.append({"input": name, "label": inp.label or name, "source": inp.source,
                     "source_date": inp.source_date, "age_days": age, "status": status})
    table = pd.DataFrame(rows, columns=["input", "label", "source", "source_date", "age_days",
                                        "status"])
    order = table["status"].map({"stale": 0, "undated": 1, "ok": 2})
    table = table.assign(_o=order).sort_values(["_o", "age_days"], ascending=[True, False],
                                               kind="stable").drop(columns="_o") \
        .reset_index(drop=True)
    warnings = []
    for row in table.itertuples():
        if row.status == "stale":
            warnings.append(f"{row.input}: source dated {row.source_date} is {row.age_days} "
                            f"days old (limit {limit})")
        elif row.status == "undated":
            warnings.append(f"{row.input}: source has no date; its age cannot be checked")
    n_stale = int((table["status"] == "stale").sum())
    return Result(
        name="Staleness of sizing sources", estimate=n_stale,
        method=(f"Age of each input's source date on {ref.isoformat()}; sources older than "
                f"{limit} days are stale, sources without a date are undated."),
        n=len(table), table=table,
        details={"as_of": ref.isoformat(), "max_age_days": limit, "n_stale": n_stale,
                 "n_undated": int((table["status"] == "undated").sum())},
        warnings=warnings,
    )
