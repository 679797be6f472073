"""Raking (iterative proportional fitting) of survey weights to marginal targets.

Starting from the design (base) weights :math:`d_i`, raking cycles through the weighting
variables; for variable :math:`v` with categories :math:`c` it multiplies every weight by

.. math:: w_i \\leftarrow w_i \\cdot \\frac{T_{v,c}}{\\sum_{j: v_j = c} w_j}

so that the weighted margin of :math:`v` equals its target :math:`T_{v,c}` (a share times the
weighted total). It stops when every margin is within ``tol`` of its target. The fitted weights
minimise the raking (multiplicative) distance to the base weights subject to the margins
(Deming & Stephan 1940; Deville & Särndal 1992), so they do not depend on the order of the
variables. Caps (``cap=(low, high)``, relative to the mean weight) are applied inside the
iteration after every cycle, followed by a re-normalisation, as in ANES raking (DeBell &
Krosnick 2009) and weightipy.

Speed: categories are integer-coded once; without caps (or with caps and constant base weights
inside each cell) the iteration runs on the table of distinct cells of the weighting variables
(a few hundred rows, not a million), which is exact because the raking factor depends only on
the cell. Otherwise every step is one ``np.bincount`` per variable over the respondents.

References
----------
Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency table
when the expected marginal totals are known. *Ann. Math. Statist.* 11, 427-444.
Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87.
DeBell, M. & Krosnick, J. A. (2009). Computing weights for American National Election Study
survey data. ANES Technical Report nes012427.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["WeightingResult", "encode_categories", "rake"]


@dataclass(eq=False)
class WeightingResult(Result):
    """A :class:`~researchkit.results.Result` that also carries the weights.

    Attributes
    ----------
    weights : pandas.Series
        One weight per respondent, aligned with the input's index.
    margins : DataFrame
        ``variable, category, target, unweighted, weighted, difference``.
    """

    weights: pd.Series | None = None
    margins: pd.DataFrame | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict without the per-respondent weights (use ``weights`` for those)."""
        out = super().to_dict()
        out.pop("weights", None)
        return out


def _check_targets(df: pd.DataFrame, targets: Any) -> dict[str, pd.Series]:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError("df must be a DataFrame", parameter="df", got=type(df).__name__)
    if not isinstance(targets, Mapping) or not targets:
        raise ParameterError("targets must be a non-empty mapping {variable: {category: share}}",
                             parameter="targets", got=type(targets).__name__)
    out: dict[str, pd.Series] = {}
    for var, spec in targets.items():
        if var not in df.columns:
            raise DataError("weighting variable not in the data", column=str(var),
                            expected=f"a column of the data ({list(df.columns)[:8]}...)")
        series = pd.Series(spec, dtype=float) if not isinstance(spec, pd.Series) \
            else spec.astype(float)
        if series.empty:
            raise DataError("no target categories", parameter="targets", column=str(var))
        if series.isna().any() or (series < 0).any():
            raise DataError("targets must be non-negative shares", parameter="targets",
                            column=str(var), got=spec)
        total = float(series.sum())
        if abs(total - 1.0) > 1e-6:
            raise DataError("targets do not sum to 1", parameter="targets", column=str(var),
                            expected="shares summing to 1", got=round(total, 8))
        out[str(var)] = series
    return out


