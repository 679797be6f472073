"""Least squares with absorbed fixed effects and cluster-robust covariance (the DiD engine).

The fixed effects (unit, time) are *absorbed* by alternating demeaning (the method of
alternating projections; Guimarães & Portugal 2010, Gaure 2013) instead of building dummy
columns. By the Frisch–Waugh–Lovell theorem the slope coefficients, the residuals and the
cluster-robust "meat" are exactly those of the least-squares dummy-variable (LSDV) regression.

Covariance types
----------------
``"cluster"`` (CR1, Liang & Zeger 1986; the Stata/statsmodels small-sample correction)::

    V = c (X'X)^{-1} [ Σ_g X_g' u_g u_g' X_g ] (X'X)^{-1},   c = G/(G-1) · (N-1)/(N-K)

with G clusters, N observations and K the number of parameters *of the LSDV regression*
(slopes + intercept + fixed-effect dummies, i.e. the rank of the absorbed design). This is what
``statsmodels`` OLS with ``cov_type="cluster"`` reports on the dummy-variable regression.
Inference uses Student t with G-1 degrees of freedom (Cameron & Miller 2015, section VI).

``"HC1"`` (White 1980 with the N/(N-K) correction, MacKinnon & White 1985)::

    V = N/(N-K) (X'X)^{-1} [ Σ_i x_i x_i' u_i² ] (X'X)^{-1},   t with N-K df.

``"classical"``: ``V = s² (X'X)^{-1}``, ``s² = u'u/(N-K)``, t with N-K df.

References
----------
Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
*Journal of Human Resources*, 50(2), 317-372.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from researchkit.errors import DataError

__all__ = ["OLSFit", "absorb", "fe_rank", "fit_ols"]

CovType = Literal["cluster", "HC1", "classical"]


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0..L-1 of a label array, and L."""
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64), len(uniques)


def absorb(
    matrix: np.ndarray, groups: list[np.ndarray], *, tol: float = 1e-13, max_iter: int = 10_000,
) -> np.ndarray:
    """Residualise the columns of ``matrix`` on one or more sets of fixed effects.

    One set of effects is removed exactly by one pass of group demeaning; several sets by
    alternating demeaning until the largest change is below ``tol`` times the column scale
    (exact after one sweep in a balanced two-way panel).

    Parameters
    ----------
    matrix : (n, k) array
    groups : list of (n,) integer code arrays (0..L-1)
    """
    from scipy.sparse import csr_matrix

    out = np.array(matrix, dtype=float, copy=True)
    if out.ndim == 1:
        out = out[:, None]
    if not groups:
        return out
    n = out.shape[0]
    rows = np.arange(n)
    indicators = []
    for g in groups:
        counts = np.bincount(g)
        ind = csr_matrix((np.ones(n), (rows, g)), shape=(n, len(counts)))
        indicators.append((ind, ind.T.tocsr(), np.maximum(counts, 1)[:, None]))
    scale = np.maximum(np.abs(out).max(axis=0), 1.0)
    for _ in range(max_iter):
        biggest = 0.0
        for ind, ind_t, counts in indicators:
            step = ind @ ((ind_t @ out) / counts)
            out -= step
            biggest = max(biggest, float((np.abs(step).max(axis=0) / scale).max()))
        if len(groups) == 1 or biggest < tol:
            return out
    raise DataError("fixed effects did not converge",
                    hint="the panel may be badly disconnected; check unit and time columns")


def fe_rank(groups: list[np.ndarray]) -> int:
    """Number of parameters the fixed effects (with the intercept) use in an LSDV regression.

    One set of L levels uses L; two sets use L1 + L2 - (connected components of the
    bipartite unit–time graph), Abowd, Creecy & Kramarz (2002).
    """
    if not groups:
        return 1  # the intercept
    if len(groups) == 1:
        return int(groups[0].max()) + 1
    if len(groups) != 2:
        raise NotImplementedError("at most two sets of fixed effects")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = groups
    la, lb = int(a.max()) + 1, int(b.max()) + 1
    graph = coo_matrix((np.ones(len(a)), (a, b + la)), shape=(la + lb, la + lb))
    n_comp, _ = connected_components(graph, directed=False)
    return la + lb - int(n_comp)


