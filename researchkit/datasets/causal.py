"""Simulators for causal designs: a regional sales panel with a campaign of known effect, a
weekly sales series with a known intervention effect, and observational customer data with
known confounding and a known average effect on the treated.

Every simulator returns a :class:`~researchkit.datasets.base.Simulated` whose ``truth`` holds
the effects the data were generated with, so tests and workshops can check that an analysis
recovers them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["campaign_observational", "regional_sales_panel", "weekly_sales_series"]


def _check_number(value: Any, name: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ParameterError("expected a finite number", parameter=name, got=value)
    if minimum is not None and value < minimum:
        raise ParameterError("value too small", parameter=name,
                             expected=f"a number >= {minimum}", got=value)
    return float(value)


def regional_sales_panel(
    n_regions: int = 20,
    stores_per_region: int = 4,
    n_weeks: int = 52,
    n_treated: int = 6,
    launch_week: int = 36,
    effect: float = 6.0,
    *,
    staggered: bool = False,
    cohorts: tuple[int, ...] = (24, 32, 40),
    effect_growth: float = 0.0,
    pretrend: float = 0.0,
    noise: float = 4.0,
    seed: int = 0,
) -> Simulated:
    """Weekly sales of stores in sales regions, with a campaign in some regions.

    Model (store *i* in region *r*, week *t*)::

        sales = 100 + a_r + b_i + 0.05 t + 6 sin(2π t/52) + λ_r f_t + trend_r · t
                + D_it · τ_it + ε_it

    where ``a_r ~ N(0, 10²)`` and ``b_i ~ N(0, 4²)`` are region and store levels, ``f_t`` a
    common AR(1) demand shock (ρ = 0.7, sd 3) with region loadings ``λ_r ~ U(0.5, 1.5)``,
    ``ε ~ N(0, noise²)`` independent, and ``D_it = 1`` once the campaign is live in the store's
    region. Campaign regions are drawn at random, so loadings and levels are balanced in
    expectation and parallel trends hold unless ``pretrend`` is set.

    Parameters
    ----------
    n_regions, stores_per_region, n_weeks : int
        Panel size (weeks are numbered 1..n_weeks).
    n_treated : int
        Number of campaign regions.
    launch_week : int
        First campaign week (all campaign regions launch together unless ``staggered``).
    effect : float
        Campaign effect on weekly sales per store in the first campaign week.
    staggered : bool
        Campaign regions launch in waves: region *k* of the campaign regions launches in week
        ``cohorts[k % len(cohorts)]``.
    cohorts : tuple of int
        Launch weeks of the waves when ``staggered``.
    effect_growth : float
        Heterogeneous, dynamic effects: the effect in a store's *e*-th campaign week (e = 0, 1,
        ...) is ``effect · (1 + effect_growth · e)`` times a cohort factor (1.5 for the first
        wave, 1.0, then 0.5, ... when ``staggered``). With growth and staggered timing a
        two-way fixed-effects regression is biased (Goodman-Bacon 2021).
    pretrend : float
        Violation of parallel trends: campaign regions get an extra ``pretrend`` per week of
        sales growth throughout (before and after launch).
    noise : float
        Standard deviation of the store-week noise.
    seed : int

    Returns
    -------
    Simulated
        ``data`` columns: region, store, week, sales, treated (campaign region),
        post (week >= launch week; with ``staggered``, the region's own launch week, and
        always 0 in regions without the campaign), campaign (campaign live: treated · post),
        launch_week (0 for regions without campaign).
        ``truth``: ``att`` (mean effect over treated store-weeks), ``att_by_week``,
        ``att_gt`` (table of cohort × week effects), ``att_by_event_time``, ``launch_weeks``
        (per campaign region), ``treated_regions``, ``pretrend``, ``effect``.
    """
    n_regions = check_positive_int(n_regions, "n_regions", 2)
    stores_per_region = check_positive_int(stores_per_region, "stores_per_region")
    n_weeks = check_positive_int(n_weeks, "n_weeks", 4)
    n_treated = check_positive_int(n_treated, "n_treated")
    if n_treated >= n_regions:
        raise ParameterError("some regions must stay without the campaign", parameter="n_treated",
                             expected=f"an integer < n_regions ({n_regions})", got=n_treated)
    effect = _check_number(effect, "effect")
    effect_growth = _check_number(effect_growth, "effect_growth")
    pretrend = _check_number(pretrend, "pretrend")
    noise = _check_number(noise, "noise", minimum=0.0)
    launches = list(cohorts) if staggered else [launch_week]
    if not launches:
        raise ParameterError("no launch weeks", parameter="cohorts", expected="at least one week")
    for w in launches:
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or not 2 <= w <= n_weeks:
            raise ParameterError("launch week outside the panel",
                                 parameter="cohorts" if staggered else "launch_week",
                                 expected=f"an integer in 2..{n_weeks} (one pre-period at least)",
                                 got=w)
    rng = make_rng(seed)
    weeks = np.arange(1, n_weeks + 1)
    region_level = rng.normal(0, 10, n_regions)
    loading = rng.uniform(0.5, 1.5, n_regions)
    shock = np.zeros(n_weeks)
    innov = rng.normal(0, 3 * np.sqrt(1 - 0.7**2), n_weeks)
    shock[0] = rng.normal(0, 3)
    for t in range(1, n_weeks):
        shock[t] = 0.7 * shock[t - 1] + innov[t]
    treated_regions = np.sort(rng.choice(n_regions, size=n_treated, replace=False))
    launch = np.zeros(n_regions, dtype=int)
    cohort_factor = np.ones(n_regions)
    for k, r in enumerate(treated_regions):
        launch[r] = launches[k % len(launches)]
        if staggered:
            cohort_factor[r] = max(1.5 - 0.5 * (k % len(launches)), 0.25)
    n_stores = n_regions * stores_per_region
    region_of = np.repeat(np.arange(n_regions), stores_per_region)
    store_level = rng.normal(0, 4, n_stores)
    r_idx = np.repeat(region_of, n_weeks)
    s_idx = np.repeat(np.arange(n_stores), n_weeks)
    t = np.tile(weeks, n_stores)
    is_treated = launch[r_idx] > 0
    post = is_treated & (t >= launch[r_idx])
    exposure = np.where(post, t - launch[r_idx], 0)
    # common timing: post = week >= launch for every store; staggered: each region's own
    # launch (never 1 in regions without the campaign)
    post_col = post if staggered else (t >= launches[0])
    tau = np.where(post, effect * (1 + effect_growth * exposure) * cohort_factor[r_idx], 0.0)
    base = (100 + region_level[r_idx] + store_level[s_idx] + 0.05 * t
            + 6 * np.sin(2 * np.pi * t / 52) + loading[r_idx] * shock[t - 1]
            + pretrend * is_treated * t)
    sales = base + tau + rng.normal(0, noise, len(t))
    region_names = np.array([f"R{r + 1:02d}" for r in range(n_regions)])
    store_names = np.array([f"{region_names[region_of[s]]}-S{s % stores_per_region + 1}"
                            for s in range(n_stores)])
    data = pd.DataFrame({
        "region": region_names[r_idx],
        "store": store_names[s_idx],
        "week": t,
        "sales": sales,
        "treated": is_treated.astype(int),
        "post": post_col.astype(int),
        "campaign": post.astype(int),
        "launch_week": launch[r_idx],
    })
    cells = pd.DataFrame({"cohort": launch[r_idx], "week": t, "tau": tau, "post": post})
    cells = cells[cells["post"]]
    att_gt = (cells.groupby(["cohort", "week"], sort=True)["tau"].mean()
              .rename("att").reset_index())
    cells["event_time"] = cells["week"] - cells["cohort"]
    by_event = cells.groupby("event_time", sort=True)["tau"].mean()
    truth = {
        "att": float(cells["tau"].mean()),
        "effect": effect,
        "effect_growth": effect_growth,
        "att_by_week": cells.groupby("week", sort=True)["tau"].mean().to_dict(),
        "att_gt": att_gt,
        "att_by_event_time": {int(k): float(v) for k, v in by_event.items()},
        "launch_weeks": {str(region_names[r]): int(launch[r]) for r in treated_regions},
        "treated_regions": [str(region_names[r]) for r in treated_regions],
        "pretrend": pretrend,
        "staggered": bool(staggered),
    }
    description = (
        f"Weekly sales of {n_stores} stores in {n_regions} regions over {n_weeks} weeks; a "
        f"campaign runs in {n_treated} regions from week "
        f"{'/'.join(map(str, launches))} with a true effect of {effect:g} per store-week"
        + (f" growing by {effect_growth:g}x per week" if effect_growth else "")
        + (f"; campaign regions grow {pretrend:g} per week faster (parallel trends violated)"
           if pretrend else "") + "."
    )
    return Simulated(data=data, truth=truth, description=description)


def weekly_sales_series(
    n_weeks: int = 104,
    launch_week: int = 80,
    effect: float = 10.0,
    *,
    n_controls: int = 3,
    noise: float = 2.0,
    seed: int = 0,
) -> Simulated:
    """One market's weekly sales with an intervention of known effect, plus control series.

    The controls (e.g. sales in markets without the campaign, or a category search index) and
    the target share a latent demand path (local linear trend + annual seasonality)::

        demand_t = level_t + 8 sin(2π t/52) + 4 cos(2π t/52)
        control_jt = c_j + β_j demand_t + N(0, noise²)
        sales_t = 50 + demand_t + effect · 1[t ≥ launch_week] + N(0, noise²)

    with ``level_t`` a random walk with small drift (sd 1). The controls are not affected by
    the intervention, as a CausalImpact analysis requires.

    Returns
    -------
    Simulated
        ``data`` columns: week (1..n_weeks), date (weekly, Mondays from 2024-01-01), sales,
        control_1..control_k, post. ``truth``: ``effect`` (per week), ``cumulative_effect``,
        ``launch_week``, ``counterfactual`` (sales without the intervention).
    """
    n_weeks = check_positive_int(n_weeks, "n_weeks", 8)
    n_controls = check_positive_int(n_controls, "n_controls", 0)
    effect = _check_number(effect, "effect")
    noise = _check_number(noise, "noise", minimum=0.0)
    if isinstance(launch_week, bool) or not isinstance(launch_week, int) \
            or not 4 <= launch_week <= n_weeks:
        raise ParameterError("launch week outside the series", parameter="launch_week",
                             expected=f"an integer in 4..{n_weeks}", got=launch_week)
    rng = make_rng(seed)
    t = np.arange(1, n_weeks + 1)
    level = np.cumsum(0.05 + rng.normal(0, 1.0, n_weeks))
    demand = level + 8 * np.sin(2 * np.pi * t / 52) + 4 * np.cos(2 * np.pi * t / 52)
    post = t >= launch_week
    counterfactual = 50 + demand + rng.normal(0, noise, n_weeks)
    data = pd.DataFrame({
        "week": t,
        "date": pd.date_range("2024-01-01", periods=n_weeks, freq="W-MON"),
        "sales": counterfactual + effect * post,
    })
    for j in range(n_controls):
        beta = rng.uniform(0.6, 1.4)
        data[f"control_{j + 1}"] = 30 + 10 * j + beta * demand + rng.normal(0, noise, n_weeks)
    data["post"] = post.astype(int)
    truth = {"effect": effect, "cumulative_effect": effect * int(post.sum()),
             "launch_week": launch_week, "counterfactual": counterfactual}
    return Simulated(data=data, truth=truth, description=(
        f"{n_weeks} weeks of sales in one market with {n_controls} unaffected control series; "
        f"from week {launch_week} an intervention adds {effect:g} per week."))


def campaign_observational(
    n: int = 2000,
    effect: float = 12.0,
    *,
    confounding: float = 1.0,
    seed: int = 0,
) -> Simulated:
    """Customers who did or did not join a loyalty campaign, with known confounding.

    Covariates: ``age`` (18-75), ``past_spend`` (log-normal, last year's spend), ``member``
    (loyalty-card holder, 0/1), ``urban`` (0/1), ``visits`` (store visits last quarter, Poisson).
    Joining depends on them (logit)::

        logit P(join) = -1.2 + confounding · (0.9 z(past_spend) + 0.8 member + 0.4 urban
                                               - 0.3 z(age) + 0.15 (visits - 3))

    with ``z(past_spend) = (log(past_spend) − 5)/0.5`` and ``z(age) = (age − 46.5)/16.5``: the
    true score is logistic-linear in ``age, log_past_spend, member, urban, visits``, so a
    main-effects logit on those columns is correctly specified (one on ``past_spend`` in
    levels is not, and suffers from extreme weights).

    and so does next-quarter spend::

        spend0 = 40 + 0.25 past_spend + 6 member + 4 urban - 0.1 (age - 45) + 3 visits + N(0, 15²)
        spend1 = spend0 + effect · (0.6 + 0.4 member + 0.2 z(past_spend))

    The effect varies with the covariates, so the average effect on the joiners (ATT) differs
    from the average effect (ATE); a naive comparison of joiners and non-joiners is biased.

    Returns
    -------
    Simulated
        ``data`` columns: customer, age, past_spend, log_past_spend, member, urban, visits,
        joined, spend.
        ``truth``: ``att`` and ``ate`` (sample values from the potential outcomes),
        ``naive_difference``, ``propensity`` (the true scores).
    """
    n = check_positive_int(n, "n", 20)
    effect = _check_number(effect, "effect")
    confounding = _check_number(confounding, "confounding")
    rng = make_rng(seed)
    age = rng.integers(18, 76, n)
    past_spend = np.exp(rng.normal(5.0, 0.5, n))
    member = rng.binomial(1, 0.4, n)
    urban = rng.binomial(1, 0.6, n)
    visits = rng.poisson(3, n)
    z_spend = (np.log(past_spend) - 5.0) / 0.5
    z_age = (age - 46.5) / 16.5
    lin = -1.2 + confounding * (0.9 * z_spend + 0.8 * member + 0.4 * urban - 0.3 * z_age
                                + 0.15 * (visits - 3))
    propensity = 1 / (1 + np.exp(-lin))
    joined = rng.binomial(1, propensity)
    spend0 = (40 + 0.25 * past_spend + 6 * member + 4 * urban - 0.1 * (age - 45) + 3 * visits
              + rng.normal(0, 15, n))
    tau = effect * (0.6 + 0.4 * member + 0.2 * z_spend)
    spend = spend0 + joined * tau
    data = pd.DataFrame({
        "customer": np.arange(1, n + 1), "age": age, "past_spend": past_spend,
        "log_past_spend": np.log(past_spend),
        "member": member, "urban": urban, "visits": visits, "joined": joined, "spend": spend,
    })
    truth = {
        "att": float(tau[joined == 1].mean()),
        "ate": float(tau.mean()),
        "naive_difference": float(spend[joined == 1].mean() - spend[joined == 0].mean()),
        "propensity": propensity,
    }
    return Simulated(data=data, truth=truth, description=(
        f"{n} customers; {int(joined.sum())} joined a loyalty campaign, more often the "
        "high spenders and card members, who also spend more anyway (confounding)."))
