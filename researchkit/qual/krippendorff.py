"""Krippendorff's alpha for nominal, ordinal, interval and ratio data, with missing codings.

    alpha = 1 - D_o / D_e

where ``D_o`` is the disagreement observed between values coded for the same unit and
``D_e`` the disagreement expected by chance among all pairable values (Krippendorff 2011). Only
units coded by at least two coders are *pairable*; units with one coding are left out.

With ``n_uc`` the number of coders giving value ``c`` to unit ``u``, ``m_u = Σ_c n_uc`` the
codings of unit ``u``, ``n_c = Σ_u n_uc`` and ``n = Σ_c n_c`` (pairable values only)::

    D_o = (1/n) Σ_u  1/(m_u - 1) · Σ_{i≠j in u} δ²(x_i, x_j)
    D_e = 1/(n(n - 1)) · Σ_{i≠j over all pairable values} δ²(x_i, x_j)

Nothing here builds a V × V coincidence or distance matrix over the V distinct values, so memory
stays bounded however many distinct values there are:

* **nominal** (δ² = [c ≠ k]): ``Σ_{i≠j in u} δ² = m_u² - Σ_c n_uc²`` (pairwise comparisons of
  coders within units) and ``Σ δ²`` over all pairs ``= n² - Σ_c n_c²`` (a ``bincount``);
* **interval** (δ² = (c − k)²): ``Σ_{i≠j} (x_i − x_j)² = 2 m Σ (x − x̄)²`` within each unit and
  over the pooled values: sums of squares, O(n);
* **ordinal**: Krippendorff's ordinal metric δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k)/2)² equals
  (P_k − P_c)² with ``P_g = Σ_{h<g} n_h + n_g / 2`` (the mid-rank of value g among the pairable
  values), so ordinal alpha is interval alpha on mid-ranks: a sort, O(n log n);
* **ratio** (δ² = ((c − k)/(c + k))²): observed disagreement from coder pairs within units;
  expected disagreement summed exactly over pairs of distinct values in blocks of rows
  (O(V²) time, O(V · block) memory; the metric does not factorise).

References
----------
Krippendorff, K. (2011). *Computing Krippendorff's Alpha-Reliability*. Annenberg School for
Communication, University of Pennsylvania, Departmental Papers 43.
Krippendorff, K. (2018). *Content Analysis: An Introduction to Its Methodology*, 4th ed., ch. 12.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.qual._bootstrap import boot_method_text, bootstrap, check_boot_args
from researchkit.qual._matrix import LEVELS, reliability_table, value_matrix
from researchkit.results import Result

__all__ = ["alpha_from_matrix", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]

REFERENCE = ("Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg "
             "School for Communication, Departmental Papers 43; Krippendorff, K. (2018). "
             "Content Analysis, 4th ed., ch. 12.")

#: Krippendorff (2018, p. 356): rely on variables with alpha >= .800; tentative conclusions for
#: .667 <= alpha < .800; discard variables below .667.
THRESHOLDS = (0.667, 0.800)

_DENSE_CELLS = 4_000_000
_METRIC = {
    "nominal": "δ²(c,k) = 0 if c = k else 1",
    "ordinal": "δ²(c,k) = (Σ_{g=c..k} n_g − (n_c + n_k)/2)², computed as interval alpha on "
               "mid-ranks of the pairable values",
    "interval": "δ²(c,k) = (c − k)²",
    "ratio": "δ²(c,k) = ((c − k)/(c + k))²",
}


def _counts_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Any:
    """Per-unit value counts (units × values): dense when small, else scipy sparse CSR."""
    if shape[0] * shape[1] <= _DENSE_CELLS:
        out = np.zeros(shape)
        np.add.at(out, (rows, cols), 1.0)
        return out
    from scipy import sparse

    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=shape)


def _wc(weights: np.ndarray, counts: Any) -> np.ndarray:
    """``weights @ counts`` for a dense or sparse counts matrix -> dense (b × V)."""
    if isinstance(counts, np.ndarray):
        return weights @ counts
    return np.asarray((counts.T @ weights.T).T)


def _cw(counts: Any, right: np.ndarray) -> np.ndarray:
    """``counts @ right`` for a dense or sparse counts matrix -> dense."""
    return np.asarray(counts @ right)


class _Stats:
    """Per-unit sufficient statistics of one level of measurement."""

    def __init__(self, x: np.ndarray, mask: np.ndarray, m: np.ndarray) -> None:
        self.x, self.mask, self.m = x, mask, m
        self.n = float(m.sum())
        self._counts: Any = None
        self._values: np.ndarray | None = None

    def counts(self) -> tuple[Any, np.ndarray]:
        """Per-unit counts of each distinct value, and the sorted distinct values."""
        if self._counts is None:
            rows = np.nonzero(self.mask)[0]
            values, inverse = np.unique(self.x[self.mask], return_inverse=True)
            self._counts = _counts_matrix(rows, inverse.ravel(), (self.x.shape[0], values.size))
            self._values = values
        assert self._values is not None
        return self._counts, self._values

    def point(self) -> tuple[float, float]:
        raise NotImplementedError

    def boot(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _pair_count_sq(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σ_c n_uc² per unit, by comparing coders pairwise (NaN never equals NaN)."""
    k = x.shape[1]
    cols = np.ascontiguousarray(x.T)
    agree = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(k):
        xi = cols[i]
        for j in range(i + 1, k):
            agree += xi == cols[j]
    return m + 2.0 * agree


