"""Exploratory factor analysis (EFA) of attitude batteries, with rotation.

Extraction is by **minimum residuals** (unweighted least squares): iterated principal-axis
factoring of the correlation matrix :math:`R`, replacing its diagonal by the communalities
:math:`h^2` until they converge; at convergence the loadings :math:`\\Lambda` minimise
:math:`\\sum_{i \\ne j} (R - \\Lambda\\Lambda^\\top)_{ij}^2` (Harman 1976, ch. 7-8), the
``minres`` solution of R's ``psych::fa`` and of ``factor_analyzer``.

Rotations:

* ``varimax`` (orthogonal; Kaiser 1958) with Kaiser row normalisation, by the SVD algorithm of
  R's ``stats::varimax``;
* ``promax`` (oblique; Hendrickson & White 1964), power 4, from the normalised varimax solution,
  as R's ``stats::promax`` / ``psych``;
* ``oblimin`` (oblique, γ = 0, i.e. direct quartimin; Jennrich & Sampson 1966) by the
  gradient-projection algorithm of Bernaards & Jennrich (2005).

For oblique rotations the result holds the factor correlations :math:`\\Phi` (pattern
loadings in ``loadings``; structure = :math:`\\Lambda\\Phi`). Factors are ordered by their sum of
squared loadings and signed so that each column's loadings sum to a positive number.
Adequacy checks: the Kaiser-Meyer-Olkin measure (Kaiser 1974) and Bartlett's test of
sphericity (Bartlett 1951).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["EFAResult", "bartlett_sphericity", "efa", "kmo", "rotate"]


def _varimax(L: np.ndarray, normalize: bool = True, tol: float = 1e-10,
             max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    p, k = L.shape
    if k < 2:
        return L.copy(), np.eye(k)
    h = np.sqrt((L**2).sum(axis=1)) if normalize else np.ones(p)
    X = L / h[:, None]
    T = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        Z = X @ T
        B = X.T @ (Z**3 - Z @ np.diag((Z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        d_old, d = d, s.sum()
        if d < d_old * (1 + tol):
            break
    return (X @ T) * h[:, None], T


def _promax(L: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = np.sqrt((L**2).sum(axis=1))
    X, T = _varimax(L / h[:, None], normalize=False)
    Y = X * np.abs(X) ** (power - 1)
    U = np.linalg.solve(X.T @ X, X.T @ Y)
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U @ np.diag(np.sqrt(d))
    Z = (X @ U) * h[:, None]
    Ui = np.linalg.inv(U)
    phi = Ui @ Ui.T
    return Z, T @ U, phi


def _oblimin_crit(L: np.ndarray, gamma: float = 0.0) -> tuple[float, np.ndarray]:
    p, k = L.shape
    N = np.ones((k, k)) - np.eye(k)
    L2 = L**2
    if gamma != 0:
        C = np.eye(p) - gamma * np.ones((p, p)) / p
        X = C @ L2 @ N
    else:
        X = L2 @ N
    return float((L2 * X).sum() / 4), L * X


def _gpa_oblique(A: np.ndarray, gamma: float = 0.0, tol: float = 1e-8,
                 max_iter: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = A.shape[1]
    T = np.eye(k)
    L = A @ np.linalg.inv(T).T
    f, Gq = _oblimin_crit(L, gamma)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    al = 1.0
    for _ in range(max_iter):
        Gp = G - T @ np.diag((T * G).sum(axis=0))
        s = float(np.linalg.norm(Gp))
        if s < tol:
            break
        al *= 2
        for _ in range(20):
            X = T - al * Gp
            Tt = X / np.sqrt((X**2).sum(axis=0))
            Lt = A @ np.linalg.inv(Tt).T
            ft, Gqt = _oblimin_crit(Lt, gamma)
            if ft < f - 0.5 * s**2 * al:
                break
            al /= 2
        T, L, f, Gq = Tt, Lt, ft, Gqt
        G = -(L.T @ Gq @ np.linalg.inv(T)).T
    return L, T, T.T @ T


def rotate(loadings: np.ndarray, method: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate a loading matrix: returns (rotated loadings, factor correlations or None)."""
    if method in (None, "none"):
        return loadings.copy(), None
    if method == "varimax":
        return _varimax(loadings)[0], None
    if method == "promax":
        Z, _, phi = _promax(loadings)
        return Z, phi
    if method == "oblimin":
        L, _, phi = _gpa_oblique(loadings)
        return L, phi
    raise ParameterError("unknown rotation", parameter="rotation",
                         expected="'varimax', 'promax', 'oblimin' or None", got=method)


