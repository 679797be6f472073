"""Segment transitions between periods and a forecast of the customer base.

Customers are scored into RFM segments at successive snapshot dates (quarter ends by default),
always against the **first snapshot's** distribution, so thresholds do not move. Customers
present at two consecutive snapshots give the moves between segments, hence a transition
matrix :math:`P` (maximum likelihood, :func:`researchkit.markov.transition_matrix`); customers
who appear for the first time at a snapshot are the inflow, with their segment mix *m* and
mean number *a* per period.

The forecast of segment counts *c* (a row vector) is

.. math:: c_{t+1} = c_t P + a\\, m
          \\quad\\Longrightarrow\\quad
          c_t = N_0\\, s_0 P^t + a \\sum_{j=0}^{t-1} m P^{j},

with :math:`N_0 s_0` the base at the last snapshot: the existing base and each period's
new customers evolve by the same chain (:func:`researchkit.markov.forecast_shares`). A
stationary chain and a constant inflow are assumed (Pfeifer & Carraway 2000, "Modeling
customer relationships as Markov chains", *J. Interactive Marketing* 14(2), 43-55).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import order_dates
from researchkit.channels.customers.rfm import (
    SEGMENT_ORDER,
    order_frame,
    rfm_segment,
    rfm_values,
    score_values,
)
from researchkit.channels.mmm._checks import check_columns, check_frame, check_int
from researchkit.errors import DataError, ParameterError
from researchkit.markov import forecast_shares, steady_state, transition_counts
from researchkit.results import Result

__all__ = ["forecast_customer_base", "segment_transitions"]

REFERENCE = ("Pfeifer, P. E. & Carraway, R. L. (2000). Modeling customer relationships as "
             "Markov chains. Journal of Interactive Marketing 14(2), 43-55.")


def _snapshots(dates: pd.Series, freq: str) -> list[pd.Timestamp]:
    if freq not in ("M", "Q", "Y"):
        raise ParameterError("unknown snapshot frequency", parameter="freq",
                             expected="'M', 'Q' or 'Y'", got=freq)
    first, last = dates.min(), dates.max()
    periods = pd.period_range(first, last, freq=freq)
    ends = [p.end_time.normalize() for p in periods]
    # complete periods only
    return [e for e in ends if e <= last.normalize() and e > first]


def segment_transitions(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    value: str = "revenue", order_id: str | None = None,
    snapshots: Sequence[Any] | None = None, freq: str = "Q",
    lookback_days: int | None = None,
) -> Result:
    """Transition matrix between RFM segments from one snapshot to the next.

    Parameters
    ----------
    orders : DataFrame
        One row per order (online and offline).
    customer, date, value, order_id : str
    snapshots : list of dates, optional
        Scoring dates (at least two); default the ends of the complete periods of ``freq``.
    freq : {"M", "Q", "Y"}
        Snapshot frequency when ``snapshots`` is not given.
    lookback_days : int or None
        Window for frequency and monetary (default None = all history). A short window gives
        many customers frequency 0, and that tie block pushes one-order customers up the
        frequency scores.

    Returns
    -------
    Result
        ``table`` = transition matrix (rows: segment at a snapshot, columns: segment at the
        next); ``estimate`` = steady-state segment shares of the existing base;
        ``details``: ``counts`` (moves), ``inflow_per_period`` (mean new customers per
        period), ``inflow_mix``, ``shares`` (segment shares at each snapshot), ``last_counts``
        (segment counts at the last snapshot), ``snapshots``.
    """
    orders = check_frame(orders, "orders")
    check_columns(orders, [date], "orders")
    dates = order_dates(orders, date)
    if snapshots is None:
        snaps = _snapshots(dates, freq)
    else:
        try:
            snaps = sorted(pd.Timestamp(s) for s in snapshots)
        except (ValueError, TypeError):
            raise ParameterError("invalid snapshot dates", parameter="snapshots",
                                 got=list(snapshots)) from None
    if len(snaps) < 2:
        raise DataError("need at least two snapshots to see transitions",
                        parameter="snapshots", got=[str(s.date()) for s in snaps])
    frame = order_frame(orders, customer=customer, date=date, value=value,
                        order_id=order_id)
    if lookback_days is not None:
        lookback_days = check_int(lookback_days, "lookback_days", 1)
    scored = []
    reference = None
    for s in snaps:
        values = rfm_values(frame, s, lookback_days)
        ref = values if reference is None else reference
        reference = ref
        r = score_values(values["recency_days"], ref["recency_days"], higher_is_better=False)
        f = score_values(values["frequency"], ref["frequency"])
        scored.append(pd.Series(rfm_segment(r, f), index=values.index))
    pairs, inflow, shares = [], [], []
    for j in range(len(scored) - 1):
        a, b = scored[j], scored[j + 1]
        both = a.index.intersection(b.index)
        pairs.append(pd.DataFrame({"from": a.loc[both].to_numpy(),
                                   "to": b.loc[both].to_numpy()}))
        inflow.append(b.loc[b.index.difference(a.index)])
    for seg in scored:
        shares.append(seg.value_counts(normalize=True).reindex(SEGMENT_ORDER, fill_value=0.0))
    moves = pd.concat(pairs, ignore_index=True)
    seen = set(pd.unique(pd.concat([moves["from"], moves["to"], scored[-1], *inflow])))
    present = [s for s in SEGMENT_ORDER if s in seen]
    counts = transition_counts(moves, "from", "to", states=present)
    totals = counts.sum(axis=1)
    warnings = []
    P = counts.div(totals.where(totals > 0), axis=0)
    never = [s for s in present if totals[s] == 0]
    for s in never:
        P.loc[s] = 0.0
        P.loc[s, s] = 1.0
    if never:
        warnings.append(f"No customer started a period in {', '.join(never)}; those rows are "
                        "set to 'stay' (unknown moves).")
    new_all = pd.concat(inflow)
    mix = new_all.value_counts(normalize=True).reindex(present, fill_value=0.0)
    per_period = float(len(new_all) / len(inflow))
    last_counts = scored[-1].value_counts().reindex(present, fill_value=0).astype(int)
    try:
        steady = steady_state(P)
        estimate = {s: float(v) for s, v in steady.items()}
    except ParameterError:
        estimate = {}
        warnings.append("The chain has several closed classes: no unique steady state.")
    return Result(
        name="RFM segment transitions between snapshots",
        estimate=estimate,
        method=(f"Customers scored into RFM segments at {len(snaps)} snapshots "
                f"({snaps[0].date()} to {snaps[-1].date()}) against the first snapshot's "
                "thresholds; transition probabilities = moves / customers in the origin "
                "segment, pooled over consecutive snapshots (maximum likelihood, stationary "
                "chain); new customers are the inflow."),
        n=len(moves),
        table=P,
        details={"counts": counts, "inflow_per_period": per_period, "inflow_mix": mix,
                 "shares": pd.DataFrame(shares, index=[str(s.date()) for s in snaps]),
                 "last_counts": last_counts, "snapshots": [str(s.date()) for s in snaps]},
        warnings=warnings,
        reference=REFERENCE,
    )


def forecast_customer_base(
    transitions: Result, *, periods: int = 4, initial: pd.Series | None = None,
    new_per_period: float | None = None,
) -> Result:
    """Forecast segment counts: the current base moves by the chain, new customers join.

    Parameters
    ----------
    transitions : Result
        :func:`segment_transitions`.
    periods : int
        Periods ahead.
    initial : Series, optional
        Segment counts to start from (default: the last snapshot).
    new_per_period : float, optional
        New customers per period (default: the observed mean).

    Returns
    -------
    Result
        ``table``: one row per period (0 = start), a column per segment and ``total``;
        ``estimate`` = total customers at the last period.
    """
    periods = check_int(periods, "periods", 1)
    P = transitions.table
    det = transitions.details
    if P is None or "inflow_mix" not in det:
        raise ParameterError("expected the result of segment_transitions",
                             parameter="transitions")
    states = list(P.index)
    c0 = det["last_counts"] if initial is None else initial
    c0 = pd.Series(c0).reindex(states, fill_value=0).astype(float)
    if (c0 < 0).any():
        raise ParameterError("segment counts must be >= 0", parameter="initial")
    a = det["inflow_per_period"] if new_per_period is None else float(new_per_period)
    if not np.isfinite(a) or a < 0:
        raise ParameterError("invalid inflow", parameter="new_per_period",
                             expected="a number >= 0", got=new_per_period)
    mix = det["inflow_mix"].reindex(states, fill_value=0.0)
    N0 = float(c0.sum())
    base = forecast_shares(P, (c0 / N0).to_numpy() if N0 > 0 else np.full(len(states),
                                                                             1 / len(states)),
                           periods) * N0
    out = base.copy()
    if a > 0 and mix.sum() > 0:
        newcomers = forecast_shares(P, (mix / mix.sum()).to_numpy(), periods) * a
        # arrivals in period j (1..t) have moved t - j times by period t
        cum = newcomers.cumsum()
        out.iloc[1:] = out.iloc[1:].to_numpy() + cum.iloc[:-1].to_numpy()
    out["total"] = out.sum(axis=1)
    return Result(
        name=f"Customer base forecast, {periods} periods ahead",
        estimate=float(out["total"].iloc[-1]),
        method=("c_(t+1) = c_t P + a m: the base at the last snapshot moves by the fitted "
                "transition matrix and a new customers a period join with the observed segment "
                f"mix (a = {a:.1f}); stationary chain and constant inflow assumed."),
        table=out,
        details={"new_per_period": a},
        reference=REFERENCE,
    )
