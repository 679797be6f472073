"""Callaway & Sant'Anna (2021) group-time average treatment effects for staggered adoption.

Units are grouped by the period ``g`` they start treatment (a *cohort*). For each cohort and
period, the effect is a 2×2 difference in differences against units not (yet) treated, with
the cohort's own last untreated period ``g − 1`` as base::

    ATT(g, t) = E[Y_t − Y_{g−1} | G = g] − E[Y_t − Y_{g−1} | C]

where the comparison group ``C`` is either the never-treated units or the units not yet
treated by period ``t`` (never-treated included). For pre-treatment periods (``t < g``) the
"varying" base period compares ``t`` with ``t − 1`` (the R ``did`` default); "universal" uses
``g − 1`` throughout. Already-treated units never serve as controls, which is what makes the
estimator robust to effects that vary across cohorts and over time, unlike two-way fixed
effects (Goodman-Bacon 2021).

Inference uses the influence function of each ATT(g,t) (panel data, no covariates)::

    ψ_i = n/n_g · 1[G_i = g] (ΔY_i − μ_g) − n/n_C · 1[i ∈ C] (ΔY_i − μ_C)

with ``SE = sqrt(Σ_c (Σ_{i∈c} ψ_i)²) / n`` over clusters ``c`` (units by default, which gives
``sqrt(mean(ψ²)/n)``). Aggregations (simple, by group, dynamic/event time, calendar time) weight
ATT(g,t) by cohort shares and add the influence function of the estimated weights, exactly as
``did::aggte`` (Callaway & Sant'Anna 2021, section 3 and appendix). Intervals are pointwise
(normal); for simultaneous bands use ``uniform=True`` (multiplier bootstrap, Rademacher
weights, as ``did``'s ``cband``).

Assumptions: staggered (absorbing) treatment, parallel trends (unconditional, or conditional
on covariates with ``covariates=`` by outcome regression), no anticipation, a balanced panel
(units missing a period are dropped, with a warning).

References
----------
Callaway, B., & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *Journal of Econometrics*, 225(2), 200-230.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from researchkit.datasets.base import make_rng
from researchkit.errors import DataError, ParameterError
from researchkit.experiments.causal._data import (
    check_binary,
    check_ci_level,
    check_columns,
    check_frame,
    check_numeric,
    column_list,
)
from researchkit.experiments.causal._panel import adoption_table, check_unique_unit_time
from researchkit.experiments.causal._plots import plot_relative_effects
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CallawaySantAnna"]

Aggregation = Literal["simple", "group", "dynamic", "calendar"]


def _regression_att(dy: np.ndarray, x: np.ndarray, treated: np.ndarray,
                    ctrl: np.ndarray) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for one (g, t) cell and its influence function.

    ``ATT = mean_{G=g}(ΔY − X'β̂)`` with ``β̂`` the OLS of ΔY on X among the comparison
    units (Heckman, Ichimura & Todd 1997; ``DRDID::reg_did_panel``, Sant'Anna & Zhao 2020).
    The influence function (on the cell's subsample, then scaled by n/n₁ as ``did`` does)
    includes the estimation effect of β̂.
    """
    n = len(dy)
    sub = treated | ctrl
    n1 = int(sub.sum())
    d = treated[sub].astype(float)
    y = dy[sub]
    xs = x[sub]
    c = 1 - d
    xtx = (xs * c[:, None]).T @ xs / n1
    try:
        beta = np.linalg.solve(xtx * n1, (xs * c[:, None]).T @ y)
    except np.linalg.LinAlgError:
        raise DataError("covariates are collinear among the comparison units",
                        parameter="covariates") from None
    fitted = xs @ beta
    w = d
    eta_t = np.mean(w * y) / np.mean(w)
    eta_c = np.mean(w * fitted) / np.mean(w)
    lin_ols = (c * (y - fitted))[:, None] * xs @ np.linalg.inv(xtx)
    inf_t = (w * y - w * eta_t) / np.mean(w)
    m1 = (w[:, None] * xs).mean(axis=0)
    inf_c = ((w * fitted - w * eta_c) + lin_ols @ m1) / np.mean(w)
    psi = np.zeros(n)
    psi[sub] = n / n1 * (inf_t - inf_c)
    return float(eta_t - eta_c), psi


