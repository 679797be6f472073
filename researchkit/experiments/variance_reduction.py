"""CUPED: variance reduction with a pre-period covariate.

CUPED (Controlled-experiment Using Pre-Experiment Data; Deng, Xu, Kohavi & Walker 2013)
replaces the outcome ``Y`` by ``Y − θ (X − X̄)``, where ``X`` is the same quantity measured
before the experiment (so the treatment cannot affect it) and

.. math:: \\theta = \\frac{\\operatorname{Cov}(Y, X)}{\\operatorname{Var}(X)}

from the pooled units of both arms. The adjusted difference is unbiased and its variance is
reduced by the factor ``1 − ρ²`` (``ρ`` = correlation of ``Y`` and ``X``), which is the same
as multiplying the sample size by ``1 / (1 − ρ²)``.

The estimator itself lives in the metrics (``Mean(column, covariate=...)`` and ``Ratio(...,
numerator_covariate=...)``); this module reports it side by side with the unadjusted
analysis and gives the adjusted per-unit values.
"""

from __future__ import annotations

from typing import Any

from researchkit.experiments.aggregation import aggregate
from researchkit.experiments.frequentist import choose_control, compare_arms
from researchkit.experiments.metrics import Mean
from researchkit.experiments.statistics import SufficientStats
from researchkit.results import Result

__all__ = ["cuped", "cuped_adjust", "cuped_variance_reduction"]

REFERENCE = ("Deng, Xu, Kohavi & Walker (2013), Improving the sensitivity of online controlled "
             "experiments by utilizing pre-experiment data, WSDM")


def _stats(data: Any, outcome: str, covariate: str, arm: str, decimals: Any
           ) -> SufficientStats:
    if isinstance(data, SufficientStats):
        return data
    return aggregate(data, arm=arm, columns=[outcome, covariate], pairs=Mean(
        outcome, covariate=covariate).pairs, decimals=decimals)


def cuped(data: Any, outcome: str, covariate: str, *, arm: str = "arm", control: Any = None,
          treatment: Any = None, alpha: float = 0.05, decimals: Any = None, **options: Any
          ) -> Result:
    """Difference of means with and without CUPED, and the variance reduction.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
        One row per unit with the outcome and its pre-period covariate.
    outcome, covariate : str
    arm, control, treatment, alpha, decimals
        See :func:`researchkit.experiments.compare_means`.
    **options
        Passed to :class:`~researchkit.experiments.metrics.Mean` (``alternative``,
        ``use_t``, ``relative_ci``, ``margin``...).

    Returns
    -------
    Result
        ``estimate`` = CUPED difference (treatment − control) with its CI and p-value;
        ``table`` has the unadjusted and CUPED rows; ``details`` has ``theta``,
        ``variance_reduction`` (1 − Var_cuped / Var_raw of the difference), the pooled
        correlation and the equivalent sample-size multiplier.

    Notes
    -----
    With θ estimated from the pooled arms the reduction is close to ``ρ²`` (it differs only
    by the between-arm differences of the covariate and by sampling noise).

    References
    ----------
    Deng, A., Xu, Y., Kohavi, R. & Walker, T. (2013). WSDM '13, eq. (3)-(4).
    """
    import math

    import pandas as pd

    stats = _stats(data, outcome, covariate, arm, decimals)
    control = choose_control(stats, control)
    raw = compare_arms(stats, Mean(outcome, **options), control=control, treatment=treatment,
                       alpha=alpha, name=f"mean of {outcome}")
    adj = compare_arms(stats, Mean(outcome, covariate=covariate, **options), control=control,
                       treatment=treatment, alpha=alpha, name=f"mean of {outcome} (CUPED)")
    ca, cr = adj.comparison, raw.comparison
    pooled = stats.group(ca.control) + stats.group(ca.treatment)
    vy, vx, cxy = pooled.var(outcome), pooled.var(covariate), pooled.cov(outcome, covariate)
    rho = cxy / math.sqrt(vx * vy) if vx > 0 and vy > 0 else float("nan")
    vr = ca.variance_reduction or 0.0
    table = pd.DataFrame([{"analysis": "unadjusted", **cr.as_row()},
                          {"analysis": "CUPED", **ca.as_row()}])
    return Result(
        name=f"CUPED: mean of {outcome}, {ca.treatment} vs {ca.control}",
        estimate=ca.difference, ci=(ca.ci_low, ca.ci_high), ci_level=ca.ci_level,
        p_value=ca.p_value, statistic=ca.statistic, statistic_name=ca.statistic_name,
        df=ca.df, n=ca.n_control + ca.n_treatment, table=table,
        method=adj.method + f"; unadjusted analysis for comparison: {raw.method}",
        details={"theta": ca.theta, "variance_reduction": vr, "correlation": rho,
                 "sample_size_multiplier": 1 / (1 - vr) if vr < 1 else float("inf"),
                 "unadjusted_difference": cr.difference,
                 "unadjusted_ci": [cr.ci_low, cr.ci_high], "unadjusted_p_value": cr.p_value,
                 "relative_lift": ca.relative,
                 "relative_ci": [ca.relative_ci_low, ca.relative_ci_high]},
        warnings=list(adj.warnings), reference=REFERENCE)


