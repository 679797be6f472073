"""Frequentist comparison of two arms: differences, relative lifts, non-inferiority.

:func:`compare_arms` compares one metric between a control and a treatment arm from
sufficient statistics. The ``compare_*`` functions do the same from a DataFrame (or a Parquet
path, or a DuckDB relation) and column names, pingouin style:

>>> import researchkit.datasets as ds
>>> users = ds.ab_test_users(n=4000, seed=1).data
>>> res = compare_means(users, "revenue", arm="arm", decimals=2)
>>> res.statistic_name
't'

The tests (see :mod:`researchkit.experiments.metrics` for the formulas):

* proportions — two-proportion z-test, Wald (unpooled) or pooled under H0, with the Wald CI;
* means — Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom), as
  ``scipy.stats.ttest_ind(equal_var=False)``;
* ratios — delta-method z-test (Deng, Knoblich & Lu 2018);
* relative lift ``treatment / control − 1`` with a delta-method CI (or log-ratio CI);
* non-inferiority: give ``margin=`` (absolute or relative); H0: the treatment is worse than
  control by at least the margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments.metrics import Comparison, Mean, Metric, Proportion, Ratio
from researchkit.experiments.statistics import SufficientStats
from researchkit.results import Result

__all__ = [
    "ComparisonResult",
    "choose_control",
    "compare_arms",
    "compare_means",
    "compare_proportions",
    "compare_ratios",
    "describe_test",
]

REFERENCES = (
    "Kohavi, Tang & Xu (2020), Trustworthy Online Controlled Experiments, ch. 17-18; "
    "Deng, Knoblich & Lu (2018), Applying the delta method in metric analytics, KDD; "
    "Welch (1947), Biometrika 34:28-35"
)


@dataclass(eq=False)
class ComparisonResult(Result):
    """Result of one treatment-vs-control comparison; ``comparison`` holds every number."""

    comparison: Comparison | None = None


def choose_control(stats: SufficientStats, control: Any = None) -> Any:
    """The control arm: ``control`` if given, else an arm named "control", else the first."""
    arms = stats.arms
    if control is not None:
        if control not in arms:
            raise ParameterError("no such arm", parameter="control",
                                 expected=f"one of {list(arms)}", got=control)
        return control
    for a in arms:
        if isinstance(a, str) and a.lower() in ("control", "a", "baseline"):
            return a
    return arms[0]


def describe_test(metric: Metric, comparison: Comparison) -> str:
    """Plain-words method text for one comparison."""
    level = f"{comparison.ci_level:.0%}"
    if isinstance(metric, Proportion):
        core = ("two-proportion z-test with the pooled proportion under H0"
                if metric.test == "pooled" else
                "two-proportion z-test with the unpooled (Wald) variance")
        core += f"; Wald {level} CI for the difference"
    elif isinstance(metric, Ratio):
        core = ("ratio of per-unit sums with a delta-method variance (units, not "
                "sessions, are independent); " + ("Welch t" if metric.use_t else "z")
                + f"-test and {level} CI")
    else:
        core = ("Welch's t-test (unequal variances, Welch–Satterthwaite df)"
                if metric.use_t else "z-test on the difference of means")
        core += f"; {level} CI for the difference"
    if isinstance(metric, Mean | Ratio) and comparison.theta is not None:
        core += (f"; CUPED with a pre-period covariate (θ = {comparison.theta:.4g} from the "
                 f"pooled arms; variance reduced by {comparison.variance_reduction:.1%})")
    rel = ("delta-method CI for the relative lift" if metric.relative_ci == "delta"
           else "log-ratio delta-method CI for the relative lift")
    if comparison.margin is not None:
        direction = "higher" if metric.higher_is_better else "lower"
        hyp = (f"non-inferiority test: H0 says the treatment is worse than control by at least "
               f"{comparison.margin:.4g} ({direction} is better); one-sided, with a one-sided "
               f"{level} bound")
    elif comparison.alternative == "two-sided":
        hyp = "two-sided test"
    else:
        hyp = f"one-sided test (treatment {comparison.alternative} than control), one-sided CI"
    return f"{core}; {rel}; {hyp}; no correction for multiple comparisons"


def compare_arms(stats: SufficientStats, metric: Metric, *, control: Any = None,
                 treatment: Any = None, alpha: float = 0.05, name: str | None = None
                 ) -> ComparisonResult:
    """Compare one metric between a treatment and a control arm.

    Parameters
    ----------
    stats : SufficientStats
        From :func:`researchkit.experiments.aggregate` (must contain ``metric.columns``).
    metric : Proportion, Mean or Ratio
    control, treatment : arm values, optional
        Default control: an arm named "control" (else the first arm); default treatment: the
        only other arm (an error if there are several).
    alpha : float
        Significance level; the CI has level ``1 − alpha``.
    name : str, optional
        Metric name for the output.

    Returns
    -------
    ComparisonResult
        ``estimate`` = treatment − control, ``ci``, ``p_value``; ``details`` has the
        relative lift and its CI (and the CUPED variance reduction); ``table`` one row.

    References
    ----------
    Kohavi, Tang & Xu (2020); Deng, Knoblich & Lu (2018); Deng, Xu, Kohavi & Walker (2013).
    """
    if not isinstance(metric, Metric):
        raise ParameterError("expected a metric", parameter="metric",
                             expected="Proportion(...), Mean(...) or Ratio(...)",
                             got=type(metric).__name__)
    missing = [c for c in metric.columns if c not in stats.specs]
    if missing:
        raise ParameterError("the statistics do not contain the metric's columns",
                             parameter="metric", expected=f"columns among {list(stats.specs)}",
                             got=missing)
    control = choose_control(stats, control)
    others = [a for a in stats.arms if a != control]
    if treatment is None:
        if len(others) != 1:
            raise ParameterError("several treatment arms: say which one to compare",
                                 parameter="treatment", expected=f"one of {others}", got=None)
        treatment = others[0]
    elif treatment not in others:
        raise ParameterError("no such treatment arm", parameter="treatment",
                             expected=f"one of {others}", got=treatment)
    label = name or metric.describe()
    comp = metric.compare(stats.group(control), stats.group(treatment), name=label,
                          control_name=control, treatment_name=treatment, alpha=alpha)
    return comparison_result(metric, comp)


def comparison_result(metric: Metric, comp: Comparison) -> ComparisonResult:
    """Wrap a :class:`Comparison` as a :class:`ComparisonResult`."""
    import pandas as pd

    details: dict[str, Any] = {
        "control": comp.control, "treatment": comp.treatment,
        "control_value": comp.control_value, "treatment_value": comp.treatment_value,
        "relative_lift": comp.relative,
        "relative_ci": [comp.relative_ci_low, comp.relative_ci_high],
        "std_error": comp.std_error, "alternative": comp.alternative,
    }
    if comp.variance_reduction is not None:
        details["variance_reduction"] = comp.variance_reduction
        details["theta"] = comp.theta
    if comp.margin is not None:
        details["margin"] = comp.margin
        details["non_inferior"] = comp.p_value < 1 - comp.ci_level + 1e-15
    return ComparisonResult(
        name=f"{comp.metric}: {comp.treatment} vs {comp.control}",
        estimate=comp.difference, ci=(comp.ci_low, comp.ci_high), ci_level=comp.ci_level,
        p_value=comp.p_value, statistic=comp.statistic, statistic_name=comp.statistic_name,
        df=comp.df, n=comp.n_control + comp.n_treatment,
        method=describe_test(metric, comp), table=pd.DataFrame([comp.as_row()]),
        details=details, warnings=list(comp.warnings), reference=REFERENCES,
        comparison=comp)


def _run(data: Any, metric: Metric, arm: str, control: Any, treatment: Any, alpha: float,
         decimals: Any) -> ComparisonResult:
    from researchkit.experiments.aggregation import aggregate

    if isinstance(data, SufficientStats):
        stats = data
    else:
        stats = aggregate(data, arm=arm, columns=list(metric.columns), pairs=metric.pairs,
                          decimals=decimals)
    return compare_arms(stats, metric, control=control, treatment=treatment, alpha=alpha)


def compare_proportions(data: Any, outcome: str, *, arm: str = "arm", control: Any = None,
                        treatment: Any = None, alpha: float = 0.05, test: str = "wald",
                        **options: Any) -> ComparisonResult:
    """Compare a 0/1 outcome (conversion) between two arms.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
        One row per unit.
    outcome : str
        0/1 or boolean column.
    arm : str
        Arm column.
    control, treatment, alpha
        See :func:`compare_arms`.
    test : {"wald", "pooled"}
        Variance used by the z-test (see :class:`~researchkit.experiments.metrics.Proportion`).
    **options
        ``alternative``, ``relative_ci``, ``margin``, ``margin_type``, ``higher_is_better``.

    Notes
    -----
    ``z = (p_t − p_c) / sqrt(p_c(1−p_c)/n_c + p_t(1−p_t)/n_t)``; statsmodels'
    ``test_proportions_2indep(method="wald", correction=False)`` gives the same numbers.
    """
    return _run(data, Proportion(outcome, test=test, **options), arm, control, treatment,
                alpha, None)


def compare_means(data: Any, outcome: str, *, arm: str = "arm", covariate: str | None = None,
                  control: Any = None, treatment: Any = None, alpha: float = 0.05,
                  decimals: Any = None, **options: Any) -> ComparisonResult:
    """Compare the mean of a per-unit value between two arms (Welch's t-test; CUPED).

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
    outcome : str
        Per-unit value (e.g. revenue).
    covariate : str, optional
        Pre-period covariate for CUPED.
    decimals : int or dict, optional
        Decimals of float columns, for exact sums (see :func:`aggregate`).
    **options
        ``alternative``, ``use_t``, ``relative_ci``, ``margin``, ``margin_type``,
        ``higher_is_better``.

    Notes
    -----
    ``t = (ȳ_t − ȳ_c) / sqrt(s_t²/n_t + s_c²/n_c)`` with Welch–Satterthwaite df, as
    ``scipy.stats.ttest_ind(equal_var=False)``.
    """
    return _run(data, Mean(outcome, covariate=covariate, **options), arm, control, treatment,
                alpha, decimals)


def compare_ratios(data: Any, numerator: str, denominator: str, *, arm: str = "arm",
                   control: Any = None, treatment: Any = None, alpha: float = 0.05,
                   decimals: Any = None, **options: Any) -> ComparisonResult:
    """Compare a ratio metric (e.g. revenue per session) with the delta method.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
        One row per randomisation unit with its numerator and denominator totals.
    numerator, denominator : str
    **options
        ``numerator_covariate``, ``denominator_covariate`` (CUPED), ``alternative``,
        ``use_t``, ``relative_ci``, ``margin``, ``margin_type``, ``higher_is_better``.
    """
    return _run(data, Ratio(numerator, denominator, **options), arm, control, treatment,
                alpha, decimals)
