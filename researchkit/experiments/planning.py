"""Design inputs from historical data: baseline value and per-unit standard deviation.

Sample-size formulas need the baseline value of a metric and the standard deviation of one
unit's contribution. For a proportion that is ``sqrt(p(1−p))``; for a mean the sample standard
deviation; for a ratio metric (revenue per session) the standard deviation of its delta-method
linearisation ``(Y − R·D) / D̄`` (Deng, Knoblich & Lu 2018), so that
``Var(R̂) ≈ sd² / n`` as for a mean. With a covariate, the CUPED variance reduction is
estimated too. Feed the result to :func:`researchkit.experiments.sample_size_means`.
"""

from __future__ import annotations

import math
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments.metrics import Metric, Proportion
from researchkit.experiments.statistics import SufficientStats
from researchkit.results import Result

__all__ = ["planning_inputs"]


def planning_inputs(data: Any, metric: Metric, *, arm: str | None = None,
                    decimals: Any = None) -> Result:
    """Baseline value, per-unit standard deviation and CUPED reduction of a metric.

    Parameters
    ----------
    data : DataFrame, Parquet path, DuckDB relation or SufficientStats
        Historical or pre-period data, one row per unit. All arms (if any) are pooled.
    metric : Proportion, Mean or Ratio
    arm : str, optional
        Arm column, if the data come from an earlier experiment (all rows are pooled when
        it is not given).
    decimals : int or dict, optional
        See :func:`researchkit.experiments.aggregate`.

    Returns
    -------
    Result
        ``estimate`` = baseline value; ``details``: ``sd`` (per unit, unadjusted),
        ``sd_cuped`` and ``variance_reduction`` (with a covariate), ``n``.
    """
    import pandas as pd

    from researchkit.experiments.aggregation import aggregate

    if not isinstance(metric, Metric):
        raise ParameterError("expected a metric", parameter="metric", got=metric)
    con = None
    if isinstance(data, SufficientStats):
        stats = data
    else:
        if arm is None:  # one pooled group: add a constant arm column
            arm = "__pool__"
            if isinstance(data, pd.DataFrame):
                data = data.assign(__pool__=0)
            else:
                import duckdb

                from researchkit.experiments.aggregation import _ParquetSource

                con = duckdb.connect()
                if hasattr(data, "query") and hasattr(data, "columns"):  # a DuckDB relation
                    data = data.query("__rk_h", "SELECT *, 0 AS __pool__ FROM __rk_h")
                else:
                    data = con.sql(f"SELECT *, 0 AS __pool__ FROM "
                                   f"{_ParquetSource(data).from_sql}")
        try:
            stats = aggregate(data, arm=arm, columns=list(metric.columns), pairs=metric.pairs,
                              decimals=decimals)
        finally:
            if con is not None:
                con.close()
    pooled = None
    for a in stats.arms:
        pooled = stats.group(a) if pooled is None else pooled + stats.group(a)
    assert pooled is not None
    raw = metric.estimate(pooled)
    sd = math.sqrt(raw.unit_variance)
    details: dict[str, Any] = {"sd": sd, "n": pooled.n}
    if not isinstance(metric, Proportion) and metric._parts()[2] is not None:
        theta, cpool = metric.cuped_theta(pooled)
        adj = metric.estimate(pooled, theta=theta, covariate_mean=cpool)
        unadjusted = raw.raw_variance * pooled.n
        details["sd"] = math.sqrt(unadjusted)
        details["sd_cuped"] = math.sqrt(adj.unit_variance)
        details["variance_reduction"] = 1 - adj.unit_variance / unadjusted \
            if unadjusted > 0 else 0.0
        details["theta"] = theta
    return Result(
        name=f"Planning inputs: {metric.describe()}", estimate=raw.raw_value, n=pooled.n,
        method=("baseline = pooled value; sd = per-unit standard deviation"
                + (" of the delta-method linearisation" if metric.kind == "ratio" else "")
                + ("; CUPED reduction from the pooled covariance" if "sd_cuped" in details
                   else "")),
        details=details, reference="Deng, Knoblich & Lu (2018); Deng et al. (2013)")
