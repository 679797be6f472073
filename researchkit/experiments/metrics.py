"""A/B metrics: what each metric aggregates, and how it is compared between arms.

Following tea-tasting's design, a metric *declares* the sufficient statistics it needs
(:attr:`Metric.columns` and :attr:`Metric.pairs`); aggregation is separate
(:func:`researchkit.experiments.aggregate`), and the comparison works on the per-arm
:class:`~researchkit.experiments.statistics.GroupStats` only.

Three metrics cover almost every online experiment:

* :class:`Proportion` — share of units with a 0/1 outcome (conversion). Variance of the
  estimate ``p(1-p)/n``; z-test (Wald, or pooled under H0).
* :class:`Mean` — mean of a per-unit value (revenue per user). Welch's t-test by default.
* :class:`Ratio` — ratio of two per-unit sums (revenue per session, orders per visit): the
  analysis unit (session) differs from the randomisation unit (user), so the variance comes
  from the delta method, not from treating sessions as independent.

Each accepts a pre-period covariate for **CUPED** (Mean and Ratio).

Formulas
--------
For one arm with ``n`` units, means ``Ȳ`` (numerator), ``D̄`` (denominator) and sample
covariance matrix ``S`` of (Y, D), the ratio ``R = Ȳ / D̄`` has delta-method variance
(Deng, Knoblich & Lu 2018, eq. 3)

.. math:: \\operatorname{Var}(R) \\approx \\frac{1}{n}\\, g^\\top S g, \\qquad
          g = \\left(\\frac{1}{\\bar D}, -\\frac{\\bar Y}{\\bar D^2}\\right).

A mean is the case ``D ≡ 1``. With a covariate ratio ``C = X̄ / Ē`` (pre-period), CUPED
(Deng, Xu, Kohavi & Walker 2013) estimates

.. math:: R^{cv} = R - \\theta\\,(C - C_{pool}), \\qquad
          \\theta = \\frac{\\operatorname{Cov}(R, C)}{\\operatorname{Var}(C)},

with ``θ`` from the pooled units of both arms, and
``Var(R^cv) = Var(R) − 2θ Cov(R, C) + θ² Var(C)``.

The difference ``Δ = R_t − R_c`` has ``Var(Δ) = Var(R_t) + Var(R_c)``. The relative lift
``L = R_t / R_c − 1`` has delta-method variance (Kohavi, Tang & Xu 2020, ch. 18)

.. math:: \\operatorname{Var}(L) \\approx \\frac{\\operatorname{Var}(R_t)}{R_c^2}
          + \\frac{R_t^2 \\operatorname{Var}(R_c)}{R_c^4}.

References
----------
Deng, A., Xu, Y., Kohavi, R. & Walker, T. (2013). Improving the sensitivity of online
controlled experiments by utilizing pre-experiment data. WSDM '13.
Deng, A., Knoblich, U. & Lu, J. (2018). Applying the delta method in metric analytics: a
practical guide with novel ideas. KDD '18.
Kohavi, R., Tang, D. & Xu, Y. (2020). Trustworthy Online Controlled Experiments. Cambridge UP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from researchkit.errors import DataError, ParameterError
from researchkit.experiments._checks import (
    check_alpha,
    check_alternative,
    check_choice,
    check_name,
    check_positive,
)
from researchkit.experiments.statistics import GroupStats, pair_key

__all__ = ["Comparison", "Mean", "Metric", "Proportion", "Ratio"]

RELATIVE_CI = ("delta", "log")


@dataclass
class ArmEstimate:
    """Estimate of a metric in one arm."""

    value: float          # estimate (CUPED-adjusted when a covariate is used)
    variance: float       # variance of the estimate
    unit_variance: float  # per-unit variance (variance * n)
    n: int
    raw_value: float      # unadjusted estimate
    raw_variance: float   # variance of the unadjusted estimate


@dataclass
class Comparison:
    """One treatment-vs-control comparison of one metric (a row of the analysis table)."""

    metric: str
    control: Any
    treatment: Any
    n_control: int
    n_treatment: int
    control_value: float
    treatment_value: float
    difference: float
    ci_low: float
    ci_high: float
    relative: float
    relative_ci_low: float
    relative_ci_high: float
    std_error: float
    statistic: float
    statistic_name: str
    df: float | None
    p_value: float
    alternative: str
    ci_level: float
    test: str
    variance_reduction: float | None = None
    theta: float | None = None
    margin: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Every field (JSON-ready through :func:`researchkit.run_context.to_jsonable`)."""
        from dataclasses import asdict

        return asdict(self)

    def as_row(self) -> dict[str, Any]:
        row = {
            "metric": self.metric, "control": self.control, "treatment": self.treatment,
            "n_control": self.n_control, "n_treatment": self.n_treatment,
            "control_value": self.control_value, "treatment_value": self.treatment_value,
            "difference": self.difference, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "relative": self.relative, "relative_ci_low": self.relative_ci_low,
            "relative_ci_high": self.relative_ci_high, "std_error": self.std_error,
            "statistic": self.statistic, "df": self.df, "p_value": self.p_value,
            "test": self.test,
        }
        if self.variance_reduction is not None:
            row["variance_reduction"] = self.variance_reduction
        if self.margin is not None:
            row["margin"] = self.margin
        return row


