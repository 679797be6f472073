"""Experiments: A/B test design and analysis, and causal designs for campaigns.

* A/B tests (modules directly in this package): sample size and power, assignment, sample-ratio
  checks, frequentist, Bayesian and sequential analysis on sufficient statistics.
* Causal designs for campaigns that could not be randomised: ``researchkit.experiments.causal``
  (difference-in-differences, event studies, synthetic control, interrupted time series,
  propensity scores).

A/B modules (one idea each):

======================  ============================================================
``design``              sample size, power, MDE for proportions and means; duration
``planning``            design inputs (baseline, sd, CUPED reduction) from history
``assignment``          deterministic hash assignment of units to arms; balance check
``statistics``          sufficient statistics (counts, sums, cross-products)
``aggregation``         pandas and DuckDB aggregation (the SQL lives here), event roll-ups
``metrics``             Proportion, Mean, Ratio: declared aggregates, delta method, CUPED
``frequentist``         two-arm comparisons: z / Welch tests, lifts, non-inferiority
``variance_reduction``  CUPED report and adjusted values
``srm``                 sample-ratio-mismatch check
``multiple``            Holm / Bonferroni / Benjamini–Hochberg corrections
``bayesian``            beta-binomial and normal models: P(beat control), expected loss
``sequential``          group-sequential boundaries (alpha spending), confidence sequences
``analysis``            ``analyze``: SRM first, every metric and arm, segments
``figures``             plots for the A/B notebooks
======================  ============================================================

The causal designs' main classes and ``did`` are also importable from this package.
Importing this package is cheap; numpy/pandas load on first use of a function.
"""

from __future__ import annotations

from researchkit._lazy import lazy_exports

_EXPORTS = {
    # design
    "DesignResult": "design", "comparison_alpha": "design", "mde_means": "design",
    "mde_proportions": "design", "power_means": "design", "power_proportions": "design",
    "sample_size_means": "design", "sample_size_proportions": "design",
    "experiment_duration": "design",
    # assignment
    "assign": "assignment", "balance_check": "assignment", "hash_unit": "assignment",
    # statistics and aggregation
    "ColumnSpec": "statistics", "GroupStats": "statistics", "SufficientStats": "statistics",
    "aggregate": "aggregation", "aggregation_sql": "aggregation", "rollup_events": "aggregation",
    "rollup_sql": "aggregation",
    # metrics and tests
    "Comparison": "metrics", "Mean": "metrics", "Metric": "metrics", "Proportion": "metrics",
    "Ratio": "metrics",
    "ComparisonResult": "frequentist", "compare_arms": "frequentist",
    "compare_means": "frequentist", "compare_proportions": "frequentist",
    "compare_ratios": "frequentist",
    "cuped": "variance_reduction", "cuped_adjust": "variance_reduction",
    "cuped_variance_reduction": "variance_reduction",
    "SRMResult": "srm", "SampleRatioMismatchWarning": "srm", "srm_check": "srm",
    "adjust_pvalues": "multiple",
    # Bayesian and sequential
    "BayesResult": "bayesian", "bayes_means": "bayesian", "bayes_proportions": "bayesian",
    "beta_binomial": "bayesian", "prob_beta_greater": "bayesian",
    "GroupSequentialDesign": "sequential", "confidence_sequence": "sequential",
    "cumulative_looks": "sequential", "group_sequential_design": "sequential",
    "look_estimates": "sequential", "sequential_monitor": "sequential",
    "spending_function": "sequential",
    # experiment-level analysis
    "ExperimentResult": "analysis", "analyze": "analysis", "units_source": "analysis",
    "planning_inputs": "planning",
    # causal designs (researchkit.experiments.causal)
    "did": "causal",
    "DifferenceInDifferences": "causal",
    "EventStudy": "causal",
    "CallawaySantAnna": "causal",
    "SyntheticControl": "causal",
    "InterruptedTimeSeries": "causal",
    "PropensityScoreWeighting": "causal",
    "PropensityScoreMatching": "causal",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