def cuped_adjust(data: Any, outcome: str, covariate: str) -> tuple[Any, float]:
    """CUPED-adjusted per-unit values ``Y − θ (X − X̄)`` of a DataFrame, and ``θ``.

    ``θ = Cov(Y, X) / Var(X)`` over all rows (pooled arms). Use the adjusted column in any
    other analysis (a regression, a plot) that should benefit from the variance reduction.

    Parameters
    ----------
    data : DataFrame
    outcome, covariate : str

    Returns
    -------
    (Series, float)
    """
    import numpy as np
    import pandas as pd

    from researchkit.errors import DataError
    from researchkit.experiments._checks import check_columns

    if not isinstance(data, pd.DataFrame):
        raise DataError("cuped_adjust needs a DataFrame", parameter="data",
                        got=type(data).__name__)
    check_columns([outcome, covariate], [str(c) for c in data.columns], parameter="outcome")
    y = data[outcome].to_numpy(dtype=np.float64)
    x = data[covariate].to_numpy(dtype=np.float64)
    if not (np.isfinite(y).all() and np.isfinite(x).all()):
        raise DataError("missing or non-finite values", column=outcome
                        if not np.isfinite(y).all() else covariate)
    xc = x - x.mean()
    vx = float(xc @ xc)
    theta = float(xc @ (y - y.mean())) / vx if vx > 0 else 0.0
    return pd.Series(y - theta * xc, index=data.index, name=f"{outcome}_cuped"), theta


def cuped_variance_reduction(data: Any, outcome: str, covariate: str, *, arm: str | None = None,
                             decimals: Any = None) -> float:
    """Expected variance reduction ``ρ²`` from pre-period data (for planning).

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
        Historical (or pre-period) data with the outcome and the covariate.
    arm : str, optional
        Arm column, if the data come from an experiment (the arms are pooled).

    Returns
    -------
    float
        ``ρ²``: the CUPED variance of a difference is ``1 − ρ²`` times the raw one, so the
        required sample size shrinks by the same factor.
    """
    import math

    import pandas as pd

    if isinstance(data, SufficientStats):
        stats = data
    else:
        if arm is None:
            if not isinstance(data, pd.DataFrame):
                from researchkit.errors import ParameterError

                raise ParameterError("give the arm column (or a DataFrame)", parameter="arm")
            data = data.assign(__all__=0)
            arm = "__all__"
        stats = _stats(data, outcome, covariate, arm, decimals)
    pooled = None
    for a in stats.arms:
        pooled = stats.group(a) if pooled is None else pooled + stats.group(a)
    vy, vx, c = pooled.var(outcome), pooled.var(covariate), pooled.cov(outcome, covariate)
    if not (vx > 0 and vy > 0):
        return 0.0
    return (c / math.sqrt(vx * vy)) ** 2