class _Dist:
    """Standard normal (df None or infinite) or Student t, via scipy.special (fast)."""

    __slots__ = ("df",)

    def __init__(self, df: float | None = None) -> None:
        self.df = df if df is not None and math.isfinite(df) else None

    def sf(self, x: float) -> float:
        from scipy import special

        if self.df is None:
            return float(special.ndtr(-x))
        return float(special.stdtr(self.df, -x))

    def cdf(self, x: float) -> float:
        return self.sf(-x)

    def ppf(self, q: float) -> float:
        from scipy import special

        if self.df is None:
            return float(special.ndtri(q))
        return float(special.stdtrit(self.df, q))


def _welch_df(v_c: float, n_c: int, v_t: float, n_t: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the two variances of the estimates."""
    num = (v_c + v_t) ** 2
    den = (v_c**2 / (n_c - 1) if n_c > 1 else 0.0) + (v_t**2 / (n_t - 1) if n_t > 1 else 0.0)
    return num / den if den > 0 else float("inf")


class Metric:
    """Base class: a metric declares its aggregates and compares two arms.

    Parameters (common to all metrics)
    ----------------------------------
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis for ``treatment − control``.
    use_t : bool
        Student's t with Welch–Satterthwaite degrees of freedom (True) or the normal
        distribution (False).
    relative_ci : {"delta", "log"}
        CI of the relative lift: delta method on the ratio (Kohavi et al. 2020), or delta
        method on the log of the ratio, exponentiated (always positive ratio; tea-tasting's
        choice).
    margin : float, optional
        Non-inferiority margin (> 0). The test becomes one-sided:
        H0: Δ ≤ −margin (``higher_is_better``) or H0: Δ ≥ margin (lower is better).
    margin_type : {"absolute", "relative"}
        Whether ``margin`` is in the metric's units or a fraction of the control value.
    higher_is_better : bool
        Direction of "better" for non-inferiority tests.
    """

    kind = "metric"
    default_use_t = False

    def __init__(self, *, alternative: str = "two-sided", use_t: bool | None = None,
                 relative_ci: str = "delta", margin: float | None = None,
                 margin_type: str = "absolute", higher_is_better: bool = True) -> None:
        self.alternative = check_alternative(alternative)
        self.use_t = self.default_use_t if use_t is None else bool(use_t)
        self.relative_ci = check_choice(relative_ci, "relative_ci", RELATIVE_CI)
        self.margin = None if margin is None else check_positive(margin, "margin")
        self.margin_type = check_choice(margin_type, "margin_type", ("absolute", "relative"))
        self.higher_is_better = bool(higher_is_better)
        if self.margin is not None and alternative != "two-sided":
            raise ParameterError("a non-inferiority margin sets the alternative itself",
                                 parameter="alternative", expected="'two-sided' (the default)",
                                 got=alternative)

    # -- declared aggregates -------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        cols = self.columns
        return tuple(pair_key(a, b) for i, a in enumerate(cols) for b in cols[i:])

    def describe(self) -> str:
        raise NotImplementedError

    # -- estimation ----------------------------------------------------------------------
    def _parts(self) -> tuple[str, str | None, str | None, str | None]:
        """(numerator, denominator, covariate numerator, covariate denominator)."""
        raise NotImplementedError

    def _unit_moments(self, g: GroupStats) -> tuple[float, float, float, float, float]:
        """(R, var_unit(R), C, var_unit(C), cov_unit(R, C)) of one group."""
        y, d, x, e = self._parts()
        cols = [c for c in (y, d, x, e) if c is not None]
        mu, s = g.moments(cols)
        idx = {c: i for i, c in enumerate(cols)}

        def ratio(num: str, den: str | None) -> tuple[float, dict[int, float]]:
            m_num = mu[idx[num]]
            if den is None:
                return m_num, {idx[num]: 1.0}
            m_den = mu[idx[den]]
            if m_den == 0:
                raise DataError("the denominator of a ratio metric has mean 0 in a group",
                                column=den)
            return m_num / m_den, {idx[num]: 1.0 / m_den, idx[den]: -m_num / m_den**2}

        def quad(ga: dict[int, float], gb: dict[int, float]) -> float:
            return float(sum(wa * wb * s[i, j] for i, wa in ga.items() for j, wb in gb.items()))

        r, gr = ratio(y, d)
        if x is None:
            return float(r), quad(gr, gr), float("nan"), float("nan"), float("nan")
        c, gc = ratio(x, e)
        return float(r), quad(gr, gr), float(c), quad(gc, gc), quad(gr, gc)

    def estimate(self, g: GroupStats, *, theta: float = 0.0,
                 covariate_mean: float = 0.0) -> ArmEstimate:
        """Estimate in one arm (CUPED-adjusted with ``theta`` when a covariate is used)."""
        if g.n < 2:
            raise DataError("an arm needs at least 2 units to estimate a variance",
                            parameter="data", got=g.n)
        r, vr, c, vc, cov = self._unit_moments(g)
        if self._parts()[2] is None:
            return ArmEstimate(r, vr / g.n, vr, g.n, r, vr / g.n)
        adj = r - theta * (c - covariate_mean)
        v_unit = vr - 2 * theta * cov + theta**2 * vc
        return ArmEstimate(adj, v_unit / g.n, v_unit, g.n, r, vr / g.n)

    def cuped_theta(self, pooled: GroupStats) -> tuple[float, float]:
        """``(θ, C_pool)`` from the pooled units of the arms compared."""
        _, _, c, vc, cov = self._unit_moments(pooled)
        theta = cov / vc if vc > 0 else 0.0
        return theta, c

    # -- comparison ----------------------------------------------------------------------
    def test_name(self) -> str:
        return "Welch t-test" if self.use_t else "z-test"

    def compare(self, control: GroupStats, treatment: GroupStats, *, name: str = "",
                control_name: Any = "control", treatment_name: Any = "treatment",
                alpha: float = 0.05) -> Comparison:
        """Compare the treatment arm with the control arm.

        Parameters
        ----------
        control, treatment : GroupStats
        name : str
            Metric name for the output.
        alpha : float
            Significance level; intervals have level ``1 − alpha`` (one-sided for one-sided
            tests and non-inferiority tests, matching the test).
        """
        alpha = check_alpha(alpha)
        warnings: list[str] = []
        theta = vr_reduction = None
        if self._parts()[2] is not None:
            theta, c_pool = self.cuped_theta(control + treatment)
            ec = self.estimate(control, theta=theta, covariate_mean=c_pool)
            et = self.estimate(treatment, theta=theta, covariate_mean=c_pool)
            raw = ec.raw_variance + et.raw_variance
            vr_reduction = 1.0 - (ec.variance + et.variance) / raw if raw > 0 else 0.0
        else:
            ec, et = self.estimate(control), self.estimate(treatment)
        diff = et.value - ec.value
        var = ec.variance + et.variance
        se = math.sqrt(var) if var > 0 else 0.0
        df = _welch_df(ec.variance, ec.n, et.variance, et.n) if self.use_t else None
        dist = _Dist(df)

        # hypothesis: alternative or non-inferiority
        shift = 0.0
        alternative = self.alternative
        margin_abs = None
        if self.margin is not None:
            margin_abs = self.margin * abs(ec.value) if self.margin_type == "relative" \
                else self.margin
            shift = margin_abs if self.higher_is_better else -margin_abs
            alternative = "greater" if self.higher_is_better else "less"
        stat_value, p = self._p_value(diff + shift, se, dist, alternative, ec, et)
        if se == 0:
            warnings.append("zero variance in both arms: the test is degenerate")
        lo, hi = _interval(diff, se, dist, alpha, alternative)
        # relative lift
        rel = et.value / ec.value - 1 if ec.value != 0 else float("nan")
        if ec.value == 0:
            warnings.append("the control value is 0: the relative lift is undefined")
            rlo = rhi = float("nan")
        else:
            rlo, rhi = self._relative_interval(ec, et, alpha, alternative)
        level = 1 - alpha
        test = self.test_name()
        if self.margin is not None:
            kind = "relative" if self.margin_type == "relative" else "absolute"
            test = f"non-inferiority {test} ({kind} margin {self.margin:g})"
        elif alternative != "two-sided":
            test = f"{test}, one-sided ({alternative})"
        if theta is not None:
            test += ", CUPED"
        return Comparison(
            metric=name or self.describe(), control=control_name, treatment=treatment_name,
            n_control=ec.n, n_treatment=et.n, control_value=ec.value,
            treatment_value=et.value, difference=diff, ci_low=lo, ci_high=hi,
            relative=rel, relative_ci_low=rlo, relative_ci_high=rhi, std_error=se,
            statistic=stat_value, statistic_name="t" if df is not None else "z", df=df,
            p_value=p, alternative=alternative, ci_level=level, test=test,
            variance_reduction=vr_reduction, theta=theta, margin=margin_abs,
            warnings=warnings)

    def _p_value(self, centred: float, se: float, dist: Any, alternative: str,
                 ec: ArmEstimate, et: ArmEstimate) -> tuple[float, float]:
        if se == 0:
            stat = 0.0 if centred == 0 else math.copysign(math.inf, centred)
        else:
            stat = centred / se
        return stat, _p_from_stat(stat, dist, alternative)

    def _relative_interval(self, ec: ArmEstimate, et: ArmEstimate, alpha: float,
                           alternative: str) -> tuple[float, float]:
        rc, rt = ec.value, et.value
        if self.relative_ci == "delta":
            a = et.variance / rc**2
            b = rt**2 * ec.variance / rc**4
            se = math.sqrt(a + b)
            df = _welch_df(b, ec.n, a, et.n) if self.use_t else None
            return _interval(rt / rc - 1, se, _Dist(df), alpha, alternative)
        if rt <= 0 or rc <= 0:
            return float("nan"), float("nan")
        a = et.variance / rt**2
        b = ec.variance / rc**2
        se = math.sqrt(a + b)
        df = _welch_df(b, ec.n, a, et.n) if self.use_t else None
        lo, hi = _interval(math.log(rt / rc), se, _Dist(df), alpha, alternative)
        return math.exp(lo) - 1, math.exp(hi) - 1


def _p_from_stat(stat: float, dist: Any, alternative: str) -> float:
    if math.isnan(stat):
        return float("nan")
    if alternative == "greater":
        return float(dist.sf(stat))
    if alternative == "less":
        return float(dist.cdf(stat))
    return float(min(1.0, 2 * dist.sf(abs(stat))))


def _interval(center: float, se: float, dist: Any, alpha: float, alternative: str
              ) -> tuple[float, float]:
    if alternative == "two-sided":
        q = float(dist.ppf(1 - alpha / 2))
        return center - q * se, center + q * se
    q = float(dist.ppf(1 - alpha))
    if alternative == "greater":
        return center - q * se, math.inf
    return -math.inf, center + q * se


class Proportion(Metric):
    """Share of units with a 0/1 outcome (e.g. conversion).

    Parameters
    ----------
    column : str
        0/1 (or boolean) outcome per unit.
    test : {"wald", "pooled"}
        ``"wald"``: z-test with the unpooled variance ``p_c(1−p_c)/n_c + p_t(1−p_t)/n_t``
        (consistent with the Wald interval); ``"pooled"``: the classic two-proportion z-test
        with the pooled proportion under H0 (equivalent to Pearson's chi-square without
        continuity correction). The interval is the Wald interval in both cases.
    **options
        See :class:`Metric` (``use_t`` is not available: proportions use the normal).

    Notes
    -----
    The per-arm estimate is ``p = Σx / n`` with variance ``p(1 − p)/n``.
    """

    kind = "proportion"

    def __init__(self, column: str, *, test: str = "wald", **options: Any) -> None:
        if options.get("use_t"):
            raise ParameterError("proportions are compared with z-tests", parameter="use_t",
                                 expected="False or not given", got=True)
        options["use_t"] = False
        super().__init__(**options)
        self.column = check_name(column, "column")
        self.test = check_choice(test, "test", ("wald", "pooled"))
        if self.test == "pooled" and self.margin is not None:
            raise ParameterError("non-inferiority tests use the unpooled (Wald) variance",
                                 parameter="test", expected="'wald'", got=test)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        return f"share of {self.column}"

    def _parts(self) -> tuple[str, None, None, None]:
        return self.column, None, None, None

    def _check_binary(self, g: GroupStats) -> None:
        spec = g.specs.get(self.column)
        if spec is not None and spec.kind != "int":
            raise DataError("a proportion needs an integer or boolean 0/1 column",
                            column=self.column, expected="booleans or integers 0/1",
                            got=f"{spec.kind} values",
                            hint="convert it, e.g. df[col].astype(int)")
        s, sq = g.sums[self.column], g.cross[pair_key(self.column, self.column)]
        # for integers x(x − 1) >= 0, with equality only at 0 and 1: Σx² = Σx exactly
        # when every value is 0 or 1
        if s != sq:
            raise DataError("a proportion needs 0/1 values", column=self.column,
                            expected="only 0 and 1 (or booleans)")

    def estimate(self, g: GroupStats, *, theta: float = 0.0,
                 covariate_mean: float = 0.0) -> ArmEstimate:
        self._check_binary(g)
        if g.n < 1:
            raise DataError("an arm has no units", parameter="data")
        p = g.mean(self.column)
        v = p * (1 - p)
        return ArmEstimate(p, v / g.n, v, g.n, p, v / g.n)

    def test_name(self) -> str:
        return "two-proportion z-test (pooled)" if self.test == "pooled" else \
            "two-proportion z-test (Wald)"

    def _p_value(self, centred: float, se: float, dist: Any, alternative: str,
                 ec: ArmEstimate, et: ArmEstimate) -> tuple[float, float]:
        if self.test == "pooled":
            p = (ec.value * ec.n + et.value * et.n) / (ec.n + et.n)
            se0 = math.sqrt(p * (1 - p) * (1 / ec.n + 1 / et.n))
            if se0 == 0:
                return 0.0, 1.0
            stat = centred / se0
            return stat, _p_from_stat(stat, dist, alternative)
        return super()._p_value(centred, se, dist, alternative, ec, et)


class Mean(Metric):
    """Mean of a per-unit value (e.g. revenue per user), optionally with CUPED.

    Parameters
    ----------
    column : str
        Per-unit value.
    covariate : str, optional
        Pre-period value of the same (or a correlated) quantity for CUPED.
    **options
        See :class:`Metric`; ``use_t`` defaults to True (Welch's t-test, as
        ``scipy.stats.ttest_ind(equal_var=False)``).
    """

    kind = "mean"
    default_use_t = True

    def __init__(self, column: str, *, covariate: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.column = check_name(column, "column")
        self.covariate = None if covariate is None else check_name(covariate, "covariate")
        if self.covariate == self.column:
            raise ParameterError("the covariate must differ from the metric column",
                                 parameter="covariate", got=covariate)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,) if self.covariate is None else (self.column, self.covariate)

    def describe(self) -> str:
        return f"mean of {self.column}"

    def _parts(self) -> tuple[str, None, str | None, None]:
        return self.column, None, self.covariate, None


class Ratio(Metric):
    """Ratio of two per-unit sums (e.g. revenue per session), by the delta method.

    Parameters
    ----------
    numerator, denominator : str
        Per-unit totals; the metric is ``Σ numerator / Σ denominator`` in each arm.
    numerator_covariate, denominator_covariate : str, optional
        Pre-period totals for CUPED on the ratio (Deng et al. 2018, section 4). Give the
        numerator covariate alone to adjust with a mean covariate.
    **options
        See :class:`Metric`; ``use_t`` defaults to False (normal, the delta method is
        asymptotic).
    """

    kind = "ratio"

    def __init__(self, numerator: str, denominator: str, *,
                 numerator_covariate: str | None = None,
                 denominator_covariate: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.numerator = check_name(numerator, "numerator")
        self.denominator = check_name(denominator, "denominator")
        if numerator == denominator:
            raise ParameterError("numerator and denominator must differ",
                                 parameter="denominator", got=denominator)
        if denominator_covariate is not None and numerator_covariate is None:
            raise ParameterError("a denominator covariate needs a numerator covariate",
                                 parameter="numerator_covariate", got=None)
        self.numerator_covariate = numerator_covariate
        self.denominator_covariate = denominator_covariate

    @property
    def columns(self) -> tuple[str, ...]:
        cols = [self.numerator, self.denominator, self.numerator_covariate,
                self.denominator_covariate]
        return tuple(dict.fromkeys(c for c in cols if c is not None))

    def describe(self) -> str:
        return f"{self.numerator} / {self.denominator}"

    def _parts(self) -> tuple[str, str, str | None, str | None]:
        return (self.numerator, self.denominator, self.numerator_covariate,
                self.denominator_covariate)
