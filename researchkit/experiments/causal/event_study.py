"""Event study: dynamic difference-in-differences with leads and lags of treatment.

Two-way fixed-effects regression of the outcome on relative-time indicators::

    y_it = α_i + λ_t + Σ_{e ≠ −1} β_e · 1[t − G_i = e] + ε_it

where ``G_i`` is the period unit *i* starts treatment (never-treated units have all
indicators 0) and ``e = −1`` (the last period before treatment) is the reference. The leads
(``e < −1``) should be zero under parallel trends and no anticipation:
:func:`~researchkit.experiments.causal.checks.pretrend_test` tests them jointly. Periods are
counted in positions of the sorted distinct values of ``time`` (so weeks, months or dates all
work); the end points are binned (``e ≤ −leads`` and ``e ≥ lags`` share one coefficient each)
unless ``bin_endpoints=False``, in which case observations outside the window are dropped.

With staggered adoption and heterogeneous effects the lead and lag coefficients of this
regression are contaminated by other periods' effects (Sun & Abraham 2021); use
:class:`~researchkit.experiments.causal.CallawaySantAnna` (``aggregate("dynamic")``) then.

References
----------
Freyaldenhoven, S., Hansen, C., Pérez, J. P., & Shapiro, J. M. (2021). Visualization,
identification, and estimation in the linear panel event-study design. NBER WP 29170.
Sun, L., & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics*, 225(2), 175-199.
"""

from __future__ import annotations

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
)
from researchkit.experiments.causal._ols import fit_ols
from researchkit.experiments.causal._panel import adoption_table, check_unique_unit_time
from researchkit.experiments.causal._plots import plot_relative_effects
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EventStudy", "event_label"]


def event_label(e: int) -> str:
    """Coefficient name of relative period ``e`` (``"e-3"``, ``"e+0"``, ``"e+2"``)."""
    return f"e{e:+d}"


