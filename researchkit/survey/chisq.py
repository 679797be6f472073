"""Chi-square tests of independence for crosstabs, Rao-Scott corrected for weighted data.

**Unweighted**: Pearson's :math:`X^2 = n \\sum_{ij} (\\hat p_{ij} - \\hat p_{i\\cdot}
\\hat p_{\\cdot j})^2 / (\\hat p_{i\\cdot}\\hat p_{\\cdot j})` with :math:`(r-1)(c-1)` df (the
same as ``scipy.stats.chi2_contingency(..., correction=False)``).

**Weighted** (or clustered/stratified): :math:`X^2` is computed on the weighted cell
proportions scaled to the sample size :math:`n`; it is no longer χ² distributed. Rao & Scott
correct it with the generalised design effects, the eigenvalues of

.. math:: \\Delta = (C^\\top D^{-1} C / n)^{-1} \\; C^\\top D^{-1} V D^{-1} C,

where :math:`V` is the design-based (Taylor linearisation, with-replacement) covariance of the
cell proportions, :math:`D = \\mathrm{diag}(\\hat p)` and the columns of :math:`C` span the
interaction contrasts (orthogonal to the main effects).

* first-order: :math:`X^2_{RS1} = X^2 \\cdot \\mathrm{df} / \\mathrm{tr}(\\Delta)
  \\sim \\chi^2_{\\mathrm{df}}` (Rao & Scott 1981);
* second-order (default): :math:`F = X^2 / \\mathrm{tr}(\\Delta)` referred to
  :math:`F(d_0, d_0\\,\\nu)` with :math:`d_0 = \\mathrm{tr}(\\Delta)^2/\\mathrm{tr}(\\Delta^2)`
  and :math:`\\nu` = number of PSUs − number of strata (Rao & Scott 1984; Thomas & Rao 1987);
  this is the default of R's ``survey::svychisq``, whose computation this follows.

References
----------
Rao, J. N. K. & Scott, A. J. (1981). The analysis of categorical data from complex sample
surveys. *JASA* 76, 221-230. Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for
multiway contingency tables with cell proportions estimated from survey data. *Ann. Statist.*
12, 46-60. Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, §6.2.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.survey.estimates import prepare_weights

__all__ = ["chi_square"]


def _contrasts(r: int, c: int) -> np.ndarray:
    """Interaction contrasts (R's qr.resid(qr(X1), X12[, interaction])); rows vary fastest."""
    rows = np.tile(np.arange(r), c)
    cols = np.repeat(np.arange(c), r)
    R = (rows[:, None] == np.arange(1, r)[None, :]).astype(float)
    Cc = (cols[:, None] == np.arange(1, c)[None, :]).astype(float)
    X1 = np.column_stack([np.ones(r * c), R, Cc])
    inter = np.column_stack([R[:, i] * Cc[:, j] for j in range(c - 1) for i in range(r - 1)])
    q, _ = np.linalg.qr(X1)
    return inter - q @ (q.T @ inter)


def _linearised_cov(y: np.ndarray, w: np.ndarray, p: np.ndarray, strata: np.ndarray | None,
                    psu: np.ndarray | None) -> tuple[np.ndarray, int]:
    """With-replacement Taylor covariance of the ratio means p = Σ w y / Σ w."""
    z = w[:, None] * (y - p[None, :]) / w.sum()
    s = np.zeros(len(w), dtype=np.int64) if strata is None else strata
    if psu is None:
        u = np.arange(len(w))
    else:
        u = psu
    # PSU totals within strata
    key = pd.MultiIndex.from_arrays([s, u])
    codes, uniq = pd.factorize(key)
    zt = np.zeros((len(uniq), z.shape[1]))
    np.add.at(zt, codes, z)
    st = np.asarray([k[0] for k in uniq])
    V = np.zeros((z.shape[1], z.shape[1]))
    n_strata = 0
    for h in np.unique(st):
        zh = zt[st == h]
        nh = len(zh)
        n_strata += 1
        if nh < 2:
            continue
        d = zh - zh.mean(axis=0)
        V += nh / (nh - 1) * d.T @ d
    return V, len(uniq) - n_strata


def chi_square(
    df: pd.DataFrame, row: str, col: str, weight: str | None = None, *,
    strata: str | None = None, cluster: str | None = None,
    correction: Literal["second-order", "first-order"] = "second-order",
) -> Result:
    """Chi-square test of independence of ``row`` and ``col``.

    Parameters
    ----------
    df : DataFrame
    row, col : str
        Categorical columns (rows with a missing value in either are left out).
    weight : str, optional
        Weights; with weights (or ``strata``/``cluster``) the Rao-Scott correction is used.
    strata, cluster : str, optional
        Stratum and primary sampling unit columns of the design (default: every respondent
        is its own PSU, one stratum).
    correction : {"second-order", "first-order"}
        Rao-Scott correction for the design-based test.

    Returns
    -------
    Result
        ``statistic`` (X², or F for the second-order test), ``df``, ``p_value``, ``table`` (the
        weighted crosstab with column percentages), ``details``: Pearson X², Cramér's V,
        generalised design effects (mean and eigenvalues), d0, denominator df.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 1, 2, 2, 1, 2] * 5, "b": [1, 1, 1, 2, 2, 2] * 5})
    >>> round(chi_square(d, "a", "b").p_value, 4)
    0.0679
    """
    from scipy import stats

    for name, c in (("row", row), ("col", col), ("strata", strata), ("cluster", cluster)):
        if c is not None and c not in df.columns:
            raise DataError("column not in the data", column=c, parameter=name)
    if correction not in ("second-order", "first-order"):
        raise ParameterError("unknown correction", parameter="correction",
                             expected="'second-order' or 'first-order'", got=correction)
    w_all = prepare_weights(df, weight)
    keep = df[row].notna().to_numpy() & df[col].notna().to_numpy() & (w_all > 0)
    sub = df.loc[keep]
    w = w_all[keep]
    n = int(keep.sum())
    rcodes, rcats = pd.factorize(sub[row], sort=True)
    ccodes, ccats = pd.factorize(sub[col], sort=True)
    r, c = len(rcats), len(ccats)
    if r < 2 or c < 2:
        raise DataError("a chi-square test needs at least 2 categories in each variable",
                        column=row if r < 2 else col)
    cell = rcodes + r * ccodes  # rows vary fastest
    wtab = np.bincount(cell, weights=w, minlength=r * c)
    p = wtab / wtab.sum()
    P = p.reshape(c, r).T
    pr, pc = P.sum(axis=1), P.sum(axis=0)
    expected = np.outer(pr, pc)
    if (expected == 0).any():
        raise DataError("an empty row or column in the crosstab", column=f"{row} × {col}")
    X2 = float(n * ((P - expected) ** 2 / expected).sum())
    dof = (r - 1) * (c - 1)
    cramers_v = float(np.sqrt(X2 / n / min(r - 1, c - 1)))
    counts = np.bincount(cell, minlength=r * c).reshape(c, r).T
    table = pd.DataFrame(P / pc[None, :], index=pd.Index(rcats, name=row),
                         columns=pd.Index(ccats, name=col))
    design = weight is not None or strata is not None or cluster is not None
    details: dict = {"pearson_x2": X2, "cramers_v": cramers_v, "n": n,
                     "min_expected_count": float((np.outer(counts.sum(1), counts.sum(0))
                                                  / n).min())}
    warnings = []
    if details["min_expected_count"] < 5:
        warnings.append("some expected counts are below 5: the chi-square approximation may "
                        "be poor")
    if not design:
        pval = float(stats.chi2.sf(X2, dof))
        return Result(name=f"Chi-square test: {row} × {col}", estimate=cramers_v,
                      statistic=X2, statistic_name="Pearson X²", df=dof, p_value=pval, n=n,
                      table=table, details=details, warnings=warnings,
                      method=f"Pearson chi-square test of independence on the unweighted "
                             f"{r} × {c} table, {dof} df, no continuity correction; estimate "
                             "= Cramér's V.",
                      reference="Pearson (1900); Agresti (2013) Categorical Data Analysis §3.2.")
    Y = np.zeros((n, r * c))
    Y[np.arange(n), cell] = 1.0
    V, nu = _linearised_cov(Y, w, p,
                            None if strata is None else pd.factorize(sub[strata])[0],
                            None if cluster is None else pd.factorize(sub[cluster])[0])
    C = _contrasts(r, c)
    with np.errstate(divide="ignore"):
        inv = np.where(p > 0, 1 / p, 0.0)
    iD = np.diag(inv)
    denom = C.T @ (iD / n) @ C
    numr = C.T @ iD @ V @ iD @ C
    Delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(Delta))
    tr2 = float(np.trace(Delta @ Delta))
    d0 = tr**2 / tr2
    eig = np.sort(np.linalg.eigvals(Delta).real)[::-1]
    details.update({"mean_design_effect": tr / dof, "design_effects": eig.tolist(),
                    "d0": d0, "nu": nu})
    unit = "cluster" if cluster else "respondent"
    what = (f"weights '{weight}'" if weight else "equal weights") + \
        (f", strata '{strata}'" if strata else "") + (f", clusters '{cluster}'" if cluster else "")
    if correction == "first-order":
        stat = X2 * dof / tr
        pval = float(stats.chi2.sf(stat, dof))
        name, dfv = "Rao-Scott X² (first order)", float(dof)
        text = (f"Rao-Scott first-order corrected chi-square: X² × df / tr(Δ) on {dof} df "
                f"(mean generalised design effect {tr / dof:.3f})")
    else:
        stat = X2 / tr
        pval = float(stats.f.sf(stat, d0, d0 * nu))
        name, dfv = "Rao-Scott F (second order)", float(d0)
        details["denominator_df"] = d0 * nu
        text = (f"Rao-Scott second-order corrected test: F = X²/tr(Δ) on ({d0:.3f}, "
                f"{d0 * nu:.1f}) df, as R survey::svychisq's default")
    return Result(
        name=f"Chi-square test: {row} × {col}", estimate=cramers_v, statistic=float(stat),
        statistic_name=name, df=dfv, p_value=pval, n=n, table=table, details=details,
        warnings=warnings,
        method=f"{text}; design: {what}, each {unit} a primary sampling unit drawn with "
               f"replacement (Taylor linearisation); Pearson X² = {X2:.3f} computed on the "
               "weighted proportions scaled to n; estimate = Cramér's V.",
        reference="Rao & Scott (1981) JASA 76:221-230; Rao & Scott (1984) Ann. Statist. "
                  "12:46-60; Lumley (2010) Complex Surveys §6.2.")