class _Nominal(_Stats):
    def __init__(self, x: np.ndarray, mask: np.ndarray, m: np.ndarray) -> None:
        super().__init__(x, mask, m)
        if x.shape[1] <= 32:
            sq = _pair_count_sq(x, m)
        else:
            counts, _ = self.counts()
            sq = np.asarray(counts.multiply(counts).sum(axis=1)).ravel() \
                if not isinstance(counts, np.ndarray) else (counts * counts).sum(axis=1)
        self.o = (m * m - sq) / (m - 1.0)
        self.n_c = np.bincount(x[mask].astype(np.intp))

    def point(self) -> tuple[float, float]:
        n = self.n
        d_o = self.o.sum() / n
        d_e = (n * n - float((self.n_c.astype(np.float64) ** 2).sum())) / (n * (n - 1.0))
        return d_o, d_e

    def boot(self, w: np.ndarray) -> np.ndarray:
        counts, _ = self.counts()
        n = w @ self.m
        nc = _wc(w, counts)
        d_o = (w @ self.o) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            d_e = (n * n - (nc * nc).sum(axis=1)) / (n * (n - 1.0))
            return 1.0 - d_o / d_e


class _Interval(_Stats):
    def __init__(self, x: np.ndarray, mask: np.ndarray, m: np.ndarray) -> None:
        super().__init__(x, mask, m)
        pooled = x[mask]
        self.center = float(pooled.mean())
        xc = x - self.center
        self.s1 = np.nansum(xc, axis=1)
        self.s2 = np.nansum(xc * xc, axis=1)
        dev = xc - (self.s1 / m)[:, None]
        ss = np.nansum(dev * dev, axis=1)
        self.o = 2.0 * m * ss / (m - 1.0)
        self.ss_pooled = float(((pooled - self.center) ** 2).sum())

    def point(self) -> tuple[float, float]:
        return self.o.sum() / self.n, 2.0 * self.ss_pooled / (self.n - 1.0)

    def boot(self, w: np.ndarray) -> np.ndarray:
        n = w @ self.m
        s1 = w @ self.s1
        ss = w @ self.s2 - s1 * s1 / n
        d_o = (w @ self.o) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - d_o / (2.0 * ss / (n - 1.0))


class _Ordinal(_Stats):
    def __init__(self, x: np.ndarray, mask: np.ndarray, m: np.ndarray) -> None:
        super().__init__(x, mask, m)
        _, inverse, freq = np.unique(x[mask], return_inverse=True, return_counts=True)
        midrank = np.cumsum(freq) - freq / 2.0
        ranks = np.full(x.shape, np.nan)
        ranks[mask] = midrank[inverse.ravel()]
        self._interval = _Interval(ranks, mask, m)

    def point(self) -> tuple[float, float]:
        return self._interval.point()

    def boot(self, w: np.ndarray) -> np.ndarray:
        counts, _ = self.counts()
        n = w @ self.m
        nc = _wc(w, counts)                       # (b, V) replicate value frequencies
        pos = np.cumsum(nc, axis=1) - nc / 2.0    # replicate mid-ranks P_g
        q = _cw(counts, (pos * pos).T)            # (N, b): Σ_g n_ug P_g²
        lin = _cw(counts, pos.T)                  # (N, b): Σ_g n_ug P_g
        o = 2.0 * (self.m[:, None] * q - lin * lin) / (self.m[:, None] - 1.0)
        d_o = (w * o.T).sum(axis=1) / n
        s1 = (nc * pos).sum(axis=1)
        s2 = (nc * pos * pos).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            d_e = 2.0 * (n * s2 - s1 * s1) / (n * (n - 1.0))
            return 1.0 - d_o / d_e


