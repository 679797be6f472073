"""Simulated weekly marketing-mix data with known adstock, saturation and ROI per channel.

:func:`simulate_marketing_mix` builds ``n_weeks`` of weekly spend in eight channels and the
sales they drive, from a known model:

.. math::

    y_t = b_0 + b_1 \\tau_t + s_t + \\delta_p (p_t - \\bar p) + \\delta_c (c_t - \\bar c)
    + \\sum_c \\beta_c\\, \\mathrm{Hill}\\big(a_{ct}; K_c, s_c\\big) + \\varepsilon_t,

with geometric adstock :math:`a_{ct} = (1-\\alpha_c) x_{ct} + \\alpha_c a_{c,t-1}`, Hill
saturation :math:`a^s / (a^s + K^s)`, a linear trend :math:`\\tau_t \\in [0, 1]`, yearly
seasonality :math:`s_t` (two harmonics), a price index :math:`p_t` and a competitor-promotion
indicator :math:`c_t`, and Gaussian noise with standard deviation ``noise`` times mean sales.
Each coefficient :math:`\\beta_c` is set so that the channel's ROI over the simulated weeks
(its total contribution divided by its total spend) equals the ``roi`` in the channel table.

Spend patterns are realistic and varied: flighted channels (TV, display, influencers,
outdoor) run in bursts of 2-6 weeks on and 2-6 weeks off; always-on channels (social,
marketplace ads, e-mail/SMS) vary week to week (log-normal, sd 0.35) around slowly drifting
budgets (AR(1), phi = 0.9), with campaign pulses (x2 in 20% of weeks) and dark weeks (20%);
search follows seasonal demand, with budget cuts to 0-30% in 15% of weeks. Each channel's
spend moves largely independently of the others: after the base terms are projected out, the
media columns' variance inflation factors are about 1.0-1.2, and the base (trend, season,
controls) absorbs 4-14% of their variance (search, which follows demand, the most).

The noise is what makes recovery hard. By default its standard deviation is 3% of mean sales,
the low end of what weekly residuals of real MMMs show (3-8%); media drive about 40% of
sales, and the smallest channel (display) about 2%, so a weekly on/off swing of display is of
the order of the noise. With the true transformations known, ordinary least squares then
recovers all eight ROIs within 20% on 8 of 10 seeds at 3% noise and on 1 of 10 at 5%
(``benchmarks/bench_mmm_fit.py``): the data themselves, not only the estimator, limit what any
model can recover.

Experiments: ``lift_tests`` adds one four-week go-dark test per channel (a mature measurement
programme: one geo or platform lift study per channel over the three years), the lift being
the sales the window's spend generated, carry-over included, measured with a standard error
of 15% of its true value. They are the outside information a calibrated MMM combines with the
weekly data.

The adstock and saturation here are written out independently of
:mod:`researchkit.channels.mmm`, so a fit checks the package against a separate implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["MMM_CHANNELS", "simulate_marketing_mix"]

#: The eight simulated channels and their true parameters: geometric adstock rate, Hill half
#: saturation (as a multiple of the channel's mean spend in weeks with spend), Hill slope,
#: target ROI, typical weekly spend when on, and pattern ("flight" = bursts on/off,
#: "pulsed" = always on with pulses and dark weeks, "demand" = always on and following
#: seasonal demand).
MMM_CHANNELS = pd.DataFrame(
    [
        ("tv", 0.60, 1.0, 1.5, 1.4, 70_000, "flight"),
        ("search", 0.10, 1.3, 1.0, 2.4, 35_000, "demand"),
        ("social", 0.30, 0.9, 1.2, 1.6, 30_000, "pulsed"),
        ("display", 0.20, 0.8, 1.0, 1.0, 25_000, "flight"),
        ("influencers", 0.45, 0.8, 1.8, 1.2, 30_000, "flight"),
        ("marketplace_ads", 0.15, 1.5, 1.0, 2.0, 25_000, "pulsed"),
        ("email_sms", 0.05, 1.0, 1.0, 3.0, 12_000, "pulsed"),
        ("outdoor", 0.50, 1.0, 2.0, 0.9, 40_000, "flight"),
    ],
    columns=["channel", "alpha", "half", "slope", "roi", "level", "pattern"],
).set_index("channel")


def _geometric(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty_like(x)
    carry = 0.0
    for t, value in enumerate(x):
        carry = (1.0 - alpha) * value + alpha * carry
        out[t] = carry
    return out


def _hill(a: np.ndarray, half: float, slope: float) -> np.ndarray:
    a = np.maximum(a, 0.0)
    return a**slope / (a**slope + half**slope)


def _flights(n: int, rng: np.random.Generator, on: tuple[int, int],
             off: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    t = int(rng.integers(0, off[1]))
    while t < n:
        length = int(rng.integers(on[0], on[1] + 1))
        mask[t:t + length] = True
        t += length + int(rng.integers(off[0], off[1] + 1))
    return mask


def _ar1(n: int, rng: np.random.Generator, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out


def simulate_marketing_mix(
    n_weeks: int = 156, *, seed: int = 0, noise: float = 0.03, start: str = "2023-01-02",
    lift_tests: bool | Sequence[str] = True, roi: dict[str, float] | None = None,
) -> Simulated:
    """Weekly spend in eight channels and sales, with the true ROI of every channel known.

    Parameters
    ----------
    n_weeks : int
        Number of weeks (156 = three years).
    seed : int
        Random seed.
    noise : float
        Standard deviation of the weekly sales noise as a share of mean sales (default 3%,
        the low end of real weekly MMM residuals; 1% makes recovery unrealistically easy).
    start : str
        Monday of the first week.
    lift_tests : bool or list of str
        Experiments to return: ``True`` = one per channel, a list of channel names = one per
        listed channel, ``False`` = none. Each is a four-week go-dark test whose lift
        (the sales the window's spend generated, carry-over included) is measured with a
        standard error of 15% of the true lift.
    roi : dict, optional
        Override the true ROI of some channels.

    Returns
    -------
    Simulated
        ``data`` = ``{"weekly": DataFrame, "lift_tests": DataFrame}``; the weekly table has
        ``date``, ``sales``, one spend column per channel, ``price_index`` and
        ``competitor_promo``. ``truth`` holds ``channels``, ``controls``, ``params`` (per
        channel: alpha, half in spend units, slope, beta), ``roi`` and ``mroi`` (+1% spend)
        per channel, weekly ``contributions``, the ``base`` components, ``noise_sd`` and the
        true lifts behind the measured ones.
    """
    n = check_positive_int(n_weeks, "n_weeks", minimum=60)
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise < 1:
        raise ParameterError("invalid noise level", parameter="noise",
                             expected="a share of mean sales in [0, 1)", got=noise)
    table = MMM_CHANNELS.copy()
    for name, value in dict(roi or {}).items():
        if name not in table.index:
            raise ParameterError("unknown channel", parameter="roi",
                                 expected=f"one of {list(table.index)}", got=name)
        if not isinstance(value, int | float) or value < 0:
            raise ParameterError("ROI must be a number >= 0", parameter=f"roi[{name!r}]",
                                 got=value)
        table.loc[name, "roi"] = float(value)
    rng = make_rng(seed)
    try:
        dates = pd.date_range(pd.Timestamp(start), periods=n, freq="7D")
    except (ValueError, TypeError):
        raise ParameterError("invalid start date", parameter="start",
                             expected="a date such as 2023-01-02", got=start) from None
    tau = np.linspace(0.0, 1.0, n)
    doy = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
    demand = 0.6 * np.sin(doy - 1.2) + 0.25 * np.cos(2 * doy)  # seasonal demand index

    spend = {}
    for name, row in table.iterrows():
        drift = np.exp(_ar1(n, rng, 0.9, 0.25))  # slowly drifting budget
        weekly = np.exp(rng.normal(0.0, 0.35, n))  # week-to-week variation
        level = row["level"] * drift * weekly
        if row["pattern"] == "flight":
            level = level * _flights(n, rng, on=(2, 6), off=(2, 6))
        elif row["pattern"] == "demand":  # follows demand, with weeks of budget cuts
            cut = np.where(rng.random(n) < 0.15, rng.uniform(0.0, 0.3, n), 1.0)
            level = level * (1.0 + 0.35 * demand) * cut
        else:  # always on, with campaign pulses and dark weeks
            pulse = np.where(rng.random(n) < 0.2, 2.0, 1.0)
            dark = rng.random(n) < 0.2
            level = level * pulse * np.where(dark, 0.0, 1.0)
        spend[name] = np.round(level, 0)

    price = 1.0 + 0.03 * _ar1(n, rng, 0.8, 1.0) / 1.0
    promo = (rng.random(n) < 0.15).astype(float)

    base_components = pd.DataFrame({
        "intercept": np.full(n, 400_000.0),
        "trend": 60_000.0 * tau,
        "seasonality": 45_000.0 * np.sin(doy - 1.2) + 15_000.0 * np.cos(2 * doy),
        "price_index": -900_000.0 * (price - price.mean()),
        "competitor_promo": -30_000.0 * (promo - promo.mean()),
    })
    base = base_components.sum(axis=1).to_numpy()

    contributions = {}
    params = []
    roi_true, mroi_true = {}, {}
    for name, row in table.iterrows():
        x = spend[name]
        ref = x[x > 0].mean()
        half = row["half"] * ref
        h = _hill(_geometric(x, row["alpha"]), half, row["slope"])
        beta = row["roi"] * x.sum() / h.sum()
        contributions[name] = beta * h
        h_up = _hill(_geometric(1.01 * x, row["alpha"]), half, row["slope"])
        roi_true[name] = float(contributions[name].sum() / x.sum())
        mroi_true[name] = float(beta * (h_up.sum() - h.sum()) / (0.01 * x.sum()))
        params.append({"channel": name, "alpha": row["alpha"], "half": half,
                       "slope": row["slope"], "beta": beta})
    contrib = pd.DataFrame(contributions)
    mean_sales = float((base + contrib.sum(axis=1)).mean())
    noise_sd = noise * mean_sales
    sales = base + contrib.sum(axis=1).to_numpy() + rng.normal(0.0, noise_sd, n)

    weekly = pd.DataFrame({"date": dates, "sales": np.round(sales, 2)})
    for name in table.index:
        weekly[name] = spend[name]
    weekly["price_index"] = np.round(price, 4)
    weekly["competitor_promo"] = promo.astype(int)

    lift_channels = _lift_channels(lift_tests, list(table.index))
    lifts, lift_truth = _lift_tests(weekly, lift_channels, params, rng) if lift_channels \
        else (pd.DataFrame(columns=["channel", "start", "end", "lift", "se"]), [])
    truth: dict[str, Any] = {
        "channels": list(table.index),
        "controls": ["price_index", "competitor_promo"],
        "params": pd.DataFrame(params).set_index("channel"),
        "roi": roi_true,
        "mroi": mroi_true,
        "contributions": contrib.assign(date=dates),
        "base": base_components.assign(date=dates),
        "noise_sd": noise_sd,
        "lift_truth": lift_truth,
        "adstock": "geometric (normalised, weights sum to 1)",
        "saturation": "hill",
    }
    return Simulated(
        data={"weekly": weekly, "lift_tests": lifts},
        truth=truth,
        description=(
            f"{n} weeks of spend in {len(table)} channels and sales from a known model: "
            "geometric adstock and Hill saturation per channel, linear trend, yearly "
            "seasonality, a price index and competitor promotions, Gaussian noise of "
            f"{noise:.0%} of mean sales; the true ROI of every channel is in truth['roi']."),
    )


def _lift_channels(lift_tests: bool | Sequence[str], channels: list[str]) -> list[str]:
    if isinstance(lift_tests, bool):
        return list(channels) if lift_tests else []
    if isinstance(lift_tests, str) or not isinstance(lift_tests, Sequence):
        raise ParameterError("invalid lift tests", parameter="lift_tests",
                             expected="True, False or a list of channel names", got=lift_tests)
    unknown = [c for c in lift_tests if c not in channels]
    if unknown or len(set(lift_tests)) < len(lift_tests):
        raise ParameterError("lift tests must name distinct simulated channels",
                             parameter="lift_tests", expected=f"names from {channels}",
                             got=list(lift_tests))
    return list(lift_tests)


def _lift_tests(weekly: pd.DataFrame, channels: list[str], params: list[dict],
                rng: np.random.Generator
                ) -> tuple[pd.DataFrame, list[dict]]:
    """One four-week go-dark experiment per channel, lift measured at a 15% s.e.

    The i-th test starts at the first week with spend from week
    ``n//6 + (n//3 - n//6 + i * (n//6)) mod (n - n//6 - 8)`` on (the first test at a third,
    the second at half of the data), so tests of different channels fall in different months.
    """
    rows, truth = [], []
    n = len(weekly)
    span = n - n // 6 - 8
    for i, name in enumerate(channels):
        first = n // 6 + (n // 3 - n // 6 + i * (n // 6)) % span
        x = weekly[name].to_numpy(dtype=float)
        on = np.flatnonzero(x > 0)
        later = on[on >= first]
        s = int(later[0]) if len(later) else int(on[-1])  # every channel has some spend
        e = min(s + 3, n - 1)
        p = next(q for q in params if q["channel"] == name)
        x_off = x.copy()
        x_off[s:e + 1] = 0.0
        h_on = _hill(_geometric(x, p["alpha"]), p["half"], p["slope"])
        h_off = _hill(_geometric(x_off, p["alpha"]), p["half"], p["slope"])
        true_lift = float(p["beta"] * (h_on[s:] - h_off[s:]).sum())
        se = 0.15 * true_lift
        rows.append({"channel": name, "start": weekly["date"].iloc[s].date().isoformat(),
                     "end": weekly["date"].iloc[e].date().isoformat(),
                     "lift": round(true_lift + rng.normal(0.0, se), 2), "se": round(se, 2)})
        truth.append({"channel": name, "true_lift": true_lift})
    return pd.DataFrame(rows), truth
