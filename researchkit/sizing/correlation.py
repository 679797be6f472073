"""Rank correlation between sampled inputs: the Iman–Conover method.

Market-sizing inputs are rarely independent: households that shop online more often also tend
to be the ones in the delivery zone; a higher basket value goes with fewer orders. Iman & Conover
(1982) induce a chosen *rank* correlation between independently sampled inputs by **reordering**
each sample, so every input keeps exactly the values that were drawn (its marginal distribution
is preserved exactly) while the pairs line up with the wanted rank correlation.

Algorithm (Iman & Conover 1982, §3)
-----------------------------------
1. Draw a score matrix ``S`` (k × n) with independent rows. Iman & Conover use randomly
   permuted van der Waerden scores ``Φ⁻¹(i/(n+1))``; the default here uses independent standard
   normal draws instead (``scores="normal"``, several times faster for large n; both give
   normal-like scores, and step 3 corrects their sample correlation exactly either way).
   ``scores="van_der_waerden"`` gives the original.
2. Convert the target Spearman matrix ``R`` to the Pearson correlation of normal scores with
   the same Spearman correlation, ``C = 2 sin(π R / 6)`` (Pearson 1907; for a bivariate normal,
   ``ρ_S = (6/π) arcsin(r/2)``). Without this step the achieved rank correlation falls short of
   the target by up to 0.018.
3. With Cholesky factors ``Σ = F Fᵀ`` of the sample covariance of the rows of ``S`` and
   ``C = P Pᵀ``, the scores ``T = P F⁻¹ S`` have sample covariance, hence Pearson
   correlation, exactly ``C``.
4. Reorder each input so its ranks equal the ranks of the matching row of ``T``.

The achieved Spearman correlation then equals the target up to sampling error of order
``1/√n``; the marginals are unchanged.

Implementation (for 10⁶ draws of 20 inputs)
-------------------------------------------
Each input's draws are sorted once; each row of ``S`` comes from its own child generator (so the
numbers do not depend on the thread count); ``S`` and ``T`` are float32 (they only decide ranks;
sums in float64) and ``T`` overwrites ``S``; the matrix products run in chunks small enough
that OpenBLAS keeps them on the calling thread; the ranks of each row of ``T`` come from one
SIMD sort of float64 keys (the float32 score widened, its index in the unused low mantissa
bits); the sorted values are then scattered into place. Sorting, drawing and scattering
release the GIL, so the columns are processed on a few threads
(:mod:`researchkit.sizing.parallel`).

Reference
---------
Iman, R. L. & Conover, W. J. (1982). A distribution-free approach to inducing rank correlation
among input variables. *Communications in Statistics – Simulation and Computation* 11(3),
311-334.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, Literal

import numpy as np

from researchkit.datasets.base import make_rng
from researchkit.errors import ParameterError
from researchkit.sizing.parallel import Buffers, Runner, spawn_generators, worker_pool

__all__ = ["iman_conover", "pearson_for_spearman", "spearman_matrix"]

Scores = Literal["normal", "van_der_waerden"]


def pearson_for_spearman(rho: Any) -> np.ndarray:
    """Pearson correlation of normal scores whose Spearman correlation is ``rho``.

    ``r = 2 sin(π ρ / 6)`` (Pearson 1907).
    """
    return 2 * np.sin(np.pi * np.asarray(rho, dtype=float) / 6)


def _check_target(target: Any, k: int) -> np.ndarray:
    mat = np.asarray(target, dtype=float)
    if mat.shape != (k, k):
        raise ParameterError("the target correlation matrix does not fit the data",
                             parameter="rank_corr", expected=f"a {k} × {k} matrix",
                             got=f"shape {mat.shape}")
    if not np.all(np.isfinite(mat)) or not np.allclose(mat, mat.T) \
            or not np.allclose(np.diag(mat), 1) or np.any(np.abs(mat) > 1):
        raise ParameterError("invalid target rank-correlation matrix", parameter="rank_corr",
                             expected="a symmetric matrix with ones on the diagonal and "
                                      "entries in [-1, 1]")
    return mat


def _cholesky(mat: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        raise ParameterError(f"the {what} is not positive definite", parameter="rank_corr",
                             expected="rank correlations that can hold together",
                             hint="weaken some of the correlations") from None


def _argsort(x: np.ndarray) -> np.ndarray:
    """Indices that sort ``x`` (float64), by sorting packed 64-bit keys.

    Each value's IEEE-754 bits are mapped to an order-preserving unsigned integer whose lowest
    ``ceil(log2 n)`` bits are replaced by the element's index; one ``np.sort`` of these keys
    (much faster than ``np.argsort`` for large arrays) gives the order. Values that agree in
    all but those lowest bits (relative difference below ``2**(bits-52)``, about 2e-10 for
    n = 1e6) are ordered by index, which is immaterial for rank reordering. Small arrays use
    ``np.argsort``.
    """
    n = x.size
    if n < 4096 or n >= 2**31:
        return np.argsort(x, kind="stable")
    bits = (n - 1).bit_length()
    u = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    key = np.where(u >> np.uint64(63), ~u, u | np.uint64(1 << 63))
    mask = np.uint64((1 << bits) - 1)
    key &= ~mask
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    key &= mask
    return key.astype(np.intp)


# -- fast path used by simulate() and iman_conover() ----------------------------------------------
#: Columns per task in the two passes over the score matrix. Fixed (not derived from the number
#: of threads) so that the sums over tasks, hence the results, never depend on the thread count.
_BLOCK = 1 << 16


def _blas_columns(k: int) -> int:
    """Columns per matrix product in the score passes.

    Small enough (``k · k · m ≤ 2**18``) that OpenBLAS runs each product on the calling thread:
    on a loaded machine its own threads made the products 5-100 times slower, and the work is
    already split over our threads. Large enough that a call's overhead is negligible.
    """
    return 1 << max(6, min(12, (262_144 // (k * k)).bit_length() - 1))


def _score_tasks(n: int, gens: list[np.random.Generator], scores: Scores
                 ) -> tuple[np.ndarray, list[Callable[[], float]]]:
    """An empty float32 score matrix (k × n, k = one row per generator) and the tasks that
    fill its rows with independent scores; each task returns its row's sum (float64)."""
    s = np.empty((len(gens), n), dtype=np.float32)
    base = None
    if scores == "van_der_waerden":
        from scipy.special import ndtri

        base = ndtri(np.arange(1, n + 1) / (n + 1)).astype(np.float32)
    return s, [partial(_fill_scores, s[j], g, base) for j, g in enumerate(gens)]


