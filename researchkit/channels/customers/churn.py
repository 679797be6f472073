"""Churn of a non-contractual customer base: who stopped buying, period by period.

Without contracts, churn is defined by inactivity. A customer is **active** at the end of
period *t* if they ordered in the last ``window`` periods, :math:`(t - w, t]`; they **churn**
in period *t* if they were active at the end of *t - 1* and are not at the end of *t* (their
``window``-th period without an order); they are **reactivated** if they were inactive and
order again. Then, per period,

.. math::

    \\text{churn rate}_t = \\frac{\\text{churned}_t}{\\text{active}_{t-1}}, \\qquad
    \\text{active}_t = \\text{active}_{t-1} - \\text{churned}_t + \\text{new}_t
    + \\text{reactivated}_t.

Churn is recognised ``window`` periods after the last order, so the first ``window - 1``
periods cannot show any and are left out of the average. (For contractual data, where churn is
observed, use :func:`~researchkit.channels.customers.fit_sbg`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import build_activity
from researchkit.channels.mmm._checks import check_int
from researchkit.results import Result

__all__ = ["churn_rates"]


def churn_rates(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    period: str = "M", window: int = 3, as_of: Any = None,
) -> Result:
    """Active, new, reactivated and churned customers and the churn rate per period.

    Parameters
    ----------
    orders : DataFrame
        One row per order (online and offline).
    customer, date : str
    period : {"M", "Q", "W", "Y"}
    window : int
        Periods without an order after which a customer counts as churned.
    as_of : date, optional
        End of the data (default the last order date).

    Returns
    -------
    Result
        ``estimate`` = pooled churn rate per period (churned / active at the start, summed
        over the periods from ``window`` on); ``table`` per period: ``active_start``, ``new``,
        ``reactivated``, ``churned``, ``active_end``, ``churn_rate``, ``retention_rate``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": ["2024-01-10", "2024-02-10", "2024-01-15"]})
    >>> churn_rates(orders, window=1, as_of="2024-03-31").table["churned"].tolist()
    [0, 1, 1]
    """
    window = check_int(window, "window", 1)
    act = build_activity(orders, customer=customer, date=date, value=None, period=period,
                         as_of=as_of)
    first_ord = act.customers["cohort"].array.asi8
    start = int(first_ord.min())
    P = int(act.end_period.ordinal) - start + 1
    bought = np.zeros((act.n, P), dtype=np.int32)
    col = first_ord[act.cust] - start + act.age
    np.add.at(bought, (act.cust, col), 1)
    cs = np.cumsum(bought > 0, axis=1)
    lagged = np.zeros_like(cs)
    lagged[:, window:] = cs[:, :-window]
    active = (cs - lagged) > 0
    prev = np.zeros_like(active)
    prev[:, 1:] = active[:, :-1]
    first_col = first_ord - start
    is_new = np.zeros_like(active)
    is_new[np.arange(act.n), first_col] = True
    churned = prev & ~active
    reactivated = ~prev & active & ~is_new
    table = pd.DataFrame({
        "period": pd.period_range(pd.Period(ordinal=start, freq=act.end_period.freq),
                                  periods=P).astype(str),
        "active_start": prev.sum(axis=0),
        "new": is_new.sum(axis=0),
        "reactivated": reactivated.sum(axis=0),
        "churned": churned.sum(axis=0),
        "active_end": active.sum(axis=0),
    }).set_index("period")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["churn_rate"] = np.where(table["active_start"] > 0,
                                       table["churned"] / table["active_start"], np.nan)
    table["retention_rate"] = 1 - table["churn_rate"]
    steady = table.iloc[window:]
    pooled = float(steady["churned"].sum() / steady["active_start"].sum()) \
        if steady["active_start"].sum() else float("nan")
    return Result(
        name=f"Churn rate per {period} period (inactive for {window} periods = churned)",
        estimate=pooled,
        method=(f"A customer is active at the end of a period if they ordered in the last "
                f"{window} periods; churned = active at the end of the previous period but "
                "not of this one; churn rate = churned / active at the start; pooled over the "
                f"periods from the {window + 1}th on (distinct customers, online and offline "
                "orders together)."),
        n=act.n,
        table=table,
        details={"window": window},
    )