@dataclass
class OLSFit:
    """Coefficients, covariance and degrees of freedom of a least-squares fit."""

    names: list[str]
    coef: np.ndarray
    cov: np.ndarray
    n: int
    k_total: int
    df_resid: int
    df_inference: int
    cov_type: str
    n_clusters: int | None
    resid: np.ndarray = field(repr=False)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def index(self, name: str) -> int:
        return self.names.index(name)

    def test(self, name: str, ci_level: float = 0.95) -> dict[str, float]:
        """Estimate, standard error, t, two-sided p and interval for one coefficient."""
        from scipy import stats

        i = self.index(name)
        est, se = float(self.coef[i]), float(self.se[i])
        t = est / se if se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(t), self.df_inference)) if se > 0 else np.nan
        q = float(stats.t.ppf(0.5 + ci_level / 2, self.df_inference))
        return {"estimate": est, "se": se, "t": t, "p_value": p,
                "ci_low": est - q * se, "ci_high": est + q * se}

    def wald(self, names: list[str]) -> dict[str, float]:
        """Joint test that the named coefficients are all zero.

        ``W = b' V^{-1} b``; reported as ``F = W/q`` with (q, df_inference) degrees of freedom
        (the convention of Stata's ``test`` after clustered regressions) and as ``χ²(q) = W``.
        """
        from scipy import stats

        idx = [self.index(n) for n in names]
        b = self.coef[idx]
        v = self.cov[np.ix_(idx, idx)]
        w = float(b @ np.linalg.solve(v, b))
        q = len(idx)
        f = w / q
        return {"F": f, "df1": q, "df2": self.df_inference,
                "p_value": float(stats.f.sf(f, q, self.df_inference)),
                "chi2": w, "p_value_chi2": float(stats.chi2.sf(w, q))}


def fit_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    *,
    fixed_effects: list[np.ndarray] | None = None,
    cluster: np.ndarray | None = None,
    cov_type: CovType = "cluster",
) -> OLSFit:
    """Least squares of ``y`` on ``x`` (+ intercept, or absorbed fixed effects).

    Parameters
    ----------
    y : (n,) array
    x : (n, k) array of regressors (no intercept column: it is added, or absorbed)
    names : names of the k regressors
    fixed_effects : list of label arrays (e.g. unit ids, periods) to absorb
    cluster : label array for cluster-robust covariance (``cov_type="cluster"``)
    cov_type : "cluster", "HC1" or "classical"
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = len(y)
    groups = [_codes(np.asarray(g))[0] for g in (fixed_effects or [])]
    if groups:
        yt = absorb(y, groups)[:, 0]
        xt = absorb(x, groups)
        k_total = x.shape[1] + fe_rank(groups)
    else:
        xt = np.column_stack([np.ones(n), x])
        yt = y
        names = ["Intercept", *names]
        k_total = xt.shape[1]
    # Regressors that the fixed effects absorb entirely cannot be estimated.
    norms = np.sqrt((xt**2).sum(axis=0))
    raw = np.sqrt((np.column_stack([np.ones(n), x]) ** 2).sum(axis=0))[-xt.shape[1]:]
    dead = norms <= 1e-10 * np.maximum(raw, 1.0)
    if dead.any():
        bad = [names[i] for i in np.flatnonzero(dead)]
        raise DataError(f"regressor(s) {bad} are constant within the fixed effects",
                        hint="they cannot be estimated alongside unit/time fixed effects")
    xtx = xt.T @ xt
    if np.linalg.matrix_rank(xtx) < xt.shape[1]:
        raise DataError("the regressors are collinear", expected="linearly independent "
                        f"regressors among {names}")
    bread = np.linalg.inv(xtx)
    coef = bread @ (xt.T @ yt)
    resid = yt - xt @ coef
    df_resid = n - k_total
    if df_resid <= 0:
        raise DataError("too few observations for the number of parameters",
                        expected=f"more than {k_total} rows", got=n)
    n_clusters = None
    if cov_type == "cluster":
        if cluster is None:
            raise ValueError("cov_type='cluster' needs cluster labels")
        codes, g = _codes(np.asarray(cluster))
        if g < 2:
            raise DataError("cluster-robust standard errors need at least 2 clusters", got=g)
        scores = np.zeros((g, xt.shape[1]))
        np.add.at(scores, codes, xt * resid[:, None])
        meat = scores.T @ scores
        c = g / (g - 1) * (n - 1) / df_resid
        cov = c * bread @ meat @ bread
        df_inf = g - 1
        n_clusters = g
    elif cov_type == "HC1":
        meat = (xt * resid[:, None] ** 2).T @ xt
        cov = n / df_resid * bread @ meat @ bread
        df_inf = df_resid
    elif cov_type == "classical":
        cov = float(resid @ resid) / df_resid * bread
        df_inf = df_resid
    else:
        raise ValueError(f"unknown cov_type {cov_type!r}")
    return OLSFit(names=list(names), coef=coef, cov=cov, n=n, k_total=k_total,
                  df_resid=df_resid, df_inference=df_inf, cov_type=cov_type,
                  n_clusters=n_clusters, resid=resid)
