"""Percent agreement, Cohen's kappa (unweighted and weighted) and Fleiss' kappa.

All take reliability data with one row per unit and one column per coder (NaN = not coded),
return a :class:`~researchkit.results.Result` and give a percentile bootstrap interval over
units (see :mod:`researchkit.qual._bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.qual._bootstrap import boot_method_text, bootstrap, check_boot_args
from researchkit.qual._matrix import reliability_table, value_matrix
from researchkit.results import Result

__all__ = ["cohen_kappa", "fleiss_kappa", "pairwise_agreement", "percent_agreement"]


def _agreeing_pairs(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σ_c n_uc (n_uc − 1) per unit: ordered coder pairs that gave the same value."""
    k = x.shape[1]
    out = np.zeros(x.shape[0])
    for i in range(k):
        for j in range(i + 1, k):
            out += 2.0 * (x[:, i] == x[:, j])
    return out


def percent_agreement(
    data: pd.DataFrame | np.ndarray, *, coders: Sequence[str] | None = None,
    n_boot: int = 1000, ci_level: float = 0.95, seed: int = 0,
) -> Result:
    """Share of agreeing coder pairs, averaged over units.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per unit, one column per coder (NaN = not coded); values are categories.
    coders : sequence of str, optional
        Use only these coders.
    n_boot, ci_level, seed
        Bootstrap resamples of units (0 = no interval), coverage, seed.

    Notes
    -----
    For unit ``u`` with ``m_u >= 2`` codings, ``a_u = Σ_c n_uc (n_uc − 1) / (m_u (m_u − 1))``,
    the share of coder pairs that agree; percent agreement is the mean of ``a_u`` over those
    units (Fleiss 1971's P̄). With two coders and no missing codings this is the share of units
    coded alike; with complete data it equals the mean pairwise percent agreement over coder
    pairs. It ignores agreement by chance: report a chance-corrected coefficient too.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
    Bulletin*, 76(5), 378-382.
    """
    n_boot, ci_level = check_boot_args(n_boot, ci_level)
    table = reliability_table(data, coders=coders)
    x, _ = value_matrix(table, "nominal")
    m = (~np.isnan(x)).sum(axis=1).astype(float)
    keep = m >= 2
    if not keep.any():
        raise DataError("no unit was coded by two or more coders",
                        expected="units with at least two codings")
    a = _agreeing_pairs(x[keep], m[keep]) / (m[keep] * (m[keep] - 1))
    est = float(a.mean())
    n_units = int(keep.sum())
    boot = bootstrap(lambda w: (w @ a) / n_units, n_units, n_boot=n_boot, ci_level=ci_level,
                     seed=seed)
    method = (f"mean over units of the share of agreeing coder pairs ({table.shape[1]} coders; "
              f"{int((~keep).sum())} units with fewer than two codings left out); not "
              f"corrected for chance; {boot_method_text(n_boot, ci_level, seed)}")
    return Result(name="Percent agreement", estimate=est, method=method, ci=boot.ci,
                  ci_level=ci_level if boot.ci else None, n=n_units,
                  details={"n_coders": table.shape[1], "n_units_excluded": int((~keep).sum()),
                           "bootstrap_se": boot.se},
                  reference="Fleiss, J. L. (1971). Psychological Bulletin 76(5), 378-382.")


# -- Cohen's kappa ---------------------------------------------------------------------------

def _categories(a: pd.Series, b: pd.Series, order: Sequence[Any] | None, weighted: bool
                ) -> list[Any]:
    values = pd.concat([a, b], ignore_index=True)
    if order is not None:
        order = list(order)
        if len(pd.unique(pd.Series(order, dtype=object))) != len(order):
            raise ParameterError("values repeat in the order", parameter="order", got=order)
        codes = pd.Categorical(values, categories=order).codes
        unknown = sorted({repr(v) for v in values[codes < 0]})
        if unknown:
            raise DataError("values not in the given order", parameter="order",
                            expected=f"one of {order}", got=unknown[:10])
        return order
    dtype = a.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered and dtype == b.dtype:
        return list(dtype.categories)
    uniq = list(values.unique())
    if pd.api.types.is_numeric_dtype(values):
        return sorted(uniq)
    if weighted:
        raise ParameterError("weighted kappa needs ordered categories", parameter="order",
                             expected="order=[lowest, ..., highest], numbers, or ordered "
                             "categoricals")
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=repr)