class EventStudy:
    """Event-study (dynamic DiD) coefficients with cluster-robust errors.

    Parameters
    ----------
    df : DataFrame
        A panel: one row per unit and period.
    outcome, unit, time : str
        Outcome, unit and period columns.
    treatment : str
        0/1 column: the unit is treated in this period (for a group/post design pass the
        product, e.g. the ``campaign`` column). A unit's first treated period is its adoption
        period; never-treated units serve as controls.
    leads, lags : int
        Number of pre-periods (``e = −leads .. −2``) and post-periods (``e = 0 .. lags``)
        with their own coefficient. ``None`` = every relative period in the data.
    reference : int
        Omitted relative period (default −1).
    bin_endpoints : bool
        Bin periods beyond the window into the end coefficients (default) or drop them.
    cluster : str, optional
        Cluster column (default ``unit``).
    ci_level : float

    Attributes
    ----------
    result : Result
        Headline: the average of the post-period coefficients ``e = 0..lags`` with its
        interval; ``table``: one row per relative period (the reference row is 0).
    coefficients : DataFrame
        Same as ``result.table``.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        treatment: str,
        *,
        leads: int | None = None,
        lags: int | None = None,
        reference: int = -1,
        bin_endpoints: bool = True,
        cluster: str | None = None,
        ci_level: float = 0.95,
    ) -> None:
        check_frame(df)
        check_columns(df, outcome=outcome, unit=unit, time=time, treatment=treatment,
                      cluster=cluster)
        self.ci_level = check_ci_level(ci_level)
        for name, value in (("leads", leads), ("lags", lags)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < (2 if name == "leads" else 0)):
                raise ParameterError("invalid window", parameter=name,
                                     expected="an integer >= 2" if name == "leads"
                                     else "an integer >= 0", got=value)
        if isinstance(reference, bool) or not isinstance(reference, int) or reference >= 0:
            raise ParameterError("the reference period must be a pre-period", parameter="reference",
                                 expected="a negative integer (usually -1)", got=reference)
        check_unique_unit_time(df, unit, time)
        y = check_numeric(df, outcome, "outcome")
        d = check_binary(df, treatment, "treatment")
        self.outcome, self.unit, self.time, self.treatment = outcome, unit, time, treatment
        self.cluster = cluster or unit
        self.reference = reference
        periods = np.sort(df[time].unique())
        pos = pd.Series(np.arange(len(periods)), index=periods)
        tpos = pos.loc[df[time].to_numpy()].to_numpy()
        tmp = pd.DataFrame({"u": df[unit].to_numpy(), "t": tpos, "d": d})
        adopt = adoption_table(tmp, "u", "t", "d")
        if adopt["first_treated"].isna().all():
            raise DataError("no unit is ever treated", parameter="treatment", column=treatment,
                            expected="some rows with 1")
        first = adopt["first_treated"].reindex(tmp["u"].to_numpy()).to_numpy()
        ever = ~np.isnan(first)
        rel = np.where(ever, tpos - np.nan_to_num(first), 0).astype(int)
        e_min, e_max = int(rel[ever].min()), int(rel[ever].max())
        lo = -leads if leads is not None else e_min
        hi = lags if lags is not None else e_max
        lo, hi = max(lo, e_min), min(hi, e_max)
        if reference < lo:
            raise DataError("the reference period is outside the data", parameter="reference",
                            expected=f"a relative period in {lo}..-1", got=reference)
        keep = np.ones(len(df), dtype=bool)
        if bin_endpoints:
            rel_b = np.clip(rel, lo, hi)
        else:
            keep = ~ever | ((rel >= lo) & (rel <= hi))
            rel_b = rel
        events = [e for e in range(lo, hi + 1) if e != reference]
        if not any(e >= 0 for e in events):
            raise DataError("no post-treatment period in the window", parameter="lags")
        cols = [((rel_b == e) & ever).astype(float) for e in events]
        names = [event_label(e) for e in events]
        x = np.column_stack(cols)[keep]
        n_never = int(np.isnan(adopt["first_treated"]).sum())
        self.warnings: list[str] = []
        staggered = adopt["first_treated"].dropna().nunique() > 1
        if staggered:
            self.warnings.append(
                "Staggered adoption: TWFE event-study coefficients can be contaminated by "
                "effects from other relative periods when effects differ between cohorts "
                "(Sun & Abraham 2021); compare with CallawaySantAnna(...).aggregate('dynamic').")
        if n_never == 0:
            self.warnings.append("No never-treated units: relative-period effects are "
                                 "identified only from timing differences.")
        fes = [tmp["u"].to_numpy()[keep], tpos[keep]]
        clusters = df[self.cluster].to_numpy()[keep]
        self.fit = fit_ols(y[keep], x, names, fixed_effects=fes, cluster=clusters,
                           cov_type="cluster")
        self._design = {"y": y[keep], "x": x, "names": names, "fixed_effects": fes,
                        "cluster": clusters}
        treated_clusters = pd.Series(ever[keep]).groupby(clusters).max()
        self.n_treated_clusters = int(treated_clusters.sum())
        self.events = events
        self.staggered = bool(staggered)
        rows = []
        for e in range(lo, hi + 1):
            if e == reference:
                rows.append({"event_time": e, "estimate": 0.0, "se": 0.0, "t": np.nan,
                             "p_value": np.nan, "ci_low": 0.0, "ci_high": 0.0,
                             "reference": True})
            else:
                rows.append({"event_time": e, **self.fit.test(event_label(e), self.ci_level),
                             "reference": False})
        self.coefficients = pd.DataFrame(rows).set_index("event_time")
        self.leads_names = [event_label(e) for e in events if e < 0]
        self.lags_names = [event_label(e) for e in events if e >= 0]
        self.n_units = len(adopt)
        self.n_treated_units = int((~np.isnan(adopt["first_treated"])).sum())
        self.result = self._headline()

    def _headline(self) -> Result:
        from scipy import stats

        idx = [self.fit.index(n) for n in self.lags_names]
        w = np.full(len(idx), 1 / len(idx))
        est = float(w @ self.fit.coef[idx])
        se = float(np.sqrt(w @ self.fit.cov[np.ix_(idx, idx)] @ w))
        df_ = self.fit.df_inference
        q = stats.t.ppf(0.5 + self.ci_level / 2, df_)
        t = est / se
        method = (f"Event study: OLS of {self.outcome!r} on relative-period indicators with "
                  f"unit and period fixed effects (reference period e = {self.reference}, end "
                  "points binned); headline = mean of the post-period coefficients "
                  f"e = 0..{max(e for e in self.events)}; cluster-robust CR1 errors by "
                  f"{self.cluster!r}, t with G−1 = {df_} df. Leads test parallel trends "
                  "(see checks.pretrend_test).")
        return Result(
            name=f"Average post-treatment effect on {self.outcome} (event study)",
            estimate=est, method=method, ci=(est - q * se, est + q * se),
            ci_level=self.ci_level, p_value=float(2 * stats.t.sf(abs(t), df_)),
            statistic=t, statistic_name="t", df=float(df_), n=self.fit.n,
            table=self.coefficients,
            details={"se": se, "n_units": self.n_units, "n_treated_units": self.n_treated_units,
                     "n_clusters": self.fit.n_clusters, "staggered": self.staggered},
            warnings=list(self.warnings),
            reference="Freyaldenhoven et al. (2021); Sun & Abraham (2021)",
        )

    def plot(self, ax: Any = None, *, truth: dict[int, float] | None = None) -> Figure:
        """Coefficients with intervals by relative period (0 = first treated period)."""
        c = self.coefficients
        return plot_relative_effects(c.index.to_numpy(), c["estimate"], c["ci_low"],
                                     c["ci_high"], ylabel=f"effect on {self.outcome}",
                                     title=f"Event study ({self.ci_level:.0%} intervals)",
                                     ax=ax, truth=truth)
