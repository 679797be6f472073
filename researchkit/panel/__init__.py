"""Panels: the same respondents asked at equal intervals.

* :mod:`~researchkit.panel.layout`: long-format panel tables (one row per respondent-wave),
  wave order, pairing consecutive waves, wide format;
* :mod:`~researchkit.panel.validation`: :func:`validate_panel`, every problem in one table;
* :mod:`~researchkit.panel.attrition`: :func:`attrition_table`, :func:`attrition_bias`;
* :mod:`~researchkit.panel.switching`: :func:`switching_matrix`, :func:`gains_losses`,
  :func:`net_change_by_wave`, :func:`brand_shares`;
* :mod:`~researchkit.panel.loyalty`: :func:`repeat_buying`, :func:`duplication`;
* :mod:`~researchkit.panel.forecast`: :func:`markov_forecast` (with steady state and bootstrap
  intervals), :func:`transition_homogeneity`;
* :mod:`~researchkit.panel.regression`: :func:`fixed_effects` (within estimator, clustered
  standard errors);
* :mod:`~researchkit.panel.figures`: house-style figures of these results.

Transition matrices, forecasts and steady states use the shared :mod:`researchkit.markov`.
"""

from researchkit.panel.attrition import AttritionBias, attrition_bias, attrition_table
from researchkit.panel.figures import (
    plot_forecast,
    plot_gains_losses,
    plot_retention,
    plot_switching,
)
from researchkit.panel.forecast import MarkovForecast, markov_forecast, transition_homogeneity
from researchkit.panel.layout import PanelFrame, panel_frame, to_wide, wave_levels, wave_pairs
from researchkit.panel.loyalty import Duplication, duplication, repeat_buying
from researchkit.panel.regression import PanelRegression, fixed_effects
from researchkit.panel.switching import (
    SwitchingFlows,
    SwitchingMatrix,
    brand_shares,
    gains_losses,
    net_change_by_wave,
    switching_matrix,
)
from researchkit.panel.validation import PanelValidation, validate_panel

__all__ = [
    "AttritionBias",
    "Duplication",
    "MarkovForecast",
    "PanelFrame",
    "PanelRegression",
    "PanelValidation",
    "SwitchingFlows",
    "SwitchingMatrix",
    "attrition_bias",
    "attrition_table",
    "brand_shares",
    "duplication",
    "fixed_effects",
    "gains_losses",
    "markov_forecast",
    "net_change_by_wave",
    "panel_frame",
    "plot_forecast",
    "plot_gains_losses",
    "plot_retention",
    "plot_switching",
    "repeat_buying",
    "switching_matrix",
    "to_wide",
    "transition_homogeneity",
    "validate_panel",
    "wave_levels",
    "wave_pairs",
]
