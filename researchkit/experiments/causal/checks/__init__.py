"""Design checks, kept apart from the estimators (as in CausalPy).

* :func:`pretrend_test`: joint Wald test of the event-study leads (parallel pre-trends);
* :func:`placebo_in_time`: the DiD estimate with a fake treatment date in the pre-period;
* :func:`placebo_in_space`: synthetic-control placebo runs on every donor, RMSPE ratios and the
  permutation p-value;
* :func:`balance_table`, :func:`standardized_mean_difference`, :func:`love_plot`: covariate
  balance before and after propensity-score weighting or matching.
"""

from researchkit.experiments.causal.checks.balance import (
    balance_table,
    love_plot,
    standardized_mean_difference,
)
from researchkit.experiments.causal.checks.placebo import placebo_in_space, placebo_in_time
from researchkit.experiments.causal.checks.pretrend import pretrend_test

__all__ = [
    "balance_table",
    "love_plot",
    "placebo_in_space",
    "placebo_in_time",
    "pretrend_test",
    "standardized_mean_difference",
]