def _fill_scores(out: np.ndarray, gen: np.random.Generator, base: np.ndarray | None) -> float:
    if base is None:
        gen.standard_normal(dtype=np.float32, out=out)
    else:
        np.take(base, gen.permutation(base.size), out=out)
    return float(out.sum(dtype=np.float64))


def _chunks(s: np.ndarray, a: int, b: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``a:b`` of ``s`` as a stack of (k × m) matrices (a view) and the remainder."""
    k = s.shape[0]
    full = a + (b - a) // m * m
    stack = s[:, a:full].reshape(k, -1, m).transpose(1, 0, 2)
    return stack, s[:, full:b]


def _cross_products(s: np.ndarray, a: int, b: int, m: int) -> np.ndarray:
    """``S Sᵀ`` over the score columns ``a:b``: float32 products of ``m`` columns (one stacked
    ``matmul``, looping in C), summed in float64."""
    stack, rest = _chunks(s, a, b, m)
    cross = np.matmul(stack, stack.transpose(0, 2, 1)).sum(axis=0, dtype=np.float64)
    if rest.shape[1]:
        cross += rest @ rest.T
    return cross


def _mix_columns(s: np.ndarray, mix: np.ndarray, a: int, b: int, m: int) -> None:
    """``s[:, a:b] = mix @ s[:, a:b]`` in place, ``m`` columns per product."""
    stack, rest = _chunks(s, a, b, m)
    stack[...] = np.matmul(mix, stack)
    if rest.shape[1]:
        rest[...] = mix @ rest


#: Lowest mantissa bits of a float32 widened to float64 that are always zero (52 − 23).
_FREE_BITS = 29


def _rank_order(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Indices (int64) that sort a float32 array, by one ``np.sort`` of float64 keys.

    Widening a float32 to float64 is exact and leaves the 29 lowest mantissa bits zero; the
    element's index is written there. The keys order as the values do (each key stays inside
    the gap between its value and the next float32), and equal values by index: ascending for
    non-negative values, descending for negative ones, whose magnitude grows with the index
    bits (−0.0 sorts before +0.0). Sorting these floats (SIMD-accelerated) is several times
    faster than ``np.argsort``; the low bits of the sorted keys are the order. Equal float32
    scores are an artefact of rounding (the scores are exchangeable draws), so how their ties
    are broken does not matter. ``out``: an optional float64 array of the same length to use
    (it holds the returned indices). Non-finite values fall back to ``np.argsort``.
    """
    n = t.size
    if n > 2**_FREE_BITS:  # pragma: no cover - beyond memory here
        return np.argsort(t, kind="stable").astype(np.int64)
    keys = np.empty(n) if out is None else out
    np.copyto(keys, t)
    bits = keys.view(np.int64)
    bits |= _index(n)
    keys.sort()
    if n and np.isnan(keys[-1]):  # an infinite value became a NaN key (sorted last)
        return np.argsort(t, kind="stable").astype(np.int64)
    bits &= np.int64((1 << _FREE_BITS) - 1)
    return bits


@lru_cache(maxsize=2)
def _index(n: int) -> np.ndarray:
    out = np.arange(n, dtype=np.int64)
    out.flags.writeable = False
    return out


def _place(columns: list[np.ndarray | None], j: int, t: np.ndarray, buffers: Buffers
           ) -> np.ndarray:
    """Sorted column ``j`` placed so that its ranks are the ranks of ``t``; the sorted copy
    and the sort keys go back to ``buffers`` for the next column."""
    values = columns[j]
    assert values is not None
    columns[j] = None
    out = buffers.take()
    keys = buffers.take()
    out[_rank_order(t, keys)] = values
    buffers.give(keys)
    buffers.give(values)
    return out


def _induce(columns: list[np.ndarray | None], spearman: np.ndarray, s: np.ndarray,
            row_sums: list[float], runner: Runner, buffers: Buffers | None = None
            ) -> list[np.ndarray]:
    """Iman-Conover on already **sorted** columns (the list is emptied as they are placed).

    Steps 2-4 of the module docstring with the float32 scores ``s`` (k × n, from the tasks of
    :func:`_score_tasks`, drawn row by row with one generator per row; ``row_sums`` are what
    those tasks returned): the cross-products are summed in float64 over fixed blocks of
    columns, and ``T = P F⁻¹ S`` overwrites ``s`` block by block. ``T`` is not centred:
    centring shifts each row by a constant, which leaves its ranks unchanged.

    Why float32 scores: they only decide ranks. A 24-bit mantissa separates neighbouring
    normal scores except for a few thousand pairs per million draws, which are then ordered by
    draw index (see :func:`_rank_order`); the draws are exchangeable, so that is a random
    tie-break and leaves the achieved rank correlation unaffected. Sums are accumulated in
    float64, so the sample correlation of ``T`` equals the target to about 1e-6.

    The sorted columns (float64, length n, owned by nobody else) are recycled through
    ``buffers`` as the placed columns and the sort keys of the next ones.
    """
    k, n = s.shape
    p = _cholesky(pearson_for_spearman(spearman), "target correlation matrix")
    mean = np.asarray(row_sums, dtype=float) / n
    m = _blas_columns(k)
    blocks = [(a, min(a + _BLOCK, n)) for a in range(0, n, _BLOCK)]
    cross = np.zeros((k, k))
    for part in runner.run([partial(_cross_products, s, a, b, m) for a, b in blocks]):
        cross += part  # in block order: the same sums whatever the number of threads
    cov = cross / n - np.outer(mean, mean)
    f = _cholesky(cov, "sample covariance of the scores")
    # rows of T = P F^-1 S: covariance P F^-1 (F F^T) F^-T P^T = P P^T, exactly the target.
    # (numpy, not scipy.linalg.solve_triangular: that tiny call woke scipy's OpenBLAS threads,
    # which then spun for about 0.1 s of CPU, taking a core from the sorts.)
    mix = (p @ np.linalg.inv(f)).astype(np.float32)
    runner.run([partial(_mix_columns, s, mix, a, b, m) for a, b in blocks])
    buffers = buffers if buffers is not None else Buffers(n)
    return runner.run([partial(_place, columns, j, s[j], buffers) for j in range(k)])


def rearrange(values: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``values`` reordered so that their ranks equal the ranks of ``scores``."""
    out = np.empty_like(values)
    out[_argsort(scores)] = np.sort(values)
    return out


def iman_conover(
    data: Any, rank_corr: Any, *, seed: int | np.random.Generator | None = 0,
    scores: Scores = "normal", threads: int | None = None,
) -> Any:
    """Reorder the columns of a sample so they have a target Spearman rank correlation.

    Parameters
    ----------
    data : array (n, k) or DataFrame
        Independent samples of k inputs (n ≥ 3 draws each).
    rank_corr : array (k, k) or DataFrame
        Target Spearman rank correlations (symmetric, ones on the diagonal, positive definite
        after the conversion ``2 sin(π ρ/6)``).
    seed : int or Generator
        Seed of the score matrix.
    scores : {"normal", "van_der_waerden"}
        Score matrix: independent standard normal draws (default, faster) or randomly permuted
        van der Waerden scores as in Iman & Conover (1982).
    threads : int, optional
        Threads for the sorts and score products (default: one per core, at most 8). The
        result does not depend on it.

    Returns
    -------
    Same type as ``data``: every column holds exactly the same values as before (marginals
    preserved), reordered.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = np.column_stack([rng.lognormal(size=20000), rng.uniform(size=20000)])
    >>> y = iman_conover(x, [[1, 0.6], [0.6, 1]], seed=2)
    >>> from scipy.stats import spearmanr
    >>> round(float(spearmanr(y[:, 0], y[:, 1])[0]), 2)
    0.6
    """
    import pandas as pd

    if scores not in ("normal", "van_der_waerden"):
        raise ParameterError("unknown score type", parameter="scores",
                             expected="'normal' or 'van_der_waerden'", got=scores)
    frame = data if isinstance(data, pd.DataFrame) else None
    x = np.asarray(data.to_numpy() if frame is not None else data, dtype=float)
    if x.ndim != 2 or x.shape[0] < 3 or x.shape[1] < 1:
        raise ParameterError("expected a 2-D sample", parameter="data",
                             expected="an array of shape (n ≥ 3, k)", got=f"shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("the sample holds NaN or infinite values", parameter="data")
    target = _check_target(rank_corr.to_numpy() if isinstance(rank_corr, pd.DataFrame)
                           else rank_corr, x.shape[1])
    k = x.shape[1]
    _cholesky(pearson_for_spearman(target), "target correlation matrix")
    s, score_tasks = _score_tasks(x.shape[0], spawn_generators(make_rng(seed), k), scores)
    with worker_pool(threads) as runner:
        done = runner.run([*(partial(np.sort, x[:, j]) for j in range(k)), *score_tasks])
        columns: list[np.ndarray | None] = list(done[:k])
        placed = _induce(columns, target, s, done[k:], runner)
    out = np.column_stack(placed)
    if frame is not None:
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)
    return out


def spearman_matrix(data: Any) -> np.ndarray:
    """Spearman rank-correlation matrix of the columns of a 2-D sample (average ranks)."""
    from scipy.stats import rankdata

    x = np.asarray(data, dtype=float)
    ranks = np.column_stack([rankdata(x[:, j]) for j in range(x.shape[1])])
    return np.corrcoef(ranks, rowvar=False)