def _minres(R: np.ndarray, k: int, tol: float = 1e-9, max_iter: int = 5000
            ) -> tuple[np.ndarray, int, bool]:
    p = R.shape[0]
    h2 = 1 - 1 / np.diag(np.linalg.inv(R))  # squared multiple correlations
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        Rr = R.copy()
        Rr[np.diag_indices(p)] = h2
        vals, vecs = np.linalg.eigh(Rr)
        idx = np.argsort(vals)[::-1][:k]
        L = vecs[:, idx] * np.sqrt(np.maximum(vals[idx], 0))
        new = (L**2).sum(axis=1)
        if np.max(np.abs(new - h2)) < tol:
            h2 = new
            converged = True
            break
        h2 = new
    return L, it, converged


def kmo(R: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser-Meyer-Olkin measure: overall and per item (from the anti-image correlations)."""
    Ri = np.linalg.inv(R)
    d = np.sqrt(np.diag(Ri))
    Q = -Ri / np.outer(d, d)
    off = ~np.eye(R.shape[0], dtype=bool)
    r2 = np.where(off, R**2, 0)
    q2 = np.where(off, Q**2, 0)
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return float(r2.sum() / (r2.sum() + q2.sum())), per


def bartlett_sphericity(R: np.ndarray, n: int) -> tuple[float, float, float]:
    """Bartlett's test that R is an identity: (statistic, df, p-value)."""
    from scipy.stats import chi2

    p = R.shape[0]
    stat = -(n - 1 - (2 * p + 5) / 6) * np.log(np.linalg.det(R))
    dof = p * (p - 1) / 2
    return float(stat), float(dof), float(chi2.sf(stat, dof))


@dataclass(eq=False)
class EFAResult(Result):
    """EFA result: ``loadings`` (items × factors), ``phi`` (factor correlations, oblique)."""

    loadings: pd.DataFrame | None = None
    phi: pd.DataFrame | None = None
    items: list[str] | None = None
    _mean: np.ndarray | None = None
    _sd: np.ndarray | None = None
    _corr: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (without the internal moments used for factor scores)."""
        out = super().to_dict()
        for key in ("_mean", "_sd", "_corr"):
            out.pop(key, None)
        return out

    def scores(self, df: pd.DataFrame) -> pd.DataFrame:
        """Regression (Thurstone) factor scores: :math:`Z R^{-1} \\Lambda \\Phi`."""
        assert self.loadings is not None and self.items is not None
        missing = [c for c in self.items if c not in df.columns]
        if missing:
            raise DataError("item not in the data", column=missing[0])
        Z = (df[self.items].to_numpy(dtype=float) - self._mean) / self._sd
        L = self.loadings.to_numpy()
        S = L if self.phi is None else L @ self.phi.to_numpy()
        W = np.linalg.solve(self._corr, S)
        return pd.DataFrame(Z @ W, index=df.index, columns=self.loadings.columns)


def efa(
    df: pd.DataFrame, items: Sequence[str], n_factors: int, *,
    rotation: Literal["varimax", "promax", "oblimin"] | None = "varimax",
    labels: dict[str, str] | None = None,
) -> EFAResult:
    """Exploratory factor analysis (minres extraction) with rotation.

    Parameters
    ----------
    df : DataFrame
    items : list of str
        Item columns (complete cases are used).
    n_factors : int
    rotation : {"varimax", "promax", "oblimin", None}
    labels : mapping, optional
        Item labels for the loadings table.

    Returns
    -------
    EFAResult
        ``loadings`` (rotated), ``table`` (loadings + communality + uniqueness), ``phi``
        (factor correlations for oblique rotations), ``details``: eigenvalues of R (for a
        scree plot), variance explained per factor, KMO, Bartlett's test, convergence.
    """
    items = list(items)
    missing = [c for c in items if c not in df.columns]
    if missing:
        raise DataError("item not in the data", column=missing[0])
    k = n_factors
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < len(items):
        raise ParameterError("n_factors must be between 1 and the number of items - 1",
                             parameter="n_factors", got=n_factors)
    X = df[items].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(X)
    if n < len(items) + 2:
        raise DataError(f"only {n} complete cases for {len(items)} items",
                        column=", ".join(items))
    x = X.to_numpy(dtype=float)
    R = np.corrcoef(x, rowvar=False)
    if not np.all(np.isfinite(R)):
        raise DataError("an item has no variance", column=", ".join(items))
    if np.linalg.matrix_rank(R) < len(items):
        raise DataError("the correlation matrix is singular (an item is a linear combination "
                        "of others)", column=", ".join(items))
    L0, iters, converged = _minres(R, k)
    L, phi = rotate(L0, rotation)
    ss = (L**2).sum(axis=0) if phi is None else np.diag(phi @ L.T @ L)
    order = np.argsort(-ss, kind="stable")
    L = L[:, order]
    if phi is not None:
        phi = phi[np.ix_(order, order)]
    sign = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L = L * sign
    if phi is not None:
        phi = phi * np.outer(sign, sign)
    names = [f"F{i + 1}" for i in range(k)]
    communality = (L0**2).sum(axis=1)
    loadings = pd.DataFrame(L, index=items, columns=names)
    table = loadings.copy()
    table.insert(0, "label", [(labels or {}).get(c, c) for c in items])
    table["communality"] = communality
    table["uniqueness"] = 1 - communality
    ssl = (L**2).sum(axis=0)
    var_table = pd.DataFrame({"factor": names, "ss_loadings": ssl,
                              "proportion": ssl / len(items),
                              "cumulative": np.cumsum(ssl) / len(items)})
    eig = np.sort(np.linalg.eigvalsh(R))[::-1]
    kmo_all, kmo_items = kmo(R)
    bart = bartlett_sphericity(R, n)
    warnings = []
    if not converged:
        warnings.append(f"communalities did not converge in {iters} iterations")
    if (communality > 0.999).any():
        warnings.append("a Heywood case (communality ≥ 1): reduce the number of factors")
    if kmo_all < 0.6:
        warnings.append(f"KMO = {kmo_all:.2f} < 0.6: the items share little common variance")
    rot_text = {None: "unrotated", "none": "unrotated",
                "varimax": "varimax rotation with Kaiser normalisation (orthogonal)",
                "promax": "promax rotation, power 4 (oblique)",
                "oblimin": "direct oblimin rotation, γ = 0 (oblique, GPA algorithm)"}[rotation]
    return EFAResult(
        name=f"Exploratory factor analysis ({k} factors)",
        estimate={"kmo": kmo_all, "variance_explained": float(ssl.sum() / len(items))},
        method=f"Minimum-residual (iterated principal-axis) extraction of {k} factors from "
               f"the Pearson correlations of {len(items)} items on {n} complete cases; "
               f"{rot_text}; factors ordered by variance and signed positive.",
        n=n, table=table,
        details={"eigenvalues": eig.tolist(), "variance": var_table,
                 "kmo": kmo_all, "kmo_items": dict(zip(items, kmo_items.tolist(),
                                                        strict=True)),
                 "bartlett_statistic": bart[0], "bartlett_df": bart[1],
                 "bartlett_p": bart[2], "iterations": iters, "converged": converged,
                 "kaiser_rule_factors": int((eig > 1).sum())},
        warnings=warnings,
        reference="Harman (1976) Modern Factor Analysis; Kaiser (1958) Psychometrika 23; "
                  "Hendrickson & White (1964) Br. J. Stat. Psychol. 17; Bernaards & Jennrich "
                  "(2005) Educ. Psychol. Meas. 65; Kaiser (1974); Bartlett (1951).",
        loadings=loadings,
        phi=None if phi is None else pd.DataFrame(phi, index=names, columns=names),
        items=items, _mean=x.mean(axis=0), _sd=x.std(axis=0, ddof=1), _corr=R,
    )
