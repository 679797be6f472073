"""Reshaping a campaign panel for the designs: group/post indicators and aggregation.

* :func:`did_columns` derives the ``treated`` (ever-treated unit) and ``post`` (after the
  unit's start, or after the common start for never-treated units) indicators that
  :func:`~researchkit.experiments.causal.did` needs from a single "campaign live" column;
* :func:`aggregate_panel` averages store-level data to regions (or any group), the level at
  which synthetic control and interrupted-time-series analyses usually work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.experiments.causal._data import (
    check_binary,
    check_columns,
    check_frame,
    check_numeric,
)
from researchkit.experiments.causal._panel import adoption_table

__all__ = ["aggregate_panel", "did_columns"]


def did_columns(
    df: pd.DataFrame, unit: str, time: str, treatment: str, *,
    treated: str = "treated", post: str = "post",
) -> pd.DataFrame:
    """Add ``treated`` and ``post`` indicator columns derived from a 0/1 treatment column.

    ``treated`` = 1 for units ever treated. ``post`` = 1 from the unit's own first treated
    period on; for never-treated units, from the earliest start among treated units (so a
    common-timing design gets the usual post-period dummy). Returns a copy.
    """
    check_frame(df)
    check_columns(df, unit=unit, time=time, treatment=treatment)
    d = check_binary(df, treatment, "treatment")
    tmp = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "d": d})
    adopt = adoption_table(tmp, "u", "t", "d")
    if adopt["first_treated"].isna().all():
        raise DataError("no unit is ever treated", parameter="treatment", column=treatment)
    first = adopt["first_treated"]
    common = first.min()
    start = first.fillna(common).reindex(tmp["u"].to_numpy()).to_numpy()
    out = df.copy()
    out[treated] = first.notna().reindex(tmp["u"].to_numpy()).to_numpy().astype(int)
    out[post] = (tmp["t"].to_numpy() >= start).astype(int)
    return out


def aggregate_panel(
    df: pd.DataFrame, outcome: str, by: str, time: str, treatment: str,
) -> pd.DataFrame:
    """Mean outcome per group and period; the group is treated in a period if any unit is.

    Returns columns ``by, time, outcome, treatment, n_units``.
    """
    check_frame(df)
    check_columns(df, outcome=outcome, by=by, time=time, treatment=treatment)
    y = check_numeric(df, outcome, "outcome")
    d = check_binary(df, treatment, "treatment")
    frame = pd.DataFrame({by: df[by].to_numpy(), time: df[time].to_numpy(), outcome: y,
                          treatment: d})
    out = frame.groupby([by, time], sort=True).agg(
        **{outcome: (outcome, "mean"), treatment: (treatment, "max"),
           "n_units": (outcome, "size")}).reset_index()
    out[treatment] = out[treatment].astype(int)
    mixed = frame.groupby([by, time])[treatment].nunique()
    if (mixed > 1).any():
        g = mixed.index[np.flatnonzero(mixed.to_numpy() > 1)[0]]
        raise DataError("units of one group differ in treatment in the same period",
                        parameter="by", column=by, got=g,
                        expected="groups whose units are treated together")
    return out