def _ratio_pairs(x: np.ndarray) -> np.ndarray:
    """Σ over coder pairs i<j within each unit of ((x_i − x_j)/(x_i + x_j))²."""
    k = x.shape[1]
    acc = np.zeros(x.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(k):
            a = x[:, i]
            for j in range(i + 1, k):
                b = x[:, j]
                t = a + b
                d = (a - b) / t
                acc += np.where(t > 0, d * d, 0.0)
    return acc


def _ratio_quadform(values: np.ndarray, freq: np.ndarray, block_cells: int = 2_000_000
                    ) -> np.ndarray:
    """Σ_{c,k} f_c f_k ((v_c − v_k)/(v_c + v_k))² for each row f of ``freq`` (b × V).

    Exact; rows of the distance matrix are built ``block`` at a time and only on and above
    the diagonal (the metric is symmetric), so memory is O(V · block).
    """
    v = values.astype(np.float64)
    big_v = v.size
    block = max(1, block_cells // max(big_v, 1))
    out = np.zeros(freq.shape[0])
    positive = big_v == 0 or v.min() > 0   # then c + k > 0 for every pair: no 0/0 to guard
    with np.errstate(invalid="ignore", divide="ignore"):
        for s in range(0, big_v, block):
            e = min(big_v, s + block)
            vr = v[s:e, None]
            vc = v[None, s:]
            tot = vr + vc
            d = vr - vc
            d /= tot
            d *= d
            if not positive:
                d[tot == 0] = 0.0
            diag = freq[:, s:e] @ d[:, : e - s].T
            off = freq[:, e:] @ d[:, e - s:].T if e < big_v else 0.0
            out += (freq[:, s:e] * (diag + 2.0 * off)).sum(axis=1)
    return out


class _Ratio(_Stats):
    def __init__(self, x: np.ndarray, mask: np.ndarray, m: np.ndarray) -> None:
        super().__init__(x, mask, m)
        self.o = 2.0 * _ratio_pairs(x) / (m - 1.0)

    def point(self) -> tuple[float, float]:
        values, freq = np.unique(self.x[self.mask], return_counts=True)
        total = _ratio_quadform(values, freq[None, :].astype(np.float64))[0]
        return self.o.sum() / self.n, total / (self.n * (self.n - 1.0))

    def boot(self, w: np.ndarray) -> np.ndarray:
        counts, values = self.counts()
        n = w @ self.m
        nc = _wc(w, counts)
        d_o = (w @ self.o) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            d_e = _ratio_quadform(values, nc) / (n * (n - 1.0))
            return 1.0 - d_o / d_e


_CLASSES: dict[str, type[_Stats]] = {
    "nominal": _Nominal, "ordinal": _Ordinal, "interval": _Interval, "ratio": _Ratio,
}


def alpha_from_matrix(
    x: np.ndarray, level: Level = "nominal", *, n_boot: int = 0, ci_level: float = 0.95,
    seed: Any = 0, clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    """Krippendorff's alpha of a numeric units × coders matrix (NaN = not coded).

    The computational core of :func:`krippendorff_alpha` (no input checks beyond the shape;
    values must already be numbers: nominal codes, ordinal positions, interval or
    non-negative ratio values). ``clusters`` (one integer per row) makes the bootstrap
    resample whole clusters of units.

    Returns
    -------
    dict
        ``alpha``, ``observed_disagreement``, ``expected_disagreement``, ``n_units``,
        ``n_pairable_units``, ``n_values``, ``boot`` (a bootstrap summary).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    x = np.asarray(x, dtype=np.float64)
    mask = ~np.isnan(x)
    m_all = mask.sum(axis=1)
    keep = m_all >= 2
    if keep.all():
        xk, mk, m = x, mask, m_all.astype(np.float64)
    else:
        xk, mk, m = x[keep], mask[keep], m_all[keep].astype(np.float64)
    out: dict[str, Any] = {"n_units": int(x.shape[0]), "n_pairable_units": int(keep.sum()),
                           "n_values": int(m.sum())}
    if out["n_pairable_units"] == 0:
        out.update(alpha=float("nan"), observed_disagreement=float("nan"),
                   expected_disagreement=float("nan"), boot=None)
        return out
    stats = _CLASSES[level](xk, mk, m)
    d_o, d_e = stats.point()
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - d_o / d_e if d_e > 0 else float("nan")
    out.update(alpha=float(alpha), observed_disagreement=float(d_o),
               expected_disagreement=float(d_e))
    cl = None
    if clusters is not None:
        _, cl = np.unique(np.asarray(clusters)[keep], return_inverse=True)
    out["boot"] = bootstrap(stats.boot, xk.shape[0], n_boot=n_boot, ci_level=ci_level,
                            seed=seed, clusters=cl) if n_boot and np.isfinite(alpha) else None
    return out


def krippendorff_alpha(
    data: pd.DataFrame | np.ndarray,
    level: Level = "nominal",
    *,
    order: Sequence[Any] | None = None,
    unit: str | None = None,
    coder: str | None = None,
    value: str | None = None,
    coders: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
) -> Result:
    """Krippendorff's alpha reliability coefficient, with a bootstrap interval.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per unit (segment, answer, item) and one column per coder; NaN = not coded.
        Or a long table with ``unit``, ``coder`` and ``value`` columns.
        (Note: the ``krippendorff`` package takes the transpose, coders × units.)
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement, which sets the distance metric δ².
    order : sequence, optional
        For ordinal data given as labels: the values from lowest to highest. Ordered
        categoricals and numbers need none.
    unit, coder, value : str, optional
        Column names of a long table.
    coders : sequence of str, optional
        Use only these coders.
    n_boot : int
        Bootstrap resamples of units for the interval (0 = no interval).
    ci_level : float
        Coverage of the interval.
    seed : int
        Random seed of the bootstrap.

    Returns
    -------
    Result
        ``estimate`` = alpha; ``ci``; ``n`` = pairable units; ``details`` with the observed and
        expected disagreement, counts of units and values, the bootstrap standard error and
        the share of resamples below Krippendorff's thresholds .667 and .800.

    Notes
    -----
    ``alpha = 1 − D_o / D_e`` with
    ``D_o = (1/n) Σ_u Σ_{i≠j in u} δ²(x_i, x_j) / (m_u − 1)`` and
    ``D_e = Σ_{i≠j} δ²(x_i, x_j) / (n (n − 1))`` over all n pairable values (see the module
    docstring for how each level is computed without a V × V matrix). alpha = 1 is perfect
    agreement, 0 is agreement at chance level; it is undefined (NaN) when all pairable values
    are equal.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
    Communication, Departmental Papers 43.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    ...                    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    ...                    "C": [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    ...                    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan]})
    >>> round(krippendorff_alpha(df, "interval", n_boot=0).estimate, 3)
    0.849
    """
    n_boot, ci_level = check_boot_args(n_boot, ci_level)
    table = reliability_table(data, unit=unit, coder=coder, value=value, coders=coders)
    x, _ = value_matrix(table, level, order=order)
    core = alpha_from_matrix(x, level, n_boot=n_boot, ci_level=ci_level, seed=seed)
    return _alpha_result(core, level, n_coders=table.shape[1], n_boot=n_boot,
                         ci_level=ci_level, seed=seed)


def _alpha_result(core: dict[str, Any], level: str, *, n_coders: int, n_boot: int,
                  ci_level: float, seed: Any, name: str | None = None) -> Result:
    from researchkit.errors import DataError

    if core["n_pairable_units"] == 0:
        raise DataError("no unit was coded by two or more coders, so agreement cannot be "
                        "measured", expected="units with at least two codings")
    excluded = core["n_units"] - core["n_pairable_units"]
    warnings: list[str] = []
    alpha = core["alpha"]
    if not np.isfinite(alpha):
        warnings.append("every pairable value is the same: there is no variation, so alpha is "
                        "undefined (0/0)")
    elif alpha < THRESHOLDS[0]:
        warnings.append(f"alpha = {alpha:.3f} is below .667: Krippendorff (2018) advises "
                        "against drawing conclusions from data this unreliable")
    boot = core["boot"]
    if boot is not None and boot.n_failed:
        warnings.append(f"{boot.n_failed} of {n_boot} bootstrap resamples had no variation "
                        "and were dropped")
    method = (f"Krippendorff's alpha, {level} metric ({_METRIC[level]}); alpha = 1 − D_o/D_e "
              f"from the coincidences of values within units; {n_coders} coders, missing "
              f"codings allowed; {excluded} of {core['n_units']} units had fewer than two "
              f"codings (not pairable) and were left out; "
              f"{boot_method_text(n_boot if boot is not None else 0, ci_level, seed)}")
    details: dict[str, Any] = {
        "level": level,
        "n_units": core["n_units"],
        "n_pairable_units": core["n_pairable_units"],
        "n_units_excluded": excluded,
        "n_coders": n_coders,
        "n_pairable_values": core["n_values"],
        "observed_disagreement": core["observed_disagreement"],
        "expected_disagreement": core["expected_disagreement"],
    }
    ci = None
    if boot is not None:
        ci = boot.ci
        details.update(bootstrap_se=boot.se, n_boot=n_boot, bootstrap_failed=boot.n_failed,
                       share_boot_below_0667=boot.share_below(THRESHOLDS[0]),
                       share_boot_below_0800=boot.share_below(THRESHOLDS[1]))
    return Result(name=name or f"Krippendorff's alpha ({level})", estimate=alpha,
                  method=method, ci=ci, ci_level=ci_level if ci else None,
                  n=core["n_pairable_units"], details=details, warnings=warnings,
                  reference=REFERENCE)
