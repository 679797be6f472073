"""Difference-in-differences: the 2×2 design and two-way fixed effects (TWFE).

The 2×2 estimator compares the change in the mean outcome of the treated group with the change
in the control group::

    δ = (ȳ_T,post − ȳ_T,pre) − (ȳ_C,post − ȳ_C,pre)

which equals the interaction coefficient of ``y = α + β treated + γ post + δ treated·post + ε``.
With a panel (``unit`` and ``time`` given) the group and period dummies become unit and period
fixed effects: ``y_it = α_i + λ_t + δ D_it + ε_it`` with ``D_it = treated_i · post_it``.

Identifying assumption: *parallel trends* (without the campaign, treated and control units
would have changed by the same amount) and no anticipation. Check it with an event study
(:class:`~researchkit.experiments.causal.EventStudy` and
:func:`~researchkit.experiments.causal.checks.pretrend_test`). With staggered adoption and
effects that change over time, TWFE is biased (Goodman-Bacon 2021): use
:class:`~researchkit.experiments.causal.CallawaySantAnna`.

References
----------
Angrist, J. D., & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5.
Bertrand, M., Duflo, E., & Mullainathan, S. (2004). How much should we trust
differences-in-differences estimates? *QJE*, 119(1), 249-275 (cluster by unit).
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics*, 225(2), 254-277.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
from researchkit.experiments.causal._ols import OLSFit, fit_ols
from researchkit.experiments.causal._panel import (
    adoption_table,
    check_unique_unit_time,
    constant_within,
)
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DifferenceInDifferences", "did"]

#: Below this many clusters, CR1 t-tests tend to over-reject (Cameron, Gelbach & Miller 2008).
FEW_CLUSTERS = 30


class DifferenceInDifferences:
    """Difference-in-differences estimate of a campaign's effect (2×2 or two-way fixed effects).

    The design is chosen by the columns given:

    ========================  ====================================================
    columns                   regression
    ========================  ====================================================
    neither unit nor time     ``y ~ 1 + treated + post + treated:post`` (2×2)
    unit only                 unit fixed effects + ``post`` + ``treated:post``
    time only                 period fixed effects + ``treated`` + ``treated:post``
    unit and time             unit and period fixed effects + ``treated:post`` (TWFE)
    ========================  ====================================================

    Parameters
    ----------
    df : DataFrame
        One row per observation (unit-period in a panel).
    outcome : str
        Outcome column (e.g. weekly sales).
    treated : str
        0/1 column: the unit belongs to the treated group (constant within a unit).
    post : str
        0/1 column: the period is after the start of treatment. With staggered adoption give
        each unit's own post indicator (1 from its adoption period on).
    unit, time : str, optional
        Unit and period columns of a panel (absorbed as fixed effects).
    cluster : str, optional
        Column to cluster standard errors by. Default: ``unit`` when given (Bertrand, Duflo &
        Mullainathan 2004), else heteroskedasticity-robust HC1 errors.
    covariates : sequence of str, optional
        Time-varying numeric controls added to the regression.
    ci_level : float
        Confidence level of the interval.
    bootstrap : int, optional
        With clustered errors: replace the t-test p-value by a wild cluster restricted
        bootstrap p-value with this many Rademacher draws (recommended with fewer than ~30
        clusters or few treated clusters; MacKinnon & Webb 2017). The interval stays the
        analytic one.
    seed : int
        Seed of the bootstrap.

    Attributes
    ----------
    result : Result
        The effect estimate ``δ`` with interval, p-value and a coefficient table.
    fit : OLSFit
        The underlying regression (coefficients, covariance, degrees of freedom).
    staggered : bool
        Whether treated units start treatment in different periods.

    Examples
    --------
    >>> import researchkit.datasets as ds
    >>> data, truth = ds.regional_sales_panel(seed=1)
    >>> est = DifferenceInDifferences(data, "sales", "treated", "post", unit="store",
    ...                               time="week", cluster="region")
    >>> round(est.result.estimate, 1)  # doctest: +SKIP
    6.1
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        treated: str,
        post: str,
        *,
        unit: str | None = None,
        time: str | None = None,
        cluster: str | None = None,
        covariates: Sequence[str] | None = None,
        ci_level: float = 0.95,
        bootstrap: int | None = None,
        seed: int = 0,
    ) -> None:
        check_frame(df)
        if bootstrap is not None and (isinstance(bootstrap, bool) or
                                      not isinstance(bootstrap, int) or bootstrap < 99):
            raise ParameterError("invalid number of bootstrap draws", parameter="bootstrap",
                                 expected="an integer >= 99 (e.g. 999)", got=bootstrap)
        covariates = column_list(covariates, "covariates")
        check_columns(df, outcome=outcome, treated=treated, post=post, unit=unit, time=time,
                      cluster=cluster, covariates=covariates)
        self.ci_level = check_ci_level(ci_level)
        self.outcome, self.treated, self.post = outcome, treated, post
        self.unit, self.time = unit, time
        self.covariates = covariates
        self.cluster = cluster if cluster is not None else unit
        y = check_numeric(df, outcome, "outcome")
        g = check_binary(df, treated, "treated")
        p = check_binary(df, post, "post")
        xs = [check_numeric(df, c, "covariates") for c in covariates]
        if g.min() == g.max():
            raise DataError("no variation in the treated-group indicator", parameter="treated",
                            column=treated, expected="both treated (1) and control (0) rows")
        if p.min() == p.max():
            raise DataError("no variation in the post-period indicator", parameter="post",
                            column=post, expected="both pre (0) and post (1) rows")
        d = g * p
        self.warnings: list[str] = []
        self.staggered = False
        self.adoption: pd.DataFrame | None = None
        if unit is not None:
            constant_within(df, treated, unit, "treated")
        if unit is not None and time is not None:
            check_unique_unit_time(df, unit, time)
            tmp = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "d": d})
            self.adoption = adoption_table(tmp, "u", "t", "d")
            starts = self.adoption["first_treated"].dropna().unique()
            self.staggered = len(starts) > 1
            if self.staggered:
                self.warnings.append(
                    f"Staggered adoption: treated units start in {len(starts)} different "
                    "periods. The two-way fixed-effects estimate is a weighted average of "
                    "2×2 comparisons, some using already-treated units as controls, and is "
                    "biased when effects change over time (Goodman-Bacon 2021). See "
                    "goodman_bacon() and use CallawaySantAnna for a heterogeneity-robust "
                    "estimate.")
            if not self.adoption["absorbing"].all():
                n_off = int((~self.adoption["absorbing"]).sum())
                self.warnings.append(
                    f"Treatment switches off again in {n_off} unit(s): the estimate averages "
                    "'on' against 'off' periods, including after the campaign ended.")
        elif time is not None:
            # post must be a function of time in a common-timing design
            per_time = pd.Series(p).groupby(df[time].to_numpy()).nunique()
            if (per_time > 1).any():
                self.warnings.append(
                    "The post indicator differs between units in the same period "
                    "(staggered timing?): give 'unit' too for a two-way fixed-effects fit.")
        names = [f"{treated}:{post}"]
        columns = [d]
        fes: list[np.ndarray] = []
        if unit is None:
            names.insert(0, treated)
            columns.insert(0, g)
        else:
            fes.append(df[unit].to_numpy())
        if time is None:
            names.insert(0, post)
            columns.insert(0, p)
        else:
            fes.append(df[time].to_numpy())
        names += covariates
        columns += xs
        x = np.column_stack(columns)
        if self.cluster is not None:
            cov_type = "cluster"
            groups = df[self.cluster].to_numpy()
        else:
            cov_type, groups = "HC1", None
        self.fit: OLSFit = fit_ols(y, x, names, fixed_effects=fes, cluster=groups,
                                   cov_type=cov_type)
        self._design = {"y": y, "x": x, "names": names, "fixed_effects": fes,
                        "cluster": groups}
        self.bootstrap, self.seed = bootstrap, seed
        if bootstrap is not None and groups is None:
            raise ParameterError("the wild cluster bootstrap needs clusters",
                                 parameter="bootstrap", expected="cluster= or unit= given")
        self.effect_name = names[-1 - len(covariates)]
        if (self.fit.n_clusters is not None and self.fit.n_clusters < FEW_CLUSTERS
                and bootstrap is None):
            self.warnings.append(
                f"Only {self.fit.n_clusters} clusters: cluster-robust t-tests can over-reject "
                "with few clusters (Cameron, Gelbach & Miller 2008); read the p-value with "
                "care or use bootstrap=999. Intervals use t with G-1 degrees of freedom.")
        n_treated_clusters = None
        if self.cluster is not None:
            n_treated_clusters = int(pd.Series(g).groupby(df[self.cluster].to_numpy()).max().sum())
            if n_treated_clusters < 2:
                self.warnings.append(
                    "Only one treated cluster: cluster-robust standard errors are unreliable "
                    "(Conley & Taber 2011); consider synthetic control with placebo inference.")
        self.data = df
        self._g, self._p, self._y = g, p, y
        self.result = self._make_result(n_treated_clusters)

    # ----------------------------------------------------------------------------------
    @property
    def design(self) -> str:
        if self.unit is not None and self.time is not None:
            return "two-way fixed effects"
        if self.unit is not None:
            return "unit fixed effects + post"
        if self.time is not None:
            return "period fixed effects + group"
        return "2x2"

    def group_means(self) -> pd.DataFrame:
        """Mean outcome by group (control/treated) and period (pre/post), with differences."""
        frame = pd.DataFrame({"group": np.where(self._g > 0, "treated", "control"),
                              "period": np.where(self._p > 0, "post", "pre"), "y": self._y})
        table = frame.pivot_table(index="group", columns="period", values="y",
                                  aggfunc="mean").reindex(index=["control", "treated"],
                                                          columns=["pre", "post"])
        table["change"] = table["post"] - table["pre"]
        table.loc["treated − control"] = table.loc["treated"] - table.loc["control"]
        table.columns.name = None
        return table

    def _make_result(self, n_treated_clusters: int | None) -> Result:
        fit = self.fit
        test = fit.test(self.effect_name, self.ci_level)
        rows = []
        for name in fit.names:
            rows.append({"term": name, **fit.test(name, self.ci_level)})
        table = pd.DataFrame(rows).set_index("term")
        if fit.cov_type == "cluster":
            se_text = (f"cluster-robust standard errors by {self.cluster!r} "
                       f"(CR1: G/(G−1)·(N−1)/(N−K) with G = {fit.n_clusters}, K = "
                       f"{fit.k_total} parameters counting fixed effects as in the "
                       f"dummy-variable regression), t with G−1 = {fit.df_inference} df")
        else:
            se_text = (f"heteroskedasticity-robust HC1 standard errors (no clustering), t with "
                       f"N−K = {fit.df_inference} df")
        fe = {"two-way fixed effects": "unit and period fixed effects absorbed",
              "unit fixed effects + post": "unit fixed effects absorbed",
              "period fixed effects + group": "period fixed effects absorbed",
              "2x2": "group and period dummies"}[self.design]
        cov = f"; controls: {', '.join(self.covariates)}" if self.covariates else ""
        method = (f"Difference-in-differences ({self.design}): OLS of {self.outcome!r} with "
                  f"{fe}; effect = coefficient of {self.treated}×{self.post}{cov}; {se_text}. "
                  "Assumes parallel trends and no anticipation.")
        p_value = test["p_value"]
        if self.bootstrap is not None:
            from researchkit.experiments.causal._bootstrap import wild_cluster_wald

            _, p_value = wild_cluster_wald(self._design, [self.effect_name],
                                           n_boot=self.bootstrap, seed=self.seed)
            method += (f" p-value from a wild cluster restricted bootstrap ({self.bootstrap} "
                       f"Rademacher draws by cluster, seed {self.seed}; analytic p = "
                       f"{test['p_value']:.4g}).")
        details: dict[str, Any] = {"se": test["se"], "design": self.design,
                                   "p_value_analytic": test["p_value"],
                                   "cov_type": fit.cov_type, "n_clusters": fit.n_clusters,
                                   "n_treated_clusters": n_treated_clusters,
                                   "staggered": self.staggered}
        if self.unit is not None:
            details["n_units"] = int(self.data[self.unit].nunique())
        if self.time is not None:
            details["n_periods"] = int(self.data[self.time].nunique())
        return Result(
            name=f"Effect of treatment on {self.outcome} (difference-in-differences)",
            estimate=test["estimate"], method=method, ci=(test["ci_low"], test["ci_high"]),
            ci_level=self.ci_level, p_value=p_value, statistic=test["t"],
            statistic_name="t", df=float(fit.df_inference), n=fit.n, table=table,
            details=details, warnings=list(self.warnings),
            reference="Angrist & Pischke (2009), ch. 5; Bertrand, Duflo & Mullainathan (2004)",
        )

    def plot(self, ax: Any = None) -> Figure:
        """Mean outcome per period for treated and control groups (needs ``time``), or the
        2×2 means."""
        from researchkit.plots import PALETTE, new_figure

        if ax is None:
            fig, ax = new_figure()
        else:
            fig = ax.figure
        labels = np.where(self._g > 0, "treated", "control")
        if self.time is not None:
            frame = pd.DataFrame({"t": self.data[self.time].to_numpy(), "group": labels,
                                  "y": self._y})
            means = frame.groupby(["group", "t"], sort=True)["y"].mean()
            for color, grp in zip(PALETTE, ["control", "treated"], strict=False):
                s = means.loc[grp]
                ax.plot(s.index, s.to_numpy(), color=color, label=grp, marker=".")
            start = self.data.loc[self._g * self._p > 0, self.time]
            if len(start) and not self.staggered:
                ax.axvline(start.min(), color="grey", linestyle="--", linewidth=1)
            ax.set_xlabel(self.time)
        else:
            gm = self.group_means()
            for color, grp in zip(PALETTE, ["control", "treated"], strict=False):
                ax.plot([0, 1], gm.loc[grp, ["pre", "post"]].to_numpy(), color=color,
                        marker="o", label=grp)
            ax.set_xticks([0, 1], ["pre", "post"])
        ax.set_ylabel(f"mean {self.outcome}")
        ax.set_title(f"{self.outcome}: treated vs control")
        ax.legend()
        return fig


