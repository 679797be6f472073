"""Bayesian A/B analysis: probability to beat control, expected loss, credible intervals.

Two models:

* **beta-binomial** for proportions: ``p_arm ~ Beta(a0 + x, b0 + n − x)`` a posteriori
  (``Beta(a0, b0)`` prior, default uniform). ``P(p_t > p_c)`` is exact (Miller 2015; a finite
  sum when the posterior ``α`` is an integer, numerical integration otherwise), and so is the
  expected loss (Stucchio 2015)

  .. math:: E[\\max(p_c - p_t, 0)] = \\frac{α_c}{α_c+β_c}\\,h(α_c{+}1, β_c, α_t, β_t)
            - \\frac{α_t}{α_t+β_t}\\,h(α_c, β_c, α_t{+}1, β_t),

  with ``h(a, b, c, d) = P(X > Y)``, ``X ~ Beta(a, b)``, ``Y ~ Beta(c, d)``;
* **normal** for means and ratios (and CUPED-adjusted metrics): the arm estimates are
  approximately normal, so with flat priors the difference ``Δ ~ N(Δ̂, se²)`` a posteriori
  (optionally with a ``N(μ0, τ²)`` prior on ``Δ``). Then ``P(Δ > 0) = Φ(μ/σ)`` and
  ``E[max(−Δ, 0)] = σ φ(μ/σ) − μ Φ(−μ/σ)`` exactly.

Intervals for the difference and the relative lift of proportions, and the probability of
being best among more than two arms, come from a seeded Monte Carlo sample of the posteriors;
their Monte Carlo error is reported.

References
----------
Miller, E. (2015). Formulas for Bayesian A/B testing. evanmiller.org.
Stucchio, C. (2015). Bayesian A/B testing at VWO. VWO technical report.
Kruschke, J. K. (2015). Doing Bayesian Data Analysis, 2nd ed., Academic Press, ch. 6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments._checks import check_fraction, check_positive
from researchkit.experiments.metrics import Metric, Proportion
from researchkit.experiments.statistics import SufficientStats
from researchkit.results import Result

__all__ = [
    "BayesResult",
    "bayes_means",
    "bayes_proportions",
    "beta_binomial",
    "prob_beta_greater",
]

REFERENCE = ("Miller (2015), Formulas for Bayesian A/B testing; Stucchio (2015), Bayesian A/B "
             "testing at VWO; Kruschke (2015), Doing Bayesian Data Analysis, ch. 6")
_MAX_EXACT_TERMS = 20_000_000


@dataclass(eq=False)
class BayesResult(Result):
    """Bayesian comparison; ``estimate`` is the probability that the treatment beats control."""

    prob_beat_control: dict[str, float] | None = None
    expected_loss: dict[str, float] | None = None


def _is_int(x: float) -> bool:
    return float(x).is_integer()


def prob_beta_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """``P(X > Y)`` for independent ``X ~ Beta(a1, b1)``, ``Y ~ Beta(a2, b2)``.

    Exact finite sum (Miller 2015) when ``a1`` or ``a2`` is an integer (the case with the
    usual integer priors):

    .. math:: P(X > Y) = \\sum_{i=0}^{a_1-1}
              \\frac{B(a_2+i,\\, b_1+b_2)}{(b_1+i)\\,B(1+i,\\, b_1)\\,B(a_2,\\, b_2)}

    evaluated in logs; otherwise adaptive quadrature of ``∫ f_X(x) F_Y(x) dx``.

    Examples
    --------
    >>> round(prob_beta_greater(2, 1, 1, 1), 6)   # max of... P(X > Y), X ~ Beta(2,1), Y ~ U
    0.666667
    """
    import numpy as np
    from scipy.special import betaln, logsumexp

    for v, name in ((a1, "a1"), (b1, "b1"), (a2, "a2"), (b2, "b2")):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ParameterError("Beta parameters must be positive", parameter=name, got=v)

    def miller(a1: float, b1: float, a2: float, b2: float) -> float:
        i = np.arange(int(a1), dtype=np.float64)
        logs = (betaln(a2 + i, b1 + b2) - np.log(b1 + i) - betaln(1 + i, b1)
                - betaln(a2, b2))
        return float(min(1.0, max(0.0, math.exp(logsumexp(logs)))))

    if _is_int(a1) and a1 <= _MAX_EXACT_TERMS and (not _is_int(a2) or a1 <= a2):
        return miller(a1, b1, a2, b2)
    if _is_int(a2) and a2 <= _MAX_EXACT_TERMS:
        return 1.0 - miller(a2, b2, a1, b1)
    return _quad_greater(a1, b1, a2, b2)


def _quad_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    from scipy import integrate
    from scipy import stats as st

    x, y = st.beta(a1, b1), st.beta(a2, b2)
    lo = min(x.ppf(1e-12), y.ppf(1e-12))
    hi = max(x.isf(1e-12), y.isf(1e-12))
    pts = sorted({float(x.median()), float(y.median())})
    val, _ = integrate.quad(lambda t: x.pdf(t) * y.cdf(t), lo, hi, points=pts, limit=500,
                            epsabs=1e-13, epsrel=1e-11)
    return float(min(1.0, max(0.0, val)))


def _beta_loss(ac: float, bc: float, at: float, bt: float) -> float:
    """``E[max(p_c − p_t, 0)]``: expected loss of choosing the treatment."""
    h1 = prob_beta_greater(ac + 1, bc, at, bt)
    h2 = prob_beta_greater(ac, bc, at + 1, bt)
    return max(0.0, ac / (ac + bc) * h1 - at / (at + bt) * h2)


def _mc_error_interval(samples: Any, level: float) -> tuple[float, float, float]:
    """Equal-tailed interval from draws and the Monte Carlo standard error of its ends."""
    import numpy as np

    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    lo, hi = np.quantile(samples, [lo_q, hi_q])
    # MC error of a quantile: binomial order-statistic bounds (±1 binomial sd in rank)
    n = len(samples)
    s = np.sort(samples)
    errs = []
    for q in (lo_q, hi_q):
        sd = math.sqrt(n * q * (1 - q))
        i0 = int(max(0, math.floor(n * q - sd)))
        i1 = int(min(n - 1, math.ceil(n * q + sd)))
        errs.append((s[i1] - s[i0]) / 2)
    return float(lo), float(hi), float(max(errs))


def _arm_names(stats: Mapping[Any, Any], control: Any) -> tuple[Any, list[Any]]:
    arms = list(stats)
    if len(arms) < 2:
        raise ParameterError("need at least two arms", parameter="successes", got=arms)
    if control is None:
        control = next((a for a in arms if isinstance(a, str) and a.lower() == "control"),
                       arms[0])
    elif control not in arms:
        raise ParameterError("no such arm", parameter="control", expected=f"one of {arms}",
                             got=control)
    return control, [a for a in arms if a != control]


def beta_binomial(successes: Mapping[Any, int], trials: Mapping[Any, int], *,
                  control: Any = None, prior: tuple[float, float] = (1.0, 1.0),
                  ci_level: float = 0.95, draws: int = 200_000, seed: int = 0
                  ) -> BayesResult:
    """Beta-binomial comparison of conversion rates.

    Parameters
    ----------
    successes, trials : dict
        ``arm -> count`` (conversions and units).
    control : optional
        Control arm (default: an arm named "control", else the first).
    prior : (a0, b0)
        Beta prior shared by the arms (default uniform ``Beta(1, 1)``).
    ci_level : float
        Level of the equal-tailed credible intervals.
    draws : int
        Monte Carlo draws for the intervals of the difference and lift, and P(best).
    seed : int
        Seed of the Monte Carlo draws.

    Returns
    -------
    BayesResult
        ``estimate`` = P(treatment > control) (first treatment arm); ``table`` per arm:
        posterior mean and credible interval of the rate, P(beats control) and expected loss
        (exact), difference and relative lift with credible intervals (Monte Carlo),
        P(best) (Monte Carlo when more than two arms).
    """
    import numpy as np
    import pandas as pd
    from scipy import stats as st

    from researchkit.datasets.base import check_positive_int, make_rng

    if not isinstance(successes, Mapping) or not isinstance(trials, Mapping) or \
            list(successes) != list(trials):
        raise ParameterError("successes and trials must be dicts over the same arms",
                             parameter="trials", expected=list(successes) if
                             isinstance(successes, Mapping) else "a dict",
                             got=list(trials) if isinstance(trials, Mapping) else trials)
    for a in trials:
        x, n = successes[a], trials[a]
        if isinstance(x, bool) or isinstance(n, bool) or not isinstance(x, int) or \
                not isinstance(n, int) or not 0 <= x <= n or n < 1:
            raise ParameterError("counts must be integers with 0 <= successes <= trials",
                                 parameter="successes", got={a: (x, n)})
    a0, b0 = prior if isinstance(prior, tuple | list) and len(prior) == 2 else (None, None)
    if a0 is None:
        raise ParameterError("prior must be (a0, b0)", parameter="prior", got=prior)
    a0, b0 = check_positive(a0, "prior"), check_positive(b0, "prior")
    level = check_fraction(ci_level, "ci_level")
    draws = check_positive_int(draws, "draws", minimum=1000)
    control, treats = _arm_names(trials, control)
    post = {a: (a0 + successes[a], b0 + trials[a] - successes[a]) for a in trials}
    rng = make_rng(seed)
    samples = {a: rng.beta(*post[a], size=draws) for a in trials}
    stacked = np.vstack([samples[a] for a in trials])
    best = np.bincount(stacked.argmax(axis=0), minlength=len(trials)) / draws
    ac, bc = post[control]
    rows = []
    prob, loss = {}, {}
    for i, a in enumerate(trials):
        al, be = post[a]
        lo, hi = st.beta(al, be).ppf([(1 - level) / 2, (1 + level) / 2])
        row = {"arm": a, "units": trials[a], "successes": successes[a],
               "posterior_mean": al / (al + be), "ci_low": lo, "ci_high": hi,
               "prob_best": best[i]}
        if a != control:
            p = prob_beta_greater(al, be, ac, bc)
            prob[str(a)] = p
            loss[str(a)] = _beta_loss(ac, bc, al, be)
            diff = samples[a] - samples[control]
            lift = samples[a] / samples[control] - 1
            dlo, dhi, derr = _mc_error_interval(diff, level)
            llo, lhi, lerr = _mc_error_interval(lift, level)
            row.update(prob_beat_control=p, expected_loss=loss[str(a)],
                       expected_loss_control=_beta_loss(al, be, ac, bc),
                       difference=al / (al + be) - ac / (ac + bc), difference_ci_low=dlo,
                       difference_ci_high=dhi, lift_mean=float(lift.mean()),
                       lift_ci_low=llo, lift_ci_high=lhi, mc_error_interval=max(derr, lerr))
        rows.append(row)
    table = pd.DataFrame(rows)
    first = treats[0]
    mc_p = math.sqrt(0.25 / draws)
    return BayesResult(
        name=f"Bayesian beta-binomial: {first} vs {control}",
        estimate=prob[str(first)],
        ci=(float(table.loc[table.arm == first, "difference_ci_low"].iloc[0]),
            float(table.loc[table.arm == first, "difference_ci_high"].iloc[0])),
        ci_level=level, n=sum(trials.values()), table=table,
        method=(f"Beta({a0:g}, {b0:g}) prior, binomial likelihood, independent arms; "
                "P(beats control) exact (Miller 2015) and expected loss exact (Stucchio "
                f"2015); {level:.0%} equal-tailed credible intervals of the rates exact (Beta "
                f"quantiles), of the difference and lift from {draws:,} seeded Monte Carlo "
                f"draws (seed {seed}; quantile error up to ±{table['mc_error_interval'].max():.2g}"
                f"); P(best) by Monte Carlo (standard error ≤ {mc_p:.1g})"),
        details={"control": control, "prior": [a0, b0], "draws": draws, "seed": seed,
                 "mc_standard_error_prob_best": mc_p},
        reference=REFERENCE, prob_beat_control=prob, expected_loss=loss)


def bayes_proportions(data: Any, outcome: str, *, arm: str = "arm", **options: Any
                      ) -> BayesResult:
    """:func:`beta_binomial` from unit-level data (DataFrame, Parquet, DuckDB) or statistics."""
    from researchkit.experiments.aggregation import aggregate

    metric = Proportion(outcome)
    stats = data if isinstance(data, SufficientStats) else aggregate(
        data, arm=arm, columns=[outcome], pairs=metric.pairs)
    successes, trials = {}, {}
    for a in stats.arms:
        g = stats.group(a)
        metric.estimate(g)  # checks that the outcome is 0/1
        successes[a], trials[a] = int(g.sums[outcome]), int(g.n)
    return beta_binomial(successes, trials, **options)


def bayes_means(data: Any, metric: Metric | str, *, arm: str = "arm", control: Any = None,
                treatment: Any = None, prior_mean: float | None = None,
                prior_sd: float | None = None, ci_level: float = 0.95, decimals: Any = None,
                draws: int = 200_000, seed: int = 0) -> BayesResult:
    """Normal-model Bayesian comparison of a mean or ratio metric (CUPED included).

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
    metric : Mean, Ratio, or a column name (a Mean)
    prior_mean, prior_sd : float, optional
        Normal prior on the difference (treatment − control); default flat.
    ci_level, draws, seed
        Credible level; Monte Carlo draws (for the relative lift only) and their seed.

    Returns
    -------
    BayesResult
        ``estimate`` = P(Δ > 0); ``ci`` = credible interval of Δ (exact);
        ``details``: posterior mean and sd of Δ, expected losses (exact), relative lift
        interval (Monte Carlo from the normal arm posteriors).

    Notes
    -----
    Each arm's estimate ``m_a`` with variance ``v_a`` (from the metric: sample variance, delta
    method, CUPED) gives ``Δ | data ~ N(m_t − m_c, v_t + v_c)`` under flat priors; a
    ``N(μ0, τ²)`` prior gives the precision-weighted posterior
    ``N((Δ̂/se² + μ0/τ²)/(1/se² + 1/τ²), 1/(1/se² + 1/τ²))``.
    """
    import numpy as np
    import pandas as pd
    from scipy import stats as st

    from researchkit.datasets.base import check_positive_int, make_rng
    from researchkit.experiments.aggregation import aggregate
    from researchkit.experiments.frequentist import choose_control
    from researchkit.experiments.metrics import Mean

    if isinstance(metric, str):
        metric = Mean(metric)
    if not isinstance(metric, Metric) or isinstance(metric, Proportion):
        raise ParameterError("expected a Mean or Ratio metric (use bayes_proportions for "
                             "proportions)", parameter="metric", got=metric)
    level = check_fraction(ci_level, "ci_level")
    draws = check_positive_int(draws, "draws", minimum=1000)
    if (prior_mean is None) != (prior_sd is None):
        raise ParameterError("give both prior_mean and prior_sd (or neither)",
                             parameter="prior_sd", got=prior_sd)
    stats = data if isinstance(data, SufficientStats) else aggregate(
        data, arm=arm, columns=list(metric.columns), pairs=metric.pairs, decimals=decimals)
    control = choose_control(stats, control)
    others = [a for a in stats.arms if a != control]
    treatment = others[0] if treatment is None and len(others) == 1 else treatment
    if treatment not in others:
        raise ParameterError("say which treatment arm", parameter="treatment",
                             expected=f"one of {others}", got=treatment)
    gc, gt = stats.group(control), stats.group(treatment)
    if metric._parts()[2] is not None:
        theta, cpool = metric.cuped_theta(gc + gt)
        ec = metric.estimate(gc, theta=theta, covariate_mean=cpool)
        et = metric.estimate(gt, theta=theta, covariate_mean=cpool)
    else:
        ec, et = metric.estimate(gc), metric.estimate(gt)
    d_hat = et.value - ec.value
    se2 = ec.variance + et.variance
    if prior_sd is not None:
        tau = check_positive(prior_sd, "prior_sd")
        prec = 1 / se2 + 1 / tau**2
        mu = (d_hat / se2 + float(prior_mean) / tau**2) / prec
        sd = math.sqrt(1 / prec)
        prior_txt = f"N({prior_mean:g}, {tau:g}²) prior on the difference"
    else:
        mu, sd = d_hat, math.sqrt(se2)
        prior_txt = "flat priors"
    z = mu / sd
    p = float(st.norm.cdf(z))
    loss_t = sd * float(st.norm.pdf(z)) - mu * float(st.norm.cdf(-z))   # E[max(-Δ, 0)]
    loss_c = sd * float(st.norm.pdf(z)) + mu * float(st.norm.cdf(z))    # E[max(Δ, 0)]
    lo, hi = st.norm.ppf([(1 - level) / 2, (1 + level) / 2], loc=mu, scale=sd)
    rng = make_rng(seed)
    mc = rng.normal(ec.value, math.sqrt(ec.variance), draws)
    if prior_sd is None:  # independent arm posteriors
        mt = rng.normal(et.value, math.sqrt(et.variance), draws)
    else:  # Δ from its posterior, control value independent of it (an approximation)
        mt = mc + rng.normal(mu, sd, draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = mt / mc - 1
    llo, lhi, lerr = _mc_error_interval(lift, level)
    table = pd.DataFrame([{
        "control": control, "treatment": treatment, "control_value": ec.value,
        "treatment_value": et.value, "posterior_mean": mu, "posterior_sd": sd,
        "ci_low": lo, "ci_high": hi, "prob_beat_control": p, "expected_loss": loss_t,
        "expected_loss_control": loss_c, "lift_ci_low": llo, "lift_ci_high": lhi}])
    return BayesResult(
        name=f"Bayesian normal model: {metric.describe()}, {treatment} vs {control}",
        estimate=p, ci=(float(lo), float(hi)), ci_level=level, n=ec.n + et.n, table=table,
        method=(f"Normal approximation to each arm's estimate ({metric.test_name()} variances"
                f"{', CUPED' if metric._parts()[2] is not None else ''}), {prior_txt}; "
                "P(beats control), expected loss and the credible interval of the difference "
                f"exact; relative-lift interval from {draws:,} seeded Monte Carlo draws of the "
                f"arm posteriors (seed {seed}, quantile error ±{lerr:.2g}"
                + ("; with a prior on Δ the control value is drawn independently of Δ, an "
                   "approximation" if prior_sd is not None else "") + ")"),
        details={"posterior_mean": mu, "posterior_sd": sd, "expected_loss": loss_t,
                 "expected_loss_control": loss_c, "lift_ci": [llo, lhi]},
        reference=REFERENCE, prob_beat_control={str(treatment): p},
        expected_loss={str(treatment): loss_t})
