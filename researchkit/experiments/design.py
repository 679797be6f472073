"""A/B test design: sample size, power, minimum detectable effect and duration.

All functions compare each treatment arm with one control arm. Conventions:

* ``ratio = n_treatment / n_control`` (an unequal split, e.g. 0.25 for a 80/20 test);
* ``arms`` = number of arms including the control; with more than two arms the significance
  level per comparison is corrected for ``arms − 1`` comparisons (Bonferroni ``α/m`` or Šidák
  ``1 − (1 − α)^(1/m)``), stated in the result;
* ``mde`` is the minimum detectable effect, relative (``0.05`` = +5 %) by default or absolute
  with ``relative=False``;
* a two-sided test uses ``α/2`` per tail; sample sizes use the usual one-tail approximation
  (the far tail is negligible) and the achieved power reported includes both tails.

Formulas
--------
Proportions (``method="pooled"``, Fleiss et al. 2003 §4.2; statsmodels
``samplesize_proportions_2indep_onetail``): with ``p_c`` the baseline, ``p_t = p_c + Δ``,

.. math:: n_t = \\left(\\frac{z_{1-α'}\\,σ_0 + z_{1-β}\\,σ_1}{Δ}\\right)^2,\\quad
          σ_0^2 = \\bar p(1-\\bar p)\\Big(1 + \\frac{1}{r}\\Big),\\quad
          σ_1^2 = p_t(1-p_t) + \\frac{p_c(1-p_c)}{r}

(``r = n_c / n_t``, ``p̄`` the size-weighted mean). ``method="unpooled"`` uses ``σ_0 = σ_1``;
``method="arcsine"`` uses Cohen's ``h = 2 asin√p_t − 2 asin√p_c`` (statsmodels
``NormalIndPower``).

Means: ``test="t"`` solves the power of the two-sample t-test with the noncentral t
distribution (statsmodels ``TTestIndPower``); ``test="z"`` solves the normal power
(``n_c ≈ (z_{1-α'} + z_{1-β})^2 σ^2 (1 + 1/ratio) / Δ^2``, both tails counted; statsmodels
``NormalIndPower``). A CUPED ``variance_reduction`` ``ρ²``
multiplies ``σ²`` by ``1 − ρ²``.

References
----------
Fleiss, J. L., Levin, B. & Paik, M. C. (2003). Statistical Methods for Rates and Proportions,
3rd ed., Wiley, ch. 4. Cohen, J. (1988). Statistical Power Analysis for the Behavioral
Sciences, 2nd ed. Kohavi, Tang & Xu (2020), Trustworthy Online Controlled Experiments, ch. 17.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments._checks import (
    check_alpha,
    check_alternative,
    check_choice,
    check_fraction,
    check_positive,
)
from researchkit.results import Result

__all__ = [
    "DesignResult",
    "comparison_alpha",
    "experiment_duration",
    "mde_means",
    "mde_proportions",
    "power_means",
    "power_proportions",
    "sample_size_means",
    "sample_size_proportions",
]

CORRECTIONS = ("bonferroni", "sidak", "none")
REFERENCE = ("Fleiss, Levin & Paik (2003), Statistical Methods for Rates and Proportions, ch. 4; "
             "Cohen (1988); Kohavi, Tang & Xu (2020), ch. 17")


@dataclass(eq=False)
class DesignResult(Result):
    """A design calculation; ``n_per_arm`` maps each arm to its sample size."""

    n_per_arm: dict[str, int] | None = None
    n_total: int | None = None


def comparison_alpha(alpha: float, arms: int, correction: str) -> float:
    """Significance level of each treatment-vs-control comparison.

    ``bonferroni``: ``α / (arms − 1)``; ``sidak``: ``1 − (1 − α)^(1/(arms − 1))``;
    ``none``: ``α``.
    """
    alpha = check_alpha(alpha)
    correction = check_choice(correction, "correction", CORRECTIONS)
    if isinstance(arms, bool) or not isinstance(arms, int) or arms < 2:
        raise ParameterError("invalid number of arms", parameter="arms",
                             expected="an integer >= 2 (control included)", got=arms)
    m = arms - 1
    if m == 1 or correction == "none":
        return alpha
    if correction == "bonferroni":
        return alpha / m
    return 1 - (1 - alpha) ** (1 / m)


def _z(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def _tail_alpha(alpha: float, alternative: str) -> float:
    return alpha / 2 if alternative == "two-sided" else alpha


def _common(alpha: float, power: float | None, alternative: str, ratio: float, arms: int,
            correction: str) -> tuple[float, float, str, float]:
    a = comparison_alpha(alpha, arms, correction)
    if power is not None:
        check_fraction(power, "power")
    alternative = check_alternative(alternative)
    ratio = check_positive(ratio, "ratio")
    return a, _tail_alpha(a, alternative), alternative, ratio


def _effect(baseline: float | None, mde: float, relative: bool, name: str = "mde") -> float:
    mde = float(mde)
    if not math.isfinite(mde) or mde == 0:
        raise ParameterError("the effect must be a non-zero number", parameter=name, got=mde)
    if relative:
        if baseline is None or baseline == 0:
            raise ParameterError("a relative effect needs a non-zero baseline",
                                 parameter="baseline", got=baseline)
        return baseline * mde
    return mde


def _arms_table(n_control: float, ratio: float, arms: int) -> tuple[dict[str, int], int]:
    nc = math.ceil(n_control - 1e-9)
    nt = math.ceil(n_control * ratio - 1e-9)
    per = {"control": nc}
    names = ["treatment"] if arms == 2 else [f"treatment {i}" for i in range(1, arms)]
    per.update({k: nt for k in names})
    return per, nc + nt * (arms - 1)


def _describe(alpha: float, a: float, arms: int, correction: str, alternative: str) -> str:
    side = "two-sided" if alternative == "two-sided" else f"one-sided ({alternative})"
    txt = f"{side} test at α = {a:.4g} per comparison"
    if arms > 2 and correction != "none":
        name = "Bonferroni" if correction == "bonferroni" else "Šidák"
        txt += (f" ({name} correction of α = {alpha:g} for {arms - 1} treatment-vs-control "
                "comparisons)")
    elif arms > 2:
        txt += f" (no correction for the {arms - 1} comparisons)"
    return txt


# ---------------------------------------------------------------------------------------------
# proportions
# ---------------------------------------------------------------------------------------------
def _prop_sds(p_c: float, p_t: float, r: float, method: str) -> tuple[float, float]:
    """σ0, σ1 of the difference for one treatment unit, r = n_c / n_t."""
    sd1 = math.sqrt(p_t * (1 - p_t) + p_c * (1 - p_c) / r)
    if method == "unpooled":
        return sd1, sd1
    pbar = (p_t + p_c * r) / (1 + r)
    sd0 = math.sqrt(pbar * (1 - pbar) * (1 + 1 / r))
    return sd0, sd1


def _prop_power(p_c: float, p_t: float, n_t: float, r: float, alpha_tail: float,
                alternative: str, method: str) -> float:
    from scipy.stats import norm

    if method == "arcsine":
        h = 2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_c))
        d, sd0, sd1 = h, math.sqrt(1 + 1 / r), math.sqrt(1 + 1 / r)
    else:
        d = p_t - p_c
        sd0, sd1 = _prop_sds(p_c, p_t, r, method)
    crit = _z(1 - alpha_tail)
    shift = d * math.sqrt(n_t) / sd1
    ratio = sd0 / sd1
    power = 0.0
    if alternative in ("two-sided", "greater"):
        power += float(norm.sf(crit * ratio - shift))
    if alternative in ("two-sided", "less"):
        power += float(norm.cdf(-crit * ratio - shift))
    return power


def _check_props(baseline: float, delta: float) -> tuple[float, float]:
    p_c = check_fraction(baseline, "baseline")
    p_t = p_c + delta
    if not 0 < p_t < 1:
        raise ParameterError("the treatment proportion falls outside (0, 1)",
                             parameter="mde", got=p_t)
    return p_c, p_t


def sample_size_proportions(
    baseline: float, mde: float, *, relative: bool = True, alpha: float = 0.05,
    power: float = 0.8, alternative: str = "two-sided", ratio: float = 1.0, arms: int = 2,
    correction: str = "bonferroni", method: str = "pooled",
) -> DesignResult:
    """Units per arm to detect a change in a proportion (conversion rate).

    Parameters
    ----------
    baseline : float
        Control proportion, e.g. 0.05.
    mde : float
        Minimum detectable effect: relative (+5 % = 0.05) or absolute (``relative=False``:
        0.0025 = +0.25 percentage points). Negative for a decrease.
    relative : bool
        Whether ``mde`` is relative to the baseline.
    alpha, power : float
        Significance level (family-wise, over the treatment arms) and power.
    alternative : {"two-sided", "greater", "less"}
    ratio : float
        ``n_treatment / n_control`` (each treatment arm).
    arms : int
        Number of arms, control included.
    correction : {"bonferroni", "sidak", "none"}
        Correction of α for ``arms − 1`` comparisons.
    method : {"pooled", "unpooled", "arcsine"}
        Variance under H0 (see the module docstring).

    Returns
    -------
    DesignResult
        ``estimate`` = units per arm in the control arm; ``n_per_arm``, ``n_total``;
        ``details`` with the achieved power.

    Examples
    --------
    >>> r = sample_size_proportions(0.05, 0.10)      # +10 % on a 5 % conversion rate
    >>> r.n_per_arm["control"]
    31234
    """
    method = check_choice(method, "method", ("pooled", "unpooled", "arcsine"))
    a, at, alternative, ratio = _common(alpha, power, alternative, ratio, arms, correction)
    delta = _effect(baseline, mde, relative)
    p_c, p_t = _check_props(baseline, delta)
    if (alternative == "greater" and delta < 0) or (alternative == "less" and delta > 0):
        raise ParameterError("the effect points away from the one-sided alternative",
                             parameter="mde", got=mde)
    r = 1 / ratio  # n_c / n_t
    zb = _z(power)
    za = _z(1 - at)
    if method == "arcsine":
        h = 2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_c))
        n_t = ((za + zb) / h) ** 2 * (1 + r)
    else:
        sd0, sd1 = _prop_sds(p_c, p_t, r, method)
        n_t = ((za * sd0 + zb * sd1) / abs(delta)) ** 2
    n_c = n_t * r
    per, total = _arms_table(n_c, ratio, arms)
    achieved = _prop_power(p_c, p_t, per["control"] * ratio, r, at, alternative, method)
    what = {"pooled": "normal approximation, pooled variance under H0 and unpooled under H1",
            "unpooled": "normal approximation, unpooled (Wald) variance",
            "arcsine": "arcsine transformation (Cohen's h), normal approximation"}[method]
    return DesignResult(
        name=f"Sample size: proportion {p_c:g} → {p_t:g}",
        estimate=per["control"], n=total,
        method=(f"Two-sample test of proportions, {what}; "
                f"{_describe(alpha, a, arms, correction, alternative)}; power {power:g}; "
                f"split control:treatment = 1:{ratio:g}"),
        details={"baseline": p_c, "treatment_proportion": p_t, "absolute_effect": delta,
                 "relative_effect": delta / p_c, "alpha_per_comparison": a,
                 "power_target": power, "achieved_power": achieved, "ratio": ratio,
                 "arms": arms, "n_total": total},
        table=_table(per), reference=REFERENCE, n_per_arm=per, n_total=total)


def _table(per: dict[str, int]) -> Any:
    import pandas as pd

    return pd.DataFrame({"arm": list(per), "units": list(per.values())})


def power_proportions(
    baseline: float, mde: float, n: int, *, relative: bool = True, alpha: float = 0.05,
    alternative: str = "two-sided", ratio: float = 1.0, arms: int = 2,
    correction: str = "bonferroni", method: str = "pooled",
) -> Result:
    """Power to detect ``mde`` with ``n`` units in the control arm (``n · ratio`` per treatment).

    See :func:`sample_size_proportions` for the parameters and the formula.
    """
    from researchkit.datasets.base import check_positive_int

    method = check_choice(method, "method", ("pooled", "unpooled", "arcsine"))
    a, at, alternative, ratio = _common(alpha, None, alternative, ratio, arms, correction)
    n = check_positive_int(n, "n", minimum=2)
    delta = _effect(baseline, mde, relative)
    p_c, p_t = _check_props(baseline, delta)
    pw = _prop_power(p_c, p_t, n * ratio, 1 / ratio, at, alternative, method)
    return Result(name=f"Power: proportion {p_c:g} → {p_t:g}, n = {n:,} control units",
                  estimate=pw, n=n + round(n * ratio) * (arms - 1),
                  method=(f"Two-sample test of proportions ({method}); "
                          f"{_describe(alpha, a, arms, correction, alternative)}"),
                  details={"alpha_per_comparison": a, "absolute_effect": delta},
                  reference=REFERENCE)


def _solve_effect(power_of: Any, target: float, lo: float, hi: float) -> float:
    from scipy.optimize import brentq

    f = lambda d: power_of(d) - target  # noqa: E731
    if f(hi) < 0:
        raise ParameterError("no detectable effect within range at this sample size",
                             parameter="n", expected="a larger sample", got=None)
    return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500))


def mde_proportions(
    baseline: float, n: int, *, alpha: float = 0.05, power: float = 0.8,
    alternative: str = "two-sided", ratio: float = 1.0, arms: int = 2,
    correction: str = "bonferroni", method: str = "pooled", direction: int = 1,
) -> Result:
    """Minimum detectable effect on a proportion with ``n`` control units.

    Parameters
    ----------
    direction : {1, -1}
        Detect an increase (1) or a decrease (-1).

    Returns
    -------
    Result
        ``estimate`` = absolute MDE; ``details["relative_mde"]`` relative to the baseline.
    """
    from researchkit.datasets.base import check_positive_int

    method = check_choice(method, "method", ("pooled", "unpooled", "arcsine"))
    a, at, alternative, ratio = _common(alpha, power, alternative, ratio, arms, correction)
    n = check_positive_int(n, "n", minimum=2)
    p_c = check_fraction(baseline, "baseline")
    if direction not in (1, -1):
        raise ParameterError("direction must be 1 or -1", parameter="direction", got=direction)
    limit = (1 - p_c) if direction == 1 else p_c
    eff = _solve_effect(lambda d: _prop_power(p_c, p_c + direction * d, n * ratio, 1 / ratio,
                                              at, alternative, method),
                        power, 1e-12, limit * (1 - 1e-9))
    delta = direction * eff
    return Result(name=f"Minimum detectable effect: proportion {p_c:g}, n = {n:,} per control",
                  estimate=delta, n=n,
                  method=(f"Two-sample test of proportions ({method}), solved for the effect "
                          f"with power {power:g}; "
                          f"{_describe(alpha, a, arms, correction, alternative)}"),
                  details={"relative_mde": delta / p_c, "treatment_proportion": p_c + delta,
                           "alpha_per_comparison": a},
                  reference=REFERENCE)


# ---------------------------------------------------------------------------------------------
# means
# ---------------------------------------------------------------------------------------------
def _mean_power(d: float, n_c: float, ratio: float, alpha_tail: float, alternative: str,
                test: str) -> float:
    """Power for standardised effect d = Δ/σ, n_c control units, n_c·ratio treated."""
    from scipy import stats as st

    n_t = n_c * ratio
    scale = math.sqrt(1 / n_c + 1 / n_t)
    nc = d / scale
    if test == "z":
        crit = _z(1 - alpha_tail)
        upper, lower = st.norm(loc=nc), st.norm(loc=-nc)
    else:
        df = n_c + n_t - 2
        crit = float(st.t.ppf(1 - alpha_tail, df))
        # P(T < -c) = P(T' > c) with T' ~ nct(df, -nc): scipy's nct.cdf is unstable in the far
        # tail, its sf is not
        upper, lower = st.nct(df, nc), st.nct(df, -nc)
    power = 0.0
    if alternative in ("two-sided", "greater"):
        power += float(upper.sf(crit))
    if alternative in ("two-sided", "less"):
        power += float(lower.sf(crit))
    return power


def _sd(sd: float, variance_reduction: float) -> float:
    sd = check_positive(sd, "sd")
    vr = check_fraction(variance_reduction, "variance_reduction", low=0.0, high=1.0,
                        inclusive=True)
    if vr >= 1:
        raise ParameterError("variance reduction must be below 1",
                             parameter="variance_reduction", got=vr)
    return sd * math.sqrt(1 - vr)


def sample_size_means(
    sd: float, mde: float, *, baseline: float | None = None, relative: bool = False,
    alpha: float = 0.05, power: float = 0.8, alternative: str = "two-sided",
    ratio: float = 1.0, arms: int = 2, correction: str = "bonferroni", test: str = "t",
    variance_reduction: float = 0.0,
) -> DesignResult:
    """Units per arm to detect a change in a mean (revenue per user, sessions...).

    Parameters
    ----------
    sd : float
        Standard deviation of the metric per unit (assumed equal in the arms). For a ratio
        metric, the standard deviation of its delta-method linearisation (see
        :func:`researchkit.experiments.planning_inputs`).
    mde : float
        Minimum detectable effect, absolute (default) or relative to ``baseline``
        (``relative=True``).
    baseline : float, optional
        Control mean (needed for a relative ``mde``).
    test : {"t", "z"}
        Two-sample t-test (noncentral t, as statsmodels ``TTestIndPower``) or z-test.
    variance_reduction : float
        Expected CUPED variance reduction ``ρ²`` (0 = none).
    alpha, power, alternative, ratio, arms, correction
        See :func:`sample_size_proportions`.

    Returns
    -------
    DesignResult
    """
    from scipy.optimize import brentq

    test = check_choice(test, "test", ("t", "z"))
    a, at, alternative, ratio = _common(alpha, power, alternative, ratio, arms, correction)
    sigma = _sd(sd, variance_reduction)
    delta = _effect(baseline, mde, relative)
    if (alternative == "greater" and delta < 0) or (alternative == "less" and delta > 0):
        raise ParameterError("the effect points away from the one-sided alternative",
                             parameter="mde", got=mde)
    d = delta / sigma
    n_z = (_z(1 - at) + _z(power)) ** 2 * (1 + 1 / ratio) / d**2
    lo = max(2.0, 2.0 / ratio) + 1e-9 if test == "t" else 1e-6
    f = lambda n: _mean_power(d, n, ratio, at, alternative, test) - power  # noqa: E731
    hi = max(n_z * 2 + 10, lo + 1)
    while f(hi) < 0:
        hi *= 2
    # exact power (both tails for a two-sided test), solved for n
    n_c = lo if f(lo) >= 0 else float(brentq(f, lo, hi, xtol=1e-10, rtol=1e-12))
    per, total = _arms_table(n_c, ratio, arms)
    achieved = _mean_power(d, per["control"], ratio, at, alternative, test)
    cuped = (f"; σ reduced by CUPED (variance × {1 - variance_reduction:.3g})"
             if variance_reduction else "")
    return DesignResult(
        name=f"Sample size: mean, effect {delta:g} with σ = {sd:g}",
        estimate=per["control"], n=total,
        method=(("Two-sample t-test (noncentral t, equal variances)" if test == "t" else
                 "Two-sample z-test (normal approximation)")
                + f"; {_describe(alpha, a, arms, correction, alternative)}; power {power:g}; "
                  f"split control:treatment = 1:{ratio:g}{cuped}"),
        details={"absolute_effect": delta, "standardized_effect": d, "sd": sigma,
                 "alpha_per_comparison": a, "power_target": power,
                 "achieved_power": achieved, "ratio": ratio, "arms": arms,
                 "n_total": total, "exact_n_control": n_c},
        table=_table(per), reference=REFERENCE, n_per_arm=per, n_total=total)


def power_means(sd: float, mde: float, n: int, *, baseline: float | None = None,
                relative: bool = False, alpha: float = 0.05, alternative: str = "two-sided",
                ratio: float = 1.0, arms: int = 2, correction: str = "bonferroni",
                test: str = "t", variance_reduction: float = 0.0) -> Result:
    """Power to detect ``mde`` in a mean with ``n`` control units (see
    :func:`sample_size_means`)."""
    from researchkit.datasets.base import check_positive_int

    test = check_choice(test, "test", ("t", "z"))
    a, at, alternative, ratio = _common(alpha, None, alternative, ratio, arms, correction)
    n = check_positive_int(n, "n", minimum=2)
    sigma = _sd(sd, variance_reduction)
    delta = _effect(baseline, mde, relative)
    pw = _mean_power(delta / sigma, n, ratio, at, alternative, test)
    return Result(name=f"Power: mean, effect {delta:g}, n = {n:,} control units", estimate=pw,
                  n=n, method=(f"Two-sample {test}-test; "
                               f"{_describe(alpha, a, arms, correction, alternative)}"),
                  details={"alpha_per_comparison": a, "standardized_effect": delta / sigma},
                  reference=REFERENCE)


def mde_means(sd: float, n: int, *, baseline: float | None = None, alpha: float = 0.05,
              power: float = 0.8, alternative: str = "two-sided", ratio: float = 1.0,
              arms: int = 2, correction: str = "bonferroni", test: str = "t",
              variance_reduction: float = 0.0) -> Result:
    """Minimum detectable (absolute) effect on a mean with ``n`` control units.

    ``details["relative_mde"]`` is given when ``baseline`` is.
    """
    from researchkit.datasets.base import check_positive_int

    test = check_choice(test, "test", ("t", "z"))
    a, at, alternative, ratio = _common(alpha, power, alternative, ratio, arms, correction)
    n = check_positive_int(n, "n", minimum=2)
    sigma = _sd(sd, variance_reduction)
    sign = -1.0 if alternative == "less" else 1.0
    d_z = (_z(1 - at) + _z(power)) * math.sqrt(1 / n + 1 / (n * ratio))
    d = _solve_effect(lambda x: _mean_power(sign * x, n, ratio, at, alternative, test),
                      power, 1e-12, 4 * d_z + 1e-6)
    delta = sign * d * sigma
    details: dict[str, Any] = {"standardized_mde": sign * d, "alpha_per_comparison": a}
    if baseline:
        details["relative_mde"] = delta / baseline
    return Result(name=f"Minimum detectable effect: mean, σ = {sd:g}, n = {n:,} per control",
                  estimate=delta, n=n,
                  method=(f"Two-sample {test}-test solved for the effect with power {power:g}; "
                          f"{_describe(alpha, a, arms, correction, alternative)}"),
                  details=details, reference=REFERENCE)


# ---------------------------------------------------------------------------------------------
# duration
# ---------------------------------------------------------------------------------------------
def experiment_duration(n_total: int, daily_units: float, *, share: float = 1.0,
                  full_weeks: bool = True, min_days: int = 7) -> Result:
    """Days needed to enrol ``n_total`` units from daily traffic.

    Parameters
    ----------
    n_total : int
        Units needed over all arms (``DesignResult.n_total``).
    daily_units : float
        New eligible units per day (e.g. unique visitors reaching the tested page).
    share : float
        Share of the traffic put into the experiment (0 < share <= 1).
    full_weeks : bool
        Round up to whole weeks so every weekday is represented equally (weekly
        seasonality; Kohavi, Tang & Xu 2020, ch. 17).
    min_days : int
        Never run shorter than this (novelty effects, weekly cycle).

    Returns
    -------
    Result
        ``estimate`` = days; ``details`` with the raw days and the enrolled units.

    Notes
    -----
    Assumes each day brings new units; with returning users, unique units grow more slowly
    than daily traffic, so use the daily count of *new* eligible users.
    """
    from researchkit.datasets.base import check_positive_int

    n_total = check_positive_int(n_total, "n_total")
    daily = check_positive(daily_units, "daily_units")
    share = check_fraction(share, "share", low=0.0, high=1.0, inclusive=True)
    if share == 0:
        raise ParameterError("share must be above 0", parameter="share", got=share)
    min_days = check_positive_int(min_days, "min_days")
    raw = n_total / (daily * share)
    days = max(math.ceil(raw - 1e-9), min_days)
    if full_weeks:
        days = 7 * math.ceil(days / 7)
    return Result(name=f"Test duration for {n_total:,} units", estimate=days,
                  n=n_total,
                  method=(f"{n_total:,} units at {daily:,.0f} units/day × {share:.0%} of traffic"
                          f"; at least {min_days} days"
                          + ("; rounded up to whole weeks" if full_weeks else "")),
                  details={"raw_days": raw, "weeks": days / 7,
                           "units_enrolled": int(days * daily * share)},
                  reference="Kohavi, Tang & Xu (2020), ch. 17")
