"""RFM: recency, frequency and monetary scores, and named customer segments.

For each customer with at least one order up to the scoring date ``as_of``:

* **recency** = days from the last order to ``as_of`` (lower is better);
* **frequency** = number of orders (distinct order ids when ``order_id`` is given) in the
  look-back window (all history by default);
* **monetary** = total order value in the look-back window.

**Scores** (1 = worst to ``bins`` = best, quintiles by default). A value *v* is scored by its
position among the reference customers (the customers scored, or a fixed earlier
population):

.. math:: \\text{score}(v) = 1 + \\min\\big(b - 1,\\ \\lfloor b\\, W(v) / n \\rfloor\\big),

with :math:`W(v)` the number of the *n* reference customers strictly worse than *v* and *b*
the number of bins. **Ties always share a score** (tied customers have the same number of
customers strictly worse than them), so bins can be unequal: with many one-order customers,
all of them get frequency score 1 and the next score starts above them. Scoring against a
fixed reference keeps the thresholds constant across periods, which segment transitions need.

**Segments** come from the recency and frequency scores on the usual 5 x 5 RF grid:

=====================  =====================
segment                R score, F score
=====================  =====================
Champions              R 5, F 4-5
Loyal customers        R 3-4, F 4-5
Potential loyalists    R 4-5, F 2-3
New customers          R 5, F 1
Promising              R 4, F 1
Need attention         R 3, F 3
About to sleep         R 3, F 1-2
At risk                R 1-2, F 3-4
Can't lose them        R 1-2, F 5
Hibernating            R 1-2, F 1-2
=====================  =====================

(Every RF cell falls in exactly one segment; with ``bins`` other than 5 the segments are not
defined and ``segment`` is left empty.) References: Hughes, A. M. (1994). *Strategic Database
Marketing*; Fader, Hardie & Lee (2005), RFM and CLV, *J. Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import as_of_date, check_ids, order_dates
from researchkit.channels.mmm._checks import (
    check_columns,
    check_frame,
    check_int,
    numeric_column,
)
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["RF_SEGMENTS", "SEGMENT_ORDER", "rfm_scores", "rfm_segment", "score_values",
           "segment_summary"]

#: (segment, R scores, F scores); every (R, F) cell of the 5 x 5 grid is in exactly one row.
RF_SEGMENTS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("Champions", (5,), (4, 5)),
    ("Loyal customers", (3, 4), (4, 5)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("New customers", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need attention", (3,), (3,)),
    ("About to sleep", (3,), (1, 2)),
    ("At risk", (1, 2), (3, 4)),
    ("Can't lose them", (1, 2), (5,)),
    ("Hibernating", (1, 2), (1, 2)),
)
SEGMENT_ORDER: tuple[str, ...] = tuple(s[0] for s in RF_SEGMENTS)
_GRID = {(r, f): name for name, rs, fs in RF_SEGMENTS for r in rs for f in fs}


def score_values(values: Any, reference: Any, *, bins: int = 5,
                 higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..bins of ``values`` by their rank among ``reference`` (ties share a score)."""
    v = np.asarray(values, dtype=float)
    ref = np.sort(np.asarray(reference, dtype=float))
    n = len(ref)
    if n == 0:
        raise DataError("the reference population is empty", parameter="reference")
    if higher_is_better:
        worse = np.searchsorted(ref, v, side="left")  # reference values < v
    else:
        worse = n - np.searchsorted(ref, v, side="right")  # reference values > v
    return (1 + np.minimum(bins - 1, (bins * worse) // n)).astype(int)


def rfm_segment(r: Any, f: Any) -> np.ndarray:
    """Segment names for recency and frequency scores on the 5 x 5 grid."""
    r_arr, f_arr = np.asarray(r), np.asarray(f)
    return np.array([_GRID.get((int(a), int(b)), "") for a, b in zip(r_arr, f_arr,
                                                                      strict=True)],
                    dtype=object)


def rfm_scores(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    value: str = "revenue", order_id: str | None = None, as_of: Any = None, bins: int = 5,
    lookback_days: int | None = None, reference: pd.DataFrame | None = None,
) -> Result:
    """Recency, frequency and monetary values, their scores and RF segments, per customer.

    Parameters
    ----------
    orders : DataFrame
        One row per order or order line (online and offline).
    customer, date, value : str
    order_id : str, optional
        Order id column: frequency counts distinct orders (else rows).
    as_of : date, optional
        Scoring date (default: the last order date); later orders are ignored.
    bins : int
        Number of score levels (5 = quintiles).
    lookback_days : int, optional
        Frequency and monetary over the last ``lookback_days`` days only (recency always uses
        the whole history); customers with no order in the window get frequency 0.
    reference : DataFrame, optional
        Earlier scores (the ``table`` of a previous call) whose recency, frequency and
        monetary distributions define the bins, so thresholds stay fixed across periods.

    Returns
    -------
    Result
        ``table`` per customer: ``recency_days``, ``frequency``, ``monetary``, ``R``, ``F``,
        ``M``, ``rfm`` (e.g. "545") and ``segment``; ``estimate`` = share of customers per
        segment; ``details["segments"]``: customers, share, mean recency / frequency /
        monetary and share of value per segment.
    """
    orders = check_frame(orders, "orders")
    bins = check_int(bins, "bins", 2)
    if lookback_days is not None:
        lookback_days = check_int(lookback_days, "lookback_days", 1)
    frame = order_frame(orders, customer=customer, date=date, value=value, order_id=order_id)
    end = as_of_date(as_of, frame["date"])
    table = rfm_values(frame, end, lookback_days)
    ref = table if reference is None else reference
    if reference is not None:
        if not isinstance(reference, pd.DataFrame):
            raise ParameterError("reference must be a table of earlier scores",
                                 parameter="reference", got=type(reference).__name__)
        check_columns(reference, ["recency_days", "frequency", "monetary"], "reference")
    table["R"] = score_values(table["recency_days"], ref["recency_days"], bins=bins,
                              higher_is_better=False)
    table["F"] = score_values(table["frequency"], ref["frequency"], bins=bins)
    table["M"] = score_values(table["monetary"], ref["monetary"], bins=bins)
    table["rfm"] = (table["R"].astype(str) + table["F"].astype(str) + table["M"].astype(str))
    table["segment"] = rfm_segment(table["R"], table["F"]) if bins == 5 else ""
    table.index.name = "customer"
    segments = segment_summary(table)
    population = "the reference population" if reference is not None \
        else "the customers scored"
    return Result(
        name=f"RFM scores and segments as of {end.date()}",
        estimate={s: float(v) for s, v in segments["share"].items()} if bins == 5 else {},
        method=(f"Recency = days since the last order; frequency = "
                f"{'distinct orders' if order_id else 'order rows'} and monetary = total "
                f"'{value}'"
                + (f" over the last {lookback_days} days" if lookback_days else "")
                + f"; scores 1-{bins} = 1 + floor({bins} x customers strictly worse / n) "
                f"within {population} (ties share a score); segments from the R and F "
                "scores on the 5 x 5 grid."),
        n=len(table),
        table=table,
        details={"segments": segments, "as_of": end},
        reference="Hughes, A. M. (1994). Strategic Database Marketing. Probus; Fader, P. S., "
                  "Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV. J. Marketing Research "
                  "42(4), 415-430.",
    )


def order_frame(orders: pd.DataFrame, *, customer: str, date: str, value: str,
                order_id: str | None) -> pd.DataFrame:
    """Checked (customer, date, value) rows, one per order when ``order_id`` is given."""
    check_columns(orders, [customer, date, value] + ([order_id] if order_id else []),
                  "orders")
    frame = pd.DataFrame({"customer": check_ids(orders, customer).to_numpy(),
                          "date": order_dates(orders, date).to_numpy(),
                          "value": numeric_column(orders, value)})
    if order_id:
        frame["order"] = orders[order_id].to_numpy()
        frame = frame.groupby(["customer", "order"], sort=False, as_index=False).agg(
            date=("date", "min"), value=("value", "sum"))
    return frame[["customer", "date", "value"]]


def rfm_values(frame: pd.DataFrame, end: pd.Timestamp,
               lookback_days: int | None) -> pd.DataFrame:
    """Recency (days), frequency and monetary per customer with an order up to ``end``."""
    upto = frame[frame["date"] <= end]
    grouped = upto.groupby("customer", sort=True)
    last = grouped["date"].max()
    table = pd.DataFrame({"recency_days": np.floor((end - last).dt.total_seconds() / 86400.0)})
    window = upto if lookback_days is None else \
        upto[upto["date"] > end - pd.Timedelta(days=lookback_days)]
    g = window.groupby("customer", sort=True)
    table["frequency"] = g.size().reindex(table.index, fill_value=0).astype(int)
    table["monetary"] = g["value"].sum().reindex(table.index, fill_value=0.0)
    return table


def segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Customers, share, mean recency/frequency/monetary and share of value per segment."""
    present = [s for s in SEGMENT_ORDER if s in set(table["segment"])]
    g = table.groupby("segment")
    out = pd.DataFrame({
        "customers": g.size(),
        "mean_recency_days": g["recency_days"].mean(),
        "mean_frequency": g["frequency"].mean(),
        "mean_monetary": g["monetary"].mean(),
        "value": g["monetary"].sum(),
    }).reindex(present or sorted(g.groups))
    out["share"] = out["customers"] / out["customers"].sum()
    out["share_of_value"] = out["value"] / out["value"].sum() if out["value"].sum() else np.nan
    return out.drop(columns="value")