class CallawaySantAnna:
    """Group-time ATTs (Callaway & Sant'Anna 2021) and their aggregations.

    Parameters
    ----------
    df : DataFrame
        A panel: one row per unit and period.
    outcome, unit, time : str
        Outcome, unit and period columns. Periods are ordered by value; "g − 1" and "t − 1"
        mean the previous distinct period.
    group : str, optional
        Column with each unit's first treated period (0 or missing = never treated; a value
        after the last period also counts as never treated).
    treatment : str, optional
        Alternatively, a 0/1 column "treated in this period" (absorbing); the first period
        with 1 is the unit's group. Give exactly one of ``group`` and ``treatment``.
    control_group : {"never_treated", "not_yet_treated"}
    base_period : {"varying", "universal"}
    cluster : str, optional
        Column to cluster on (constant within unit), e.g. region for stores. Default: unit.
    ci_level : float
    uniform : bool
        Add simultaneous (uniform) confidence bands by multiplier bootstrap.
    n_boot : int
        Bootstrap draws for ``uniform``.
    seed : int
        Seed of the bootstrap.
    covariates : sequence of str, optional
        Numeric covariates for *conditional* parallel trends, by outcome regression (the R
        ``did`` ``est_method="reg"``): in each cell the comparison units' change is predicted
        from the covariates at the base period by OLS. (The doubly-robust and IPW variants
        are not implemented.)

    Attributes
    ----------
    att_gt : DataFrame
        One row per (group, time): att, se, ci_low, ci_high, pre (t < g), n_treated, n_control.
    result : Result
        The simple aggregation (average effect over all treated unit-periods) as headline.

    Examples
    --------
    >>> import researchkit.datasets as ds
    >>> data, truth = ds.regional_sales_panel(staggered=True, effect_growth=0.05, seed=2)
    >>> cs = CallawaySantAnna(data, "sales", unit="store", time="week", treatment="campaign",
    ...                       cluster="region")
    >>> cs.aggregate("dynamic").table.head()  # doctest: +SKIP
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        *,
        group: str | None = None,
        treatment: str | None = None,
        control_group: Literal["never_treated", "not_yet_treated"] = "never_treated",
        base_period: Literal["varying", "universal"] = "varying",
        cluster: str | None = None,
        ci_level: float = 0.95,
        uniform: bool = False,
        n_boot: int = 999,
        seed: int = 0,
        covariates: Sequence[str] | None = None,
    ) -> None:
        check_frame(df)
        covariates = column_list(covariates, "covariates")
        if (group is None) == (treatment is None):
            raise ParameterError("give exactly one of 'group' and 'treatment'",
                                 parameter="group",
                                 expected="a first-treated-period column or a 0/1 column")
        check_columns(df, outcome=outcome, unit=unit, time=time, group=group,
                      treatment=treatment, cluster=cluster, covariates=covariates)
        self.covariates = covariates
        if control_group not in ("never_treated", "not_yet_treated"):
            raise ParameterError("unknown control group", parameter="control_group",
                                 expected="'never_treated' or 'not_yet_treated'",
                                 got=control_group)
        if base_period not in ("varying", "universal"):
            raise ParameterError("unknown base period", parameter="base_period",
                                 expected="'varying' or 'universal'", got=base_period)
        self.ci_level = check_ci_level(ci_level)
        check_unique_unit_time(df, unit, time)
        self.outcome, self.unit, self.time = outcome, unit, time
        self.control_group, self.base_period = control_group, base_period
        self.cluster = cluster or unit
        self.warnings: list[str] = []
        y = check_numeric(df, outcome, "outcome")
        periods = np.sort(df[time].unique())
        n_periods = len(periods)
        if n_periods < 2:
            raise DataError("need at least two periods", parameter="time", column=time)
        # each unit's group (position of first treated period; inf = never treated)
        if treatment is not None:
            d = check_binary(df, treatment, "treatment")
            tmp = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "d": d})
            adopt = adoption_table(tmp, "u", "t", "d")
            if not adopt["absorbing"].all():
                bad = adopt.index[~adopt["absorbing"]][0]
                raise DataError("treatment switches off again", parameter="treatment",
                                column=treatment, expected="staggered (absorbing) adoption",
                                got=f"{unit} {bad!r}")
            first = adopt["first_treated"]
        else:
            g_raw = df[group]
            if not pd.api.types.is_numeric_dtype(g_raw) and not \
                    pd.api.types.is_datetime64_any_dtype(g_raw):
                raise DataError("group column must hold periods", parameter="group",
                                column=group, expected="the first treated period, 0 = never",
                                got=str(g_raw.dtype))
            per_unit = df.groupby(unit, sort=True)[group].nunique()
            if (per_unit > 1).any():
                raise DataError("group changes within a unit", parameter="group", column=group,
                                got=f"{unit} {per_unit.index[per_unit > 1][0]!r}")
            first = df.groupby(unit, sort=True)[group].first()
            if pd.api.types.is_numeric_dtype(first):
                first = first.where(first != 0)
            first = first.where(first <= periods[-1])
            known = first.dropna()
            unknown = ~known.isin(periods)
            if unknown.any():
                raise DataError("a first-treated period is not one of the periods",
                                parameter="group", column=group,
                                expected="a value of the time column, 0 or missing",
                                got=known[unknown].iloc[0])
        pos = pd.Series(np.arange(n_periods, dtype=float), index=periods)
        gpos = first.map(pos).astype(float).fillna(np.inf)
        # balanced panel
        wide = pd.pivot_table(pd.DataFrame({"u": df[unit].to_numpy(),
                                            "t": df[time].to_numpy(), "y": y}),
                              index="u", columns="t", values="y", aggfunc="first",
                              sort=True).reindex(columns=periods)
        complete = wide.notna().all(axis=1)
        if not complete.all():
            self.warnings.append(f"{int((~complete).sum())} unit(s) not observed in every "
                                 "period were dropped (balanced panel required).")
            wide = wide[complete]
        gpos = gpos.reindex(wide.index)
        first_period = gpos == 0
        if first_period.any():
            self.warnings.append(f"{int(first_period.sum())} unit(s) treated in the first "
                                 "period were dropped (no untreated period to compare).")
            wide, gpos = wide[~first_period], gpos[~first_period]
        clus = df.groupby(unit, sort=True)[self.cluster].agg(["nunique", "first"])
        if (clus["nunique"] > 1).any():
            raise DataError("cluster changes within a unit", parameter="cluster",
                            column=self.cluster, expected="one cluster per unit")
        self._cluster_codes = pd.factorize(clus["first"].reindex(wide.index))[0]
        self.n_clusters = int(self._cluster_codes.max()) + 1
        Y = wide.to_numpy()
        xw = []
        for cov in covariates:
            xv = check_numeric(df, cov, "covariates")
            xw.append(pd.pivot_table(
                pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "x": xv}),
                index="u", columns="t", values="x", aggfunc="first", sort=True)
                .reindex(index=wide.index, columns=periods).to_numpy())
        G = gpos.to_numpy()
        n = len(Y)
        cohorts = np.sort(np.unique(G[np.isfinite(G)])).astype(int)
        if len(cohorts) == 0:
            raise DataError("no unit is ever treated after the first period",
                            parameter=(group and "group") or "treatment")
        never = ~np.isfinite(G)
        if control_group == "never_treated" and not never.any():
            raise DataError("no never-treated units", parameter="control_group",
                            expected="some never-treated units, or control_group="
                            "'not_yet_treated'")
        rows, ifs = [], []
        for g in cohorts:
            treated = G == g
            for c in range(1, n_periods):
                if c >= g or base_period == "universal":
                    b = g - 1
                else:
                    b = c - 1
                if c == b:
                    continue
                if control_group == "never_treated":
                    ctrl = never
                else:
                    ctrl = never | ((G > max(c, b)) & (G != g))
                n_g, n_c = int(treated.sum()), int(ctrl.sum())
                if n_c == 0:
                    self.warnings.append(f"No comparison units for group {periods[g]} in "
                                         f"period {periods[c]}: ATT(g,t) not estimated.")
                    continue
                dy = Y[:, c] - Y[:, b]
                if covariates:
                    xb = np.column_stack([np.ones(n)] + [x[:, b] for x in xw])
                    att, psi = _regression_att(dy, xb, treated, ctrl)
                else:
                    mu_g, mu_c = dy[treated].mean(), dy[ctrl].mean()
                    att = mu_g - mu_c
                    psi = np.zeros(n)
                    psi[treated] = n / n_g * (dy[treated] - mu_g)
                    psi[ctrl] -= n / n_c * (dy[ctrl] - mu_c)
                rows.append({"group": periods[g], "time": periods[c], "att": att,
                             "pre": c < g, "base": periods[b], "n_treated": n_g,
                             "n_control": n_c, "_g": g, "_t": c})
                ifs.append(psi)
        self._n = n
        self._G = G
        self._periods = periods
        self._inf = np.column_stack(ifs)
        table = pd.DataFrame(rows)
        table["se"] = self._se(self._inf)
        self._cells = table
        self.uniform = bool(uniform)
        self.n_boot = n_boot
        self.seed = seed
        self.att_gt = self._with_ci(table.drop(columns=["_g", "_t"]), self._inf)
        self.result = self.aggregate("simple")

    # ---------------------------------------------------------------------------- helpers
    def _se(self, inf: np.ndarray) -> np.ndarray:
        sums = np.zeros((self.n_clusters, inf.shape[1]))
        np.add.at(sums, self._cluster_codes, inf)
        return np.sqrt((sums**2).sum(axis=0)) / self._n

    def _crit(self, inf: np.ndarray) -> float:
        """Normal critical value, or the bootstrap uniform one when ``uniform``."""
        from scipy import stats

        z = float(stats.norm.ppf(0.5 + self.ci_level / 2))
        if not self.uniform or inf.shape[1] < 2:
            return z
        rng = make_rng(self.seed)
        sums = np.zeros((self.n_clusters, inf.shape[1]))
        np.add.at(sums, self._cluster_codes, inf)
        se = np.sqrt((sums**2).sum(axis=0)) / self._n
        ok = se > 0
        draws = rng.choice([-1.0, 1.0], size=(self.n_boot, self.n_clusters))
        boot = draws @ sums[:, ok] / self._n
        tmax = np.abs(boot / se[ok]).max(axis=1)
        return float(np.quantile(tmax, self.ci_level))

    def _with_ci(self, table: pd.DataFrame, inf: np.ndarray) -> pd.DataFrame:
        q = self._crit(inf)
        out = table.copy()
        out["ci_low"] = out["att"] - q * out["se"]
        out["ci_high"] = out["att"] + q * out["se"]
        return out

    def _wif(self, keep: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Influence function of the estimated cohort-share weights (did:::wif)."""
        pg = np.array([np.mean(self._G == g) for g in groups[keep]])
        ind = np.column_stack([(self._G == g).astype(float) for g in groups[keep]])
        s = pg.sum()
        if1 = (ind - pg) / s
        if2 = np.outer((ind - pg).sum(axis=1), pg / s**2)
        return if1 - if2

    def _combine(self, keep: np.ndarray, weights: np.ndarray, with_wif: bool,
                 att: np.ndarray | None = None, inf: np.ndarray | None = None,
                 groups: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        att = self._cells["att"].to_numpy() if att is None else att
        inf = self._inf if inf is None else inf
        groups = self._cells["_g"].to_numpy() if groups is None else groups
        est = float(weights @ att[keep])
        psi = inf[:, keep] @ weights
        if with_wif:
            psi = psi + self._wif(keep, groups) @ att[keep]
        return est, psi

    # ------------------------------------------------------------------------ aggregation
    def aggregate(self, kind: Aggregation = "simple") -> Result:
        """Aggregate ATT(g,t) into summary effects (``did::aggte``).

        * ``"simple"``: average of post-treatment ATT(g,t) weighted by cohort size (the mean
          effect over all treated unit-periods in a balanced panel);
        * ``"group"``: average effect per cohort; overall = cohort-size-weighted mean;
        * ``"dynamic"``: effect by periods since treatment ``e`` (event study, pre-periods
          included); overall = mean over ``e ≥ 0``;
        * ``"calendar"``: effect per calendar period; overall = mean over periods.

        Returns
        -------
        Result
            Overall estimate with interval and p-value; ``table`` = the components.
        """
        from scipy import stats

        if kind not in ("simple", "group", "dynamic", "calendar"):
            raise ParameterError("unknown aggregation", parameter="kind",
                                 expected="'simple', 'group', 'dynamic' or 'calendar'", got=kind)
        cells = self._cells
        g, t = cells["_g"].to_numpy(), cells["_t"].to_numpy()
        pg = np.array([np.mean(self._G == x) for x in g])
        post = g <= t
        z = float(stats.norm.ppf(0.5 + self.ci_level / 2))
        parts: list[dict[str, Any]] = []
        part_ifs: list[np.ndarray] = []
        if kind == "simple":
            keep = np.flatnonzero(post)
            est, psi = self._combine(keep, pg[keep] / pg[keep].sum(), True)
            label = "Average effect over all treated unit-periods (simple aggregation)"
        elif kind == "group":
            cohorts = np.unique(g)
            atts, ifs, pgg = [], [], []
            for c in cohorts:
                keep = np.flatnonzero((g == c) & post)
                e, p = self._combine(keep, np.full(len(keep), 1 / len(keep)), False)
                atts.append(e)
                ifs.append(p)
                pgg.append(np.mean(self._G == c))
                parts.append({"group": self._periods[c], "att": e})
                part_ifs.append(p)
            pgg_a = np.array(pgg)
            est, psi = self._combine(np.arange(len(cohorts)), pgg_a / pgg_a.sum(), True,
                                     att=np.array(atts), inf=np.column_stack(ifs),
                                     groups=cohorts)
            label = "Average effect by cohort, weighted by cohort size (group aggregation)"
        elif kind == "dynamic":
            e_all = t - g
            atts, ifs, es = [], [], []
            for e in np.unique(e_all):
                keep = np.flatnonzero(e_all == e)
                a, p = self._combine(keep, pg[keep] / pg[keep].sum(), True)
                atts.append(a)
                ifs.append(p)
                es.append(e)
                parts.append({"event_time": int(e), "att": a})
                part_ifs.append(p)
            es_a = np.array(es)
            pos = np.flatnonzero(es_a >= 0)
            est = float(np.mean(np.array(atts)[pos]))
            psi = np.column_stack(ifs)[:, pos].mean(axis=1)
            label = "Average effect over periods since treatment e >= 0 (dynamic aggregation)"
        else:
            atts, ifs = [], []
            for c in np.unique(t[post]):
                keep = np.flatnonzero((t == c) & post)
                a, p = self._combine(keep, pg[keep] / pg[keep].sum(), True)
                atts.append(a)
                ifs.append(p)
                parts.append({"time": self._periods[c], "att": a})
                part_ifs.append(p)
            est = float(np.mean(atts))
            psi = np.column_stack(ifs).mean(axis=1)
            label = "Average effect over calendar periods (calendar aggregation)"
        se = float(self._se(psi[:, None])[0])
        table = None
        if parts:
            pif = np.column_stack(part_ifs)
            table = pd.DataFrame(parts)
            table["se"] = self._se(pif)
            table = self._with_ci(table, pif)
            table = table.set_index(table.columns[0])
        zstat = est / se if se > 0 else np.nan
        ctrl = self.control_group.replace("_", "-")
        band = (" Component intervals are simultaneous (uniform) bands from a multiplier "
                f"bootstrap with {self.n_boot} Rademacher draws (seed {self.seed})."
                if self.uniform and table is not None else "")
        cov_text = ("no covariates (unconditional parallel trends)" if not self.covariates
                    else "outcome regression on " + ", ".join(self.covariates)
                    + " at the base period (conditional parallel trends)")
        method = (f"Callaway & Sant'Anna (2021) group-time ATTs, {ctrl} units as comparison, "
                  f"{self.base_period} base period, {cov_text}, no anticipation; {kind} "
                  "aggregation with cohort-share weights; "
                  "standard errors from the influence function (including the estimated "
                  f"weights), clustered by {self.cluster!r} ({self.n_clusters} clusters); "
                  f"normal {self.ci_level:.0%} interval.{band}")
        return Result(
            name=label, estimate=est, method=method,
            ci=(est - z * se, est + z * se), ci_level=self.ci_level,
            p_value=float(2 * stats.norm.sf(abs(zstat))) if se > 0 else None,
            statistic=zstat, statistic_name="z", n=self._n, table=table,
            details={"se": se, "aggregation": kind, "n_units": self._n,
                     "n_cohorts": len(np.unique(g)), "n_clusters": self.n_clusters,
                     "control_group": self.control_group},
            warnings=list(self.warnings),
            reference="Callaway & Sant'Anna (2021), J. Econometrics 225(2), 200-230",
        )

    def pretrend_test(self, leads: int | None = None) -> Result:
        """Joint test that the pre-treatment effects are zero (``did``'s Wald pre-test).

        Parameters
        ----------
        leads : int, optional
            Test the event-time (dynamic) pre-treatment effects ``e = −leads .. −1`` instead
            of every pre-treatment ATT(g,t) (fewer restrictions: better behaved with few
            clusters).

        Notes
        -----
        ``W = n · b'V̂⁻¹b`` with ``V̂`` the (cluster-summed) influence-function covariance.
        The R package refers W to χ²(q) (``p_value_chi2`` in ``details``); the reported
        ``p_value`` uses the small-sample version ``F = W (G − q) / (q (G − 1)) ~ F(q, G − q)``
        for G clusters (Hotelling's T²), which matters when q is not small relative to G.
        """
        from scipy import stats

        cells = self._cells
        g, t = cells["_g"].to_numpy(), cells["_t"].to_numpy()
        if leads is None:
            pre = np.flatnonzero(cells["pre"].to_numpy())
            if len(pre) == 0:
                raise DataError("no pre-treatment cells to test", parameter="base_period")
            b = cells["att"].to_numpy()[pre]
            inf = self._inf[:, pre]
            what = f"the {len(pre)} pre-treatment ATT(g,t)"
            table = self.att_gt[self.att_gt["pre"]].reset_index(drop=True)
        else:
            if isinstance(leads, bool) or not isinstance(leads, int) or leads < 1:
                raise ParameterError("invalid number of leads", parameter="leads",
                                     expected="an integer >= 1", got=leads)
            pg = np.array([np.mean(self._G == x) for x in g])
            e_all = t - g
            es = [e for e in range(-leads, 0) if (e_all == e).any()]
            if not es:
                raise DataError("no pre-treatment event times to test", parameter="leads")
            parts = [self._combine(np.flatnonzero(e_all == e),
                                   pg[e_all == e] / pg[e_all == e].sum(), True) for e in es]
            b = np.array([p[0] for p in parts])
            inf = np.column_stack([p[1] for p in parts])
            what = f"the dynamic pre-treatment effects e = {es[0]}..{es[-1]}"
            table = pd.DataFrame({"event_time": es, "att": b, "se": self._se(inf)})
        q = len(b)
        if q >= self.n_clusters:
            raise DataError("more pre-treatment effects than clusters: the joint test is not "
                            "defined", parameter="leads",
                            expected=f"fewer than {self.n_clusters} restrictions (use leads=)",
                            got=q)
        sums = np.zeros((self.n_clusters, q))
        np.add.at(sums, self._cluster_codes, inf)
        v = sums.T @ sums / self._n  # = IF'IF/n when clusters are units
        if np.linalg.matrix_rank(v) < q:
            raise DataError("singular covariance of the pre-treatment effects",
                            hint="too few units per cohort for a joint test; use leads=")
        w = float(self._n * b @ np.linalg.solve(v, b))
        gcl = self.n_clusters
        f = w * (gcl - q) / (q * (gcl - 1))
        p_f = float(stats.f.sf(f, q, gcl - q))
        p_chi2 = float(stats.chi2.sf(w, q))
        return Result(
            name="Pre-trend test (pre-treatment effects jointly zero)",
            estimate=float(np.abs(b).max()),
            method=(f"Wald test W = n·b'V⁻¹b on {what} with the influence-function covariance "
                    f"clustered by {self.cluster!r} ({self.base_period} base period), as in "
                    f"Callaway & Sant'Anna (2021); p from F = W(G−q)/(q(G−1)) ~ F({q}, "
                    f"{gcl - q}) with G = {gcl} clusters (χ²({q}) p = {p_chi2:.4f}, the R "
                    "did value). A non-significant test does not prove parallel trends "
                    "(Roth 2022)."),
            p_value=p_f, statistic=w, statistic_name="W", df=float(q), n=self._n,
            table=table, details={"chi2": w, "p_value_chi2": p_chi2, "F": f,
                                  "df_denominator": gcl - q, "n_clusters": gcl},
            reference="Callaway & Sant'Anna (2021); Roth (2022)")

    def plot(self, ax: Any = None, *, truth: dict[int, float] | None = None) -> Figure:
        """Dynamic (event-time) aggregation with intervals."""
        tab = self.aggregate("dynamic").table
        return plot_relative_effects(tab.index.to_numpy(), tab["att"], tab["ci_low"],
                                     tab["ci_high"], ylabel=f"ATT on {self.outcome}",
                                     title="Callaway–Sant'Anna event study", ax=ax,
                                     truth=truth)
