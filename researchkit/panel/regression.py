"""Panel regression with respondent fixed effects and cluster-robust standard errors.

Every respondent has their own, unobserved baseline (a heavy buyer spends more every wave,
whatever the advertising); if that baseline is correlated with a regressor, a pooled regression
is biased. The *within* (fixed-effects) estimator removes it by subtracting each respondent's
mean from every variable and regressing the deviations (Wooldridge 2010, section 10.5). Answers
of one respondent are correlated over waves, so standard errors are clustered by respondent
(optionally also by wave, Cameron, Gelbach & Miller 2011).

References
----------
Wooldridge, J.M. (2010). *Econometric Analysis of Cross Section and Panel Data*, 2nd ed. MIT
Press, ch. 10.5.
Cameron, A.C. & Miller, D.L. (2015). A practitioner's guide to cluster-robust inference.
*Journal of Human Resources* 50(2), 317-372.
Cameron, A.C., Gelbach, J.B. & Miller, D.L. (2011). Robust inference with multiway clustering.
*Journal of Business & Economic Statistics* 29(2), 238-249.
Correia, S. (2015). Singletons, cluster-robust standard errors and fixed effects: a bad mix.
Technical note (why singletons are dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.panel.layout import _weights, check_columns, panel_frame, plain_label
from researchkit.results import Result

__all__ = ["PanelRegression", "fixed_effects"]


@dataclass(eq=False)
class PanelRegression(Result):
    """Result of :func:`fixed_effects`.

    Attributes
    ----------
    coefficients : DataFrame
        One row per term: ``term``, ``kind`` ("regressor" or "wave effect"), ``coef``, ``se``,
        ``t``, ``p_value``, ``ci_low``, ``ci_high`` (same as ``table``).
    vcov : DataFrame
        Covariance matrix of the coefficients.
    """

    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    vcov: pd.DataFrame = field(default_factory=pd.DataFrame)


def _group_sum(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Column-wise sums of ``values`` (N × k) by group code."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    return np.column_stack([np.bincount(codes, weights=values[:, j], minlength=n_groups)
                            for j in range(values.shape[1])]) if values.shape[1] else \
        np.zeros((n_groups, 0))


def _demean(codes: np.ndarray, w: np.ndarray, Z: np.ndarray, n_groups: int) -> np.ndarray:
    """Subtract each group's weighted mean from every column of Z (the within transform)."""
    wsum = np.bincount(codes, weights=w, minlength=n_groups)
    means = _group_sum(codes, Z * w[:, None], n_groups) / wsum[:, None]
    return Z - means[codes]


