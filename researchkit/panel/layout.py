"""Long-format panel data: one row per respondent and wave.

A panel asks the same people about the same subject at equal intervals. researchkit keeps panel
data in *long* format, one row per respondent-wave::

    respondent  wave  brand  spend  weight
    r001        1     A      12.5   1.2
    r001        2     B      10.0   1.2
    r002        1     A       8.0   0.9

The functions of :mod:`researchkit.panel` take such a table plus the names of its respondent
and wave columns (``respondent="respondent"``, ``wave="wave"`` by default). Waves must have a
natural order: numbers, dates, or an ordered categorical; for text labels pass their order with
``waves=[...]``.

This module holds the shared plumbing: checking columns, ordering waves, refusing tables that
no analysis can use (duplicate respondent-waves, missing ids), pairing each respondent's
answers in consecutive waves, and reshaping to wide format. :func:`validate_panel
<researchkit.panel.validation.validate_panel>` reports every problem at once as a table; the
analyses call :func:`panel_frame`, which raises on the first structural one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError

__all__ = ["PanelFrame", "panel_frame", "to_wide", "wave_levels", "wave_pairs"]


def check_data(data: Any, parameter: str = "data") -> pd.DataFrame:
    """``data`` must be a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("expected a pandas DataFrame in long format (one row per "
                             "respondent-wave)", parameter=parameter, got=type(data).__name__)
    if data.empty:
        raise DataError("the panel table has no rows", parameter=parameter,
                        expected="one row per respondent-wave")
    return data


