"""Causal designs for campaigns that could not be randomised.

One class per research design, each fitted on construction and exposing ``result`` (a
:class:`~researchkit.results.Result` with ``estimate``, ``ci``, ``p_value`` and a ``method``
text), a detail table and ``plot()``; the checks (placebo, pre-trend, balance) live apart in
:mod:`researchkit.experiments.causal.checks`, as in CausalPy.

========================================  ===================================================
Design                                    Use when
========================================  ===================================================
:class:`DifferenceInDifferences`, did()   treated and control groups observed before/after
:class:`EventStudy`                       effects by period since start; pre-trend check
:class:`CallawaySantAnna`                 staggered roll-out, effects that vary over time
:func:`goodman_bacon`, twfe_weights()     diagnose two-way fixed effects under staggering
:class:`SyntheticControl`                 one (or a few) treated regions, many donors
:class:`InterruptedTimeSeries`            one treated series, unaffected control series
:func:`segmented_regression`              classic ITS: level and slope change, HAC errors
:class:`PropensityScoreWeighting`         observational units, measured confounders
:class:`PropensityScoreMatching`          same, matched comparison group
========================================  ===================================================

Examples
--------
>>> import researchkit.datasets as ds
>>> from researchkit.experiments.causal import did
>>> data, truth = ds.regional_sales_panel(seed=1)
>>> result = did(data, "sales", "treated", "post", unit="store", time="week", cluster="region")
"""

from researchkit.experiments.causal import checks
from researchkit.experiments.causal.callaway_santanna import CallawaySantAnna
from researchkit.experiments.causal.did import DifferenceInDifferences, did
from researchkit.experiments.causal.event_study import EventStudy
from researchkit.experiments.causal.its import InterruptedTimeSeries, segmented_regression
from researchkit.experiments.causal.narrative import design_narrative
from researchkit.experiments.causal.panel_tools import aggregate_panel, did_columns
from researchkit.experiments.causal.propensity import (
    PropensityScoreMatching,
    PropensityScoreWeighting,
)
from researchkit.experiments.causal.staggered import (
    adoption_summary,
    goodman_bacon,
    plot_goodman_bacon,
    twfe_weights,
)
from researchkit.experiments.causal.synthetic_control import SyntheticControl, simplex_weights

__all__ = [
    "CallawaySantAnna",
    "DifferenceInDifferences",
    "EventStudy",
    "InterruptedTimeSeries",
    "PropensityScoreMatching",
    "PropensityScoreWeighting",
    "SyntheticControl",
    "adoption_summary",
    "aggregate_panel",
    "checks",
    "design_narrative",
    "did",
    "did_columns",
    "goodman_bacon",
    "plot_goodman_bacon",
    "segmented_regression",
    "simplex_weights",
    "twfe_weights",
]