def did(
    df: pd.DataFrame,
    outcome: str,
    treated: str,
    post: str,
    unit: str | None = None,
    time: str | None = None,
    cluster: str | None = None,
    *,
    covariates: Sequence[str] | None = None,
    ci_level: float = 0.95,
    bootstrap: int | None = None,
    seed: int = 0,
) -> Result:
    """Difference-in-differences effect estimate (2×2 or two-way fixed effects).

    A shortcut for ``DifferenceInDifferences(...).result``; see
    :class:`DifferenceInDifferences` for the designs, the formula and the standard errors.

    Parameters
    ----------
    df : DataFrame
    outcome : str
        Outcome column.
    treated : str
        0/1 treated-group column.
    post : str
        0/1 post-period column.
    unit, time : str, optional
        Panel unit and period columns (absorbed as fixed effects).
    cluster : str, optional
        Cluster column (default: ``unit`` when given, else HC1 standard errors).
    covariates : sequence of str, optional
    ci_level : float
    bootstrap : int, optional
        Wild cluster restricted bootstrap draws for the p-value (few clusters).
    seed : int

    Returns
    -------
    Result
        ``estimate`` = δ, ``ci``, ``p_value`` (two-sided t-test), ``method``, a coefficient
        ``table`` and warnings (few clusters, staggered adoption...).

    Examples
    --------
    >>> import researchkit.datasets as ds
    >>> data, truth = ds.regional_sales_panel(seed=3)
    >>> r = did(data, "sales", "treated", "post", unit="store", time="week", cluster="region")
    >>> r.ci[0] < truth["att"] < r.ci[1]  # doctest: +SKIP
    True
    """
    if not isinstance(outcome, str):
        raise ParameterError("expected a column name", parameter="outcome", got=outcome)
    return DifferenceInDifferences(df, outcome, treated, post, unit=unit, time=time,
                                   cluster=cluster, covariates=covariates,
                                   ci_level=ci_level, bootstrap=bootstrap, seed=seed).result
