"""Discrete-time Markov chains over a finite set of states (segments, brands, channels).

Shared by the areas that follow people from one period to the next: brand switching between
panel waves (``researchkit.panel``) and customer-segment transitions (``researchkit.channels``).

For a chain with row-stochastic transition matrix :math:`P` (``P[i, j]`` = probability of moving
from state *i* to state *j* in one period), shares evolve as :math:`s_{t+1} = s_t P`, and a
steady state solves :math:`\\pi = \\pi P`, :math:`\\sum_i \\pi_i = 1`
(Kemeny & Snell 1976, *Finite Markov Chains*, ch. 4; for brand switching: Ehrenberg 1988,
*Repeat Buying*).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError

__all__ = ["forecast_shares", "steady_state", "transition_counts", "transition_matrix"]


def transition_counts(
    data: pd.DataFrame, from_col: str, to_col: str, *, weight: str | None = None,
    states: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """(Weighted) counts of moves from ``from_col`` to ``to_col``, one row per origin state.

    Rows with a missing origin or destination are not counted. ``states`` fixes the order (and
    includes states nobody moved to); a value outside ``states`` is a :class:`DataError`.
    """
    for col in [from_col, to_col] + ([weight] if weight else []):
        if col not in data.columns:
            raise DataError("column not found", column=col,
                            expected=f"one of {list(map(str, data.columns))}")
    frame = data[[from_col, to_col]].copy()
    frame["_w"] = 1.0 if weight is None else pd.to_numeric(data[weight], errors="raise")
    if weight is not None and (frame["_w"].isna().any() or (frame["_w"] < 0).any()):
        bad = frame.index[frame["_w"].isna() | (frame["_w"] < 0)][0]
        raise DataError("weights must be non-negative numbers", row=bad, column=weight,
                        got=data.loc[bad, weight])
    frame = frame.dropna(subset=[from_col, to_col])
    if states is None:
        states = sorted(set(frame[from_col]) | set(frame[to_col]), key=str)
    else:
        unknown = (set(frame[from_col]) | set(frame[to_col])) - set(states)
        if unknown:
            raise DataError("states outside the given list", column=f"{from_col}/{to_col}",
                            expected=f"one of {list(states)}", got=sorted(unknown, key=str))
    counts = frame.pivot_table(index=from_col, columns=to_col, values="_w", aggfunc="sum",
                               fill_value=0.0, observed=False)
    counts = counts.reindex(index=list(states), columns=list(states), fill_value=0.0)
    counts.index.name, counts.columns.name = "from", "to"
    return counts.astype(float)


def transition_matrix(
    data: pd.DataFrame, from_col: str, to_col: str, *, weight: str | None = None,
    states: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Row-stochastic transition matrix estimated from observed moves.

    :math:`\\hat P_{ij} = n_{ij} / \\sum_k n_{ik}` (maximum likelihood; Anderson & Goodman
    1957). States never observed as an origin get a row of NaN (their moves are unknown).
    """
    counts = transition_counts(data, from_col, to_col, weight=weight, states=states)
    totals = counts.sum(axis=1)
    return counts.div(totals.where(totals > 0), axis=0)


def _check_matrix(P: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, list[Any]]:
    arr = np.asarray(P, dtype=float)
    labels = list(P.index) if isinstance(P, pd.DataFrame) else list(range(arr.shape[0]))
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ParameterError("transition matrix must be square", parameter="P",
                             got=arr.shape)
    if not np.all(np.isfinite(arr)) or (arr < -1e-12).any():
        raise ParameterError("transition matrix has missing or negative entries",
                             parameter="P", hint="states never observed as origins have "
                             "unknown rows; drop them or supply their rows")
    if not np.allclose(arr.sum(axis=1), 1.0, atol=1e-9):
        raise ParameterError("rows of the transition matrix must sum to 1", parameter="P",
                             got=arr.sum(axis=1).round(6).tolist())
    return arr, labels


def forecast_shares(
    P: pd.DataFrame | np.ndarray, initial: Sequence[float] | pd.Series, periods: int,
) -> pd.DataFrame:
    """Shares of each state over ``periods`` steps: :math:`s_{t+1} = s_t P`.

    Returns a DataFrame with one row per period (0 = ``initial``) and one column per state.
    """
    arr, labels = _check_matrix(P)
    if isinstance(initial, pd.Series):
        initial = initial.reindex(labels)
    s = np.asarray(initial, dtype=float)
    if s.shape != (arr.shape[0],) or not np.all(np.isfinite(s)) or (s < 0).any():
        raise ParameterError("initial shares must be one non-negative number per state",
                             parameter="initial", expected=f"{arr.shape[0]} values")
    if not np.isclose(s.sum(), 1.0):
        raise ParameterError("initial shares must sum to 1", parameter="initial",
                             got=float(s.sum()))
    if not isinstance(periods, int) or periods < 0:
        raise ParameterError("invalid number of periods", parameter="periods",
                             expected="an integer >= 0", got=periods)
    rows = [s]
    for _ in range(periods):
        rows.append(rows[-1] @ arr)
    out = pd.DataFrame(rows, columns=labels)
    out.index.name = "period"
    return out


def steady_state(P: pd.DataFrame | np.ndarray) -> pd.Series:
    """Stationary distribution :math:`\\pi = \\pi P` of a transition matrix.

    Solved as the least-squares solution of :math:`(P^T - I)\\pi = 0` with
    :math:`\\mathbf{1}^T\\pi = 1`. Raises :class:`ParameterError` when the chain has more than
    one stationary distribution (it is reducible: several closed classes).
    """
    arr, labels = _check_matrix(P)
    n = arr.shape[0]
    A = np.vstack([arr.T - np.eye(n), np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    rank = np.linalg.matrix_rank(arr.T - np.eye(n), tol=1e-10)
    if rank < n - 1:
        raise ParameterError("the chain has several closed classes, so no unique steady state",
                             parameter="P")
    pi, *_ = np.linalg.lstsq(A, b, rcond=None)
    pi = np.clip(pi, 0.0, None)
    return pd.Series(pi / pi.sum(), index=labels, name="steady_state")
