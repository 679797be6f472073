"""Unit-resampling bootstrap shared by the reliability coefficients.

Every coefficient in :mod:`researchkit.qual` is a function of per-unit sufficient statistics
(counts, sums, sums of squares). A bootstrap replicate resamples the *units* (segments,
answers, subjects) with replacement; it is represented by a weight vector ``w`` (how often each
unit was drawn), so a replicate's statistic is a matrix product ``W @ stats`` over a block of
replicates, never a Python loop over units. Blocks keep memory bounded (about 4 million weights
per block).

The interval is the percentile interval (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 13). Replicates whose coefficient is undefined (e.g. every resampled value is
the same, so the expected disagreement is 0) are dropped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from researchkit.datasets.base import make_rng
from researchkit.errors import ParameterError

__all__ = ["BootstrapSummary", "bootstrap", "check_boot_args", "replicate_weights"]

#: Weights per block (replicates × units); bounds the memory of one block to ~32 MB.
BLOCK_CELLS = 4_000_000


def check_boot_args(n_boot: Any, ci_level: Any) -> tuple[int, float]:
    """Validate ``n_boot`` (0 = no interval, else >= 100) and ``ci_level`` (in (0, 1))."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0 \
            or 0 < n_boot < 100:
        raise ParameterError("invalid number of bootstrap resamples", parameter="n_boot",
                             expected="0 (no interval) or an integer >= 100", got=n_boot)
    if isinstance(ci_level, bool) or not isinstance(ci_level, int | float) \
            or not 0 < float(ci_level) < 1:
        raise ParameterError("invalid interval level", parameter="ci_level",
                             expected="a number between 0 and 1, e.g. 0.95", got=ci_level)
    return int(n_boot), float(ci_level)


def replicate_weights(n_units: int, n_boot: int, seed: Any, *, cells: int | None = None
                      ) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap weights, each of shape ``(block, n_units)``.

    Row ``r`` of a block counts how often each unit was drawn in that replicate (a multinomial
    draw of ``n_units`` units with equal probabilities). The same ``seed`` always gives the
    same weights. ``cells`` (default ``n_units``) sizes the blocks.
    """
    rng = make_rng(seed)
    block = max(1, min(n_boot, BLOCK_CELLS // max(cells or n_units, 1)))
    done = 0
    while done < n_boot:
        b = min(block, n_boot - done)
        idx = rng.integers(0, n_units, size=(b, n_units))
        idx += (np.arange(b) * n_units)[:, None]
        w = np.bincount(idx.ravel(), minlength=b * n_units).reshape(b, n_units)
        done += b
        yield w.astype(np.float64)


@dataclass(frozen=True)
class BootstrapSummary:
    """Outcome of a bootstrap: the interval and what it rests on."""

    ci: tuple[float, float] | None
    se: float | None
    replicates: np.ndarray
    n_failed: int

    def share_below(self, threshold: float) -> float | None:
        """Share of valid replicates below ``threshold`` (None without replicates)."""
        if self.replicates.size == 0:
            return None
        return float(np.mean(self.replicates < threshold))


def bootstrap(
    statistic: Callable[[np.ndarray], np.ndarray], n_units: int, *, n_boot: int,
    ci_level: float, seed: Any, clusters: np.ndarray | None = None,
) -> BootstrapSummary:
    """Percentile bootstrap over units (or over clusters of units).

    Parameters
    ----------
    statistic : callable
        Maps a block of weights ``(b, n_units)`` to ``b`` replicate values (NaN = undefined).
    n_units : int
    n_boot, ci_level, seed
        Number of replicates, interval coverage, random seed.
    clusters : int array, optional
        Cluster index (0..G-1) of each unit: whole clusters are resampled (e.g. segments when
        the units are segment × code decisions).
    """
    if n_boot == 0:
        return BootstrapSummary(None, None, np.empty(0), 0)
    if clusters is None:
        blocks = replicate_weights(n_units, n_boot, seed)
    else:
        clusters = np.asarray(clusters, dtype=np.intp)
        n_clusters = int(clusters.max()) + 1 if clusters.size else 0
        blocks = (w[:, clusters] for w in replicate_weights(n_clusters, n_boot, seed,
                                                               cells=n_units))
    reps = np.concatenate([np.asarray(statistic(w), dtype=float) for w in blocks])
    ok = np.isfinite(reps)
    valid = reps[ok]
    failed = int((~ok).sum())
    if valid.size < 2:
        return BootstrapSummary(None, None, valid, failed)
    tail = (1 - ci_level) / 2
    lo, hi = np.quantile(valid, [tail, 1 - tail])
    return BootstrapSummary((float(lo), float(hi)), float(np.std(valid, ddof=1)), valid, failed)


def boot_method_text(n_boot: int, ci_level: float, seed: Any) -> str:
    """Plain-words description of the interval, for ``Result.method``."""
    if n_boot == 0:
        return "no interval (n_boot=0)"
    return (f"{ci_level:.0%} percentile bootstrap interval from {n_boot:,} resamples of units "
            f"with replacement (seed {seed})")
