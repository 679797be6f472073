"""How many completed interviews a survey needs, for a proportion or a mean.

For a proportion ``P`` with margin of error ``d`` at confidence ``1 - α``:

.. math::  n_0 = z^2 P(1-P) / d^2,
           \\qquad n = \\frac{n_0}{1 + (n_0 - 1)/N}
           = \\frac{\\chi^2 N P(1-P)}{d^2 (N-1) + \\chi^2 P(1-P)}

with the finite population correction (FPC) when the population size ``N`` is given
(:math:`\\chi^2 = z^2` with one degree of freedom). For a mean with standard deviation
:math:`\\sigma`, :math:`n_0 = (z\\sigma/d)^2` and the same FPC. The result is then multiplied by
the design effect and, for the number of invitations to issue, divided by the response rate.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley, §4.4 (eq. 4.2) and §2.5.
Krejcie, R. V. & Morgan, D. W. (1970). Determining sample size for research activities.
*Educational and Psychological Measurement*, 30, 607-610 (Table 1: χ² = 3.841, P = .5,
d = .05, values rounded to the nearest integer).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from researchkit.errors import ParameterError
from researchkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KREJCIE_MORGAN_CHI2", "krejcie_morgan", "sample_size", "sample_size_mean",
           "sample_size_table"]

#: The chi-square value Krejcie & Morgan (1970) used (1 df, 95%): 3.841 (≈ 1.96²).
KREJCIE_MORGAN_CHI2 = 3.841


def _z(confidence: float) -> float:
    from scipy.stats import norm

    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise ParameterError("confidence must be between 0 and 1", parameter="confidence",
                             expected="e.g. 0.95", got=confidence)
    return float(norm.ppf(0.5 + confidence / 2))


def _check(margin: float, population: int | None, design_effect: float, response_rate: float,
           rounding: str) -> None:
    if not isinstance(margin, int | float) or margin <= 0:
        raise ParameterError("the margin of error must be positive", parameter="margin",
                             expected="e.g. 0.03 for ±3 points", got=margin)
    if population is not None and (isinstance(population, bool)
                                   or not isinstance(population, int) or population < 1):
        raise ParameterError("the population size must be a positive integer",
                             parameter="population", got=population)
    if not isinstance(design_effect, int | float) or design_effect <= 0:
        raise ParameterError("the design effect must be positive", parameter="design_effect",
                             expected="1.0 for simple random sampling, > 1 for clusters/weights",
                             got=design_effect)
    if not isinstance(response_rate, int | float) or not 0 < response_rate <= 1:
        raise ParameterError("the response rate must be in (0, 1]", parameter="response_rate",
                             got=response_rate)
    if rounding not in ("ceil", "nearest"):
        raise ParameterError("unknown rounding", parameter="rounding",
                             expected="'ceil' or 'nearest'", got=rounding)


def _round(x: float, rounding: str) -> int:
    if rounding == "ceil":
        return math.ceil(x - 1e-9)
    return math.floor(x + 0.5)


def _finish(name: str, n0: float, *, z2: float, population: int | None, design_effect: float,
            response_rate: float, rounding: str, method: str, details: dict) -> Result:
    n_fpc = n0 if population is None else n0 / (1 + (n0 - 1) / population)
    n_deff = n_fpc * design_effect
    n = _round(n_deff, rounding)
    if population is not None:
        n = min(n, population)
    issued = _round(n / response_rate, "ceil")
    warnings = []
    if population is not None and n >= 0.5 * population:
        warnings.append("the sample is half the population or more: consider a census")
    return Result(
        name=name, estimate=n, n=n, method=method,
        details={**details, "z_squared": z2, "n0_infinite_population": n0,
                 "n_after_fpc": n_fpc, "design_effect": design_effect,
                 "n_after_design_effect": n_deff, "response_rate": response_rate,
                 "invitations_needed": issued, "population": population,
                 "rounding": rounding},
        warnings=warnings,
        reference="Cochran (1977) Sampling Techniques, §4.4 and §2.5; "
                  "Krejcie & Morgan (1970), Educ. Psychol. Meas. 30:607-610.",
    )


def sample_size(
    margin: float, confidence: float = 0.95, proportion: float = 0.5,
    population: int | None = None, design_effect: float = 1.0, response_rate: float = 1.0,
    *, rounding: Literal["ceil", "nearest"] = "ceil", chi2: float | None = None,
) -> Result:
    """Completed interviews needed to estimate a proportion within ``± margin``.

    .. math:: n = \\frac{n_0}{1 + (n_0-1)/N} \\cdot \\text{deff}, \\quad
              n_0 = \\frac{z^2 P (1-P)}{d^2}

    Parameters
    ----------
    margin : float
        Half-width ``d`` of the confidence interval, as a share (0.03 = ±3 points).
    confidence : float
        Confidence level (0.95 → z = 1.96).
    proportion : float
        Expected proportion ``P``; 0.5 is the conservative (largest) choice.
    population : int, optional
        Population size ``N`` for the finite population correction.
    design_effect : float
        Kish design effect of the design and weighting (1 = simple random sampling).
    response_rate : float
        Expected share of invitations that complete; ``details["invitations_needed"]``.
    rounding : {"ceil", "nearest"}
        ``"ceil"`` (the usual rule: never fewer than needed) or ``"nearest"`` (as in Krejcie
        & Morgan's table).
    chi2 : float, optional
        Use this χ² (= z²) instead of the exact normal quantile; Krejcie & Morgan used 3.841.

    Returns
    -------
    Result
        ``estimate`` = completed interviews needed; ``details`` holds every step.

    Examples
    --------
    >>> sample_size(0.05, population=1000, rounding="nearest", chi2=3.841).estimate
    278
    """
    _check(margin, population, design_effect, response_rate, rounding)
    if not isinstance(proportion, int | float) or not 0 < proportion < 1:
        raise ParameterError("the expected proportion must be in (0, 1)",
                             parameter="proportion", expected="e.g. 0.5", got=proportion)
    z2 = _z(confidence) ** 2 if chi2 is None else float(chi2)
    n0 = z2 * proportion * (1 - proportion) / margin**2
    fpc = "with" if population is not None else "without"
    method = (f"Sample size for a proportion (P = {proportion:g}, ±{margin:g} at "
              f"{confidence:.0%} confidence, z² = {z2:.4f}), {fpc} the finite population "
              f"correction, × design effect {design_effect:g}; rounded "
              f"{'up' if rounding == 'ceil' else 'to the nearest integer'}.")
    return _finish("Sample size (proportion)", n0, z2=z2, population=population,
                   design_effect=design_effect, response_rate=response_rate,
                   rounding=rounding, method=method,
                   details={"margin": margin, "confidence": confidence,
                            "proportion": proportion})


def sample_size_mean(
    margin: float, sd: float, confidence: float = 0.95, population: int | None = None,
    design_effect: float = 1.0, response_rate: float = 1.0,
    *, rounding: Literal["ceil", "nearest"] = "ceil",
) -> Result:
    """Completed interviews needed to estimate a mean within ``± margin``.

    .. math:: n_0 = (z \\sigma / d)^2, \\quad n = \\frac{n_0}{1 + (n_0-1)/N}\\cdot\\text{deff}

    Parameters
    ----------
    margin : float
        Half-width of the interval, in the units of the variable.
    sd : float
        Expected standard deviation σ (from a pilot, a past wave, or range/4).
    confidence, population, design_effect, response_rate, rounding
        As in :func:`sample_size`.

    Examples
    --------
    >>> sample_size_mean(margin=2, sd=10).estimate   # (1.96 × 10 / 2)² = 96.04
    97
    """
    _check(margin, population, design_effect, response_rate, rounding)
    if not isinstance(sd, int | float) or sd <= 0:
        raise ParameterError("the standard deviation must be positive", parameter="sd", got=sd)
    z2 = _z(confidence) ** 2
    n0 = z2 * sd**2 / margin**2
    fpc = "with" if population is not None else "without"
    method = (f"Sample size for a mean (σ = {sd:g}, ±{margin:g} at {confidence:.0%} "
              f"confidence), {fpc} the finite population correction, × design effect "
              f"{design_effect:g}; rounded {'up' if rounding == 'ceil' else 'to nearest'}.")
    return _finish("Sample size (mean)", n0, z2=z2, population=population,
                   design_effect=design_effect, response_rate=response_rate,
                   rounding=rounding, method=method,
                   details={"margin": margin, "confidence": confidence, "sd": sd})


def krejcie_morgan(population: int) -> int:
    """Krejcie & Morgan's (1970) sample size for a population of ``population``.

    χ² = 3.841, P = .5, d = .05, rounded to the nearest integer (their Table 1).
    """
    return int(sample_size(0.05, population=population, rounding="nearest",
                           chi2=KREJCIE_MORGAN_CHI2).estimate)


def sample_size_table(
    margins: list[float], populations: list[int | None], *, confidence: float = 0.95,
    proportion: float = 0.5, design_effect: float = 1.0,
) -> pd.DataFrame:
    """Completed interviews needed for every margin (rows) and population size (columns).

    ``None`` in ``populations`` means an infinite population (no finite population correction).
    """
    import pandas as pd

    rows = {}
    for m in margins:
        rows[f"±{m * 100:g} pts"] = {
            ("infinite" if N is None else f"{N:,}"): sample_size(
                m, confidence, proportion, N, design_effect).estimate for N in populations}
    return pd.DataFrame(rows).T.rename_axis("margin of error")