def check_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Every named column must exist; ``columns`` maps parameter name → column name."""
    for parameter, col in columns.items():
        if col is None:
            continue
        if not isinstance(col, str) and not isinstance(col, int | np.integer):
            raise ParameterError("expected a column name", parameter=parameter, got=col)
        if col not in data.columns:
            raise DataError("column not found", column=str(col), parameter=parameter,
                            expected=f"one of {list(map(str, data.columns))}")


def plain_label(value: Any) -> Any:
    """A wave or respondent label as a plain JSON-safe value for tables, messages and details.

    Timestamps at midnight become ISO dates (``2024-03-01``), other timestamps full ISO
    date-times (so waves on the same day stay distinct); numpy scalars become Python scalars
    and whole floats ints; anything else is returned as is.
    """
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def row_label(data: pd.DataFrame, position: int) -> int | str:
    """How to name a row in a message: 1-based data row for a RangeIndex, else its label."""
    if isinstance(data.index, pd.RangeIndex) and data.index.start == 0 and \
            data.index.step == 1:
        return position + 1
    label = data.index[position]
    return label if isinstance(label, int | str) else str(label)


def wave_levels(
    data: pd.DataFrame, wave: str = "wave", waves: Sequence[Any] | None = None,
) -> list[Any]:
    """The waves in their natural order.

    Parameters
    ----------
    data : DataFrame
    wave : str
        Wave column: numbers, dates or an ordered categorical.
    waves : sequence, optional
        The order of the waves, required when the wave column holds text labels. Every wave in
        the data must be listed; listed waves with no rows are kept (a wave nobody answered).

    Raises
    ------
    DataError
        Text wave labels without ``waves=``, a wave not in ``waves``, or fewer than two waves.
    """
    col = data[wave]
    present = col.dropna()
    if waves is not None:
        levels = list(waves)
        if len(set(levels)) != len(levels):
            raise ParameterError("waves are listed more than once", parameter="waves",
                                 got=levels)
        unknown = sorted(set(present.unique()) - set(levels), key=str)
        if unknown:
            raise DataError("waves not in the given order list", column=wave,
                            expected=f"one of {levels}", got=unknown)
    elif isinstance(col.dtype, pd.CategoricalDtype):
        if not col.cat.ordered:
            raise DataError("the wave column is an unordered categorical", column=wave,
                            hint="make it ordered or pass the order with waves=[...]")
        levels = list(col.cat.categories)
    elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        levels = sorted(present.unique().tolist())
    elif pd.api.types.is_datetime64_any_dtype(col):
        levels = sorted(present.unique())
        levels = [pd.Timestamp(v) for v in levels]
    else:
        raise DataError("wave labels have no natural order", column=wave,
                        expected="numbers, dates or an ordered categorical",
                        got=present.head(3).tolist(),
                        hint="pass the order of the waves with waves=[...]")
    if len(levels) < 2:
        raise DataError("a panel needs at least two waves", column=wave,
                        got=levels)
    return levels


@dataclass
class PanelFrame:
    """A validated long-format panel, as the analyses use it.

    Attributes
    ----------
    data : DataFrame
        The input rows (not copied unless needed), in their original order.
    respondent, wave : str
        Column names.
    waves : list
        The waves in order.
    resp_code : ndarray of int
        Respondent of each row as 0..R-1 (in order of first appearance after sorting ids).
    wave_pos : ndarray of int
        Position of each row's wave in ``waves`` (0..W-1).
    respondents : Index
        The respondent ids, indexed by ``resp_code``.
    """

    data: pd.DataFrame
    respondent: str
    wave: str
    waves: list[Any]
    resp_code: np.ndarray
    wave_pos: np.ndarray
    respondents: pd.Index

    @property
    def n_respondents(self) -> int:
        return len(self.respondents)

    @property
    def n_waves(self) -> int:
        return len(self.waves)

    def presence(self) -> np.ndarray:
        """Boolean matrix respondents × waves: who answered which wave."""
        out = np.zeros((self.n_respondents, self.n_waves), dtype=bool)
        out[self.resp_code, self.wave_pos] = True
        return out


def _codes_for_waves(col: pd.Series, levels: list[Any]) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(col):
        codes = pd.Categorical(col, categories=pd.DatetimeIndex(levels)).codes
    else:
        codes = pd.Categorical(col, categories=levels).codes
    return np.asarray(codes, dtype=np.int64)


def panel_frame(
    data: pd.DataFrame, respondent: str = "respondent", wave: str = "wave", *,
    waves: Sequence[Any] | None = None, columns: dict[str, str | None] | None = None,
) -> PanelFrame:
    """Check a long-format panel table and index its respondents and waves.

    Raises a :class:`~researchkit.errors.DataError` naming the row for what no analysis can use:
    missing columns, a missing respondent id or wave, a respondent answering the same wave twice.
    Run :func:`~researchkit.panel.validate_panel` to see every problem at once.

    Parameters
    ----------
    data : DataFrame
        One row per respondent-wave.
    respondent, wave : str
        Column names.
    waves : sequence, optional
        Order of the waves (needed for text labels).
    columns : dict, optional
        Further columns that must exist, as ``{parameter name: column}``.
    """
    check_data(data)
    check_columns(data, {"respondent": respondent, "wave": wave, **(columns or {})})
    if respondent == wave:
        raise ParameterError("respondent and wave must be different columns",
                             parameter="wave", got=wave)
    for col, what in ((respondent, "respondent id"), (wave, "wave")):
        missing = data[col].isna().to_numpy()
        if missing.any():
            pos = int(np.flatnonzero(missing)[0])
            raise DataError(f"missing {what} ({int(missing.sum())} rows)",
                            row=row_label(data, pos), column=col,
                            hint="drop or fix these rows; validate_panel() lists them all")
    levels = wave_levels(data, wave, waves)
    wave_pos = _codes_for_waves(data[wave], levels)
    resp_codes, respondents = pd.factorize(data[respondent], sort=True)
    resp_code = np.asarray(resp_codes, dtype=np.int64)
    key = resp_code * len(levels) + wave_pos
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"respondent {_plain(data[respondent].iloc[pos])!r} answers wave "
            f"{_plain(data[wave].iloc[pos])!r} more than once "
            f"({int(dup.sum())} duplicate rows in all)",
            row=row_label(data, pos), column=f"{respondent}/{wave}",
            hint="keep one row per respondent-wave; validate_panel() lists every duplicate")
    return PanelFrame(data=data, respondent=respondent, wave=wave, waves=levels,
                      resp_code=resp_code, wave_pos=wave_pos,
                      respondents=pd.Index(respondents, name=respondent))


def to_wide(
    data: pd.DataFrame, value: str, respondent: str = "respondent", wave: str = "wave", *,
    waves: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Reshape one variable to wide format: one row per respondent, one column per wave.

    Waves a respondent did not answer are missing (NaN / None).
    """
    pf = panel_frame(data, respondent, wave, waves=waves, columns={"value": value})
    values = data[value].to_numpy()
    grid = np.full((pf.n_respondents, pf.n_waves), None, dtype=object)
    grid[pf.resp_code, pf.wave_pos] = values
    out = pd.DataFrame(grid, index=pf.respondents, columns=pd.Index(pf.waves, name=wave))
    return out.infer_objects()


