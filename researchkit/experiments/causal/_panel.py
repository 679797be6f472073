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
    units, codes = np.unique(df[unit].to_numpy(), return_inverse=True)
    times = df[time].to_numpy()
    t_codes = np.unique(times, return_inverse=True)[1]
    uniq_times = np.unique(times)
    on = df[treatment].to_numpy() > 0
    big = len(uniq_times)
    first_code = np.full(len(units), big)
    np.minimum.at(first_code, codes[on], t_codes[on])
    after_off = (~on) & (t_codes > first_code[codes])
    off = np.zeros(len(units), dtype=bool)
    np.logical_or.at(off, codes, after_off)
    first = pd.Series(uniq_times[np.minimum(first_code, big - 1)]).where(first_code < big)
    if pd.api.types.is_numeric_dtype(first):
        first = first.astype(float)
    return pd.DataFrame({"first_treated": first.to_numpy(), "absorbing": ~off},
                        index=pd.Index(units, name=unit))
