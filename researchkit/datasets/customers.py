"""Simulated omnichannel customers with known retention, so LTV, CAC and funnels have a truth.

:func:`simulate_customers` follows customers of a retailer for ``n_months`` months:

* **Acquisition.** Each month every paid acquisition channel spends a budget
  (``spend`` table) and wins :math:`\\mathrm{Poisson}(\\text{spend} / \\text{CAC}_c)` new
  customers, so the true cost per acquired customer of channel *c* is ``CAC_c``; an organic
  channel brings customers without spend.
* **Retention** (the shifted-beta-geometric story of Fader & Hardie 2007): customer *i* has a
  monthly churn probability :math:`\\theta_i \\sim \\mathrm{Beta}(\\alpha_c, \\beta_c)` that
  depends on the acquisition channel; after each month alive, the customer leaves with
  probability :math:`\\theta_i`. The share of a channel's customers still alive *k* months
  after acquisition is :math:`S(k) = B(\\alpha_c, \\beta_c + k) / B(\\alpha_c, \\beta_c)`.
* **Purchasing.** A customer buys in the acquisition month and, in every later month alive,
  with probability ``p_buy``: 1 + Poisson(0.25) orders, online (web, app, marketplace) or
  offline (store, call centre). Order values are log-normal with a mean set by the category;
  a customer's repeat orders stay in the first category with probability 0.7.
* **Funnel.** For the last ``funnel_months`` months, every person who came to the site or a
  store (prospects and the customers acquired then) leaves events at the stages
  visit -> product_view -> add_to_cart -> order_placed -> order_paid, several events per person
  (people, not visits, are what a funnel counts). The paid-order people are exactly the
  customers acquired in those months.

Expected values of everything are in ``truth``: CAC per channel, the sBG parameters,
retention and active-share curves, expected revenue per customer-month and the expected LTV
over any horizon (closed forms, not simulated averages), and the funnel conversion rates.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["CUSTOMER_CHANNELS", "FUNNEL_STAGES", "simulate_customers", "true_ltv"]

#: Acquisition channels: monthly spend, true CAC, Beta(alpha, beta) of the monthly churn
#: probability, and the probability that the first order is in each category
#: (electronics, home, apparel, beauty). Organic customers come without spend.
CUSTOMER_CHANNELS = pd.DataFrame(
    [
        ("search", 16_000.0, 80.0, 0.9, 2.5, (0.40, 0.25, 0.20, 0.15)),
        ("social", 10_000.0, 60.0, 1.2, 1.8, (0.15, 0.20, 0.35, 0.30)),
        ("display", 6_000.0, 100.0, 1.1, 1.5, (0.30, 0.30, 0.20, 0.20)),
        ("marketplace", 8_000.0, 50.0, 1.0, 2.0, (0.35, 0.30, 0.20, 0.15)),
        ("influencers", 5_000.0, 70.0, 1.3, 1.6, (0.10, 0.15, 0.35, 0.40)),
        ("organic", 0.0, 0.0, 0.8, 3.0, (0.25, 0.25, 0.25, 0.25)),
    ],
    columns=["channel", "monthly_spend", "cac", "churn_alpha", "churn_beta", "category_mix"],
).set_index("channel")

CATEGORIES = ("electronics", "home", "apparel", "beauty")
CATEGORY_MEAN_VALUE = {"electronics": 180.0, "home": 90.0, "apparel": 60.0, "beauty": 35.0}
SALES_CHANNELS = ("web", "app", "marketplace", "store", "call_centre")
SALES_CHANNEL_SHARE = (0.35, 0.20, 0.15, 0.25, 0.05)
OFFLINE = ("store", "call_centre")
FUNNEL_STAGES = ("visit", "product_view", "add_to_cart", "order_placed", "order_paid")
#: probability of going on to the next stage (visit->view, view->cart, cart->placed, placed->paid)
FUNNEL_STEP = (0.55, 0.35, 0.45, 0.85)
ORGANIC_PER_MONTH = 60.0
EXTRA_ORDERS = 0.25
VALUE_SIGMA = 0.5
STAY_IN_CATEGORY = 0.7


def _expected_values(mix: np.ndarray) -> tuple[float, float]:
    """Expected revenue in the acquisition month and per later active month."""
    mu = np.array([CATEGORY_MEAN_VALUE[c] for c in CATEGORIES])
    first = float(mix @ mu)
    repeat = STAY_IN_CATEGORY * first + (1 - STAY_IN_CATEGORY) * float(mu.mean())
    month0 = first + EXTRA_ORDERS * repeat
    later = (1 + EXTRA_ORDERS) * repeat
    return month0, later


def true_ltv(channel: str, horizon: int, *, p_buy: float = 0.45, discount: float = 0.0,
             table: pd.DataFrame | None = None) -> float:
    """Expected revenue per acquired customer over ages 0..``horizon`` months (closed form).

    :math:`E[LTV_H] = m_0 + \\sum_{k=1}^{H} p\\, m\\, S(k) / (1+d)^k`, with
    :math:`S(k) = B(\\alpha, \\beta + k)/B(\\alpha, \\beta)` (sBG survival).
    """
    from scipy.special import betaln

    tab = CUSTOMER_CHANNELS if table is None else table
    row = tab.loc[channel]
    m0, m = _expected_values(np.asarray(row["category_mix"]))
    k = np.arange(1, horizon + 1)
    a, b = row["churn_alpha"], row["churn_beta"]
    S = np.exp(betaln(a, b + k) - betaln(a, b))
    return float(m0 + (p_buy * m * S / (1 + discount) ** k).sum())


def simulate_customers(
    n_months: int = 36, *, seed: int = 0, start: str = "2023-01-01", scale: float = 1.0,
    p_buy: float = 0.45, funnel_months: int = 3,
) -> Simulated:
    """Customers, online and offline orders, monthly spend per channel and funnel events.

    Parameters
    ----------
    n_months : int
        Months of history (36 = three years).
    seed : int
        Random seed.
    start : str
        First month.
    scale : float
        Multiplies acquisition budgets and organic inflow (1.0 gives ~700 new customers a
        month); use a small value for quick runs.
    p_buy : float
        Probability that a live customer buys in a given month after the first.
    funnel_months : int
        Months (at the end) with funnel events.

    Returns
    -------
    Simulated
        ``data`` = dict of DataFrames: ``customers`` (customer_id, first_order_date,
        acquisition_channel, first_category), ``orders`` (order_id, customer_id, order_date,
        sales_channel, online, category, revenue), ``spend`` (month, channel, spend) and
        ``funnel`` (person_id, timestamp, stage, acquisition_channel). ``truth`` = CAC, sBG
        parameters, survival and active-share curves, expected revenue per month, expected
        LTV at 12/24/36 months per channel, funnel step probabilities, churn thetas.
    """
    n = check_positive_int(n_months, "n_months", minimum=6)
    if not isinstance(scale, int | float) or isinstance(scale, bool) or not scale > 0:
        raise ParameterError("invalid scale", parameter="scale", expected="a number > 0",
                             got=scale)
    if not isinstance(p_buy, int | float) or not 0 < p_buy <= 1:
        raise ParameterError("invalid purchase probability", parameter="p_buy",
                             expected="a number in (0, 1]", got=p_buy)
    fm = check_positive_int(funnel_months, "funnel_months", minimum=1)
    if fm > n:
        raise ParameterError("funnel months exceed the history", parameter="funnel_months",
                             expected=f"at most {n}", got=funnel_months)
    rng = make_rng(seed)
    try:
        months = pd.period_range(pd.Timestamp(start), periods=n, freq="M")
    except (ValueError, TypeError):
        raise ParameterError("invalid start date", parameter="start",
                             expected="a date such as 2023-01-01", got=start) from None
    table = CUSTOMER_CHANNELS
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (months.month.to_numpy() - 3) / 12)

    # -- acquisition ----------------------------------------------------------------------
    spend_rows, cust_month, cust_channel = [], [], []
    for ch, row in table.iterrows():
        if row["monthly_spend"] > 0:
            budget = np.round(row["monthly_spend"] * scale * season
                              * np.exp(rng.normal(0, 0.15, n)), 0)
            new = rng.poisson(budget / row["cac"])
            spend_rows.extend({"month": str(m), "channel": ch, "spend": float(b)}
                              for m, b in zip(months, budget, strict=True))
        else:
            new = rng.poisson(ORGANIC_PER_MONTH * scale * season)
        cust_month.append(np.repeat(np.arange(n), new))
        cust_channel.append(np.full(new.sum(), ch, dtype=object))
    month_idx = np.concatenate(cust_month)
    channel = np.concatenate(cust_channel)
    N = len(month_idx)
    order = np.lexsort((rng.random(N), month_idx))  # ids in order of acquisition month
    month_idx, channel = month_idx[order], channel[order]
    ids = np.array([f"C{i:06d}" for i in range(1, N + 1)])

    a = table.loc[channel, "churn_alpha"].to_numpy(float)
    b = table.loc[channel, "churn_beta"].to_numpy(float)
    theta = rng.beta(a, b)
    # months alive including the acquisition month (shifted geometric):
    # P(L = l) = theta (1 - theta)^(l - 1)
    life = rng.geometric(theta)
    mixes = np.vstack(table.loc[channel, "category_mix"].to_numpy())
    first_cat = (rng.random(N)[:, None] > np.cumsum(mixes, axis=1)).sum(axis=1)
    first_cat = np.minimum(first_cat, len(CATEGORIES) - 1)

    # -- orders: one row per customer-month with purchases ---------------------------------
    last_age = np.minimum(life - 1, n - 1 - month_idx)  # last observed month alive
    ages = np.concatenate([np.arange(k + 1) for k in last_age])
    owner = np.repeat(np.arange(N), last_age + 1)
    buys = (ages == 0) | (rng.random(len(ages)) < p_buy)
    owner, ages = owner[buys], ages[buys]
    n_orders = 1 + rng.poisson(EXTRA_ORDERS, len(owner))
    o_owner = np.repeat(owner, n_orders)
    o_age = np.repeat(ages, n_orders)
    first_in_month = np.concatenate([[True], np.diff(np.repeat(np.arange(len(owner)),
                                                               n_orders)) != 0])
    is_first = first_in_month & (o_age == 0)
    cat = np.where(is_first | (rng.random(len(o_owner)) < STAY_IN_CATEGORY),
                   first_cat[o_owner], rng.integers(0, len(CATEGORIES), len(o_owner)))
    mu = np.array([CATEGORY_MEAN_VALUE[c] for c in CATEGORIES])[cat]
    value = np.round(np.exp(rng.normal(np.log(mu) - VALUE_SIGMA**2 / 2, VALUE_SIGMA)), 2)
    o_month = month_idx[o_owner] + o_age
    month_start = months.to_timestamp().to_numpy()
    days_in = months.days_in_month.to_numpy()
    day = np.floor(rng.random(len(o_owner)) * days_in[o_month]).astype(int)
    # the first order of a customer is the earliest in its month
    day = np.where(is_first, np.minimum(day, 0 + (rng.random(len(day)) * 5).astype(int)), day)
    first_day = day[is_first]
    later_in_first_month = (o_age == 0) & ~is_first
    first_day_by_cust = np.zeros(N, dtype=int)
    first_day_by_cust[o_owner[is_first]] = first_day
    day = np.where(later_in_first_month,
                   np.maximum(day, first_day_by_cust[o_owner]), day)
    when = month_start[o_month] + day.astype("timedelta64[D]") \
        + (rng.random(len(day)) * 86_000).astype("timedelta64[s]")
    sales_channel = rng.choice(SALES_CHANNELS, size=len(o_owner), p=SALES_CHANNEL_SHARE)
    orders = pd.DataFrame({
        "customer_id": ids[o_owner],
        "order_date": when,
        "sales_channel": sales_channel,
        "online": ~np.isin(sales_channel, OFFLINE),
        "category": np.array(CATEGORIES)[cat],
        "revenue": value,
    }).sort_values(["order_date", "customer_id"], kind="stable").reset_index(drop=True)
    orders.insert(0, "order_id", [f"O{i:07d}" for i in range(1, len(orders) + 1)])
    first_orders = orders.groupby("customer_id", sort=False)["order_date"].min()
    customers = pd.DataFrame({
        "customer_id": ids,
        "first_order_date": first_orders.reindex(ids).to_numpy(),
        "acquisition_channel": channel,
        "first_category": np.array(CATEGORIES)[first_cat],
    })

    funnel = _funnel(customers, months, month_idx, fm, rng)
    spend = pd.DataFrame(spend_rows)

    truth = _truth(table, p_buy, theta, ids, channel)
    return Simulated(
        data={"customers": customers, "orders": orders, "spend": spend, "funnel": funnel},
        truth=truth,
        description=(
            f"{N:,} customers acquired over {n} months through {len(table)} channels "
            f"({len(orders):,} orders online and offline); monthly churn probabilities drawn "
            "from a beta distribution per channel (shifted-beta-geometric retention), "
            f"purchases in {p_buy:.0%} of live months, monthly spend per paid channel with a "
            f"known CAC, and funnel events for the last {fm} months."),
    )


def _funnel(customers: pd.DataFrame, months: pd.PeriodIndex, month_idx: np.ndarray, fm: int,
            rng: np.random.Generator) -> pd.DataFrame:
    n = len(months)
    recent = month_idx >= n - fm
    paid = customers.loc[recent, ["customer_id", "acquisition_channel"]]
    paid_month = month_idx[recent]
    # prospects who stopped at an earlier stage: expected numbers from the step probabilities
    reach_paid = float(np.prod(FUNNEL_STEP))
    n_visitors = rng.poisson(len(paid) / reach_paid)
    n_prospects = max(n_visitors - len(paid), 0)
    # furthest stage of a non-paying visitor, proportional to the funnel's drop-offs
    reach = np.concatenate([[1.0], np.cumprod(FUNNEL_STEP)])  # P(reach stage k)
    stop = reach[:-1] - reach[1:]  # P(furthest stage = k), k = 0..3
    furthest = rng.choice(4, size=n_prospects, p=stop / stop.sum())
    pros_channel = rng.choice(paid["acquisition_channel"].to_numpy(), size=n_prospects)
    people = pd.DataFrame({
        "person_id": np.concatenate([paid["customer_id"].to_numpy(),
                                     [f"P{i:07d}" for i in range(1, n_prospects + 1)]]),
        "acquisition_channel": np.concatenate([paid["acquisition_channel"].to_numpy(),
                                               pros_channel]),
        "furthest": np.concatenate([np.full(len(paid), 4), furthest]),
        "month": np.concatenate([paid_month, rng.integers(n - fm, n, n_prospects)]),
    })
    # each person's journey starts at some moment of the month; stages follow in order
    people["start_s"] = (rng.random(len(people)) * 25 * 86_400).astype(np.int64)
    rows = []
    start = months.to_timestamp().to_numpy()
    for k, stage in enumerate(FUNNEL_STAGES):
        who = people[people["furthest"] >= k]
        # several events per person at the browsing stages; one at the order stages
        count = 1 + rng.poisson(1.5 if k == 0 else 0.8 if k < 3 else 0.0, len(who))
        rep = who.loc[who.index.repeat(count)]
        offset = rep["start_s"].to_numpy() + k * 7200 + (rng.random(len(rep)) * 7000
                                                          ).astype(np.int64)
        t = start[rep["month"].to_numpy()] + offset.astype("timedelta64[s]")
        rows.append(pd.DataFrame({"person_id": rep["person_id"].to_numpy(), "timestamp": t,
                                  "stage": stage,
                                  "acquisition_channel": rep["acquisition_channel"].to_numpy()}))
    events = pd.concat(rows, ignore_index=True)
    return events.sort_values(["timestamp", "person_id"], kind="stable").reset_index(drop=True)


def _truth(table: pd.DataFrame, p_buy: float, theta: np.ndarray, ids: np.ndarray,
           channel: np.ndarray) -> dict[str, Any]:
    from scipy.special import betaln

    k = np.arange(0, 61)
    rows, curves = [], []
    for ch, row in table.iterrows():
        a, b = row["churn_alpha"], row["churn_beta"]
        S = np.exp(betaln(a, b + k) - betaln(a, b))
        m0, m = _expected_values(np.asarray(row["category_mix"]))
        rows.append({"channel": ch, "cac": row["cac"] if row["monthly_spend"] > 0 else np.nan,
                     "churn_alpha": a, "churn_beta": b, "mean_churn": a / (a + b),
                     "revenue_month0": m0, "revenue_per_active_month": m,
                     "ltv_12": true_ltv(ch, 12, p_buy=p_buy),
                     "ltv_24": true_ltv(ch, 24, p_buy=p_buy),
                     "ltv_36": true_ltv(ch, 36, p_buy=p_buy)})
        curves.append(pd.DataFrame({"channel": ch, "age": k, "survival": S,
                                    "active_share": np.where(k == 0, 1.0, p_buy * S)}))
    return {
        "channels": table.reset_index().drop(columns="category_mix"),
        "by_channel": pd.DataFrame(rows).set_index("channel"),
        "curves": pd.concat(curves, ignore_index=True),
        "p_buy": p_buy,
        "funnel_stages": list(FUNNEL_STAGES),
        "funnel_step": dict(zip([f"{a}->{b}" for a, b in itertools.pairwise(FUNNEL_STAGES)],
                                FUNNEL_STEP, strict=True)),
        "theta": pd.Series(theta, index=ids, name="theta"),
        "categories": list(CATEGORIES),
        "category_mean_value": dict(CATEGORY_MEAN_VALUE),
    }
