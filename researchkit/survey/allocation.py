"""Allocating a sample over strata: proportional, Neyman (optimum), equal; with minimums.

* proportional: :math:`n_h = n N_h / N`;
* Neyman: :math:`n_h = n N_h S_h / \\sum_k N_k S_k` (minimum variance of the stratified mean
  for a fixed total, Cochran 1977 eq. 5.60);
* equal: :math:`n_h = n / H`.

A ``minimum`` per stratum is enforced by fixing the strata that fall short at the minimum and
re-allocating the rest among the others with the same rule (repeated until stable); no stratum
gets more than its population :math:`N_h` (those are taken whole, a census stratum). Counts are
rounded with the largest-remainder method, so they add up exactly to ``n``.

Reference: Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., §5.5-5.9.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.results import Result

__all__ = ["allocate", "largest_remainder"]


def largest_remainder(quotas: np.ndarray, total: int, upper: np.ndarray | None = None
                      ) -> np.ndarray:
    """Round non-negative ``quotas`` to integers summing to ``total`` (Hamilton's method)."""
    base = np.floor(quotas + 1e-9).astype(np.int64)
    if upper is not None:
        base = np.minimum(base, upper)
    short = int(total - base.sum())
    if short > 0:
        rem = quotas - base
        if upper is not None:
            rem = np.where(base >= upper, -np.inf, rem)
        order = np.lexsort((np.arange(len(rem)), -rem))
        for idx in order:
            if short == 0:
                break
            if upper is None or base[idx] < upper[idx]:
                base[idx] += 1
                short -= 1
    return base


def allocate(
    strata: pd.DataFrame | Mapping[Any, float], n: int,
    method: Literal["proportional", "neyman", "equal"] = "proportional", *,
    size: str = "size", sd: str | None = None, stratum: str | None = None, minimum: int = 0,
) -> Result:
    """Allocate ``n`` interviews over strata.

    Parameters
    ----------
    strata : DataFrame or mapping
        One row per stratum with its population size (column ``size``) and, for Neyman, its
        standard deviation (column ``sd``); or a mapping ``{stratum: size}``.
    n : int
        Total sample size.
    method : {"proportional", "neyman", "equal"}
    size, sd, stratum : str
        Column names (``stratum`` defaults to the index).
    minimum : int
        Smallest sample per stratum (e.g. 100 for a reportable base).

    Returns
    -------
    Result
        ``table`` with ``stratum, population, share, sd, allocation, sampling_fraction``.

    Examples
    --------
    >>> allocate({"North": 500, "South": 300, "East": 200}, 100).table["allocation"].tolist()
    [50, 30, 20]
    """
    if isinstance(strata, Mapping):
        frame = pd.DataFrame({"stratum": list(strata.keys()),
                              "size": [float(v) for v in strata.values()]})
        size, stratum = "size", "stratum"
    elif isinstance(strata, pd.DataFrame):
        frame = strata.copy()
        if stratum is None:
            frame = frame.rename_axis("stratum").reset_index()
            stratum = "stratum"
    else:
        raise ParameterError("strata must be a DataFrame or a mapping", parameter="strata",
                             got=type(strata).__name__)
    for col, what in ((size, "size"), (sd, "sd"), (stratum, "stratum")):
        if col is not None and col not in frame.columns:
            raise ParameterError(f"no column {col!r}", parameter=what,
                                 expected=f"one of {list(frame.columns)}", got=col)
    if method not in ("proportional", "neyman", "equal"):
        raise ParameterError("unknown allocation method", parameter="method",
                             expected="'proportional', 'neyman' or 'equal'", got=method)
    if method == "neyman" and sd is None:
        raise ParameterError("Neyman allocation needs the strata standard deviations",
                             parameter="sd", expected="a column name")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError("n must be a positive integer", parameter="n", got=n)
    sizes = pd.to_numeric(frame[size], errors="coerce").to_numpy(dtype=float)
    if np.isnan(sizes).any() or (sizes <= 0).any():
        raise ParameterError("every stratum needs a positive population size",
                             parameter="strata", got=frame[size].tolist())
    H = len(frame)
    if minimum < 0 or minimum * H > n:
        raise ParameterError("the minimum per stratum cannot be met", parameter="minimum",
                             expected=f"minimum × {H} strata ≤ n = {n}", got=minimum)
    if n > sizes.sum():
        raise ParameterError("the sample is larger than the population", parameter="n",
                             expected=f"at most {int(sizes.sum())}", got=n)
    if method == "neyman":
        sds = pd.to_numeric(frame[sd], errors="coerce").to_numpy(dtype=float)
        if np.isnan(sds).any() or (sds < 0).any() or sds.sum() == 0:
            raise ParameterError("standard deviations must be non-negative numbers",
                                 parameter="sd", got=frame[sd].tolist())
        score = sizes * sds
    elif method == "proportional":
        score = sizes.copy()
    else:
        score = np.ones(H)
    upper = np.floor(sizes).astype(np.int64)
    lower = np.minimum(minimum, upper)
    fixed = np.zeros(H, dtype=bool)
    alloc = np.zeros(H)
    for _ in range(2 * H + 2):
        free = ~fixed
        remaining = n - alloc[fixed].sum()
        alloc[free] = remaining * score[free] / score[free].sum() if score[free].sum() > 0 \
            else remaining / free.sum()
        low = free & (alloc < lower)
        high = free & (alloc > upper)
        if not low.any() and not high.any():
            break
        alloc[low] = lower[low]
        alloc[high] = upper[high]
        fixed |= low | high
    counts = largest_remainder(alloc, n, upper)
    table = pd.DataFrame({
        "stratum": frame[stratum].to_numpy(), "population": sizes,
        "share": sizes / sizes.sum(),
        "sd": frame[sd].to_numpy(dtype=float) if sd else np.nan,
        "exact": alloc, "allocation": counts, "sampling_fraction": counts / sizes,
        "design_weight": sizes / np.maximum(counts, 1),
    })
    rules = {"proportional": "proportional to stratum size (n_h = n N_h / N)",
             "neyman": "Neyman optimum (n_h ∝ N_h S_h)", "equal": "equal (n_h = n / H)"}
    method_text = (f"Allocation {rules[method]}"
                   + (f", at least {minimum} per stratum" if minimum else "")
                   + ", at most N_h per stratum; rounded by largest remainder.")
    return Result(name=f"Sample allocation ({method})", estimate=dict(
        zip(map(str, table["stratum"]), counts.tolist(), strict=True)),
        method=method_text, n=int(n), table=table,
        reference="Cochran (1977) Sampling Techniques, §5.5-5.9.")
