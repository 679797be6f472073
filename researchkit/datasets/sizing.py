"""Market-sizing examples: simulated adoption histories with known p, q, m, and shipped inputs.

* :func:`simulate_adoption` - adopters per period from a Bass curve with known p, q and m plus
  noise, so a fit can be checked against the truth.
* :func:`sizing_example_path` - the worked sizing spec (an online grocery delivery service
  entering a metropolitan region), read with ``researchkit.sizing.load_sizing_spec``.
"""

from __future__ import annotations

import math
from pathlib import Path

from researchkit.datasets.base import Simulated, check_positive_int, example_path, make_rng
from researchkit.errors import ParameterError

__all__ = ["SIZING_EXAMPLE", "simulate_adoption", "sizing_example_path"]

#: File name of the shipped worked sizing spec.
SIZING_EXAMPLE = "sizing_online_grocery.yaml"


def sizing_example_path() -> Path:
    """Path of the shipped worked sizing spec (online grocery delivery in a region)."""
    return example_path(SIZING_EXAMPLE)


def _bass_cdf(t: float, p: float, q: float) -> float:
    if t <= 0:
        return 0.0
    e = math.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def simulate_adoption(
    p: float = 0.03, q: float = 0.38, m: float = 100_000, periods: int = 15, *,
    noise: float = 0.05, start: int = 2010, seed: int = 0,
) -> Simulated:
    """Adopters per period from a Bass curve with known p, q, m, plus normal noise.

    ``adopters_t = m [F(t) − F(t−1)] + ε_t``, ``ε_t ~ N(0, (noise · peak)²)`` where ``peak`` is
    the largest expected per-period adoption (homoscedastic errors, the assumption of non-linear
    least squares). Noisy values below 0 are set to 0 (rare for noise ≤ 0.1).

    Parameters
    ----------
    p, q, m : float
        True innovation and imitation coefficients and market potential.
    periods : int
        Number of periods (years).
    noise : float
        Error standard deviation as a share of the peak expected adoption (0 = exact curve).
    start : int
        Label of the first period (a year).
    seed : int

    Returns
    -------
    Simulated
        ``data``: DataFrame with ``year``, ``adopters``, ``cumulative``; ``truth``: p, q, m,
        ``expected`` (list of expected adopters), ``noise_sd``, ``clipped`` (how many values
        were raised to 0).
    """
    import numpy as np
    import pandas as pd

    periods = check_positive_int(periods, "periods", minimum=2)
    for name, value, ok, expected in (("p", p, p > 0, "p > 0"), ("q", q, q >= 0, "q >= 0"),
                                      ("m", m, m > 0, "m > 0"),
                                      ("noise", noise, noise >= 0, "noise >= 0")):
        if not ok or not math.isfinite(value):
            raise ParameterError("invalid value", parameter=name, expected=expected, got=value)
    rng = make_rng(seed)
    expected = np.array([m * (_bass_cdf(t, p, q) - _bass_cdf(t - 1, p, q))
                         for t in range(1, periods + 1)])
    sd = noise * float(expected.max())
    raw = expected + rng.normal(0.0, sd, periods) if sd > 0 else expected.copy()
    clipped = int(np.count_nonzero(raw < 0))
    adopters = np.maximum(raw, 0.0)
    data = pd.DataFrame({"year": np.arange(start, start + periods), "adopters": adopters,
                         "cumulative": np.cumsum(adopters)})
    return Simulated(
        data=data,
        truth={"p": p, "q": q, "m": m, "expected": expected.tolist(), "noise_sd": sd,
               "clipped": clipped},
        description=(f"{periods} periods of adopters from a Bass curve with p = {p}, q = {q}, "
                     f"m = {m:,.0f}, plus normal noise with sd {sd:,.1f} "
                     f"({noise:.0%} of the peak)."),
    )
