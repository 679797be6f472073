"""Pairwise column tests for banner tables: column proportions (z) and column means (t).

Both tests use the **effective base** of each column (Kish's :math:`n_\\text{eff} =
(\\sum w)^2/\\sum w^2`), so weighting is not mistaken for information; unweighted, the effective
base is the count and the tests reduce to the textbook ones.

* Column proportions: pooled two-proportion z-test,
  :math:`z = (p_1 - p_2) / \\sqrt{\\bar p (1-\\bar p)(1/n_1 + 1/n_2)}` with
  :math:`\\bar p = (n_1 p_1 + n_2 p_2)/(n_1 + n_2)` (Agresti 2013, §3.1; the test of SPSS
  Custom Tables' "compare column proportions"; equals ``statsmodels`` ``proportions_ztest``).
* Column means: Welch's two-sample t-test,
  :math:`t = (\\bar y_1 - \\bar y_2)/\\sqrt{s_1^2/n_1 + s_2^2/n_2}` with Welch-Satterthwaite
  degrees of freedom (Welch 1947; equals ``scipy.stats.ttest_ind(equal_var=False)``).

Multiple comparisons: optional Bonferroni / Holm / Benjamini-Hochberg adjustment over the pairs
of one banner group for one row, via ``statsmodels.stats.multitest.multipletests``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adjust_pvalues", "mean_pairs", "proportion_pairs"]

CORRECTIONS = {None: None, "none": None, "bonferroni": "bonferroni", "holm": "holm",
               "bh": "fdr_bh", "fdr_bh": "fdr_bh"}


def proportion_pairs(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise pooled z-tests for proportions ``p`` with (effective) bases ``n``.

    Returns ``(z, pvalue)`` matrices (k × k; or (..., k, k) when ``p`` has leading
    dimensions, one family per row); ``z[i, j] > 0`` means column i is higher. Pairs
    where the pooled proportion is 0 or 1 or a base is 0 get ``z = 0, p = 1``.
    """
    from scipy.special import ndtr

    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    p1, p2 = p[..., :, None], p[..., None, :]
    n1, n2 = n[:, None], n[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (p1 - p2) / se
    bad = ~np.isfinite(z) | (se <= 0)
    z = np.where(bad, 0.0, z)
    pv = np.where(bad, 1.0, 2 * ndtr(-np.abs(z)))
    return z, pv


def mean_pairs(mean: np.ndarray, var: np.ndarray, n: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise Welch t-tests from column means, variances (ddof=1) and (effective) bases."""
    from scipy.special import stdtr

    m1, m2 = mean[:, None], mean[None, :]
    a = (var / n)[:, None]
    b = (var / n)[None, :]
    n1, n2 = n[:, None], n[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        se2 = a + b
        t = (m1 - m2) / np.sqrt(se2)
        df = se2**2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
    bad = ~np.isfinite(t) | ~np.isfinite(df) | (se2 <= 0)
    t = np.where(bad, 0.0, t)
    pv = np.where(bad, 1.0, 2 * stdtr(np.where(bad, 1.0, df), -np.abs(t)))
    return t, pv


def adjust_pvalues(pv: np.ndarray, testable: np.ndarray, correction: str | None
                   ) -> np.ndarray:
    """Adjust the upper-triangle p-values of one family (testable pairs only)."""
    method = CORRECTIONS[correction]
    if method is None:
        return pv
    from statsmodels.stats.multitest import multipletests

    k = pv.shape[0]
    iu = np.triu_indices(k, 1)
    mask = testable[iu]
    out = pv.copy()
    if mask.sum() == 0:
        return out
    adj = multipletests(pv[iu][mask], method=method)[1]
    vals = pv[iu].copy()
    vals[mask] = adj
    out[iu] = vals
    out[(iu[1], iu[0])] = vals
    return out
