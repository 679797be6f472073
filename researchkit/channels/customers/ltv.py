"""Customer lifetime value: historical, and projected with a fitted retention model.

For a group of customers (all, or one acquisition channel / first category...), with ages *k*
in periods since the first purchase:

* **historical LTV** after *k* periods: :math:`\\sum_{j \\le k} V_j / N_j`, the value ordered at
  age *j* per customer observed at that age (:func:`cohort_revenue` pooled over the group);
* **projected LTV** over a horizon *H*:

  .. math::

      \\mathrm{LTV}_H = \\mu \\Big[ m_0 + m \\sum_{k=1}^{H} \\frac{a(k)}{(1 + d)^k} \\Big],

  with :math:`m_0` the mean value per customer in the acquisition period, :math:`m` the mean
  value per active customer-period afterwards, :math:`a(k) = p\\,S(k)` the fitted share of
  customers buying at age *k* (shifted-beta-geometric survival thinned by a purchase
  probability, :func:`~researchkit.channels.customers.fit_active_curve`), *d* the discount rate
  per period and :math:`\\mu` the gross margin (1 = revenue LTV). The model projects the curve
  beyond the ages observed, so young groups get a full-horizon LTV.

Intervals come from a bootstrap over customers (each replicate resamples the group's customers
with replacement and refits the curve). The horizon matters: with :math:`\\alpha \\le 1` the sBG
survival decays so slowly that an undiscounted infinite-horizon LTV does not exist, so a finite
horizon (e.g. three years) is always used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels.customers._orders import build_activity, per_eligible
from researchkit.channels.customers.retention import BGBB_REFERENCE, SBG_REFERENCE, _fit_curve
from researchkit.channels.mmm._checks import check_int, check_level
from researchkit.channels.mmm._core import with_single_thread_blas
from researchkit.datasets.base import make_rng
from researchkit.errors import ParameterError
from researchkit.results import Result

__all__ = ["customer_ltv"]


def _projection(x: np.ndarray, m0: float, m: float, horizon: int, discount: float,
                margin: float) -> np.ndarray:
    """Projected cumulative value per customer at ages 0..horizon."""
    from scipy.special import betaln, expit

    p, a, b = expit(x[0]), np.exp(x[1]), np.exp(x[2])
    k = np.arange(0, horizon + 1, dtype=float)
    share = np.where(k == 0, 1.0, p * np.exp(betaln(a, b + k) - betaln(a, b)))
    per = np.where(k == 0, m0, m * share) / (1.0 + discount) ** k
    return margin * np.cumsum(per)


def _group_stats(active: np.ndarray, value: np.ndarray, eligible: np.ndarray,
                 w: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    if w is None:
        A, V, N = active.sum(axis=0), value.sum(axis=0), eligible.sum(axis=0)
    else:
        A, V, N = w @ active, w @ value, w @ eligible
    return A.astype(float), V.astype(float), N.astype(float)


@with_single_thread_blas
def customer_ltv(
    orders: pd.DataFrame, *, customer: str = "customer_id", date: str = "order_date",
    value: str = "revenue", by: str | None = None, period: str = "M", horizon: int = 36,
    discount: float = 0.0, margin: float = 1.0, n_boot: int = 100, ci_level: float = 0.95,
    seed: int = 0, as_of: Any = None, min_customers: int = 30,
) -> Result:
    """Historical and projected lifetime value per customer, by group.

    Parameters
    ----------
    orders : DataFrame
        One row per order, online and offline.
    customer, date, value : str
        Customer id, order date and order value columns.
    by : str, optional
        Group customers by this attribute of their first order (e.g. acquisition channel).
    period : {"M", "Q", "W", "Y"}
    horizon : int
        LTV horizon in periods after the acquisition period (36 months = three years).
    discount : float
        Discount rate per period (0.01 = 1% a month).
    margin : float
        Gross margin applied to ``value`` (1 = revenue LTV; use the margin rate to compare
        with acquisition cost).
    n_boot : int
        Customer-bootstrap replicates for the interval (0 = none).
    ci_level : float
    seed : int
    as_of : date, optional
        End of the data; default the last order date.
    min_customers : int
        Groups with fewer customers are reported without a projection.

    Returns
    -------
    Result
        ``table`` per group: customers, observed ages, historical LTV at the last age observed
        by at least ``min_customers`` customers, fitted p / alpha / beta, m0, m, projected
        LTV and interval; ``details["curves"]``: observed and fitted active share and
        cumulative LTV per group and age.
    """
    horizon = check_int(horizon, "horizon", 1)
    n_boot = check_int(n_boot, "n_boot", 0)
    min_customers = check_int(min_customers, "min_customers", 1)
    ci_level = check_level(ci_level)
    for name, v, text in (("discount", discount, "[0, 1)"), ("margin", margin, "(0, 1]")):
        bad_type = isinstance(v, bool) or not isinstance(v, int | float)
        if bad_type or (name == "discount" and not 0 <= v < 1) \
                or (name == "margin" and not 0 < v <= 1):
            raise ParameterError("invalid rate", parameter=name,
                                 expected=f"a number in {text}", got=v)
    act = build_activity(orders, customer=customer, date=date, value=value, period=period,
                         by=by, as_of=as_of)
    active, values, eligible = act.matrices()
    rng = make_rng(seed)
    labels = act.customers[by].astype(str) if by else pd.Series("all", index=act.customers.index)
    groups = sorted(labels.unique())
    rows, curves, warnings = [], [], []
    alpha = (1 - ci_level) / 2
    for g in groups:
        idx = np.flatnonzero(labels.to_numpy() == g)
        a_g, v_g, e_g = active[idx], values[idx], eligible[idx]
        A, V, N = _group_stats(a_g, v_g, e_g)
        ages = np.arange(len(A))
        per = per_eligible(V, N)
        share = per_eligible(A, N)
        ok = N >= min_customers
        last = int(ages[ok].max()) if ok.any() else 0
        hist_cum = margin * np.cumsum(np.nan_to_num(per))
        row: dict[str, Any] = {by or "group": g, "customers": len(idx),
                               "max_age_observed": last,
                               "historical_ltv": float(hist_cum[min(last, horizon)]),
                               "historical_age": min(last, horizon)}
        proj = np.full(horizon + 1, np.nan)
        if len(idx) >= min_customers and ((ages >= 1) & (N > 0)).sum() >= 3:
            x, _ = _fit_curve(A, N, ages)
            m0 = V[0] / N[0]
            m = V[1:].sum() / max(A[1:].sum(), 1.0)
            proj = _projection(x, m0, m, horizon, discount, margin)
            from scipy.special import expit

            row.update({"p": float(expit(x[0])), "alpha": float(np.exp(x[1])),
                        "beta": float(np.exp(x[2])), "m0": float(m0), "m": float(m),
                        "projected_ltv": float(proj[-1])})
            if n_boot:
                draws = np.empty(n_boot)
                n_g = len(idx)
                for bdraw in range(n_boot):
                    w = np.bincount(rng.integers(0, n_g, n_g), minlength=n_g).astype(float)
                    Ab, Vb, Nb = _group_stats(a_g, v_g, e_g, w)
                    xb, _ = _fit_curve(Ab, Nb, ages, start=x)
                    mb = Vb[1:].sum() / max(Ab[1:].sum(), 1.0)
                    draws[bdraw] = _projection(xb, Vb[0] / Nb[0], mb, horizon, discount,
                                               margin)[-1]
                row["ltv_ci_low"] = float(np.quantile(draws, alpha))
                row["ltv_ci_high"] = float(np.quantile(draws, 1 - alpha))
        else:
            warnings.append(f"{g}: too few customers or ages to project (need "
                            f"{min_customers} customers and 3 ages after the first purchase).")
        rows.append(row)
        k = np.arange(horizon + 1)
        obs_cum = np.where(k <= last, hist_cum[np.minimum(k, len(hist_cum) - 1)], np.nan)
        obs_share = np.where(k <= last, share[np.minimum(k, len(share) - 1)], np.nan)
        fitted_share = np.full(horizon + 1, np.nan)
        if "p" in row:
            from researchkit.channels.customers.retention import active_curve

            fitted_share = active_curve(k, row["p"], row["alpha"], row["beta"])
        curves.append(pd.DataFrame({by or "group": g, "age": k,
                                    "observed_active_share": obs_share,
                                    "fitted_active_share": fitted_share,
                                    "historical_ltv": obs_cum, "projected_ltv": proj}))
    table = pd.DataFrame(rows).set_index(by or "group")
    estimate = {str(g): table.loc[g, "projected_ltv"] for g in table.index
                if "projected_ltv" in table and pd.notna(table.loc[g, "projected_ltv"])}
    if not by and estimate:
        estimate = estimate["all"]
    return Result(
        name=f"Customer lifetime value over {horizon} periods"
             + (f" by {by}" if by else ""),
        estimate=estimate,
        method=(f"Projected LTV = margin x [mean value in the acquisition period + mean value "
                f"per active period x sum over ages 1..{horizon} of p*S(k)/(1+d)^k], with "
                "S the shifted-beta-geometric survival and p a purchase probability fitted to "
                "the share of customers buying at each age (binomial composite likelihood); "
                f"margin = {margin:g}, discount = {discount:g} per period; "
                + (f"{ci_level:.0%} percentile intervals from {n_boot} bootstrap resamples of "
                   "customers" if n_boot else "no intervals")
                + f". Historical LTV = cumulative value per customer observed (period = "
                f"{period})."),
        n=act.n,
        table=table,
        details={"curves": pd.concat(curves, ignore_index=True), "horizon": horizon,
                 "margin": margin, "discount": discount},
        warnings=warnings,
        reference=f"{SBG_REFERENCE}; {BGBB_REFERENCE}",
    )
