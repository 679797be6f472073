"""Cohorts: retention triangles and revenue per cohort.

Customers are grouped by their **first purchase**: the period (month, quarter, week, year) it
fell in, or an attribute of that first order (the channel it came through, its category,
its value band...). For each group and each **age** *k* (whole periods since the first
purchase; the first purchase is age 0):

* **retention** :math:`r_{gk} = A_{gk} / N_{gk}`, with :math:`A_{gk}` the customers of the
  group who ordered at age *k* and :math:`N_{gk}` those observed long enough to reach age *k*
  (first purchase at least *k* periods before the end of the data). For a cohort by period all
  members reach the same ages, so :math:`N_{gk}` is the cohort size and the table is the
  classic triangle; for cohorts by attribute, members acquired at different times are pooled
  age by age.
* **revenue per customer** :math:`v_{gk} = V_{gk} / N_{gk}` (:math:`V_{gk}` = value ordered
  at age *k*), and its running sum :math:`\\sum_{j \\le k} v_{gj}`: the historical lifetime
  value per acquired customer after *k* periods.

People, not orders, are counted: a customer with three orders in a month is one active
customer that month, whether the orders were online or offline.

Reference: Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *J.
Interactive Marketing* 21(1), 76-90 (cohort survival tables); Gupta, S. et al. (2006).
Modeling customer lifetime value. *J. Service Research* 9(2), 139-155.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import Activity, build_activity, per_eligible
from researchkit.results import Result

__all__ = ["cohort_revenue", "first_purchases", "retention_triangle"]

REFERENCE = ("Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. "
             "J. Interactive Marketing 21(1), 76-90.")


def first_purchases(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    by: str | Sequence[str] | None = None, period: str = "M", as_of: Any = None,
) -> pd.DataFrame:
    """One row per customer: first purchase date, its period (cohort) and attributes.

    Parameters
    ----------
    orders : DataFrame
        One row per order (online and offline).
    customer, date : str
        Customer id and order date columns.
    by : str or list of str, optional
        Columns whose value on the customer's first order is kept (first channel, first
        category...). Several orders on the same first date: the first row in table order.
    period : {"M", "Q", "W", "Y"}
    as_of : date, optional
        Ignore orders after this date (default: the last order date).
    """
    act = build_activity(orders, customer=customer, date=date, value=None, period=period,
                         by=by, as_of=as_of)
    out = act.customers.copy()
    out["cohort"] = out["cohort"].astype(str)
    out["observed_periods"] = act.max_age + 1
    return out


def _groups(act: Activity, by: str | None) -> tuple[np.ndarray, list[str]]:
    labels = act.customers["cohort" if by is None else by].astype(str)
    order = sorted(labels.unique())
    codes = pd.Categorical(labels, categories=order).codes
    return codes, order


def _sum_by_group(codes: np.ndarray, G: int, M: np.ndarray) -> np.ndarray:
    out = np.zeros((G, M.shape[1]))
    np.add.at(out, codes, M)
    return out


def _incomplete_warning(act: Activity, orders_end: Any) -> list[str]:
    end_time = act.end_period.end_time.normalize()
    if pd.Timestamp(orders_end).normalize() < end_time:
        return [f"The last period ({act.end_period}) is not over yet (data end "
                f"{pd.Timestamp(orders_end).date()}); its retention and revenue are "
                "understated. Pass as_of at a period end to drop it."]
    return []


def retention_triangle(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    by: str | None = None, period: str = "M", as_of: Any = None, max_age: int | None = None,
) -> Result:
    """Retention triangle: share of each cohort's customers who order at each age.

    Parameters
    ----------
    orders : DataFrame
        One row per order.
    customer, date : str
        Customer id and order date columns.
    by : str, optional
        Group by this attribute of the first order (e.g. the acquisition channel or the first
        category) instead of the first-purchase period.
    period : {"M", "Q", "W", "Y"}
        Length of a period; ages are whole periods since the first purchase.
    as_of : date, optional
        End of the data (orders after it are ignored); default the last order date.
    max_age : int, optional
        Show ages up to this one.

    Returns
    -------
    Result
        ``table``: groups x ages, retention :math:`A_{gk}/N_{gk}` (NaN where nobody is old
        enough); ``estimate``: pooled retention at ages 1, 3, 6 and 12 where observed;
        ``details``: ``active`` (:math:`A_{gk}`), ``at_risk`` (:math:`N_{gk}`), ``size`` and the
        pooled ``curve``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...     "order_date": ["2024-01-05", "2024-02-10", "2024-01-20", "2024-02-01",
    ...                    "2024-03-03"]})
    >>> retention_triangle(orders).table
    age        0    1    2
    cohort
    2024-01  1.0  0.5  0.0
    2024-02  1.0  1.0  NaN
    """
    act = build_activity(orders, customer=customer, date=date, value=None, period=period,
                         by=by, as_of=as_of)
    active, _, eligible = act.matrices(max_age)
    codes, labels = _groups(act, by)
    G = len(labels)
    A = _sum_by_group(codes, G, active)
    N = _sum_by_group(codes, G, eligible)
    rate = per_eligible(A, N)
    pooled = per_eligible(A.sum(axis=0), N.sum(axis=0))
    ages = pd.Index(np.arange(A.shape[1]), name="age")
    index = pd.Index(labels, name=by or "cohort")
    table = pd.DataFrame(rate, index=index, columns=ages)
    estimate = {f"retention_age_{k}": float(pooled[k]) for k in (1, 3, 6, 12)
                if k < len(pooled) and np.isfinite(pooled[k])}
    curve = pd.DataFrame({"age": ages, "active": A.sum(axis=0), "at_risk": N.sum(axis=0),
                          "retention": pooled})
    last_order = pd.to_datetime(orders[date]).max() if as_of is None else as_of
    what = f"first-purchase {'period' if by is None else by}"
    return Result(
        name=f"Retention by cohort ({what})",
        estimate=estimate,
        method=(f"Customers grouped by their {what}; retention at age k = customers of the "
                "group with at least one order k periods after their first purchase / "
                "customers observed long enough to reach age k (distinct customers, online "
                f"and offline orders together; period = {period})."),
        n=act.n,
        table=table,
        details={"active": pd.DataFrame(A.astype(int), index=index, columns=ages),
                 "at_risk": pd.DataFrame(N.astype(int), index=index, columns=ages),
                 "size": pd.Series(np.bincount(codes, minlength=G), index=index, name="size"),
                 "curve": curve},
        warnings=_incomplete_warning(act, last_order),
        reference=REFERENCE,
    )


def cohort_revenue(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    value: str = "revenue", by: str | None = None, period: str = "M", as_of: Any = None,
    max_age: int | None = None,
) -> Result:
    """Revenue per cohort and the historical lifetime value per acquired customer.

    Parameters
    ----------
    orders : DataFrame
    customer, date : str
    value : str
        Order value column (revenue, or margin for a margin-based LTV).
    by, period, as_of, max_age
        As in :func:`retention_triangle`.

    Returns
    -------
    Result
        ``table``: groups x ages, cumulative value per acquired customer
        :math:`\\sum_{j \\le k} V_{gj}/N_{gj}` (historical LTV); ``estimate``: pooled historical
        LTV at ages 0, 5, 11, 23 and 35 where observed; ``details``: ``revenue``
        (:math:`V_{gk}`), ``per_customer`` (:math:`V_{gk}/N_{gk}`), ``at_risk`` and the pooled
        ``curve``.
    """
    act = build_activity(orders, customer=customer, date=date, value=value, period=period,
                         by=by, as_of=as_of)
    _, V_c, eligible = act.matrices(max_age)
    codes, labels = _groups(act, by)
    G = len(labels)
    V = _sum_by_group(codes, G, V_c)
    N = _sum_by_group(codes, G, eligible)
    per = per_eligible(V, N)
    pooled_per = per_eligible(V.sum(axis=0), N.sum(axis=0))
    cum = np.cumsum(np.nan_to_num(per), axis=1)
    cum[np.isnan(per)] = np.nan
    pooled_cum = np.cumsum(np.nan_to_num(pooled_per))
    pooled_cum[np.isnan(pooled_per)] = np.nan
    ages = pd.Index(np.arange(V.shape[1]), name="age")
    index = pd.Index(labels, name=by or "cohort")
    last_order = pd.to_datetime(orders[date]).max() if as_of is None else as_of
    estimate = {f"ltv_age_{k}": float(pooled_cum[k]) for k in (0, 5, 11, 23, 35)
                if k < len(pooled_cum) and np.isfinite(pooled_cum[k])}
    return Result(
        name=f"Revenue per cohort ({'first-purchase period' if by is None else by})",
        estimate=estimate,
        method=(f"Sum of '{value}' by group and age (periods since the first purchase, "
                f"period = {period}), divided by the customers observed at that age; the "
                "running sum over ages is the historical value per acquired customer."),
        n=act.n,
        table=pd.DataFrame(cum, index=index, columns=ages),
        details={"revenue": pd.DataFrame(V, index=index, columns=ages),
                 "per_customer": pd.DataFrame(per, index=index, columns=ages),
                 "at_risk": pd.DataFrame(N.astype(int), index=index, columns=ages),
                 "curve": pd.DataFrame({"age": ages, "per_customer": pooled_per,
                                        "cumulative": pooled_cum})},
        warnings=_incomplete_warning(act, last_order),
        reference="Gupta, S. et al. (2006). Modeling customer lifetime value. J. Service "
                  "Research 9(2), 139-155.",
    )
