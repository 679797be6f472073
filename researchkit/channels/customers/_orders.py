"""Reading an order table into per-customer, per-period arrays (private).

Every customer-economics function starts from an **order table**: one row per order (or per
order line) with a customer id, an order date and, where needed, a value (revenue or margin).
Offline orders (stores, call centre) belong in the same table as online ones: people, not
channels, are the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.mmm._checks import check_columns, check_frame, numeric_column
from researchkit.errors import DataError, ParameterError

PERIODS = {"M": "month", "Q": "quarter", "W": "week", "Y": "year"}


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise ParameterError("unknown period", parameter="period",
                             expected=f"one of {list(PERIODS)} ({', '.join(PERIODS.values())})",
                             got=period)
    return period


def order_dates(data: pd.DataFrame, col: str) -> pd.Series:
    try:
        dates = pd.to_datetime(data[col], errors="raise")
    except (ValueError, TypeError) as exc:
        raise DataError(f"order dates could not be read ({exc})", column=col,
                        expected="dates such as 2024-01-31") from None
    if dates.isna().any():
        pos = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError("missing order date", row=pos + 1, column=col, expected="a date")
    return dates


def check_ids(data: pd.DataFrame, col: str) -> pd.Series:
    ids = data[col]
    if ids.isna().any():
        pos = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise DataError("missing customer id", row=pos + 1, column=col,
                        expected="an id on every order")
    return ids


def as_of_date(as_of: Any, dates: pd.Series) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp(dates.max())
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise ParameterError("invalid date", parameter="as_of", expected="a date",
                             got=as_of) from None
    if ts < dates.min():
        raise ParameterError("as_of is before the first order", parameter="as_of",
                             expected=f"a date on or after {dates.min().date()}", got=as_of)
    return ts


@dataclass
class Activity:
    """Customers x ages: who ordered and how much, from the order table."""

    customers: pd.DataFrame  # one row per customer: id, first_date, cohort, attributes
    age: np.ndarray  # age (periods since the first purchase) of each retained order row
    cust: np.ndarray  # customer index (row of ``customers``) of each order row
    value: np.ndarray | None  # value of each order row
    max_age: np.ndarray  # last observable age per customer
    end_period: pd.Period
    period: str

    @property
    def n(self) -> int:
        return len(self.customers)

    def matrices(self, horizon: int | None = None) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
        """(active, value, eligible) arrays of shape (customers, ages)."""
        A = int(self.max_age.max()) + 1 if horizon is None else horizon + 1
        keep = self.age < A
        active = np.zeros((self.n, A), dtype=bool)
        active[self.cust[keep], self.age[keep]] = True
        value = np.zeros((self.n, A))
        if self.value is not None:
            np.add.at(value, (self.cust[keep], self.age[keep]), self.value[keep])
        eligible = np.arange(A)[None, :] <= self.max_age[:, None]
        return active, value, eligible


def build_activity(
    orders: pd.DataFrame, *, customer: str, date: str, value: str | None, period: str,
    by: str | Sequence[str] | None = None, as_of: Any = None,
) -> Activity:
    """First purchase, cohort and attributes per customer; age of every order."""
    orders = check_frame(orders, "orders")
    period = check_period(period)
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    needed = [customer, date, *by_cols] + ([value] if value else [])
    check_columns(orders, needed, "orders")
    dates = order_dates(orders, date)
    ids = check_ids(orders, customer)
    vals = numeric_column(orders, value) if value else None
    end = as_of_date(as_of, dates)
    keep = (dates <= end).to_numpy()
    frame = pd.DataFrame({"_id": ids.to_numpy()[keep], "_date": dates.to_numpy()[keep],
                          "_row": np.flatnonzero(keep)})
    for col in by_cols:
        frame[col] = orders[col].to_numpy()[keep]
    # first order per customer: earliest date; ties broken by row order (stable sort)
    frame = frame.sort_values(["_date", "_row"], kind="stable")
    first = frame.drop_duplicates("_id", keep="first").reset_index(drop=True)
    first["cohort"] = first["_date"].dt.to_period(period)
    end_period = end.to_period(period)
    customers = first.rename(columns={"_id": "customer", "_date": "first_date"})
    customers = customers.drop(columns="_row")
    index = pd.Index(customers["customer"])
    cust = index.get_indexer(frame["_id"])
    cohort_ord = customers["cohort"].array.asi8  # period ordinals
    order_ord = frame["_date"].dt.to_period(period).array.asi8
    age = order_ord - cohort_ord[cust]
    max_age = end_period.ordinal - cohort_ord
    v = None if vals is None else vals[frame["_row"].to_numpy()]
    for col in by_cols:
        if customers[col].isna().any():
            bad = customers.loc[customers[col].isna(), "customer"].iloc[0]
            raise DataError("the first order of a customer has no value in the cohort column",
                            column=col, row=f"customer {bad}",
                            expected="a value on every first order")
    return Activity(customers, age, cust, v, max_age, end_period, period)


def per_eligible(amount: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """``amount / eligible`` element by element, NaN where nobody was eligible (``eligible``
    is 0): a cohort cell nobody could reach yet has no rate, not a rate of zero."""
    eligible = np.asarray(eligible)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(eligible > 0, np.asarray(amount) / np.where(eligible > 0, eligible, 1),
                        np.nan)
