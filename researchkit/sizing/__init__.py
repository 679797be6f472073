"""Market sizing: TAM/SAM/SOM with honest uncertainty, market capacity, and Bass diffusion.

"How big is this market and how fast will we get our share?"

Sizing model
------------
* :func:`load_sizing_spec` / :func:`parse_sizing_spec` / :func:`sizing_spec_from_dict` /
  :class:`SizingSpecBuilder` - a spec with inputs (point values or distributions, each with its
  source and source date), rank correlations, and a top-down and/or bottom-up chain giving TAM,
  SAM and SOM in units and money. Bad specs raise one ``SpecError`` listing every problem.
* Distributions: :class:`Point`, :class:`Uniform`, :class:`Triangular`, :class:`PERT`,
  :class:`Normal`, :class:`LogNormal`, :class:`LogitNormal`, :class:`Interval` (a stated 90%
  interval with a named shape).
* :func:`simulate` - seeded Monte Carlo with Iman–Conover rank correlation
  (:func:`iman_conover`), percentiles of every output.
* :func:`tornado`, :func:`variance_shares` - which inputs matter.
* :func:`reconcile` - top-down vs bottom-up, overlap flag, gap drivers.
* :func:`staleness` - inputs whose desk sources are too old.
* :func:`resolve_sizing_spec` - the spec a notebook uses (given, the study's, or the example).

Bass diffusion
--------------
* :func:`bass_cdf`, :func:`bass_pdf`, :func:`bass_adoptions`, :func:`bass_peak`,
  :func:`bass_mean_share` - the curve.
* :func:`fit_bass` (non-linear least squares with bounds, standard errors, diagnostics) and
  :func:`fit_bass_ols` (Bass 1969).
* :func:`forecast_bass` (parametric-bootstrap intervals), :func:`forecast_from_analogs`
  (published category p/q values, :func:`bass_analogs`), :func:`som_ramp` (the SOM reached over
  the planning horizon).

Figures: :func:`funnel_figure`, :func:`tornado_figure`, :func:`reconciliation_figure`,
:func:`bass_fit_figure`, :func:`ramp_figure`.
"""

from __future__ import annotations

from researchkit.sizing.analogs import analog_parameters, bass_analogs
from researchkit.sizing.bass import (
    bass_adoptions,
    bass_cdf,
    bass_mean_share,
    bass_pdf,
    bass_peak,
)
from researchkit.sizing.bass_fit import BassFit, fit_bass, fit_bass_ols
from researchkit.sizing.bass_forecast import (
    BassForecast,
    forecast_bass,
    forecast_from_analogs,
    som_ramp,
)
from researchkit.sizing.builder import SizingSpecBuilder
from researchkit.sizing.correlation import iman_conover, spearman_matrix
from researchkit.sizing.distributions import (
    PERT,
    Distribution,
    Interval,
    LogitNormal,
    LogNormal,
    Normal,
    Point,
    Triangular,
    Uniform,
)
from researchkit.sizing.figures import (
    bass_fit_figure,
    funnel_figure,
    ramp_figure,
    reconciliation_figure,
    tornado_figure,
)
from researchkit.sizing.locate import resolve_sizing_spec
from researchkit.sizing.model import evaluate
from researchkit.sizing.reconcile import Reconciliation, reconcile
from researchkit.sizing.sensitivity import first_order_index, tornado, variance_shares
from researchkit.sizing.simulate import SizingResult, simulate
from researchkit.sizing.spec import (
    SizingSpec,
    load_sizing_spec,
    parse_sizing_spec,
    sizing_spec_from_dict,
)
from researchkit.sizing.staleness import staleness

__all__ = [
    "PERT",
    "BassFit",
    "BassForecast",
    "Distribution",
    "Interval",
    "LogNormal",
    "LogitNormal",
    "Normal",
    "Point",
    "Reconciliation",
    "SizingResult",
    "SizingSpec",
    "SizingSpecBuilder",
    "Triangular",
    "Uniform",
    "analog_parameters",
    "bass_adoptions",
    "bass_analogs",
    "bass_cdf",
    "bass_fit_figure",
    "bass_mean_share",
    "bass_pdf",
    "bass_peak",
    "evaluate",
    "first_order_index",
    "fit_bass",
    "fit_bass_ols",
    "forecast_bass",
    "forecast_from_analogs",
    "funnel_figure",
    "iman_conover",
    "load_sizing_spec",
    "parse_sizing_spec",
    "ramp_figure",
    "reconcile",
    "reconciliation_figure",
    "resolve_sizing_spec",
    "simulate",
    "sizing_spec_from_dict",
    "som_ramp",
    "spearman_matrix",
    "staleness",
    "tornado",
    "tornado_figure",
    "variance_shares",
]
