"""Propensity scores: inverse-probability weighting and nearest-neighbour matching.

The propensity score ``e(x) = P(D = 1 | x)`` is estimated by logistic regression (Newton–
Raphson). Under *no unmeasured confounding* and *overlap* (0 < e(x) < 1), comparing treated and
control units weighted or matched on ``e(x)`` estimates a causal effect (Rosenbaum & Rubin 1983).

Weighting (Hájek, normalised weights)::

    ATE:  w = D/e + (1 − D)/(1 − e)           ATT:  w = D + (1 − D) e/(1 − e)
    τ = Σ_{D=1} w y / Σ_{D=1} w  −  Σ_{D=0} w y / Σ_{D=0} w

Standard errors treat the logit and the two weighted means as one M-estimator and use the
sandwich ``A⁻¹ B A⁻ᵀ / n`` (Lunceford & Davidian 2004; Stefanski & Boos 2002), so the
uncertainty of the estimated propensity score is included (this equals ``statsmodels``'
``TreatmentEffect.ipw``). Optional trimming keeps units with ``trim ≤ e ≤ 1 − trim`` (Crump et
al. 2009 suggest 0.1) and re-fits the score on them: the estimand becomes the effect in that
overlap population, which the result states.

References
----------
Rosenbaum, P. R., & Rubin, D. B. (1983). The central role of the propensity score in
observational studies for causal effects. *Biometrika*, 70(1), 41-55.
Lunceford, J. K., & Davidian, M. (2004). Stratification and weighting via the propensity
score in estimation of causal treatment effects. *Statistics in Medicine*, 23(19), 2937-2960.
Crump, R. K., Hotz, V. J., Imbens, G. W., & Mitnik, O. A. (2009). Dealing with limited overlap
in estimation of average treatment effects. *Biometrika*, 96(1), 187-199.
Austin, P. C. (2011). Optimal caliper widths for propensity-score matching. *Pharmaceutical
Statistics*, 10(2), 150-161.
Abadie, A., & Imbens, G. W. (2006). Large sample properties of matching estimators for average
treatment effects. *Econometrica*, 74(1), 235-267.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal._data import (
    check_binary,
    check_ci_level,
    check_columns,
    check_frame,
    check_numeric,
    column_list,
)
from researchkit.experiments.causal.checks.balance import balance_table
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PropensityScoreMatching",
    "PropensityScoreWeighting",
    "fit_logit",
    "propensity_design",
]


def propensity_design(df: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray,
                                                                            list[str]]:
    """Design matrix (intercept first) from covariates; text/categorical columns become
    dummies (first level dropped), booleans 0/1."""
    parts, names = [np.ones(len(df))], ["Intercept"]
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s)):
            parts.append(check_numeric(df, col, "covariates"))
            names.append(col)
        else:
            dummies = pd.get_dummies(s.astype("category"), prefix=col, prefix_sep="=",
                                     drop_first=True, dtype=float)
            for dcol in dummies.columns:
                parts.append(dummies[dcol].to_numpy())
                names.append(str(dcol))
    return np.column_stack(parts), names


def fit_logit(x: np.ndarray, d: np.ndarray, *, max_iter: int = 100,
              tol: float = 1e-10) -> np.ndarray:
    """Logistic-regression coefficients by Newton–Raphson (maximum likelihood).

    Raises :class:`DataError` on (quasi-)complete separation, when the treatment is perfectly
    predicted and the maximum-likelihood estimate does not exist.
    """
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -35, 35)
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        hess = (x * w[:, None]).T @ x
        grad = x.T @ (d - p)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            raise DataError("the propensity model is singular",
                            hint="covariates are collinear or a category is empty") from None
        beta += step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        raise DataError("the propensity model did not converge (separation?)",
                        hint="some covariate pattern predicts treatment perfectly; drop or "
                        "coarsen it, or trim")
    p = 1 / (1 + np.exp(-np.clip(x @ beta, -35, 35)))
    if np.min(np.minimum(p, 1 - p)) < 1e-8:
        raise DataError("propensity scores of 0 or 1: treatment is perfectly predicted "
                        "(no overlap)", hint="restrict to units with overlap or trim")
    return beta


def _prepare(df: pd.DataFrame, outcome: str, treatment: str,
             covariates: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    check_frame(df)
    covariates = column_list(covariates, "covariates", required="the confounders to adjust for")
    check_columns(df, outcome=outcome, treatment=treatment, covariates=covariates)
    y = check_numeric(df, outcome, "outcome")
    d = check_binary(df, treatment, "treatment")
    if d.min() == d.max():
        raise DataError("only one treatment group", parameter="treatment", column=treatment,
                        expected="treated (1) and control (0) units")
    x, names = propensity_design(df, covariates)
    return y, d, x, names


class PropensityScoreWeighting:
    """Inverse-probability-weighted effect of a treatment (ATE or ATT) with balance checks.

    Parameters
    ----------
    df : DataFrame
        One row per unit (customer, store...).
    outcome : str
    treatment : str
        0/1 column.
    covariates : sequence of str
        Confounders: columns that affect both treatment and outcome (text columns become
        dummies).
    estimand : {"ATT", "ATE"}
        Effect on the treated (default) or average effect.
    trim : float, optional
        Keep units with ``trim <= e <= 1 − trim`` and re-fit (e.g. 0.1, Crump et al. 2009).
        ``None`` (default) keeps everyone.
    ci_level : float

    Attributes
    ----------
    result : Result
        The effect with sandwich interval, p-value; details: effective sample sizes, units
        trimmed, largest weight.
    balance : Result
        :func:`checks.balance_table` before/after weighting.
    scores : ndarray
        Propensity scores of the units kept.
    weights : ndarray
        Their weights.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        treatment: str,
        covariates: Sequence[str],
        *,
        estimand: Literal["ATT", "ATE"] = "ATT",
        trim: float | None = None,
        ci_level: float = 0.95,
    ) -> None:
        from scipy import stats

        if estimand not in ("ATT", "ATE"):
            raise ParameterError("unknown estimand", parameter="estimand",
                                 expected="'ATT' or 'ATE'", got=estimand)
        if trim is not None and (isinstance(trim, bool) or not isinstance(trim, int | float)
                                 or not 0 < trim < 0.5):
            raise ParameterError("invalid trimming threshold", parameter="trim",
                                 expected="a number in (0, 0.5), e.g. 0.1, or None", got=trim)
        self.ci_level = check_ci_level(ci_level)
        covariates = column_list(covariates, "covariates",
                                 required="the confounders to adjust for")
        y, d, x, names = _prepare(df, outcome, treatment, covariates)
        self.outcome, self.treatment, self.covariates = outcome, treatment, covariates
        self.estimand, self.trim = estimand, trim
        beta = fit_logit(x, d)
        e = 1 / (1 + np.exp(-(x @ beta)))
        keep = np.ones(len(d), dtype=bool)
        if trim is not None:
            keep = (e >= trim) & (e <= 1 - trim)
            if d[keep].min() == d[keep].max():
                raise DataError("trimming left only one treatment group", parameter="trim",
                                got=trim)
            y, d, x = y[keep], d[keep], x[keep]
            beta = fit_logit(x, d)
            e = 1 / (1 + np.exp(-(x @ beta)))
        self.kept = keep
        self.n_trimmed = int((~keep).sum())
        self.scores = e
        self.coefficients = pd.Series(beta, index=names, name="logit coefficient")
        if estimand == "ATE":
            w1, w0 = d / e, (1 - d) / (1 - e)
        else:
            w1, w0 = d.copy(), (1 - d) * e / (1 - e)
        mu1 = float(np.sum(w1 * y) / np.sum(w1))
        mu0 = float(np.sum(w0 * y) / np.sum(w0))
        tau = mu1 - mu0
        se = self._sandwich_se(x, d, y, e, mu1, mu0)
        z = float(stats.norm.ppf(0.5 + self.ci_level / 2))
        self.weights = w1 + w0
        ess1 = float(w1.sum() ** 2 / np.sum(w1**2))
        ess0 = float(w0.sum() ** 2 / np.sum(w0**2))
        kept_df = df.loc[keep]
        self.balance = balance_table(kept_df, treatment, self._numeric_covariates(df),
                                     weights=self.weights)
        warnings = list(self.balance.warnings)
        ctrl_max_share = float(w0.max() / w0.sum())
        if ctrl_max_share > 0.05:
            warnings.append(f"One control unit carries {ctrl_max_share:.0%} of the control "
                            "weight: extreme weights; consider trimming (trim=0.1).")
        trim_text = "no trimming" if trim is None else (
            f"trimmed to {trim:g} <= e <= {1 - trim:g} ({self.n_trimmed} units dropped; the "
            "estimand is the effect in the overlap population) and score re-fitted")
        self.result = Result(
            name=f"{estimand} of {treatment} on {outcome} (propensity-score weighting)",
            estimate=tau,
            method=(f"Inverse-probability weighting ({estimand} weights, normalised/Hájek) "
                    f"with a logistic propensity score on {', '.join(covariates)}; {trim_text}; "
                    "sandwich standard error of the stacked M-estimator (propensity-score "
                    "estimation included); normal interval. Assumes no unmeasured confounding "
                    "and overlap."),
            ci=(tau - z * se, tau + z * se), ci_level=self.ci_level,
            p_value=float(2 * stats.norm.sf(abs(tau / se))), statistic=tau / se,
            statistic_name="z", n=len(d), table=self.balance.table,
            details={"se": se, "mean_treated": mu1, "mean_control_weighted": mu0,
                     "n_treated": int(d.sum()), "n_control": int((1 - d).sum()),
                     "ess_treated": ess1, "ess_control": ess0, "n_trimmed": self.n_trimmed,
                     "max_abs_smd_before": self.balance.details["max_abs_smd_before"],
                     "max_abs_smd_after": self.balance.details["max_abs_smd_after"]},
            warnings=warnings,
            reference="Rosenbaum & Rubin (1983); Lunceford & Davidian (2004); Austin & Stuart "
                      "(2015)")
        self._d = d

    def _numeric_covariates(self, df: pd.DataFrame) -> list[str]:
        cols = []
        for c in self.covariates:
            if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
                cols.append(c)
        return cols or self.covariates

    def _sandwich_se(self, x: np.ndarray, d: np.ndarray, y: np.ndarray, e: np.ndarray,
                     mu1: float, mu0: float) -> float:
        """Stacked M-estimator: ψ = [x(d − e), w1(y − μ1), w0(y − μ0)]."""
        n, k = x.shape
        if self.estimand == "ATE":
            w1, w0 = d / e, (1 - d) / (1 - e)
            dw1 = -(d * (1 - e) / e)[:, None] * x      # ∂w1/∂β
            dw0 = ((1 - d) * e / (1 - e))[:, None] * x  # ∂w0/∂β
        else:
            w1, w0 = d, (1 - d) * e / (1 - e)
            dw1 = np.zeros_like(x)
            dw0 = ((1 - d) * e / (1 - e))[:, None] * x
        r1, r0 = y - mu1, y - mu0
        psi = np.column_stack([x * (d - e)[:, None], w1 * r1, w0 * r0])
        a = np.zeros((k + 2, k + 2))
        a[:k, :k] = -(x * (e * (1 - e))[:, None]).T @ x / n
        a[k, :k] = (dw1 * r1[:, None]).mean(axis=0)
        a[k, k] = -w1.mean()
        a[k + 1, :k] = (dw0 * r0[:, None]).mean(axis=0)
        a[k + 1, k + 1] = -w0.mean()
        b = psi.T @ psi / n
        ainv = np.linalg.inv(a)
        v = ainv @ b @ ainv.T / n
        grad = np.zeros(k + 2)
        grad[k], grad[k + 1] = 1.0, -1.0
        return float(np.sqrt(grad @ v @ grad))

    def plot(self, ax: Any = None) -> Figure:
        """Overlap: propensity-score distributions of treated and control units."""
        from researchkit.plots import PALETTE, new_figure

        if ax is None:
            fig, ax = new_figure()
        else:
            fig = ax.figure
        bins = np.linspace(0, 1, 31)
        ax.hist(self.scores[self._d == 0], bins=bins, alpha=0.6, color=PALETTE[0],
                label="control", density=True)
        ax.hist(self.scores[self._d == 1], bins=bins, alpha=0.6, color=PALETTE[1],
                label="treated", density=True)
        ax.set_xlabel("propensity score")
        ax.set_ylabel("density")
        ax.set_title("Overlap of propensity scores")
        ax.legend()
        return fig


