"""Experiment-level A/B analysis: SRM first, then every metric and arm, then segments.

:func:`analyze` is what an analyst runs on a finished experiment:

1. aggregate the unit-level data once into sufficient statistics (pandas, or DuckDB on a
   Parquet file / relation without loading the rows);
2. **sample-ratio-mismatch check**, overall and within every segment — reported first, and a
   mismatch puts a loud warning at the top of the result;
3. every metric, every treatment arm against the control (difference, relative lift, CIs,
   p-values), with a correction for multiple comparisons over that family;
4. segment breakdowns (each segment column is its own family for the correction).

Examples
--------
>>> import researchkit.datasets as ds
>>> from researchkit.experiments import Mean, Proportion, Ratio, analyze
>>> users = ds.ab_test_users(n=20_000, seed=3).data
>>> res = analyze(users, {"conversion": Proportion("converted"),
...                       "revenue": Mean("revenue", covariate="pre_revenue"),
...                       "revenue per session": Ratio("revenue", "sessions")},
...               arm="arm", decimals=2)
>>> list(res.table["metric"])
['conversion', 'revenue', 'revenue per session']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from researchkit.errors import ParameterError
from researchkit.experiments._checks import check_alpha
from researchkit.experiments.aggregation import aggregate
from researchkit.experiments.frequentist import choose_control, describe_test
from researchkit.experiments.metrics import Metric
from researchkit.experiments.multiple import adjust_pvalues, correction_text
from researchkit.experiments.srm import SRMResult, srm_check
from researchkit.experiments.statistics import SufficientStats, pair_key
from researchkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ExperimentResult", "analyze", "collect_aggregates", "units_source"]


@dataclass(eq=False)
class ExperimentResult(Result):
    """Result of :func:`analyze`.

    Extra attributes
    ----------------
    srm : SRMResult
        The overall sample-ratio-mismatch check (read it first).
    segment_srm : DataFrame
        SRM check within every segment value.
    segments : dict
        ``segment column -> DataFrame`` of the segment breakdown.
    stats : SufficientStats
        The statistics everything was computed from.
    """

    srm: SRMResult | None = None
    segment_srm: pd.DataFrame | None = None
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    stats: SufficientStats | None = None


def collect_aggregates(metrics: Mapping[str, Metric]) -> tuple[list[str], list[tuple[str, str]]]:
    """Union of the columns and cross-products the metrics declare."""
    columns: list[str] = []
    pairs: list[tuple[str, str]] = []
    for m in metrics.values():
        for c in m.columns:
            if c not in columns:
                columns.append(c)
        for p in m.pairs:
            key = pair_key(*p)
            if key not in pairs:
                pairs.append(key)
    return columns, pairs


def _metrics(metrics: Any) -> dict[str, Metric]:
    if isinstance(metrics, Metric):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        out = dict(metrics)
    elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
        out = {}
        for m in metrics:
            if not isinstance(m, Metric):
                break
            name = m.describe()
            if name in out:
                raise ParameterError("two metrics have the same name; pass a dict of names",
                                     parameter="metrics", got=name)
            out[name] = m
    else:
        out = {}
    if not out or not all(isinstance(m, Metric) for m in out.values()) or \
            not all(isinstance(k, str) and k for k in out):
        raise ParameterError("expected metrics", parameter="metrics",
                             expected="a dict {name: Proportion(...) | Mean(...) | "
                                      "Ratio(...)} or a list of metrics", got=metrics)
    return out


def _compare_all(stats: SufficientStats, metrics: Mapping[str, Metric], control: Any,
                 alpha: float) -> tuple[list[dict[str, Any]], list[str], dict[str, str]]:
    rows, warns, methods = [], [], {}
    for name, metric in metrics.items():
        for arm in stats.arms:
            if arm == control:
                continue
            comp = metric.compare(stats.group(control), stats.group(arm), name=name,
                                  control_name=control, treatment_name=arm, alpha=alpha)
            rows.append(comp.as_row())
            warns.extend(f"{name}, {arm}: {w}" for w in comp.warnings)
            methods.setdefault(name, describe_test(metric, comp))
    return rows, warns, methods


def analyze(
    data: Any,
    metrics: Mapping[str, Metric] | Sequence[Metric],
    *,
    arm: str = "arm",
    control: Any = None,
    expected_split: Mapping[Any, float] | Sequence[float] | None = None,
    segments: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    srm_alpha: float = 0.001,
    decimals: int | Mapping[str, int] | None = None,
    engine: str = "numpy",
) -> ExperimentResult:
    """Analyse an A/B(/n) test: SRM check, every metric and arm, segment breakdowns.

    Parameters
    ----------
    data : DataFrame, Parquet path(s), DuckDB relation or SufficientStats
        One row per randomisation unit (user). Paths and relations are aggregated by DuckDB
        without loading the rows.
    metrics : dict or list
        ``{"name": Proportion(...) | Mean(...) | Ratio(...)}``.
    arm : str
        Arm (variant) column.
    control : optional
        The control arm (default: an arm named "control", else the first arm).
    expected_split : dict or sequence, optional
        Planned share of each arm for the SRM check (default: equal shares).
    segments : sequence of str
        Columns for segment breakdowns (e.g. ``["device", "visitor_type"]``).
    alpha : float
        Significance level (and family-wise error rate / FDR of the correction).
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
        Correction over the family of all (metric, treatment arm) comparisons; each segment
        column's breakdown is corrected as its own family.
    srm_alpha : float
        Threshold of the SRM chi-square test (default 0.001).
    decimals : int or dict, optional
        Decimals of float columns, for exact sums (see :func:`aggregate`).
    engine : {"numpy", "duckdb"}
        Aggregation engine for a DataFrame (see :func:`aggregate`).

    Returns
    -------
    ExperimentResult
        ``table``: one row per metric and treatment arm with the values in each arm, the
        difference and its CI, the relative lift and its CI, the p-value and the adjusted
        p-value; ``srm`` first; ``segments`` the breakdowns; ``warnings`` start with any SRM.

    References
    ----------
    Kohavi, Tang & Xu (2020), Trustworthy Online Controlled Experiments, ch. 3, 17-21;
    Fabijan et al. (2019), KDD (SRM).
    """
    import pandas as pd

    metrics = _metrics(metrics)
    alpha = check_alpha(alpha)
    if isinstance(segments, str):
        segments = [segments]
    segments = tuple(segments)
    if isinstance(data, SufficientStats):
        stats = data
        missing = [s for s in segments if s not in stats.segments]
        if missing:
            raise ParameterError("these statistics have no such segments",
                                 parameter="segments", expected=list(stats.segments),
                                 got=missing)
    else:
        columns, pairs = collect_aggregates(metrics)
        stats = aggregate(data, arm=arm, columns=columns, pairs=pairs, segments=segments,
                          decimals=decimals, engine=engine)
    if len(stats.arms) < 2:
        raise ParameterError("the data have only one arm", parameter="arm",
                             got=list(stats.arms))
    control = choose_control(stats, control)
    overall = stats.overall()

    # 1. SRM, overall and per segment value
    srm = srm_check(overall.counts(), expected_split, alpha=srm_alpha, warn=True)
    warns = list(srm.warnings)
    seg_srm_rows = []
    for seg in segments:
        for value, sub in stats.by_segment(seg).items():
            counts = {a: sub.counts().get(a, 0) for a in overall.arms}
            if sum(counts.values()) == 0:
                continue
            res = srm_check(counts, expected_split, alpha=srm_alpha, warn=False,
                            label=f"{seg} = {value}")
            seg_srm_rows.append({"segment": seg, "value": value, **{
                f"n_{a}": c for a, c in counts.items()}, "chi_square": res.statistic,
                "p_value": res.p_value, "mismatch": res.mismatch})
            if res.mismatch:
                warns.extend(res.warnings)

    # 2. every metric, every treatment arm
    rows, comp_warns, methods = _compare_all(overall, metrics, control, alpha)
    warns.extend(comp_warns)
    table = pd.DataFrame(rows)
    adj, rej = adjust_pvalues(table["p_value"].tolist(), correction, alpha=alpha)
    table["p_adjusted"] = adj
    table["significant"] = rej
    n_treat = len(overall.arms) - 1
    scope = (f"{len(metrics)} metric(s) × {n_treat} treatment arm(s) vs control "
             f"{control!r}")
    corr_text = correction_text(correction, len(table), scope)

    # 3. segment breakdowns
    seg_tables: dict[str, pd.DataFrame] = {}
    seg_texts = []
    for seg in segments:
        seg_rows = []
        for value, sub in stats.by_segment(seg).items():
            if control not in sub.arms or len(sub.arms) < 2:
                warns.append(f"segment {seg} = {value!r} lacks the control or a treatment arm; "
                             "not compared")
                continue
            if min(g.n for g in sub.groups.values()) < 2:
                warns.append(f"segment {seg} = {value!r} has an arm with fewer than 2 units; "
                             "not compared")
                continue
            r, w, _ = _compare_all(sub, metrics, control, alpha)
            for row in r:
                seg_rows.append({"segment": seg, "value": value, **row})
            warns.extend(f"{seg} = {value!r}: {x}" for x in w)
        st = pd.DataFrame(seg_rows)
        if not st.empty:
            a, b = adjust_pvalues(st["p_value"].tolist(), correction, alpha=alpha)
            st["p_adjusted"], st["significant"] = a, b
            seg_texts.append(correction_text(
                correction, len(st), f"the '{seg}' breakdown ({st['value'].nunique()} values "
                f"× metrics × treatment arms)"))
        seg_tables[seg] = st

    method_parts = [srm.method.replace("Pearson", "SRM check first: Pearson", 1)]
    method_parts += [f"{name}: {text}" for name, text in methods.items()]
    method_parts.append(f"correction: {corr_text} (adjusted p-values in 'p_adjusted'; the "
                        "confidence intervals are per comparison, not adjusted)")
    if seg_texts:
        method_parts.append("segment breakdowns (exploratory): " + "; ".join(seg_texts))
    method_parts.append(f"sufficient statistics from {stats.source}"
                        + ("" if stats.exact else " (float columns summed in float64)"))
    headline = {f"{r['metric']} [{r['treatment']}]": r["relative"] for r in rows}
    first = rows[0]
    return ExperimentResult(
        name=f"A/B test: {len(metrics)} metric(s), arms {list(overall.arms)}",
        estimate=headline, method=". ".join(method_parts) + ".",
        n=sum(overall.counts().values()), table=table,
        ci=None if len(rows) != 1 else (first["ci_low"], first["ci_high"]),
        ci_level=1 - alpha,
        details={"control": control, "correction": corr_text, "alpha": alpha,
                 "srm_p_value": srm.p_value, "srm_mismatch": srm.mismatch,
                 "counts": {str(k): v for k, v in overall.counts().items()},
                 "exact_statistics": stats.exact},
        warnings=warns,
        reference="Kohavi, Tang & Xu (2020); Fabijan et al. (2019); Deng et al. (2013, 2018)",
        srm=srm, segment_srm=pd.DataFrame(seg_srm_rows) if seg_srm_rows else None,
        segments=seg_tables, stats=stats)


def units_source(path: str) -> Any:
    """A user's unit-level data for the A/B notebooks: a Parquet path (kept on disk and
    aggregated by DuckDB) or a DataFrame (CSV, Excel, SPSS read with
    :func:`researchkit.io.read_table`).

    A relative path is resolved against the folder of the study being run (or the current
    folder outside a study).
    """
    from pathlib import Path

    from researchkit.errors import DataError
    from researchkit.io import file_sha256, read_table
    from researchkit.run_context import current_study_file, note_input

    p = Path(path).expanduser()
    if not p.is_absolute():
        study = current_study_file()
        base = study.parent if study is not None else Path.cwd()
        p = (base / p).resolve()
    if not p.is_file():
        raise DataError("file not found", file=p, parameter="data")
    if p.suffix.lower() in (".parquet", ".pq"):
        note_input(p, file_sha256(p))
        return str(p)
    return read_table(p)