def wave_pairs(
    data: pd.DataFrame, value: str, respondent: str = "respondent", wave: str = "wave", *,
    from_wave: Any = None, to_wave: Any = None, weight: str | None = None,
    waves: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Each respondent's ``value`` in two waves, one row per respondent and pair of waves.

    With ``from_wave`` and ``to_wave`` given: respondents who answered both waves (the waves need
    not be adjacent). With neither: every pair of *consecutive* waves (positions k and k+1 in
    the wave order), pooled: a respondent who answered waves 1-4 contributes three pairs.
    Respondents absent from either wave of a pair, or with ``value`` missing in either, are left
    out of that pair.

    Returns
    -------
    DataFrame
        Columns ``respondent``, ``from_wave``, ``to_wave``, ``from``, ``to`` and ``weight`` (the
        weight of the origin wave's row, 1.0 without ``weight``).
    """
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"value": value, "weight": weight})
    if (from_wave is None) != (to_wave is None):
        raise ParameterError("give both from_wave and to_wave, or neither (consecutive waves)",
                             parameter="to_wave" if to_wave is None else "from_wave")
    w = _weights(data, weight)
    vals = data[value].to_numpy()
    present = pf.presence()
    row_of = np.full((pf.n_respondents, pf.n_waves), -1, dtype=np.int64)
    row_of[pf.resp_code, pf.wave_pos] = np.arange(len(data))
    if from_wave is None:
        pairs = [(k, k + 1) for k in range(pf.n_waves - 1)]
    else:
        pairs = [(_wave_index(pf, from_wave, "from_wave"), _wave_index(pf, to_wave, "to_wave"))]
        if pairs[0][0] >= pairs[0][1]:
            raise ParameterError("from_wave must come before to_wave", parameter="to_wave",
                                 got=to_wave)
    frames = []
    notna = ~pd.isna(vals)
    for a, b in pairs:
        both = present[:, a] & present[:, b]
        ra, rb = row_of[both, a], row_of[both, b]
        keep = notna[ra] & notna[rb]
        ra, rb = ra[keep], rb[keep]
        frames.append(pd.DataFrame({
            "respondent": pf.respondents[pf.resp_code[ra]],
            "from_wave": [pf.waves[a]] * len(ra),
            "to_wave": [pf.waves[b]] * len(ra),
            "from": vals[ra],
            "to": vals[rb],
            "weight": w[ra],
        }))
    return pd.concat(frames, ignore_index=True)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _wave_index(pf: PanelFrame, value: Any, parameter: str) -> int:
    for i, level in enumerate(pf.waves):
        if level == value or (isinstance(level, pd.Timestamp) and _same_time(level, value)):
            return i
    raise ParameterError("no such wave", parameter=parameter,
                         expected=f"one of {pf.waves}", got=value)


def _same_time(level: pd.Timestamp, value: Any) -> bool:
    try:
        return bool(level == pd.Timestamp(value))
    except (TypeError, ValueError):
        return False


def _weights(data: pd.DataFrame, weight: str | None) -> np.ndarray:
    """Row weights as floats (1.0 without ``weight``); missing or negative weights are errors."""
    if weight is None:
        return np.ones(len(data))
    col = data[weight]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataError("weights must be numbers", column=weight, got=col.head(3).tolist())
    w = col.to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError("weights must be non-negative numbers", row=row_label(data, pos),
                        column=weight, got=col.iloc[pos])
    return w