def _cluster_meat(codes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, inv = np.unique(codes, return_inverse=True)
    U = _group_sum(inv, scores, len(uniq))
    return U.T @ U, len(uniq)


def fixed_effects(
    data: pd.DataFrame, y: str, x: str | Sequence[str], respondent: str = "respondent",
    wave: str = "wave", *, time_effects: bool = False, weight: str | None = None,
    cluster: Literal["respondent", "twoway", "none"] = "respondent",
    df_correction: Literal["nested", "dummies"] = "nested", ci_level: float = 0.95,
    waves: Sequence[Any] | None = None,
) -> PanelRegression:
    """Within (fixed-effects) regression with respondent effects and clustered errors.

    Model: :math:`y_{it} = \\alpha_i + \\lambda_t + x_{it}'\\beta + \\varepsilon_{it}`
    (:math:`\\lambda_t` only with ``time_effects``). Each variable is demeaned within
    respondent, :math:`\\tilde z_{it} = z_{it} - \\bar z_i` (weighted means with ``weight``),
    wave effects enter as dummies (first wave = reference) before demeaning, which is exact for
    unbalanced panels, and :math:`\\hat\\beta = (\\tilde X'W\\tilde X)^{-1}\\tilde X'W\\tilde y`
    (identical to least squares with one dummy per respondent).

    Covariance, with :math:`\\tilde u_g = \\sum_{t} w_{gt}\\tilde x_{gt} e_{gt}` the score of
    cluster *g*:

    * ``cluster="respondent"`` (CR1): :math:`V = c\\,(\\tilde X'W\\tilde X)^{-1}
      (\\sum_g \\tilde u_g \\tilde u_g') (\\tilde X'W\\tilde X)^{-1}` with
      :math:`c = \\frac{G}{G-1}\\frac{N-1}{N-K}`; t-tests with G − 1 degrees of freedom;
    * ``cluster="twoway"``: :math:`V = V_{resp} + V_{wave} - V_{resp \\cap wave}`, each with
      its own c (Cameron, Gelbach & Miller 2011), t-tests with min(G_resp, G_wave) − 1 df;
      negative eigenvalues, if any, are set to zero (CGM 2011, section 2.3) with a warning;
    * ``cluster="none"``: classical :math:`s^2 (\\tilde X'W\\tilde X)^{-1}`,
      :math:`s^2 = \\sum w e^2/(N - G - k)` (respondent effects counted), N − G − k df.

    ``df_correction`` says what K counts: ``"nested"`` (default) K = k, the slopes including
    wave dummies; the respondent effects are nested in the respondent clusters and are not
    counted (as in linearmodels' PanelOLS with ``debiased=True, group_debias=True`` and
    Stata's ``reghdfe``); ``"dummies"`` K = k + G (as least squares with respondent dummies
    in statsmodels, or Stata's ``areg``). The two give identical coefficients; the nested
    correction gives smaller, consistent standard errors when clusters are small.

    Respondents with a single usable observation (singletons) carry no within information;
    they are dropped and counted (Correia 2015). Rows with a missing y, x or weight are
    dropped and counted; rows with weight 0 too. Regressors constant within every respondent
    cannot be estimated and are dropped with a warning.

    Parameters
    ----------
    data : DataFrame
        Long format, one row per respondent-wave.
    y : str
        Outcome column (numeric).
    x : str or sequence of str
        Regressor columns (numeric or boolean; make dummies of categories first).
    respondent, wave : str
        Column names.
    time_effects : bool
        Add wave fixed effects.
    weight : str, optional
        Weight column (weighted least squares).
    cluster : {"respondent", "twoway", "none"}
    df_correction : {"nested", "dummies"}
    ci_level : float
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    PanelRegression
        ``estimate`` = dict of slopes; ``p_value`` and ``statistic`` = joint Wald F-test that
        all slopes of ``x`` are zero; ``coefficients`` / ``table``; ``vcov``; ``details`` with
        n, respondents, singletons, within R², small-sample factor.

    References
    ----------
    Wooldridge (2010), ch. 10.5; Cameron & Miller (2015); Cameron, Gelbach & Miller (2011).
    """
    from scipy import stats

    xs = [x] if isinstance(x, str) else list(x)
    if not xs:
        raise ParameterError("no regressors", parameter="x", expected="one or more columns")
    if len(set(xs)) != len(xs):
        raise ParameterError("a regressor is listed twice", parameter="x", got=xs)
    if y in xs:
        raise ParameterError("the outcome is also a regressor", parameter="x", got=y)
    if cluster not in ("respondent", "twoway", "none"):
        raise ParameterError("unknown clustering", parameter="cluster",
                             expected="'respondent', 'twoway' or 'none'", got=cluster)
    if df_correction not in ("nested", "dummies"):
        raise ParameterError("unknown small-sample correction", parameter="df_correction",
                             expected="'nested' or 'dummies'", got=df_correction)
    if not isinstance(ci_level, float) or not 0 < ci_level < 1:
        raise ParameterError("invalid interval level", parameter="ci_level",
                             expected="a number between 0 and 1", got=ci_level)
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"y": y, "weight": weight})
    for col in xs:
        check_columns(data, {"x": col})
    for col, param in [(y, "y"), *[(c, "x") for c in xs]]:
        s = data[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise DataError("not a numeric column", column=col, parameter=param,
                            got=s.dropna().head(3).tolist(),
                            hint="regression needs numbers; make 0/1 dummies of categories")
    Y = data[y].to_numpy(dtype=float)
    X = np.column_stack([data[c].to_numpy(dtype=float) for c in xs])
    w = _weights(data, weight)
    usable = np.isfinite(Y) & np.all(np.isfinite(X), axis=1) & (w > 0)
    n_missing = int((~usable).sum())
    per_resp = np.bincount(pf.resp_code[usable], minlength=pf.n_respondents)
    singleton = per_resp[pf.resp_code] == 1
    n_singletons = int(((per_resp == 1)).sum())
    keep = usable & ~singleton
    if keep.sum() == 0:
        raise DataError("no respondent has two or more usable waves; fixed effects cannot be "
                        "estimated", column=y)
    Y, X, w = Y[keep], X[keep], w[keep]
    _, codes = np.unique(pf.resp_code[keep], return_inverse=True)
    wpos = pf.wave_pos[keep]
    G = int(codes.max()) + 1
    N = len(Y)
    names = list(xs)
    kinds = ["regressor"] * len(xs)
    if time_effects:
        present = np.unique(wpos)
        D = (wpos[:, None] == present[None, 1:]).astype(float)
        X = np.column_stack([X, D])
        names += [f"wave={plain_label(pf.waves[k])}" for k in present[1:]]
        kinds += ["wave effect"] * (len(present) - 1)
    Xt = _demean(codes, w, X, G)
    Yt = _demean(codes, w, Y[:, None], G)[:, 0]
    warnings: list[str] = []
    scale = np.sqrt((X**2 * w[:, None]).sum(axis=0) / w.sum()) + 1e-300
    within_ss = np.sqrt((Xt**2 * w[:, None]).sum(axis=0) / w.sum())
    constant = within_ss <= 1e-10 * scale
    dropped = [names[j] for j in np.flatnonzero(constant)]
    if dropped:
        warnings.append(f"dropped (constant within every respondent, absorbed by the fixed "
                        f"effects): {', '.join(dropped)}")
        Xt = Xt[:, ~constant]
        names = [n for n, c in zip(names, constant, strict=True) if not c]
        kinds = [k for k, c in zip(kinds, constant, strict=True) if not c]
    if not any(k == "regressor" for k in kinds):
        raise DataError("every regressor is constant within respondents; nothing to estimate",
                        parameter="x", got=xs)
    k = Xt.shape[1]
    sw = np.sqrt(w)
    A = Xt * sw[:, None]
    rank = np.linalg.matrix_rank(A)
    if rank < k:
        raise DataError("the regressors are collinear after removing respondent means",
                        parameter="x", got=names,
                        hint="drop one of the collinear regressors")
    df_classic = N - G - k
    if df_classic <= 0:
        raise DataError("too few observations for this many respondents and regressors",
                        got={"n": N, "respondents": G, "regressors": k})
    XtWX = A.T @ A
    bread = np.linalg.inv(XtWX)
    beta = bread @ (A.T @ (Yt * sw))
    e = Yt - Xt @ beta
    ssr = float(np.sum(w * e**2))
    sst = float(np.sum(w * Yt**2))
    r2_within = 1 - ssr / sst if sst > 0 else np.nan
    K = k if df_correction == "nested" else k + G
    scores = Xt * (w * e)[:, None]

    def crv1(groups: np.ndarray) -> tuple[np.ndarray, int, float]:
        meat, n_g = _cluster_meat(groups, scores)
        if n_g < 2:
            raise DataError("clustering needs at least two clusters", got=n_g)
        c = n_g / (n_g - 1) * (N - 1) / (N - K)
        return c * bread @ meat @ bread, n_g, c

    details: dict[str, Any] = {}
    k_text = ("slopes only; respondent effects nested in clusters" if df_correction == "nested"
              else "slopes + respondent dummies")
    if cluster == "none":
        V = ssr / df_classic * bread
        df_t = float(df_classic)
        cov_text = (f"classical (homoskedastic) standard errors, s² = SSR/(N − G − k) with "
                    f"N − G − k = {df_classic}")
        factor = None
    elif cluster == "respondent":
        V, n_g, factor = crv1(codes)
        df_t = float(n_g - 1)
        cov_text = (f"cluster-robust (CR1) standard errors by respondent, G = {n_g}, "
                    f"small-sample factor G/(G−1)·(N−1)/(N−K) = {factor:.6g} with "
                    f"K = {K} ({k_text}); "
                    f"t-tests with G − 1 = {n_g - 1} df")
    else:
        V1, g1, c1 = crv1(codes)
        V2, g2, c2 = crv1(wpos)
        V12, _g12, c12 = crv1(codes * pf.n_waves + wpos)
        V = V1 + V2 - V12
        evals, evecs = np.linalg.eigh((V + V.T) / 2)
        if evals.min() < 0:
            warnings.append("the two-way covariance had negative eigenvalues, set to zero "
                            "(Cameron, Gelbach & Miller 2011)")
            V = evecs @ np.diag(np.clip(evals, 0, None)) @ evecs.T
        df_t = float(min(g1, g2) - 1)
        factor = c1
        details.update(n_clusters_wave=g2, factor_wave=c2, factor_intersection=c12)
        cov_text = (f"two-way cluster-robust standard errors by respondent (G = {g1}) and wave "
                    f"(G = {g2}): V_resp + V_wave − V_intersection (Cameron, Gelbach & Miller "
                    f"2011), each CR1 with its own G/(G−1)·(N−1)/(N−K), K = {K}; t-tests with "
                    f"min(G) − 1 = {int(df_t)} df")
        if g2 < 30:
            warnings.append(f"only {g2} waves as clusters: two-way clustered standard errors "
                            "are unreliable with so few clusters (Cameron & Miller 2015)")
    se = np.sqrt(np.diag(V))
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = beta / se
    pval = 2 * stats.t.sf(np.abs(tval), df_t)
    q = stats.t.ppf(1 - (1 - ci_level) / 2, df_t)
    table = pd.DataFrame({"term": names, "kind": kinds, "coef": beta, "se": se, "t": tval,
                          "p_value": pval, "ci_low": beta - q * se, "ci_high": beta + q * se})
    reg = np.array([kd == "regressor" for kd in kinds])
    b_r = beta[reg]
    V_r = V[np.ix_(reg, reg)]
    n_r = int(reg.sum())
    try:
        F = float(b_r @ np.linalg.solve(V_r, b_r) / n_r)
        p_joint = float(stats.f.sf(F, n_r, df_t))
    except np.linalg.LinAlgError:
        F, p_joint = np.nan, np.nan
        warnings.append("the covariance of the slopes is singular; no joint test")
    if cluster != "none" and G < 42:
        warnings.append(f"only {G} respondent clusters: cluster-robust inference may be "
                        "too liberal with fewer than about 40-50 clusters (Cameron & Miller "
                        "2015)")
    details.update({
        "n_obs": N, "n_respondents": G, "n_singletons_dropped": n_singletons,
        "n_rows_dropped_missing": n_missing, "r2_within": r2_within,
        "df_correction": df_correction, "K": K, "small_sample_factor": factor,
        "df_inference": df_t, "time_effects": time_effects, "cluster": cluster,
        "dropped_terms": dropped, "ssr": ssr,
    })
    method = (
        "Within (fixed-effects) estimator: y and x demeaned within respondent"
        + (" (weighted means), weighted least squares" if weight else "")
        + (", wave effects as dummies (first wave = reference)" if time_effects else "")
        + f"; {cov_text}. Singletons dropped ({n_singletons}); rows with missing values "
        f"dropped ({n_missing}). Joint test: Wald F of all slopes of x with the same covariance."
    )
    return PanelRegression(
        name=f"Fixed-effects regression of {y}", estimate={n: float(b) for n, b, kd in
                                                          zip(names, beta, kinds, strict=True)
                                                          if kd == "regressor"},
        method=method, p_value=p_joint, statistic=F, statistic_name="Wald F (all slopes = 0)",
        df=df_t, n=N, table=table, details=details, warnings=warnings, ci_level=None,
        reference="Wooldridge (2010), Econometric Analysis of Cross Section and Panel Data, "
                  "ch. 10.5; Cameron & Miller (2015), J. Human Resources 50, 317-372.",
        coefficients=table, vcov=pd.DataFrame(V, index=names, columns=names),
    )