def encode_categories(values: pd.Series, categories: pd.Index, *, name: str) -> np.ndarray:
    """Integer codes of ``values`` in ``categories``; unknown or missing values → DataError.

    Values are factorised once (hashing), and the few distinct values are then matched to the
    categories, so the cost is one pass over the data; numeric values match numeric-looking
    category keys by value (1, 1.0 and "1" are the same category).
    """
    arr = values.to_numpy()
    if arr.dtype.kind in "iu" and len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        if 0 <= lo and hi <= 1_000_000:
            lut = np.full(hi + 1, -1, dtype=np.int16 if len(categories) < 30000 else np.int64)
            for i, c in enumerate(categories):
                key = _as_number(c)
                if key is not None and float(key).is_integer() and 0 <= key <= hi:
                    lut[int(key)] = i
            codes = lut[arr]
            if (codes < 0).any():
                _raise_unmatched(values, codes < 0, categories, name)
            return codes
    fcodes, uniques = pd.factorize(values, use_na_sentinel=True)
    index: dict[Any, int] = {}
    for i, c in enumerate(categories):
        index[c] = i
        num = _as_number(c)
        if num is not None:
            index.setdefault(num, i)
    mapping = np.empty(len(uniques) + 1, dtype=np.int64)
    for j, u in enumerate(uniques):
        key = u.item() if isinstance(u, np.generic) else u
        found = index.get(key)
        if found is None:
            num = _as_number(key)
            found = index.get(num, -1) if num is not None else -1
        mapping[j] = found
    mapping[-1] = -1
    codes = mapping[fcodes]
    if (codes < 0).any():
        _raise_unmatched(values, codes < 0, categories, name)
    return codes


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _raise_unmatched(values: pd.Series, bad: np.ndarray, categories: pd.Index, name: str
                     ) -> None:
    missing = values.isna().to_numpy() & bad
    if missing.any():
        row = values.index[np.flatnonzero(missing)[0]]
        raise DataError(f"{int(missing.sum())} missing values in a weighting variable",
                        column=name, row=row,
                        hint="impute them or drop those respondents before weighting")
    extra = pd.unique(values[bad])
    raise DataError("data category absent from the targets", column=name,
                    expected=f"one of {categories.tolist()}", got=extra.tolist()[:10],
                    hint="add a target for it or recode it")


def _cell_codes(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Collapse the variables' codes into distinct cells: (cell index per row, cell codes)."""
    total = int(np.prod(sizes, dtype=np.float64))
    if total <= 50_000_000:
        key = np.zeros(len(codes[0]), dtype=np.int64)
        for c, k in zip(codes, sizes, strict=True):
            key *= k
            key += c
        present = np.bincount(key, minlength=total) > 0
        lookup = np.cumsum(present) - 1
        inverse = lookup[key]
        uniq = np.flatnonzero(present)
        cells = np.empty((len(uniq), len(codes)), dtype=np.int64)
        rem = uniq.copy()
        for j in range(len(codes) - 1, -1, -1):
            cells[:, j] = rem % sizes[j]
            rem //= sizes[j]
        return inverse, cells
    stacked = np.stack(codes, axis=1)
    cells, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return inverse.ravel(), cells


def _ipf(codes: list[np.ndarray], targets: list[np.ndarray], w: np.ndarray,
         mass: np.ndarray | None, cap: tuple[float, float] | None, tol: float,
         max_iter: int) -> tuple[np.ndarray, int, float]:
    """Core loop. ``w`` are per-unit (or per-cell) weights; ``mass`` counts units per cell."""
    m = np.ones_like(w) if mass is None else mass
    n_units = m.sum()
    total = float((w * m).sum())
    err = np.inf
    for it in range(1, max_iter + 1):
        for c, t in zip(codes, targets, strict=True):
            current = np.bincount(c, weights=w * m, minlength=len(t))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, t * total / current, 0.0)
            w = w * factor[c]
        if cap is not None:
            lo, hi = cap
            for _ in range(1000):
                mean = (w * m).sum() / n_units
                rel = w / mean
                if rel.min() >= lo * (1 - 1e-12) and rel.max() <= hi * (1 + 1e-12):
                    break
                w = np.clip(rel, lo, hi) * mean
        err = max(float(np.max(np.abs(np.bincount(c, weights=w * m, minlength=len(t))
                                      / (w * m).sum() - t)))
                  for c, t in zip(codes, targets, strict=True))
        if err < tol:
            return w, it, err
    return w, max_iter, err


