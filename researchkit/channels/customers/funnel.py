"""Funnel conversion by stage, counted in people, ending at the paid order.

An event table has one row per event: a person (after identity stitching), a stage and,
optionally, a timestamp. The funnel counts **distinct people**, never events or visits:

* ``ordered=False`` (default): a person *reached* stage *k* if their furthest stage is *k* or
  later (someone with a paid order reached every earlier stage, even if an event such as a
  store visit was not recorded);
* ``ordered=True``: a person reached stage *k* only through a time-ordered path: an event at
  each stage 1..k, each no earlier than the one before (needs ``time``).

Per stage: people reached :math:`n_k`, conversion from the previous stage
:math:`n_k / n_{k-1}`, from the top :math:`n_k / n_1`, the drop-off :math:`n_{k-1} - n_k`, and the
number of events, to show how far counting visits overstates the funnel. The last stage should
be the **paid order**, not a form or a call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from researchkit.channels.mmm._checks import check_columns, check_frame
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["funnel"]


def funnel(
    events: pd.DataFrame, *, stages: Sequence[str], person: str = "person_id",
    stage: str = "stage", time: str | None = None, by: str | None = None,
    ordered: bool = False,
) -> Result:
    """Distinct people reaching each funnel stage, and stage-to-stage conversion.

    Parameters
    ----------
    events : DataFrame
        One row per event.
    stages : list of str
        The stages in funnel order, e.g. ``["visit", "product_view", "add_to_cart",
        "order_placed", "order_paid"]``.
    person, stage : str
        Person id and stage columns.
    time : str, optional
        Event timestamp column (needed for ``ordered=True``).
    by : str, optional
        Split the funnel by this column (a person's group is taken from their first event in
        table order, e.g. the acquisition channel).
    ordered : bool
        Count a stage only when reached in time order through every earlier stage.

    Returns
    -------
    Result
        ``estimate`` = overall conversion (last stage / first stage); ``table`` per stage (and
        group): ``people``, ``events``, ``conversion_from_previous``, ``conversion_from_top``,
        ``drop_off``.
    """
    events = check_frame(events, "events")
    stages = list(stages)
    if len(stages) < 2 or len(set(stages)) != len(stages):
        raise ParameterError("need at least two distinct stages, in funnel order",
                             parameter="stages", got=stages)
    cols = [person, stage] + ([time] if time else []) + ([by] if by else [])
    check_columns(events, cols, "events")
    if ordered and not time:
        raise ParameterError("an ordered funnel needs event times", parameter="time",
                             expected="the timestamp column")
    unknown = (~events[stage].isin(stages) & events[stage].notna()).to_numpy()
    if unknown.any():
        pos = int(np.flatnonzero(unknown)[0])
        raise DataError("stage not in the funnel", row=pos + 1, column=stage,
                        expected=f"one of {stages}", got=events[stage].iloc[pos])
    if events[person].isna().any():
        pos = int(np.flatnonzero(events[person].isna().to_numpy())[0])
        raise DataError("event without a person id", row=pos + 1, column=person)
    level = pd.Categorical(events[stage], categories=stages)
    frame = pd.DataFrame({"person": events[person].to_numpy(), "k": level.codes})
    frame = frame[frame["k"] >= 0]
    if time:
        try:
            frame["t"] = pd.to_datetime(events[time], errors="raise").to_numpy()[frame.index]
        except (ValueError, TypeError) as exc:
            raise DataError(f"event times could not be read ({exc})", column=time) from None
    group = None
    if by:
        first_group = events.groupby(person, sort=False)[by].first()
        frame["g"] = first_group.reindex(frame["person"]).to_numpy()
        group = "g"
    K = len(stages)
    if ordered:
        reach = _ordered_reach(frame, K)
    else:
        reach = frame.groupby("person")["k"].max()
    people = reach.rename("furthest").to_frame()
    if group:
        people["g"] = frame.groupby("person")["g"].first()
    tables = []
    keys = sorted(people["g"].dropna().unique(), key=str) if group else [None]
    for key in keys:
        sub = people if key is None else people[people["g"] == key]
        ev = frame if key is None else frame[frame["g"] == key]
        n_k = np.array([(sub["furthest"] >= k).sum() for k in range(K)])
        n_ev = np.bincount(ev["k"], minlength=K)
        with np.errstate(divide="ignore", invalid="ignore"):
            prev = np.r_[np.nan, np.where(n_k[:-1] > 0, n_k[1:] / n_k[:-1], np.nan)]
            top = n_k / n_k[0] if n_k[0] else np.full(K, np.nan)
        t = pd.DataFrame({"stage": stages, "people": n_k, "events": n_ev,
                          "conversion_from_previous": prev, "conversion_from_top": top,
                          "drop_off": np.r_[0, n_k[:-1] - n_k[1:]]})
        if key is not None:
            t.insert(0, by, key)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    overall = people["furthest"]
    n_top = int((overall >= 0).sum())
    n_last = int((overall >= K - 1).sum())
    warnings = []
    if "paid" not in stages[-1].lower():
        warnings.append(f"The funnel ends at '{stages[-1]}', not at a paid order; revenue "
                        "happens only at the paid order.")
    return Result(
        name=f"Funnel: {stages[0]} -> {stages[-1]} (people)",
        estimate=n_last / n_top if n_top else float("nan"),
        method=("Distinct people reaching each stage"
                + (" in time order through every earlier stage" if ordered else
                   " (furthest stage reached; a later stage implies the earlier ones)")
                + "; conversion = people at a stage / people at the previous stage; events "
                  "shown for comparison, not used."),
        n=n_top,
        table=table,
        details={"events_per_person": float(len(frame) / n_top) if n_top else float("nan")},
        warnings=warnings,
    )


def _ordered_reach(frame: pd.DataFrame, K: int) -> pd.Series:
    """Furthest stage reached through time-ordered events (-1 if not even the first)."""
    first = frame[frame["k"] == 0].groupby("person")["t"].min()
    reach = pd.Series(-1, index=pd.Index(frame["person"].unique()), dtype=int)
    reach.loc[first.index] = 0
    when = first
    for k in range(1, K):
        ev = frame.loc[frame["k"] == k, ["person", "t"]]
        ev = ev[ev["person"].isin(when.index)]
        ev = ev[ev["t"].to_numpy() >= when.reindex(ev["person"]).to_numpy()]
        when = ev.groupby("person")["t"].min()
        if when.empty:
            break
        reach.loc[when.index] = k
    return reach
