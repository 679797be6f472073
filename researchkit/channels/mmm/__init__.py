"""Marketing-mix models: what weekly spend in each channel contributes to sales.

* :mod:`~researchkit.channels.mmm.adstock` — carry-over (geometric, Weibull CDF/PDF);
* :mod:`~researchkit.channels.mmm.saturation` — diminishing returns (Hill, logistic);
* :mod:`~researchkit.channels.mmm.features` — trend, Fourier seasonality, controls;
* :mod:`~researchkit.channels.mmm.fit` — :func:`fit_mmm`: non-negative ridge regression with a
  search over transformation parameters, calibration with experiment lifts, and a moving-block
  bootstrap; ROI and marginal ROI per channel with intervals, and the sales decomposition;
* :mod:`~researchkit.channels.mmm.budget` — response curves and a budget optimiser;
* :mod:`~researchkit.channels.mmm.plots` — figures.

Example
-------
>>> import researchkit.datasets as ds                                   # doctest: +SKIP
>>> from researchkit.channels.mmm import fit_mmm                        # doctest: +SKIP
>>> data, truth = ds.simulate_marketing_mix(seed=1)                     # doctest: +SKIP
>>> res = fit_mmm(data["weekly"], y="sales", channels=truth["channels"],
...               controls=truth["controls"])                          # doctest: +SKIP
>>> res.optimize_budget().summary()                                     # doctest: +SKIP
"""

from researchkit.channels.mmm.adstock import (
    adstock,
    adstock_weights,
    geometric_adstock,
    weibull_adstock,
)
from researchkit.channels.mmm.budget import optimize_budget, response_curves
from researchkit.channels.mmm.calibration import LIFT_COLUMNS
from researchkit.channels.mmm.features import base_design, fourier_terms, trend_terms
from researchkit.channels.mmm.fit import DEFAULT_RIDGE_GRID, fit_mmm
from researchkit.channels.mmm.plots import (
    plot_budget,
    plot_decomposition,
    plot_response_curves,
    plot_roi,
    plot_spend,
)
from researchkit.channels.mmm.result import FittedMMM, MMMResult, channel_metrics
from researchkit.channels.mmm.saturation import (
    hill_saturation,
    logistic_saturation,
    saturation,
)

__all__ = [
    "DEFAULT_RIDGE_GRID",
    "LIFT_COLUMNS",
    "FittedMMM",
    "MMMResult",
    "adstock",
    "adstock_weights",
    "base_design",
    "channel_metrics",
    "fit_mmm",
    "fourier_terms",
    "geometric_adstock",
    "hill_saturation",
    "logistic_saturation",
    "optimize_budget",
    "plot_budget",
    "plot_decomposition",
    "plot_response_curves",
    "plot_roi",
    "plot_spend",
    "response_curves",
    "saturation",
    "trend_terms",
    "weibull_adstock",
]
