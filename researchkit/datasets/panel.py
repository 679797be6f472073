"""Simulated brand panel with a known switching matrix, known attrition and a known effect.

:func:`brand_panel` draws respondents who say, wave after wave, which brand of a category they
bought last and how much they spent. Everything an analysis should recover is in ``truth``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError
from researchkit.markov import steady_state

__all__ = ["brand_panel"]

BRANDS = ("Alfa", "Bravo", "Cora", "Delta")
#: Default switching matrix: rows = brand bought at one wave, columns = brand at the next.
SWITCHING = (
    (0.80, 0.08, 0.07, 0.05),
    (0.10, 0.75, 0.08, 0.07),
    (0.08, 0.10, 0.72, 0.10),
    (0.06, 0.06, 0.08, 0.80),
)
INITIAL = (0.40, 0.30, 0.18, 0.12)
AGE_GROUPS = ("18-34", "35-54", "55+")
#: Default probability of leaving the panel before each wave after the first, by age group.
DROPOUT = {"18-34": 0.12, "35-54": 0.06, "55+": 0.04}
REGIONS = ("North", "South", "East", "West")
REGION_WEIGHTS = {"North": 0.8, "South": 1.1, "East": 1.0, "West": 1.25}
BETA = {"ad_exposure": 1.5, "promo": 4.0}


def brand_panel(
    n: int = 2000, waves: int = 6, seed: int | np.random.Generator | None = 0, *,
    brands: Sequence[str] = BRANDS, switching: Any = None,
    initial: Sequence[float] | None = None, dropout: Mapping[str, float] | None = None,
    beta: Mapping[str, float] | None = None, interval_days: int = 91,
    start: str = "2025-01-15", messy: bool = False,
) -> Simulated:
    """A long-format consumer panel: brand bought, spend, advertising exposure, attrition.

    Generation (one row per respondent-wave answered):

    * respondents: ``age`` uniform on 18-70, ``age_group`` (18-34, 35-54, 55+), ``region``
      (4 regions, with design weights 0.8-1.25 in ``weight``), ``income`` (log-normal); all
      fixed over waves;
    * brand: wave-1 brand drawn from ``initial``, then a Markov chain with matrix ``switching``
      (the same for everyone and every period, independent of age, region and income);
    * attrition: before each wave after the first, a present respondent leaves for good with
      probability ``dropout[age_group]`` (so attrition depends on a wave-1 attribute: stayers
      are older than leavers; region, income and brand are unrelated to staying);
    * spend: :math:`y_{it} = 20 + \\alpha_i + \\lambda_t + \\beta_1\\,ad_{it} +
      \\beta_2\\,promo_{it} + \\varepsilon_{it}` with respondent effects
      :math:`\\alpha_i \\sim N(0, 5^2)`, exposure :math:`ad_{it} = 3 + 0.8\\,\\alpha_i/5 +
      N(0,1)` (correlated with :math:`\\alpha_i`, so a pooled regression is biased and the
      fixed-effects one is not), ``promo`` ~ Bernoulli(0.3), wave effects
      :math:`\\lambda_t = 0.8 (t - 1)`, and AR(1) errors within respondent
      (:math:`\\rho = 0.5`, SD 3);
    * ``date``: fieldwork date, waves every ``interval_days`` days from ``start`` (±7 days per
      interview).

    With ``messy=True`` the table also gets the problems a real panel file has: 3 duplicated
    respondent-waves, 5 respondents who come back at the last wave after dropping out, and a
    last wave fielded 60 days late (unequal spacing); ``truth["problems"]`` counts them.

    Parameters
    ----------
    n : int
        Respondents recruited at wave 1.
    waves : int
        Number of waves (at least 2).
    seed : int or Generator
    brands : sequence of str
        Brand names (default 4 brands).
    switching : array-like, optional
        Row-stochastic matrix (len(brands) × len(brands)); default :data:`SWITCHING`.
    initial : sequence of float, optional
        Wave-1 brand shares; default :data:`INITIAL`.
    dropout : mapping, optional
        Per-wave dropout probability by age group; default :data:`DROPOUT`.
    beta : mapping, optional
        Effects of ``ad_exposure`` and ``promo`` on spend; default :data:`BETA`.
    interval_days : int
        Days between waves.
    start : str
        Date of wave 1.
    messy : bool
        Add duplicates, re-entries and a late wave.

    Returns
    -------
    Simulated
        ``data`` (long format) and ``truth``: ``switching`` (DataFrame), ``initial_shares``,
        ``steady_state``, ``brand_shares`` (population shares per wave, s_0 P^t),
        ``dropout``, ``attrition_depends_on``, ``unrelated_to_attrition``, ``beta``,
        ``wave_effects``, ``wave_dates``, ``problems``.
    """
    n = check_positive_int(n, "n", minimum=2)
    waves = check_positive_int(waves, "waves", minimum=2)
    interval_days = check_positive_int(interval_days, "interval_days")
    rng = make_rng(seed)
    brands = list(brands)
    m = len(brands)
    if m < 2 or len(set(brands)) != m:
        raise ParameterError("need at least two distinct brands", parameter="brands", got=brands)
    P = np.asarray(SWITCHING if switching is None else switching, dtype=float)
    if switching is None and m != len(BRANDS):
        raise ParameterError("give a switching matrix for a non-default number of brands",
                             parameter="switching", expected=f"a {m} × {m} matrix")
    if P.shape != (m, m) or (P < 0).any() or not np.allclose(P.sum(axis=1), 1):
        raise ParameterError("switching must be a row-stochastic square matrix, one row per "
                             "brand", parameter="switching", got=P.round(4).tolist())
    s0 = np.asarray(INITIAL if initial is None else initial, dtype=float)
    if initial is None and m != len(BRANDS):
        s0 = np.full(m, 1 / m)
    if s0.shape != (m,) or (s0 < 0).any() or not np.isclose(s0.sum(), 1):
        raise ParameterError("initial shares must be one non-negative number per brand, "
                             "summing to 1", parameter="initial", got=s0.tolist())
    drop = dict(DROPOUT if dropout is None else dropout)
    if set(drop) != set(AGE_GROUPS) or not all(0 <= v < 1 for v in drop.values()):
        raise ParameterError("dropout needs a probability in [0, 1) for every age group",
                             parameter="dropout", expected=f"keys {list(AGE_GROUPS)}",
                             got=drop)
    b = dict(BETA if beta is None else beta)
    if set(b) != set(BETA):
        raise ParameterError("beta needs the effects of ad_exposure and promo",
                             parameter="beta", expected=f"keys {list(BETA)}", got=b)
    start_ts = pd.Timestamp(start)

    # respondents ---------------------------------------------------------------------------
    age = rng.integers(18, 71, size=n)
    group = np.where(age < 35, 0, np.where(age < 55, 1, 2))
    region = rng.integers(0, len(REGIONS), size=n)
    income = np.round(rng.lognormal(np.log(2500), 0.5, size=n), -1)
    weight = np.array([REGION_WEIGHTS[REGIONS[r]] for r in region])
    alpha = rng.normal(0, 5, size=n)

    # brand chain for everyone, every wave -----------------------------------------------------
    state = np.empty((n, waves), dtype=np.int64)
    state[:, 0] = rng.choice(m, size=n, p=s0)
    cum = np.cumsum(P, axis=1)
    cum[:, -1] = 1.0
    for t in range(1, waves):
        u = rng.random(n)
        state[:, t] = (u[:, None] > cum[state[:, t - 1]]).sum(axis=1)

    # attrition: monotone dropout by age group ---------------------------------------------------
    p_drop = np.array([drop[g] for g in AGE_GROUPS])[group]
    present = np.ones((n, waves), dtype=bool)
    for t in range(1, waves):
        present[:, t] = present[:, t - 1] & (rng.random(n) >= p_drop)

    # outcome -------------------------------------------------------------------------------------
    ad = 3 + 0.8 * alpha[:, None] / 5 + rng.normal(0, 1, size=(n, waves))
    promo = (rng.random((n, waves)) < 0.3).astype(np.int64)
    lam = 0.8 * np.arange(waves)
    eps = np.empty((n, waves))
    eps[:, 0] = rng.normal(0, 3, size=n)
    rho = 0.5
    for t in range(1, waves):
        eps[:, t] = rho * eps[:, t - 1] + rng.normal(0, 3 * np.sqrt(1 - rho**2), size=n)
    spend = 20 + alpha[:, None] + lam[None, :] + b["ad_exposure"] * ad + b["promo"] * promo \
        + eps
    jitter = rng.integers(-7, 8, size=(n, waves))
    wave_day = interval_days * np.arange(waves)

    rr, tt = np.nonzero(present)
    ids = np.array([f"R{i + 1:05d}" for i in range(n)])
    data = pd.DataFrame({
        "respondent": ids[rr],
        "wave": tt + 1,
        "date": start_ts + pd.to_timedelta(wave_day[tt] + jitter[rr, tt], unit="D"),
        "brand": np.asarray(brands, dtype=object)[state[rr, tt]],
        "spend": np.round(spend[rr, tt], 2),
        "ad_exposure": np.round(ad[rr, tt], 3),
        "promo": promo[rr, tt],
        "age": age[rr],
        "age_group": np.asarray(AGE_GROUPS, dtype=object)[group[rr]],
        "region": np.asarray(REGIONS, dtype=object)[region[rr]],
        "income": income[rr],
        "weight": weight[rr],
    })
    problems = {"duplicate respondent-wave": 0, "re-entry after dropout": 0,
                "unequal fieldwork spacing": 0}
    if messy:
        dup = data.iloc[np.sort(rng.choice(len(data), size=3, replace=False))]
        last_seen = present.sum(axis=1)  # monotone: number of waves answered
        gone = np.flatnonzero(last_seen <= waves - 2)
        back = np.sort(rng.choice(gone, size=min(5, len(gone)), replace=False))
        rows = []
        for r in back:
            row = data.loc[data["respondent"] == ids[r]].iloc[[-1]].copy()
            row["wave"] = waves
            row["brand"] = brands[state[r, waves - 1]]
            row["date"] = start_ts + pd.Timedelta(days=int(wave_day[-1]))
            rows.append(row)
        data = pd.concat([data, dup, *rows], ignore_index=True)
        data.loc[data["wave"] == waves, "date"] += pd.Timedelta(days=60)
        data = data.sort_values(["respondent", "wave"], kind="stable").reset_index(drop=True)
        problems = {"duplicate respondent-wave": 3, "re-entry after dropout": len(back),
                    "unequal fieldwork spacing": 1 if waves >= 3 else 0}

    P_df = pd.DataFrame(P, index=pd.Index(brands, name="from"),
                        columns=pd.Index(brands, name="to"))
    shares = [s0]
    for _ in range(1, waves):
        shares.append(shares[-1] @ P)
    truth = {
        "switching": P_df,
        "initial_shares": dict(zip(brands, s0.tolist(), strict=True)),
        "steady_state": steady_state(P_df).to_dict(),
        "brand_shares": pd.DataFrame(shares, columns=brands,
                                     index=pd.Index(range(1, waves + 1), name="wave")),
        "dropout": drop,
        "attrition_depends_on": ["age", "age_group"],
        "unrelated_to_attrition": ["region", "income", "brand"],
        "beta": b,
        "wave_effects": {t + 1: float(lam[t]) for t in range(waves)},
        "respondent_effect_sd": 5.0,
        "wave_dates": [(start_ts + pd.Timedelta(days=int(d))).date().isoformat()
                       for d in wave_day],
        "problems": problems,
    }
    return Simulated(
        data=data, truth=truth,
        description=(f"{n} respondents recruited at wave 1 of {waves} waves every "
                     f"{interval_days} days; brand bought follows a known Markov switching "
                     "matrix; younger respondents leave the panel more often; spend depends on "
                     "advertising exposure (correlated with the respondent's own level) and "
                     "promotions with known effects."
                     + (" Messy: duplicates, re-entries and a late last wave." if messy
                        else "")),
    )
