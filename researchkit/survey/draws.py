"""Seeded draws from a sampling frame: simple random, systematic, stratified, cluster.

Every draw returns the selected frame rows plus two columns: ``_inclusion_prob`` (the unit's
first-order inclusion probability π) and ``_design_weight`` (1/π, the base weight to carry into
weighting). The same ``seed`` always selects the same units.

* **simple random** (without replacement): π = n / N.
* **systematic**: a random start in [0, k) with the fractional interval k = N/n, so exactly
  ``n`` units and π = n / N; sort the frame first (``sort_by``) for implicit stratification.
* **stratified**: an allocation (see :func:`~researchkit.survey.allocation.allocate`), then a
  simple random sample in every stratum: π_h = n_h / N_h.
* **cluster** (one stage): a simple random sample of ``n_clusters`` clusters, every unit of a
  selected cluster is taken: π = m / M.

Reference: Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 2, 5, 8, 9;
Lohr, S. (2010). *Sampling: Design and Analysis*, 2nd ed., ch. 2-5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.datasets.base import make_rng
from researchkit.errors import ParameterError
from researchkit.survey.allocation import allocate

__all__ = ["cluster_sample", "simple_random_sample", "stratified_sample", "systematic_sample"]


def _check_frame(frame: Any, n: Any, name: str = "n") -> int:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError("the sampling frame must be a DataFrame", parameter="frame",
                             got=type(frame).__name__)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError("the sample size must be a positive integer", parameter=name,
                             got=n)
    return int(n)


def _columns(frame: pd.DataFrame, cols: list[str], parameter: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(f"no column {missing[0]!r} in the frame", parameter=parameter,
                             expected=f"one of {list(frame.columns)}", got=missing[0])


def _finish(frame: pd.DataFrame, idx: np.ndarray, prob: np.ndarray | float) -> pd.DataFrame:
    out = frame.iloc[np.sort(idx) if isinstance(prob, float) else idx].copy()
    p = np.full(len(out), prob) if isinstance(prob, float) else prob
    out["_inclusion_prob"] = p
    out["_design_weight"] = 1.0 / p
    return out


def simple_random_sample(frame: pd.DataFrame, n: int, *, seed: int | None = 0) -> pd.DataFrame:
    """Simple random sample of ``n`` rows without replacement (π = n/N)."""
    n = _check_frame(frame, n)
    N = len(frame)
    if n > N:
        raise ParameterError("the sample is larger than the frame", parameter="n",
                             expected=f"at most {N}", got=n)
    idx = make_rng(seed).choice(N, size=n, replace=False)
    return _finish(frame, idx, n / N)


def systematic_sample(frame: pd.DataFrame, n: int, *, seed: int | None = 0,
                      sort_by: str | list[str] | None = None) -> pd.DataFrame:
    """Systematic sample: every k-th unit (k = N/n, fractional) from a random start.

    Parameters
    ----------
    sort_by : column(s), optional
        Sort the frame first (implicit stratification, e.g. by region then size).
    """
    n = _check_frame(frame, n)
    work = frame
    if sort_by is not None:
        cols = [sort_by] if isinstance(sort_by, str) else list(sort_by)
        _columns(frame, cols, "sort_by")
        work = frame.sort_values(cols, kind="mergesort")
    N = len(work)
    if n > N:
        raise ParameterError("the sample is larger than the frame", parameter="n",
                             expected=f"at most {N}", got=n)
    k = N / n
    start = make_rng(seed).uniform(0, k)
    idx = np.floor(start + k * np.arange(n)).astype(np.int64)
    out = work.iloc[idx].copy()
    out["_inclusion_prob"] = n / N
    out["_design_weight"] = N / n
    return out


def stratified_sample(
    frame: pd.DataFrame, strata: str, n: int | Mapping[Any, int], *,
    method: Literal["proportional", "neyman", "equal"] = "proportional",
    sd: Mapping[Any, float] | None = None, minimum: int = 0, seed: int | None = 0,
) -> pd.DataFrame:
    """Stratified simple random sample.

    Parameters
    ----------
    strata : str
        The stratum column of the frame.
    n : int or mapping
        Total sample (allocated with ``method``/``minimum``) or ``{stratum: n_h}``.
    sd : mapping, optional
        Stratum standard deviations for Neyman allocation.
    """
    _columns(frame, [strata], "strata")
    sizes = frame[strata].value_counts(sort=False).sort_index()
    if isinstance(n, Mapping):
        unknown = [k for k in n if k not in sizes.index]
        if unknown:
            raise ParameterError("allocation for strata not in the frame", parameter="n",
                                 expected=f"strata among {sizes.index.tolist()}", got=unknown)
        alloc = {k: int(n.get(k, 0)) for k in sizes.index}
    else:
        _check_frame(frame, n)
        table = pd.DataFrame({"size": sizes.astype(float)})
        if method == "neyman":
            if sd is None:
                raise ParameterError("Neyman allocation needs stratum standard deviations",
                                     parameter="sd")
            table["sd"] = [float(sd[k]) for k in sizes.index]
        res = allocate(table, int(n), method, sd="sd" if method == "neyman" else None,
                       minimum=minimum)
        alloc = dict(zip(sizes.index, res.table["allocation"].astype(int), strict=True))
    rng = make_rng(seed)
    codes = frame[strata].to_numpy()
    parts, probs = [], []
    for key in sizes.index:
        members = np.flatnonzero(codes == key)
        n_h = alloc[key]
        if n_h > len(members):
            raise ParameterError(f"stratum {key!r} has only {len(members)} units",
                                 parameter="n", expected=f"at most {len(members)}", got=n_h)
        pick = rng.choice(members, size=n_h, replace=False) if n_h else members[:0]
        parts.append(np.sort(pick))
        probs.append(np.full(n_h, n_h / len(members)))
    idx = np.concatenate(parts)
    prob = np.concatenate(probs)
    order = np.argsort(idx, kind="stable")
    return _finish(frame, idx[order], prob[order])


def cluster_sample(frame: pd.DataFrame, cluster: str, n_clusters: int, *,
                   seed: int | None = 0) -> pd.DataFrame:
    """One-stage cluster sample: ``n_clusters`` clusters at random, every unit in them."""
    n_clusters = _check_frame(frame, n_clusters, "n_clusters")
    _columns(frame, [cluster], "cluster")
    ids = pd.unique(frame[cluster])
    ids = np.sort(ids) if ids.dtype.kind in "iufU" else ids
    M = len(ids)
    if n_clusters > M:
        raise ParameterError("more clusters requested than the frame has",
                             parameter="n_clusters", expected=f"at most {M}", got=n_clusters)
    chosen = make_rng(seed).choice(M, size=n_clusters, replace=False)
    keep = frame[cluster].isin(ids[chosen]).to_numpy()
    return _finish(frame, np.flatnonzero(keep), n_clusters / M)
