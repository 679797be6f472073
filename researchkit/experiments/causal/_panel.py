"""Panel bookkeeping shared by the DiD designs: unique unit-time rows, adoption timing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from researchkit.errors import DataError

__all__ = ["adoption_table", "check_unique_unit_time", "constant_within"]


def check_unique_unit_time(df: pd.DataFrame, unit: str, time: str) -> None:
    """One row per unit and period (a panel, not repeated cross-sections)."""
    dup = df.duplicated([unit, time], keep="first").to_numpy()
    if dup.any():
        row = df.index[int(np.flatnonzero(dup)[0])]
        raise DataError("more than one row for the same unit and period", row=row,
                        column=unit, expected=f"one row per ({unit}, {time})",
                        got=(df.loc[row, unit], df.loc[row, time]))


def constant_within(df: pd.DataFrame, column: str, unit: str, parameter: str) -> None:
    """``column`` must not vary within a unit (e.g. the treated-group indicator)."""
    n = df.groupby(unit, sort=False)[column].nunique()
    bad = n[n > 1]
    if len(bad):
        raise DataError("value changes within a unit", parameter=parameter, column=column,
                        expected=f"one value per {unit} (a group indicator)",
                        got=f"{unit} {bad.index[0]!r} has {int(bad.iloc[0])} values")


def adoption_table(df: pd.DataFrame, unit: str, time: str, treatment: str) -> pd.DataFrame:
    """First treated period of each unit and whether treatment, once on, stays on.

    Returns one row per unit (sorted): ``first_treated`` (NaN for never-treated units),
    ``absorbing`` (no period with treatment 0 after the first treated period).
    """
    d = df[[unit, time, treatment]].sort_values([unit, time])
    on = d[treatment].to_numpy() > 0
    d = d.assign(_on=on)
    first = d[d["_on"]].groupby(unit, sort=True)[time].min()
    units = pd.Index(np.sort(d[unit].unique()), name=unit)
    out = pd.DataFrame(index=units)
    out["first_treated"] = first.reindex(units)
    after = d.merge(first.rename("_first"), left_on=unit, right_index=True, how="inner")
    after = after[after[time] >= after["_first"]]
    off_after = after.groupby(unit, sort=True)["_on"].apply(lambda s: bool((~s).any()))
    out["absorbing"] = ~off_after.reindex(units, fill_value=False).astype(bool)
    return out
