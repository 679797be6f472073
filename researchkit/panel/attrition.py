"""Attrition: who stays in a panel, and whether the stayers still represent the first wave.

Panels lose respondents every wave. :func:`attrition_table` counts, wave by wave, who is still
there, who left, who came back and who joined; :func:`attrition_bias` compares the first-wave
profile of those who stayed with those who left, variable by variable, so a reader knows
whether later waves over-represent some groups (attrition is rarely at random: young and
light users typically leave first).

References
----------
Lynn, P. (ed.) (2009). *Methodology of Longitudinal Surveys*. Wiley, ch. 15 (attrition).
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
of Statistics* 6(2), 65-70.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.panel.layout import _wave_index, check_columns, panel_frame
from researchkit.results import Result

__all__ = ["AttritionBias", "attrition_bias", "attrition_table"]

_CORRECTIONS = {
    "holm": "Holm (1979) step-down adjustment, controlling the family-wise error rate",
    "bonferroni": "Bonferroni adjustment, controlling the family-wise error rate",
    "fdr_bh": "Benjamini-Hochberg (1995) adjustment, controlling the false discovery rate",
    "none": "no adjustment for multiple testing (each p-value stands alone)",
}


def attrition_table(
    data: pd.DataFrame, respondent: str = "respondent", wave: str = "wave", *,
    waves: Sequence[Any] | None = None,
) -> Result:
    """Respondents present, retained, lost, returning and new in each wave.

    For wave :math:`t` with :math:`R_t` the set of respondents answering it:

    * ``continuing`` = :math:`|R_t \\cap R_{t-1}|`, ``lost`` = :math:`|R_{t-1} \\setminus R_t|`;
    * ``returning``: in :math:`R_t`, not in :math:`R_{t-1}`, but in some earlier wave;
    * ``new``: first seen at wave :math:`t` (refreshment sample or late recruits);
    * ``retention_rate`` = continuing / :math:`|R_{t-1}|`, ``attrition_rate`` = 1 − retention;
    * ``cohort_retained`` = :math:`|R_t \\cap R_1|` and ``cohort_retention`` =
      :math:`|R_t \\cap R_1| / |R_1|` (the first-wave cohort still answering).

    Parameters
    ----------
    data : DataFrame
        Long format, one row per respondent-wave.
    respondent, wave : str
        Column names.
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    Result
        ``estimate`` = first-wave cohort retention at the last wave; ``table`` one row per wave.

    References
    ----------
    Lynn (2009), *Methodology of Longitudinal Surveys*, ch. 15.
    """
    pf = panel_frame(data, respondent, wave, waves=waves)
    pres = pf.presence()
    n_waves = pf.n_waves
    seen_before = np.zeros(pf.n_respondents, dtype=bool)
    cohort = pres[:, 0]
    rows = []
    for t in range(n_waves):
        now = pres[:, t]
        row: dict[str, Any] = {"wave": pf.waves[t], "n_respondents": int(now.sum())}
        if t == 0:
            row.update(continuing=np.nan, lost=np.nan, returning=0, new=int(now.sum()),
                       retention_rate=np.nan, attrition_rate=np.nan)
        else:
            prev = pres[:, t - 1]
            cont = int((now & prev).sum())
            n_prev = int(prev.sum())
            rate = cont / n_prev if n_prev else np.nan
            row.update(continuing=cont, lost=int((prev & ~now).sum()),
                       returning=int((now & ~prev & seen_before).sum()),
                       new=int((now & ~seen_before).sum()),
                       retention_rate=rate, attrition_rate=1 - rate)
        row["cohort_retained"] = int((now & cohort).sum())
        row["cohort_retention"] = row["cohort_retained"] / cohort.sum() if cohort.any() \
            else np.nan
        rows.append(row)
        seen_before |= now
    table = pd.DataFrame(rows)
    for col in ("continuing", "lost"):
        table[col] = table[col].astype("Int64")
    final = float(table["cohort_retention"].iloc[-1])
    return Result(
        name="Panel attrition by wave", estimate=final,
        method=("Counts of respondents per wave from the long-format table: continuing = "
                "answered this and the previous wave; lost = answered the previous wave but "
                "not this one; returning = back after missing at least the previous wave; new = "
                "first seen at this wave; retention rate = continuing / previous wave; cohort "
                "retention = share of the first-wave respondents answering this wave."),
        n=pf.n_respondents, table=table,
        details={"cohort_size": int(cohort.sum()), "cohort_retained_last": int(
            table["cohort_retained"].iloc[-1]),
            "mean_retention_rate": float(np.nanmean(table["retention_rate"].to_numpy(
                dtype=float))) if n_waves > 1 else None,
            "n_waves": n_waves},
        reference="Lynn, P. (ed.) (2009). Methodology of Longitudinal Surveys. Wiley, ch. 15.",
    )


@dataclass(eq=False)
class AttritionBias(Result):
    """Result of :func:`attrition_bias`.

    ``table`` has one row per variable (test, statistic, raw and adjusted p-value, effect
    size); ``profile`` the first-wave profile of stayers and leavers (shares of each level of a
    categorical variable, mean / SD / median of a numeric one).
    """

    profile: pd.DataFrame = field(default_factory=pd.DataFrame)


def _adjust(pvalues: np.ndarray, method: str, alpha: float) -> np.ndarray:
    out = np.full(len(pvalues), np.nan)
    ok = np.isfinite(pvalues)
    if not ok.any():
        return out
    if method == "none":
        out[ok] = pvalues[ok]
        return out
    from statsmodels.stats.multitest import multipletests

    out[ok] = multipletests(pvalues[ok], alpha=alpha, method=method)[1]
    return out


def attrition_bias(
    data: pd.DataFrame, variables: Sequence[str], respondent: str = "respondent",
    wave: str = "wave", *, categorical: Sequence[str] | None = None,
    baseline: Any = None, until: Any = None,
    numeric_test: Literal["welch", "mann-whitney"] = "welch",
    correction: Literal["holm", "bonferroni", "fdr_bh", "none"] = "holm",
    alpha: float = 0.05, waves: Sequence[Any] | None = None,
) -> AttritionBias:
    """Compare the baseline profile of respondents who stayed with those who left.

    The *cohort* is every respondent answering the ``baseline`` wave (default: the first).
    *Stayers* are cohort members who answered the ``until`` wave (default: the last);
    *leavers* the other cohort members. Each variable is taken at the baseline wave and tested
    for a difference between the two groups:

    * categorical variables: Pearson's chi-square test of independence on the levels × group
      table (no continuity correction), effect size Cramér's
      :math:`V = \\sqrt{\\chi^2 / (n(\\min(r, c) - 1))}`;
    * numeric variables: Welch's t-test (unequal variances; df by Welch-Satterthwaite), effect
      size the standardised mean difference
      :math:`d = (\\bar x_S - \\bar x_L) / \\sqrt{(s_S^2 + s_L^2)/2}` (Austin 2009); or, with
      ``numeric_test="mann-whitney"``, the two-sided Mann-Whitney U test, effect size the
      rank-biserial correlation :math:`r = 2U_S/(n_S n_L) - 1`.

    The p-values of all tests form one family, adjusted with ``correction`` (Holm by default);
    a variable is flagged when its adjusted p-value is below ``alpha``. Missing values are
    left out of each variable's test (its ``n_stayers`` / ``n_leavers`` say how many remain).

    Parameters
    ----------
    data : DataFrame
        Long format, one row per respondent-wave.
    variables : sequence of str
        Baseline attributes to compare.
    respondent, wave : str
        Column names.
    categorical : sequence of str, optional
        Variables to treat as categorical. Default: non-numeric and boolean columns.
    baseline, until : wave labels, optional
        Baseline wave (default first) and the wave that defines staying (default last).
    numeric_test : {"welch", "mann-whitney"}
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
    alpha : float
        Significance level for flagging after adjustment.
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    AttritionBias
        ``estimate`` = number of variables flagged; ``p_value`` = the smallest adjusted
        p-value; ``table`` one row per variable; ``profile`` stayers vs leavers.

    References
    ----------
    Lynn (2009), *Methodology of Longitudinal Surveys*, ch. 15; Austin, P.C. (2009). Balance
    diagnostics... *Statistics in Medicine* 28, 3083-3107; Holm (1979).
    """
    from scipy import stats

    variables = list(variables) if not isinstance(variables, str) else [variables]
    if not variables:
        raise ParameterError("no variables to compare", parameter="variables",
                             expected="at least one column name")
    pf = panel_frame(data, respondent, wave, waves=waves)
    for v in variables:
        check_columns(data, {"variables": v})
    categorical = list(categorical or [])
    for v in categorical:
        if v not in variables:
            raise ParameterError("a categorical variable that is not among the variables",
                                 parameter="categorical", expected=f"some of {variables}",
                                 got=v)
    if numeric_test not in ("welch", "mann-whitney"):
        raise ParameterError("unknown test", parameter="numeric_test",
                             expected="'welch' or 'mann-whitney'", got=numeric_test)
    if correction not in _CORRECTIONS:
        raise ParameterError("unknown correction", parameter="correction",
                             expected=f"one of {list(_CORRECTIONS)}", got=correction)
    if not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise ParameterError("invalid significance level", parameter="alpha",
                             expected="a number between 0 and 1", got=alpha)
    b = 0 if baseline is None else _wave_index(pf, baseline, "baseline")
    u = pf.n_waves - 1 if until is None else _wave_index(pf, until, "until")
    if u <= b:
        raise ParameterError("the wave defining stayers must come after the baseline wave",
                             parameter="until", got=pf.waves[u])
    pres = pf.presence()
    at_base = pf.wave_pos == b
    base_rows = data.loc[at_base]
    stayed = pres[pf.resp_code[at_base], u]
    n_s, n_l = int(stayed.sum()), int((~stayed).sum())
    if n_s == 0 or n_l == 0:
        raise DataError(
            f"nobody {'stayed' if n_s == 0 else 'left'} between wave {pf.waves[b]} and wave "
            f"{pf.waves[u]}, so stayers and leavers cannot be compared", column=wave)

    rows, profile = [], []
    warnings: list[str] = []
    for v in variables:
        col = base_rows[v]
        is_cat = v in categorical or not pd.api.types.is_numeric_dtype(col) or \
            pd.api.types.is_bool_dtype(col)
        ok = col.notna().to_numpy()
        s_vals, l_vals = col[ok & stayed], col[ok & ~stayed]
        row: dict[str, Any] = {"variable": v, "kind": "categorical" if is_cat else "numeric",
                               "n_stayers": len(s_vals), "n_leavers": len(l_vals)}
        if is_cat:
            tab = pd.crosstab(col[ok], np.where(stayed[ok], "stayers", "leavers"))
            tab = tab.reindex(columns=["stayers", "leavers"], fill_value=0)
            for level, counts in tab.iterrows():
                profile.append({"variable": v, "level": level, "statistic": "share",
                                "stayers": counts["stayers"] / max(len(s_vals), 1),
                                "leavers": counts["leavers"] / max(len(l_vals), 1)})
            tab = tab.loc[tab.sum(axis=1) > 0]
            row["test"] = "Pearson chi-square"
            if len(tab) < 2 or len(s_vals) == 0 or len(l_vals) == 0:
                row.update(statistic=np.nan, df=np.nan, p_value=np.nan, effect_size=np.nan,
                           effect_size_name="Cramér's V")
                warnings.append(f"{v}: fewer than two observed levels or an empty group, "
                                "not tested")
            else:
                chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(),
                                                                correction=False)
                n_tab = tab.to_numpy().sum()
                cramer = np.sqrt(chi2 / (n_tab * (min(tab.shape) - 1)))
                row.update(statistic=chi2, df=float(dof), p_value=p, effect_size=cramer,
                           effect_size_name="Cramér's V")
                if (expected < 5).mean() > 0.2:
                    warnings.append(f"{v}: more than 20% of expected counts are below 5, the "
                                    "chi-square approximation is doubtful (Cochran 1954)")
        else:
            x_s = s_vals.to_numpy(dtype=float)
            x_l = l_vals.to_numpy(dtype=float)
            for name, fn in (("mean", np.mean), ("sd", lambda a: np.std(a, ddof=1)),
                             ("median", np.median)):
                profile.append({"variable": v, "level": None, "statistic": name,
                                "stayers": float(fn(x_s)) if len(x_s) > 1 else np.nan,
                                "leavers": float(fn(x_l)) if len(x_l) > 1 else np.nan})
            if len(x_s) < 2 or len(x_l) < 2:
                row.update(test=numeric_test, statistic=np.nan, df=np.nan, p_value=np.nan,
                           effect_size=np.nan, effect_size_name="")
                warnings.append(f"{v}: fewer than two values in a group, not tested")
            elif numeric_test == "welch":
                res = stats.ttest_ind(x_s, x_l, equal_var=False)
                d = (x_s.mean() - x_l.mean()) / np.sqrt(
                    (x_s.var(ddof=1) + x_l.var(ddof=1)) / 2)
                row.update(test="Welch t-test", statistic=float(res.statistic),
                           df=float(res.df), p_value=float(res.pvalue), effect_size=d,
                           effect_size_name="standardised mean difference")
            else:
                res = stats.mannwhitneyu(x_s, x_l, alternative="two-sided")
                r = 2 * res.statistic / (len(x_s) * len(x_l)) - 1
                row.update(test="Mann-Whitney U", statistic=float(res.statistic), df=np.nan,
                           p_value=float(res.pvalue), effect_size=r,
                           effect_size_name="rank-biserial correlation")
        rows.append(row)
    table = pd.DataFrame(rows, columns=[
        "variable", "kind", "test", "n_stayers", "n_leavers", "statistic", "df", "p_value",
        "p_adjusted", "significant", "effect_size", "effect_size_name"])
    p = table["p_value"].to_numpy(dtype=float)
    table["p_adjusted"] = _adjust(p, correction, alpha)
    table["significant"] = table["p_adjusted"] < alpha
    n_flagged = int(table["significant"].sum())
    n_tests = int(np.isfinite(p).sum())
    min_adj = float(np.nanmin(table["p_adjusted"])) if n_tests else None
    method = (
        f"Cohort = respondents of wave {pf.waves[b]}; stayers answered wave {pf.waves[u]}, "
        f"leavers did not. Baseline values compared with Pearson chi-square tests (categorical, "
        f"no continuity correction) and "
        + ("Welch t-tests (numeric, unequal variances)" if numeric_test == "welch"
           else "two-sided Mann-Whitney U tests (numeric)")
        + f"; the {n_tests} p-values form one family with {_CORRECTIONS[correction]}, "
        f"flagged at alpha = {alpha:g}. Unweighted; missing values left out per variable."
    )
    return AttritionBias(
        name=f"Attrition bias: wave {pf.waves[b]} profile of stayers vs leavers",
        estimate=n_flagged, p_value=min_adj, method=method, n=n_s + n_l, table=table,
        details={"n_stayers": n_s, "n_leavers": n_l, "n_tests": n_tests,
                 "correction": correction, "alpha": alpha,
                 "flagged": table.loc[table["significant"], "variable"].tolist(),
                 "retention": n_s / (n_s + n_l)},
        warnings=warnings,
        reference=("Lynn (2009), Methodology of Longitudinal Surveys, ch. 15; Holm (1979), "
                   "Scand. J. Statist. 6, 65-70."),
        profile=pd.DataFrame(profile, columns=["variable", "level", "statistic", "stayers",
                                               "leavers"]),
    )