class PropensityScoreMatching:
    """Nearest-neighbour matching on the logit of the propensity score (ATT).

    Each treated unit (in order of decreasing score, as MatchIt's "largest") is matched to its
    ``n_neighbors`` nearest control units on ``logit e(x)`` within a caliper of ``caliper``
    standard deviations of the logit score (Austin 2011 recommends 0.2); treated units with no
    control within the caliper are dropped (the estimand becomes the effect on the matched
    treated, which the result says). Without replacement a control is used at most once.

    Effect on the treated: ``τ = mean_i (y_i − mean of its matches)``. Standard error: Abadie &
    Imbens (2006, Theorem 7) for the ATT::

        V = (1/N₁²) [ Σ_{treated} (y_i − ŷ_i(0) − τ)² + Σ_{controls} K_j(K_j − 1)/M² σ̂²_j ]

    with ``K_j`` the number of times control *j* is used (K ≤ 1 without replacement, where this
    reduces to the paired variance) and ``σ̂²_j`` from the nearest other control on the score,
    ``(y_j − y_j')²/2``. The propensity score is treated as known (Abadie & Imbens 2016
    discuss the adjustment).

    Parameters
    ----------
    df : DataFrame
    outcome, treatment : str
    covariates : sequence of str
    n_neighbors : int
        Controls per treated unit (M).
    caliper : float, optional
        In SDs of the logit score; ``None`` = no caliper.
    replace : bool
        Match with replacement.
    ci_level : float

    Attributes
    ----------
    result : Result
    balance : Result
        Balance before/after matching (matched weights).
    pairs : DataFrame
        Treated index, control index, distance.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        treatment: str,
        covariates: Sequence[str],
        *,
        n_neighbors: int = 1,
        caliper: float | None = 0.2,
        replace: bool = False,
        ci_level: float = 0.95,
    ) -> None:
        from scipy import stats

        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise ParameterError("invalid number of neighbours", parameter="n_neighbors",
                                 expected="an integer >= 1", got=n_neighbors)
        if caliper is not None and (isinstance(caliper, bool) or
                                    not isinstance(caliper, int | float) or caliper <= 0):
            raise ParameterError("invalid caliper", parameter="caliper",
                                 expected="a positive number of SDs (e.g. 0.2) or None",
                                 got=caliper)
        self.ci_level = check_ci_level(ci_level)
        covariates = column_list(covariates, "covariates",
                                 required="the confounders to adjust for")
        y, d, x, _ = _prepare(df, outcome, treatment, covariates)
        self.outcome, self.treatment, self.covariates = outcome, treatment, covariates
        beta = fit_logit(x, d)
        lin = x @ beta
        self.scores = 1 / (1 + np.exp(-lin))
        width = None if caliper is None else caliper * float(np.std(lin, ddof=1))
        treated_idx = np.flatnonzero(d == 1)
        control_idx = np.flatnonzero(d == 0)
        order = treated_idx[np.argsort(-lin[treated_idx], kind="stable")]
        available = np.ones(len(control_idx), dtype=bool)
        c_lin = lin[control_idx]
        used = np.zeros(len(control_idx), dtype=int)
        pairs = []
        matched_treated = []
        for i in order:
            dist = np.abs(c_lin - lin[i])
            if not replace:
                dist = np.where(available, dist, np.inf)
            m = min(n_neighbors, int(np.isfinite(dist).sum()))
            if m == 0:
                continue
            cand = np.argsort(dist, kind="stable")[:m]
            if width is not None:
                cand = cand[dist[cand] <= width]
            if len(cand) < n_neighbors:  # fewer than M controls within the caliper
                continue
            for j in cand:
                pairs.append((i, control_idx[j], float(dist[j])))
                used[j] += 1
                if not replace:
                    available[j] = False
            matched_treated.append(i)
        if not matched_treated:
            raise DataError("no treated unit has a control within the caliper",
                            parameter="caliper", got=caliper)
        self.pairs = pd.DataFrame(pairs, columns=["treated", "control", "distance"])
        self.pairs["treated"] = df.index[self.pairs["treated"].to_numpy()]
        self.pairs["control"] = df.index[self.pairs["control"].to_numpy()]
        mt = np.array(matched_treated)
        n1 = len(mt)
        m = n_neighbors
        pos = {t: k for k, t in enumerate(mt)}
        yhat0 = np.zeros(n1)
        for (ti, ci_, _), in zip(pairs, strict=True):
            yhat0[pos[ti]] += y[ci_] / m
        diffs = y[mt] - yhat0
        tau = float(diffs.mean())
        # Abadie-Imbens variance
        k_used = used
        sigma2 = np.zeros(len(control_idx))
        if replace and (k_used > 1).any():
            for j in np.flatnonzero(k_used > 1):
                other = np.abs(c_lin - c_lin[j])
                other[j] = np.inf
                nn = int(np.argmin(other))
                sigma2[j] = 0.5 * (y[control_idx[j]] - y[control_idx[nn]]) ** 2
        var = (np.sum((diffs - tau) ** 2) + np.sum(k_used * (k_used - 1) / m**2 * sigma2)) / n1**2
        se = float(np.sqrt(var))
        z = float(stats.norm.ppf(0.5 + self.ci_level / 2))
        wts = np.zeros(len(df))
        wts[mt] = 1.0
        wts[control_idx] = used / m
        self.match_weights = wts
        self.balance = balance_table(df, treatment,
                                     [c for c in covariates
                                      if pd.api.types.is_numeric_dtype(df[c])
                                      or pd.api.types.is_bool_dtype(df[c])] or covariates,
                                     weights=wts)
        n_unmatched = len(treated_idx) - n1
        warnings = list(self.balance.warnings)
        if n_unmatched:
            warnings.append(f"{n_unmatched} of {len(treated_idx)} treated units had no control "
                            "within the caliper and were dropped: the estimate is the effect on "
                            "the matched treated.")
        cal_text = "no caliper" if caliper is None else \
            f"caliper {caliper:g} SD of the logit score ({width:.4f})"
        self.result = Result(
            name=f"ATT of {treatment} on {outcome} (propensity-score matching)",
            estimate=tau,
            method=(f"{m}:1 nearest-neighbour matching on the logit propensity score "
                    f"({'with' if replace else 'without'} replacement, {cal_text}, treated "
                    "matched in order of decreasing score); logistic score on "
                    f"{', '.join(covariates)}; Abadie–Imbens (2006) standard error (score "
                    "treated as known); normal interval. Assumes no unmeasured confounding."),
            ci=(tau - z * se, tau + z * se), ci_level=self.ci_level,
            p_value=float(2 * stats.norm.sf(abs(tau / se))) if se > 0 else None,
            statistic=tau / se if se > 0 else None, statistic_name="z", n=int(n1),
            table=self.balance.table,
            details={"se": se, "n_treated_matched": n1, "n_treated_unmatched": n_unmatched,
                     "n_controls_used": int((used > 0).sum()),
                     "max_abs_smd_before": self.balance.details["max_abs_smd_before"],
                     "max_abs_smd_after": self.balance.details["max_abs_smd_after"]},
            warnings=warnings,
            reference="Austin (2011); Abadie & Imbens (2006), Econometrica 74(1), 235-267")