def _disagreement_weights(k: int, weights: str | None) -> np.ndarray:
    i = np.arange(k)
    diff = np.abs(i[:, None] - i[None, :]).astype(np.float64)
    if weights is None:
        return (diff > 0).astype(np.float64)
    scale = max(k - 1, 1)
    if weights == "linear":
        return diff / scale
    return (diff / scale) ** 2


def _kappa_from_tables(tables: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each K × K table in ``tables`` (b × K × K) with disagreement weights."""
    n = tables.sum(axis=(1, 2))
    p = tables / n[:, None, None]
    row = p.sum(axis=2)
    col = p.sum(axis=1)
    expected = row[:, :, None] * col[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (p * d).sum(axis=(1, 2)) / (expected * d).sum(axis=(1, 2))


def _kappa_variances(table: np.ndarray, d: np.ndarray, kappa: float) -> tuple[float, float]:
    """Large-sample variances of kappa, and of kappa under H0: kappa = 0.

    Fleiss, Cohen & Everitt (1969), with agreement weights w = 1 − d / max(d).
    """
    n = table.sum()
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    w = 1.0 - d / d.max() if d.max() > 0 else np.ones_like(d)
    pe = float((w * np.outer(row, col)).sum())
    w_row = (w * col[None, :]).sum(axis=1)   # w̄_i. = Σ_j p_.j w_ij
    w_col = (w * row[:, None]).sum(axis=0)   # w̄_.j = Σ_i p_i. w_ij
    both = w_row[:, None] + w_col[None, :]
    var = ((p * (w - both * (1 - kappa)) ** 2).sum() - (kappa - pe * (1 - kappa)) ** 2) \
        / ((1 - pe) ** 2 * n)
    var0 = ((np.outer(row, col) * (w - both) ** 2).sum() - pe**2) / ((1 - pe) ** 2 * n)
    return float(var), float(var0)


def cohen_kappa(
    data: pd.DataFrame | np.ndarray,
    *,
    coders: Sequence[str] | None = None,
    weights: Literal["linear", "quadratic"] | None = None,
    order: Sequence[Any] | None = None,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
) -> Result:
    """Cohen's kappa between two coders, unweighted or weighted, with a bootstrap interval.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per unit and one column per coder; exactly two coders (or choose two with
        ``coders``). Units not coded by both are left out (and counted).
    coders : pair of str, optional
    weights : {None, "linear", "quadratic"}
        Disagreement weights for ordered categories (Cohen 1968): ``|i − j| / (K − 1)`` or its
        square, with ``i, j`` the positions of the categories.
    order : sequence, optional
        All categories in order (needed for weighted kappa of labels; categories never used
        still count for the positions).
    n_boot, ci_level, seed
        Bootstrap resamples of units (0 = none), coverage, seed.

    Returns
    -------
    Result
        ``estimate`` = kappa, ``ci`` (bootstrap), ``p_value`` of the z test of kappa = 0 with the
        large-sample variance under H0, ``table`` = the K × K agreement table; ``details``
        carry the observed and chance agreement and the asymptotic standard error.

    Notes
    -----
    ``kappa = 1 − Σ d_ij p_ij / Σ d_ij p_i. p_.j`` with ``d`` the disagreement weights;
    unweighted (d = 1 off the diagonal) it is ``(p_o − p_e) / (1 − p_e)``. Standard errors follow
    Fleiss, Cohen & Everitt (1969).

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
    Psychological Measurement*, 20, 37-46. Cohen, J. (1968). Weighted kappa. *Psychological
    Bulletin*, 70, 213-220. Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Large sample
    standard errors of kappa and weighted kappa. *Psychological Bulletin*, 72, 323-327.
    """
    from scipy import stats

    n_boot, ci_level = check_boot_args(n_boot, ci_level)
    if weights not in (None, "linear", "quadratic"):
        raise ParameterError("unknown weights", parameter="weights",
                             expected="None, 'linear' or 'quadratic'", got=weights)
    table = reliability_table(data, coders=coders)
    if table.shape[1] != 2:
        raise ParameterError("Cohen's kappa compares exactly two coders", parameter="coders",
                             expected="two columns (choose them with coders=[a, b]); use "
                             "fleiss_kappa or krippendorff_alpha for more",
                             got=list(map(str, table.columns)))
    both = table.notna().all(axis=1)
    pairs = table[both]
    if len(pairs) == 0:
        raise DataError("no unit was coded by both coders")
    a, b = pairs.iloc[:, 0], pairs.iloc[:, 1]
    cats = _categories(a, b, order, weights is not None)
    k = len(cats)
    ia = pd.Categorical(a, categories=cats).codes.astype(np.intp)
    ib = pd.Categorical(b, categories=cats).codes.astype(np.intp)
    cell = ia * k + ib
    counts = np.bincount(cell, minlength=k * k).astype(np.float64)
    d = _disagreement_weights(k, weights)
    kappa = float(_kappa_from_tables(counts.reshape(1, k, k), d)[0])
    var, var0 = _kappa_variances(counts.reshape(k, k), d, kappa) if k > 1 else (np.nan, np.nan)
    n = int(cell.size)
    onehot = np.zeros((n, k * k))
    onehot[np.arange(n), cell] = 1.0

    def stat(w: np.ndarray) -> np.ndarray:
        return _kappa_from_tables((w @ onehot).reshape(-1, k, k), d)

    boot = bootstrap(stat, n, n_boot=n_boot, ci_level=ci_level, seed=seed) \
        if np.isfinite(kappa) else bootstrap(stat, n, n_boot=0, ci_level=ci_level, seed=seed)
    z = kappa / np.sqrt(var0) if var0 > 0 else np.nan
    p_value = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else None
    labels = [str(c) for c in cats]
    agreement = pd.DataFrame(counts.reshape(k, k).astype(int), index=labels, columns=labels)
    agreement.index.name = str(table.columns[0])
    agreement.columns.name = str(table.columns[1])
    p = counts.reshape(k, k) / n
    warnings = []
    if not np.isfinite(kappa):
        warnings.append("both coders used a single category: chance agreement is 1 and kappa "
                        "is undefined")
    if boot.n_failed:
        warnings.append(f"{boot.n_failed} bootstrap resamples had undefined kappa and were "
                        "dropped")
    kind = "unweighted" if weights is None else f"{weights}-weighted"
    in_order = "" if weights is None else f" in order {labels}"
    boot_text = boot_method_text(n_boot if boot.replicates.size or boot.n_failed else 0,
                                 ci_level, seed)
    method = (f"Cohen's kappa, {kind} ({k} categories{in_order}); "
              f"{int((~both).sum())} units not coded by both coders left out; {boot_text}; "
              "p-value: z test of kappa = 0 with the Fleiss-Cohen-Everitt (1969) variance "
              "under H0")
    return Result(
        name=f"Cohen's kappa ({kind})", estimate=kappa, method=method, ci=boot.ci,
        ci_level=ci_level if boot.ci else None, p_value=p_value, statistic=float(z)
        if np.isfinite(z) else None, statistic_name="z", n=n, table=agreement,
        details={"observed_agreement": float(np.trace(p)),
                 "chance_agreement": float(np.outer(p.sum(1), p.sum(0)).trace()),
                 "se_asymptotic": float(np.sqrt(var)) if var >= 0 else None,
                 "se_under_h0": float(np.sqrt(var0)) if var0 >= 0 else None,
                 "bootstrap_se": boot.se, "n_units_excluded": int((~both).sum()),
                 "weights": weights or "none"},
        warnings=warnings,
        reference="Cohen (1960); Cohen (1968); Fleiss, Cohen & Everitt (1969), Psychological "
                  "Bulletin 72, 323-327.",
    )


# -- Fleiss' kappa ---------------------------------------------------------------------------

def fleiss_kappa(
    data: pd.DataFrame | np.ndarray,
    *,
    counts: bool = False,
    coders: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
) -> Result:
    """Fleiss' kappa for many raters, with per-category kappas and a bootstrap interval.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per subject and one column per rater (categories as values), every subject
        rated by the same number of raters (not necessarily the same raters; a subject with
        missing ratings makes the counts unequal: use :func:`krippendorff_alpha` then).
        With ``counts=True``: one row per subject and one column per category holding how many
        raters chose it.
    counts : bool
        Whether ``data`` is already a subjects × categories count table.
    coders : sequence of str, optional
        Use only these rater columns.
    n_boot, ci_level, seed
        Bootstrap resamples of subjects (0 = none), coverage, seed.

    Returns
    -------
    Result
        ``estimate`` = kappa; ``p_value`` of the z test of kappa = 0 (Fleiss, Nee & Landis 1979
        standard error under H0); ``table`` = per-category share, kappa, z and p-value.

    Notes
    -----
    With N subjects, m ratings each and n_ij raters putting subject i in category j:
    ``P_i = (Σ_j n_ij² − m) / (m (m − 1))``, ``P̄ = mean P_i``, ``p_j = Σ_i n_ij / (N m)``,
    ``P̄_e = Σ_j p_j²``, ``kappa = (P̄ − P̄_e) / (1 − P̄_e)``; per category
    ``kappa_j = 1 − Σ_i n_ij (m − n_ij) / (N m (m − 1) p_j q_j)``.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
    Bulletin*, 76(5), 378-382. Fleiss, J. L., Nee, J. C. M. & Landis, J. R. (1979). Large
    sample variance of kappa in the case of different sets of raters. *Psychological
    Bulletin*, 86(5), 974-977.
    """
    from scipy import stats

    n_boot, ci_level = check_boot_args(n_boot, ci_level)
    if counts:
        if isinstance(data, np.ndarray):
            data = pd.DataFrame(data)
        if not isinstance(data, pd.DataFrame):
            raise ParameterError("counts must be a DataFrame or array", parameter="data",
                                 got=type(data).__name__)
        table = data if coders is None else data[list(coders)]
        num = table.apply(pd.to_numeric, errors="coerce")
        if num.isna().any().any() or (num < 0).any().any() or \
                (num.to_numpy() != np.round(num.to_numpy())).any():
            raise DataError("a count table must hold non-negative whole numbers",
                            expected="raters per subject and category")
        n_ij = num.to_numpy(dtype=np.float64)
        categories = [str(c) for c in table.columns]
    else:
        table = reliability_table(data, coders=coders)
        x, labels = value_matrix(table, "nominal")
        k = len(labels or [])
        n_ij = np.zeros((x.shape[0], k))
        rows, cols = np.nonzero(~np.isnan(x))
        np.add.at(n_ij, (rows, x[rows, cols].astype(np.intp)), 1.0)
        labels = list(labels or [])
        try:
            order = sorted(range(k), key=lambda i: labels[i])
        except TypeError:
            order = sorted(range(k), key=lambda i: repr(labels[i]))
        n_ij = n_ij[:, order]
        categories = [str(labels[i]) for i in order]
    m_i = n_ij.sum(axis=1)
    if n_ij.shape[0] == 0:
        raise DataError("no subjects to rate")
    if not np.all(m_i == m_i[0]):
        bad = [str(table.index[i]) for i in np.nonzero(m_i != m_i[0])[0][:5]]
        raise DataError("Fleiss' kappa needs the same number of ratings for every subject",
                        row=bad[0], expected=f"{int(m_i[0])} ratings per subject",
                        got=int(m_i[np.nonzero(m_i != m_i[0])[0][0]]),
                        hint="use krippendorff_alpha, which allows missing ratings")
    m = float(m_i[0])
    if m < 2:
        raise DataError("Fleiss' kappa needs at least two ratings per subject", got=int(m))
    n_sub = n_ij.shape[0]

    def kappa_of(tot: np.ndarray, p_sum: np.ndarray) -> np.ndarray:
        p_j = tot / (n_sub * m)
        pe = (p_j * p_j).sum(axis=1)
        pbar = p_sum / n_sub
        with np.errstate(invalid="ignore", divide="ignore"):
            return (pbar - pe) / (1.0 - pe)

    p_i = ((n_ij * n_ij).sum(axis=1) - m) / (m * (m - 1))
    kappa = float(kappa_of(n_ij.sum(axis=0)[None, :], np.array([p_i.sum()]))[0])
    boot = bootstrap(lambda w: kappa_of(w @ n_ij, w @ p_i), n_sub, n_boot=n_boot if
                     np.isfinite(kappa) else 0, ci_level=ci_level, seed=seed)
    p_j = n_ij.sum(axis=0) / (n_sub * m)
    q_j = 1 - p_j
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa_j = 1 - (n_ij * (m - n_ij)).sum(axis=0) / (n_sub * m * (m - 1) * p_j * q_j)
    se_j = np.sqrt(2.0 / (n_sub * m * (m - 1)))
    pq = p_j * q_j
    se0 = np.sqrt(2.0) / (pq.sum() * np.sqrt(n_sub * m * (m - 1))) * \
        np.sqrt(pq.sum() ** 2 - (pq * (q_j - p_j)).sum())
    z = kappa / se0 if se0 > 0 else np.nan
    z_j = kappa_j / se_j
    per_cat = pd.DataFrame({
        "category": categories, "share": p_j, "kappa": kappa_j, "z": z_j,
        "p_value": 2 * stats.norm.sf(np.abs(z_j)),
    })
    warnings = []
    if not np.isfinite(kappa):
        warnings.append("every rating is in one category: kappa is undefined")
    method = (f"Fleiss' kappa for {n_sub} subjects × {int(m)} ratings each, "
              f"{len(categories)} categories; per-category kappas as in Fleiss (1971); "
              "z tests of kappa = 0 with the Fleiss, Nee & Landis (1979) standard errors; "
              f"{boot_method_text(n_boot if boot.replicates.size else 0, ci_level, seed)}")
    return Result(
        name="Fleiss' kappa", estimate=kappa, method=method, ci=boot.ci,
        ci_level=ci_level if boot.ci else None,
        p_value=float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else None,
        statistic=float(z) if np.isfinite(z) else None, statistic_name="z", n=n_sub,
        table=per_cat,
        details={"ratings_per_subject": int(m), "mean_agreement": float(p_i.mean()),
                 "chance_agreement": float((p_j**2).sum()), "se_under_h0": float(se0),
                 "bootstrap_se": boot.se},
        warnings=warnings,
        reference="Fleiss (1971), Psychological Bulletin 76(5), 378-382; Fleiss, Nee & Landis "
                  "(1979), Psychological Bulletin 86(5), 974-977.",
    )


# -- every pair of coders --------------------------------------------------------------------

def pairwise_agreement(
    data: pd.DataFrame | np.ndarray, *, coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Percent agreement and Cohen's kappa for every pair of coders (no intervals).

    Returns
    -------
    DataFrame
        One row per pair: ``coder_a, coder_b, n_units`` (coded by both),
        ``percent_agreement, cohen_kappa``.
    """
    table = reliability_table(data, coders=coders)
    x, _ = value_matrix(table, "nominal")
    rows = []
    for i, j in combinations(range(x.shape[1]), 2):
        a, b = x[:, i], x[:, j]
        both = ~np.isnan(a) & ~np.isnan(b)
        n = int(both.sum())
        if n == 0:
            rows.append((table.columns[i], table.columns[j], 0, np.nan, np.nan))
            continue
        a, b = a[both].astype(np.intp), b[both].astype(np.intp)
        k = int(max(a.max(), b.max())) + 1
        counts = np.bincount(a * k + b, minlength=k * k).astype(np.float64).reshape(1, k, k)
        kappa = float(_kappa_from_tables(counts, _disagreement_weights(k, None))[0])
        rows.append((table.columns[i], table.columns[j], n, float((a == b).mean()), kappa))
    return pd.DataFrame(rows, columns=["coder_a", "coder_b", "n_units", "percent_agreement",
                                       "cohen_kappa"])