def rake(
    df: pd.DataFrame, targets: Mapping[str, Mapping[Any, float]], base_weight: str | None = None,
    cap: tuple[float, float] | float | None = None, max_iter: int = 1000, tol: float = 1e-8,
    *, total: float | None = None,
) -> WeightingResult:
    """Rake weights so the weighted margins of several variables match population targets.

    Parameters
    ----------
    df : DataFrame
        Respondents (the weighting variables must have no missing values).
    targets : mapping
        ``{variable: {category: population share}}``; each variable's shares sum to 1 and
        every category present in the data has a target (and vice versa).
    base_weight : str, optional
        Column of design (base) weights, e.g. ``1/π`` from the draw; respected: raking
        multiplies them.
    cap : (low, high) or high, optional
        Bounds for the weights relative to the mean weight (e.g. ``(0.2, 5)``); applied inside
        the iteration after every cycle, followed by re-normalisation.
    max_iter : int
        Maximum number of cycles over the variables.
    tol : float
        Convergence: the largest absolute gap between a weighted margin share and its target.
    total : float, optional
        Scale the weights to sum to this (e.g. the population size); default: the number of
        respondents (mean weight 1).

    Returns
    -------
    WeightingResult
        ``weights`` (Series aligned with ``df.index``), ``margins`` (targets vs achieved), and
        ``details``: iterations, largest margin gap, Kish design effect, weighting efficiency,
        effective sample size, weight range.

    Raises
    ------
    DataError
        Targets not summing to 1; a target category absent from the data (its margin cannot be
        reached); a data category absent from the targets; missing values in a weighting
        variable; non-positive base weights; no convergence (e.g. caps too tight).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"sex": ["m", "m", "f"], "age": ["y", "o", "o"]})
    >>> r = rake(d, {"sex": {"m": .5, "f": .5}, "age": {"y": .4, "o": .6}})
    >>> r.margins["weighted"].round(3).tolist()
    [0.5, 0.5, 0.4, 0.6]
    """
    tmap = _check_targets(df, targets)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ParameterError("max_iter must be a positive integer", parameter="max_iter",
                             got=max_iter)
    if not isinstance(tol, int | float) or not 0 < tol < 1:
        raise ParameterError("tol must be in (0, 1)", parameter="tol", got=tol)
    n = len(df)
    if n == 0:
        raise DataError("no respondents to weight", parameter="df")
    cap_pair: tuple[float, float] | None
    if cap is None:
        cap_pair = None
    elif isinstance(cap, int | float) and not isinstance(cap, bool):
        cap_pair = (0.0, float(cap))
    elif isinstance(cap, tuple | list) and len(cap) == 2:
        cap_pair = (float(cap[0]), float(cap[1]))
    else:
        raise ParameterError("cap must be a number (upper bound) or (low, high)",
                             parameter="cap", got=cap)
    if cap_pair is not None and not (0 <= cap_pair[0] < 1 < cap_pair[1]):
        raise ParameterError("caps are relative to the mean weight: need low < 1 < high",
                             parameter="cap", got=cap)
    if base_weight is not None:
        if base_weight not in df.columns:
            raise DataError("base weight column not in the data", column=base_weight)
        d = pd.to_numeric(df[base_weight], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(d) | (d <= 0)
        if bad.any():
            row = df.index[np.flatnonzero(bad)[0]]
            raise DataError("base weights must be positive numbers", column=base_weight,
                            row=row, got=df[base_weight].iloc[np.flatnonzero(bad)[0]])
    else:
        d = np.ones(n)

    names = list(tmap)
    codes, tvecs, cats_list = [], [], []
    for var in names:
        cats = pd.Index(tmap[var].index)
        c = encode_categories(df[var], cats, name=var)
        codes.append(c)
        tvecs.append(tmap[var].to_numpy(dtype=float))
        cats_list.append(cats)

    inverse, cells = _cell_codes(codes, [len(c) for c in cats_list])
    cell_n = np.bincount(inverse, minlength=len(cells))
    for j, var in enumerate(names):
        counts = np.bincount(cells[:, j], weights=cell_n, minlength=len(cats_list[j]))
        absent = [cats_list[j][k] for k in range(len(counts))
                  if counts[k] == 0 and tvecs[j][k] > 0]
        if absent:
            raise DataError("target category absent from the data", column=var,
                            got=list(absent),
                            hint="no respondent can carry its target share: collapse it with "
                                 "a neighbouring category or drop it from the targets")
    base_const_in_cell = base_weight is None
    if not base_const_in_cell:
        first = np.zeros(len(cells))
        first[inverse] = d
        base_const_in_cell = bool(np.allclose(first[inverse], d, rtol=0, atol=0))
    compressed = None
    if cap_pair is None or base_const_in_cell:
        # work on cells: factor g per cell, weight = d * g
        if cap_pair is None:
            mass = np.bincount(inverse, weights=d, minlength=len(cells))
            g, iters, _ = _ipf([cells[:, j] for j in range(len(names))], tvecs,
                               np.ones(len(cells)), mass, None, tol, max_iter)
            w = g[inverse] if base_weight is None else d * g[inverse]
            if base_weight is None:
                compressed = (g, cell_n.astype(float))
        else:
            cnt = cell_n.astype(float)
            dcell = np.zeros(len(cells))
            dcell[inverse] = d
            wc, iters, _ = _ipf([cells[:, j] for j in range(len(names))], tvecs, dcell,
                                cnt, cap_pair, tol, max_iter)
            w = wc[inverse]
            compressed = (wc, cnt)
        how = "on the table of distinct cells of the weighting variables"
    else:
        w, iters, _ = _ipf([c.astype(np.intp) for c in codes], tvecs, d.copy(), None,
                           cap_pair, tol, max_iter)
        how = "respondent by respondent"
    if total is not None and (not isinstance(total, int | float) or total <= 0):
        raise ParameterError("total must be positive", parameter="total", got=total)
    scale = (total if total is not None else n) / w.sum()
    w *= scale

    rows = []
    if compressed is not None:
        cw, cn = compressed[0] * scale, compressed[1]
        wsum = float((cw * cn).sum())
        per_var = [(np.bincount(cells[:, j], weights=cw * cn, minlength=len(tvecs[j])),
                    np.bincount(cells[:, j], weights=cn, minlength=len(tvecs[j])))
                   for j in range(len(names))]
    else:
        wsum = float(w.sum())
        per_var = [(np.bincount(c, weights=w, minlength=len(t)),
                    np.bincount(c, minlength=len(t)).astype(float))
                   for c, t in zip(codes, tvecs, strict=True)]
    for var, (sw, cnt_v), t, cats in zip(names, per_var, tvecs, cats_list, strict=True):
        achieved = sw / wsum
        unweighted = cnt_v / n
        rows += [{"variable": var, "category": cats[k], "target": t[k],
                  "unweighted": unweighted[k], "weighted": achieved[k],
                  "difference": achieved[k] - t[k]} for k in range(len(t))]
    margins = pd.DataFrame(rows)
    gap = float(margins["difference"].abs().max())
    if gap >= tol:
        why = " with the caps given (they may be too tight)" if cap_pair else ""
        raise DataError(f"raking did not converge in {iters} iterations{why}: the largest "
                        f"margin gap is {gap:.3g}", parameter="max_iter",
                        expected=f"every margin within tol={tol:g} of its target",
                        hint="raise max_iter, loosen the caps, or collapse sparse categories")
    from researchkit.survey.diagnostics import _weight_stats

    stats = _weight_stats(w) if compressed is None else \
        _weight_stats(compressed[0] * scale, counts=compressed[1])
    capped = f", weights capped to [{cap_pair[0]:g}, {cap_pair[1]:g}] × mean inside the " \
             "iteration" if cap_pair else ""
    base = f", starting from base weights '{base_weight}'" if base_weight else ""
    method = (f"Raking (iterative proportional fitting) to the margins of {', '.join(names)}"
              f"{base}{capped}; iterated {how} until every weighted margin was within "
              f"{tol:g} of its target ({iters} cycles). Weights scaled to sum to "
              f"{'the total given' if total is not None else 'the number of respondents'}.")
    weights = pd.Series(w, index=df.index, name="weight")
    return WeightingResult(
        name="Raking weights", estimate={"design_effect": stats["design_effect"],
                                         "efficiency": stats["efficiency"],
                                         "n_effective": stats["n_effective"]},
        method=method, n=n, table=margins,
        details={"iterations": iters, "max_margin_gap": gap, "variables": names, **stats},
        reference="Deming & Stephan (1940); Deville & Särndal (1992); DeBell & Krosnick "
                  "(2009) ANES weighting.",
        weights=weights, margins=margins,
    )
