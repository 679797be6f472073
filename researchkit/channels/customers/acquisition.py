"""Acquisition cost and unit economics per channel: CAC, LTV/CAC, payback, the CAC ceiling.

* **CAC** of channel *c* = marketing spend of *c* / new customers acquired through *c*, over
  the same periods (customers whose first purchase falls in a period with recorded spend).
* **LTV/CAC** = projected lifetime value (margin-based, from
  :func:`~researchkit.channels.customers.customer_ltv`) / CAC.
* **Payback period** = the first age *k* at which the projected cumulative margin per acquired
  customer reaches CAC (age 0 = the acquisition period); ``None`` when it does not within the
  LTV horizon.
* **Maximum CAC** = LTV - planned profit per customer: the most a new customer may cost for the
  planned profit to be met ("budget per client capped by LTV minus planned profit").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import check_period, order_dates
from researchkit.channels.mmm._checks import check_columns, check_frame, numeric_column
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["acquisition_cost", "unit_economics"]


def acquisition_cost(
    spend: pd.DataFrame, customers: pd.DataFrame, *, channel: str = "channel",
    value: str = "spend", period_col: str = "month",
    customer_channel: str = "acquisition_channel", first_date: str = "first_order_date",
    period: str = "M",
) -> Result:
    """Customer acquisition cost per channel: spend / new customers.

    Parameters
    ----------
    spend : DataFrame
        Marketing spend, one row per channel and period (``channel``, ``period_col``,
        ``value``).
    customers : DataFrame
        One row per customer with the channel that acquired them and the date of their first
        purchase (e.g. :func:`~researchkit.channels.customers.first_purchases` joined to the
        acquisition source).
    channel, value, period_col : str
        Columns of ``spend``; ``period_col`` holds dates or periods such as "2024-03".
    customer_channel, first_date : str
        Columns of ``customers``.
    period : {"M", "Q", "W", "Y"}
        Period of ``period_col``.

    Returns
    -------
    Result
        ``table`` per channel: spend, new customers and CAC over the periods with recorded
        spend; channels without spend (organic) have no CAC. ``details["by_period"]``: the same
        per channel and period.
    """
    spend = check_frame(spend, "spend")
    customers = check_frame(customers, "customers")
    check_period(period)
    check_columns(spend, [channel, value, period_col], "spend")
    check_columns(customers, [customer_channel, first_date], "customers")
    amount = numeric_column(spend, value, non_negative=True, parameter="spend")
    try:
        sp_period = pd.PeriodIndex(pd.to_datetime(spend[period_col].astype(str)),
                                   freq=period)
    except (ValueError, TypeError) as exc:
        raise DataError(f"spend periods could not be read ({exc})", column=period_col,
                        parameter="spend", expected="dates or periods such as 2024-03") from None
    if customers[customer_channel].isna().any():
        pos = int(np.flatnonzero(customers[customer_channel].isna().to_numpy())[0])
        raise DataError("customer without an acquisition channel", row=pos + 1,
                        column=customer_channel, parameter="customers")
    first = order_dates(customers, first_date).dt.to_period(period)
    sp = pd.DataFrame({"channel": spend[channel].astype(str).to_numpy(),
                       "period": sp_period, "spend": amount})
    lo, hi = sp["period"].min(), sp["period"].max()
    in_range = (first >= lo) & (first <= hi)
    new = pd.DataFrame({"channel": customers.loc[in_range, customer_channel].astype(str),
                        "period": first[in_range]})
    by_period = (sp.groupby(["channel", "period"])["spend"].sum().to_frame()
                 .join(new.groupby(["channel", "period"]).size().rename("new_customers"),
                       how="outer").fillna({"spend": 0.0, "new_customers": 0}))
    by_period["new_customers"] = by_period["new_customers"].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_period["cac"] = np.where(by_period["new_customers"] > 0,
                                    by_period["spend"] / by_period["new_customers"], np.nan)
    paid = set(sp.loc[sp["spend"] > 0, "channel"])
    tot = by_period.groupby(level="channel")[["spend", "new_customers"]].sum()
    tot["paid"] = [c in paid for c in tot.index]
    with np.errstate(divide="ignore", invalid="ignore"):
        tot["cac"] = np.where(tot["paid"] & (tot["new_customers"] > 0),
                              tot["spend"] / tot["new_customers"], np.nan)
    tot["share_of_new_customers"] = tot["new_customers"] / tot["new_customers"].sum()
    warnings = [f"{c}: spend but no new customers, so no CAC." for c in tot.index
                if tot.loc[c, "paid"] and tot.loc[c, "new_customers"] == 0]
    unpaid = [c for c in tot.index if not tot.loc[c, "paid"]]
    if unpaid:
        warnings.append(f"No spend recorded for {', '.join(unpaid)}: no CAC (organic or "
                        "unbudgeted sources).")
    total_paid = tot.loc[tot["paid"]]
    blended = float(total_paid["spend"].sum() / total_paid["new_customers"].sum()) \
        if total_paid["new_customers"].sum() else float("nan")
    return Result(
        name="Customer acquisition cost by channel",
        estimate={c: float(v) for c, v in tot["cac"].items() if np.isfinite(v)},
        method=(f"CAC = marketing spend / new customers (first purchase) per channel, over the "
                f"periods with recorded spend ({lo} to {hi}); people counted once, at their "
                "first purchase online or offline."),
        n=int(tot["new_customers"].sum()),
        table=tot,
        details={"by_period": by_period.reset_index().assign(
            period=lambda d: d["period"].astype(str)),
            "blended_paid_cac": blended},
        warnings=warnings,
    )


def unit_economics(ltv: Result, cac: Result, *, planned_profit: float = 0.0) -> Result:
    """LTV/CAC, payback period and the maximum affordable CAC per channel.

    Parameters
    ----------
    ltv : Result
        :func:`~researchkit.channels.customers.customer_ltv` grouped by the acquisition
        channel, with ``margin`` set to the gross margin so LTV is comparable with CAC.
    cac : Result
        :func:`acquisition_cost`.
    planned_profit : float
        Profit per customer the business plans to keep; the maximum CAC is LTV minus it.

    Returns
    -------
    Result
        ``table`` per channel: CAC, projected LTV (with its interval), LTV/CAC, payback period
        (in periods; age 0 = acquisition period), maximum CAC and headroom (max CAC - CAC).
    """
    if not isinstance(planned_profit, int | float) or isinstance(planned_profit, bool) \
            or not np.isfinite(planned_profit):
        raise ParameterError("invalid planned profit", parameter="planned_profit",
                             expected="a number (per customer)", got=planned_profit)
    lt, ct = ltv.table, cac.table
    if lt is None or ct is None or "projected_ltv" not in lt or "cac" not in ct:
        raise ParameterError("expected the results of customer_ltv and acquisition_cost",
                             parameter="ltv/cac")
    curves = ltv.details.get("curves")
    key = lt.index.name
    common = [c for c in ct.index if c in lt.index]
    if not common:
        raise DataError("no channel is in both results", parameter="ltv/cac",
                        expected=f"channels of the CAC table {list(ct.index)}",
                        got=list(lt.index))
    rows = []
    for c in common:
        ltv_c = float(lt.loc[c, "projected_ltv"]) if pd.notna(lt.loc[c, "projected_ltv"]) \
            else float("nan")
        cac_c = float(ct.loc[c, "cac"])
        payback = None
        if np.isfinite(cac_c) and curves is not None:
            cum = curves.loc[curves[key] == c, "projected_ltv"].to_numpy()
            hit = np.flatnonzero(cum >= cac_c)
            payback = int(hit[0]) if len(hit) else None
        row = {"channel": c, "cac": cac_c, "ltv": ltv_c,
               "ltv_ci_low": lt.loc[c].get("ltv_ci_low", np.nan),
               "ltv_ci_high": lt.loc[c].get("ltv_ci_high", np.nan),
               "ltv_to_cac": ltv_c / cac_c if np.isfinite(cac_c) and cac_c > 0 else np.nan,
               "payback_periods": payback,
               "max_cac": ltv_c - planned_profit}
        row["headroom"] = row["max_cac"] - cac_c if np.isfinite(cac_c) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("channel")
    warnings = [f"{c}: CAC above the maximum affordable CAC (LTV - planned profit)."
                for c in table.index if table.loc[c, "headroom"] < 0]
    horizon = ltv.details.get("horizon")
    return Result(
        name="Unit economics by acquisition channel",
        estimate={c: float(v) for c, v in table["ltv_to_cac"].items() if np.isfinite(v)},
        method=(f"LTV = projected value per acquired customer over {horizon} periods (margin "
                f"{ltv.details.get('margin')}); LTV/CAC; payback = first age at which the "
                "projected cumulative value reaches CAC; maximum CAC = LTV - planned profit "
                f"({planned_profit:g} per customer)."),
        table=table,
        warnings=warnings,
    )
