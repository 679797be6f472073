"""Synthetic control: a weighted combination of untreated units that tracks the treated unit.

Weights on the donor units solve the constrained least-squares problem on the pre-period
outcome path::

    w* = argmin_w  Σ_{t < T0} (y_1t − Σ_j w_j y_jt)²   s.t.  w_j ≥ 0,  Σ_j w_j = 1

(non-negative weights summing to one: the synthetic unit is an interpolation of donors, never
an extrapolation; Abadie, Diamond & Hainmueller 2010; Abadie 2021). The effect in period t is
the gap ``y_1t − Σ_j w*_j y_jt``; the headline is the mean post-period gap. Several treated
units (a campaign in several regions with the same start) are averaged into one treated series
first.

Inference is by placebos (:func:`~researchkit.experiments.causal.checks.placebo_in_space`):
each donor in turn is treated as if it had received the campaign; the treated unit's ratio of
post- to pre-period root mean squared prediction error (RMSPE) is ranked among the placebo
ratios, giving a permutation p-value ``rank / (J + 1)``.

The weights are found by an exact active-set method for simplex-constrained least squares
(Lawson & Hanson 1974); the tests check the solution against scipy's SLSQP and the
Karush-Kuhn-Tucker conditions.

References
----------
Abadie, A., Diamond, A., & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA*, 105(490), 493-505.
Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
methodological aspects. *Journal of Economic Literature*, 59(2), 391-425.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.experiments.causal._data import (
    check_binary,
    check_columns,
    check_frame,
    check_numeric,
)
from researchkit.experiments.causal._panel import check_unique_unit_time
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SyntheticControl", "simplex_weights"]


def _solve_support(q: np.ndarray, c: np.ndarray, support: list[int]) -> np.ndarray:
    """Minimise ½w'Qw − c'w on the support subject to Σw = 1 (KKT linear system)."""
    k = len(support)
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = q[np.ix_(support, support)]
    kkt[:k, k] = 1.0
    kkt[k, :k] = 1.0
    rhs = np.append(c[support], 1.0)
    sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    return sol[:k]


def simplex_weights(
    target: np.ndarray, donors: np.ndarray, *, tol: float = 1e-10, max_iter: int = 10_000,
) -> np.ndarray:
    """Least-squares weights on the simplex: ``argmin ||target − donors @ w||²``, w ≥ 0, Σw = 1.

    An exact primal active-set method (Lawson & Hanson 1974, ch. 23, with the sum-to-one
    equality added to each subproblem's KKT system): start from the best single donor, add
    the donor whose gradient most violates the Karush–Kuhn–Tucker conditions, solve the
    equality-constrained least squares on the support, and step back to the boundary when a
    weight would turn negative. It stops when the KKT conditions hold to ``tol`` (relative
    to the scale of the gradient), so the result is the optimum, not an approximation.

    Parameters
    ----------
    target : (T,) array
    donors : (T, J) array
    """
    donors = np.asarray(donors, dtype=float)
    target = np.asarray(target, dtype=float)
    j = donors.shape[1]
    if j == 1:
        return np.ones(1)
    scale = max(float(np.abs(donors).max()), float(np.abs(target).max()), 1e-300)
    a, b = donors / scale, target / scale
    q, c = a.T @ a, a.T @ b
    gscale = max(float(np.abs(q).max()), float(np.abs(c).max()), 1e-300)
    first = int(np.argmin(((a - b[:, None]) ** 2).sum(axis=0)))
    w = np.zeros(j)
    w[first] = 1.0
    support = [first]
    for _ in range(max_iter):
        g = q @ w - c
        level = float(g[support].mean())
        outside = [i for i in range(j) if i not in support]
        if not outside:
            break
        viol = g[outside] - level
        k = int(np.argmin(viol))
        if viol[k] >= -tol * gscale:
            break
        support.append(outside[k])
        while True:
            v = _solve_support(q, c, support)
            cur = w[support]
            if (v > 0).all():
                w[:] = 0.0
                w[support] = v
                break
            neg = v <= 0
            alpha = float(np.min(cur[neg] / (cur[neg] - v[neg])))
            new = cur + alpha * (v - cur)
            w[:] = 0.0
            w[support] = new
            support = [i for i, x in zip(support, new, strict=True) if x > 1e-14]
            if not support:  # numerical corner: restart from the best vertex
                support = [first]
                w[first] = 1.0
                break
    w = np.clip(w, 0.0, None)
    return w / w.sum()


class SyntheticControl:
    """Synthetic-control estimate of a campaign's effect on a treated unit (or unit average).

    Parameters
    ----------
    df : DataFrame
        Panel, one row per unit and period (balanced).
    outcome, unit, time : str
        Outcome, unit and period columns.
    treatment : str
        0/1 column, 1 for treated units from the treatment start on. All treated units must
        start in the same period; units never treated are the donor pool.
    donors : sequence, optional
        Restrict the donor pool to these units.

    Attributes
    ----------
    weights : Series
        Donor weights (non-negative, summing to one), sorted descending.
    gaps : DataFrame
        Per period: treated, synthetic, gap, post.
    result : Result
        Mean post-period gap (no interval: use ``placebo_test()`` for a p-value), pre- and
        post-RMSPE.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        treatment: str,
        *,
        donors: list[Any] | None = None,
    ) -> None:
        check_frame(df)
        check_columns(df, outcome=outcome, unit=unit, time=time, treatment=treatment)
        check_unique_unit_time(df, unit, time)
        y = check_numeric(df, outcome, "outcome")
        d = check_binary(df, treatment, "treatment")
        self.outcome, self.unit, self.time, self.treatment = outcome, unit, time, treatment
        frame = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "y": y,
                              "d": d})
        wide = frame.pivot(index="t", columns="u", values="y").sort_index()
        if wide.isna().any().any():
            missing = wide.columns[wide.isna().any()][0]
            raise DataError("the panel is unbalanced", parameter="unit",
                            expected="every unit observed in every period", got=missing)
        ever = frame.groupby("u", sort=True)["d"].max()
        treated_units = list(ever.index[ever > 0])
        if not treated_units:
            raise DataError("no treated unit", parameter="treatment", column=treatment)
        starts = frame[frame["d"] > 0].groupby("u", sort=True)["t"].min()
        if starts.nunique() > 1:
            raise DataError("treated units start in different periods", parameter="treatment",
                            expected="one common start (fit one synthetic control per start)",
                            got=sorted(starts.unique().tolist())[:5])
        pool = [u for u in ever.index if ever[u] == 0]
        if donors is not None:
            unknown = [u for u in donors if u not in pool]
            if unknown:
                raise DataError("donor is not an untreated unit of the panel",
                                parameter="donors", got=unknown[0])
            pool = [u for u in pool if u in set(donors)]
        if len(pool) < 2:
            raise DataError("need at least two donor units", parameter="donors",
                            got=len(pool))
        self.start = starts.iloc[0]
        self.periods = wide.index.to_numpy()
        self.pre = self.periods < self.start
        if self.pre.sum() < 2:
            raise DataError("need at least two pre-treatment periods", parameter="treatment")
        self.treated_units = treated_units
        self.donor_pool = pool
        self.wide = wide
        target = wide[treated_units].mean(axis=1).to_numpy()
        self._fit(target, wide[pool].to_numpy())
        self.result = self._headline()

    def _fit(self, target: np.ndarray, donor_matrix: np.ndarray) -> None:
        w = simplex_weights(target[self.pre], donor_matrix[self.pre])
        synth = donor_matrix @ w
        self.weights = pd.Series(w, index=pd.Index(self.donor_pool, name=self.unit),
                                 name="weight").sort_values(ascending=False)
        self.gaps = pd.DataFrame({"treated": target, "synthetic": synth,
                                  "gap": target - synth, "post": ~self.pre},
                                 index=pd.Index(self.periods, name=self.time))

    @staticmethod
    def rmspe(gaps: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(gaps))))

    def _headline(self) -> Result:
        g = self.gaps
        pre_rmspe = self.rmspe(g.loc[~g["post"], "gap"].to_numpy())
        post_gaps = g.loc[g["post"], "gap"].to_numpy()
        post_rmspe = self.rmspe(post_gaps)
        est = float(post_gaps.mean())
        treated_mean = float(g.loc[g["post"], "treated"].mean())
        warnings = []
        sd_pre = float(g.loc[~g["post"], "treated"].std())
        if sd_pre > 0 and pre_rmspe > 0.5 * sd_pre:
            warnings.append("Poor pre-period fit (RMSPE above half the treated unit's pre-period "
                            "standard deviation): the synthetic control may not be credible.")
        lo, hi = self.wide[self.donor_pool].to_numpy()[self.pre].min(axis=1), \
            self.wide[self.donor_pool].to_numpy()[self.pre].max(axis=1)
        outside = float(np.mean((g.loc[~g["post"], "treated"] < lo) |
                                (g.loc[~g["post"], "treated"] > hi)))
        if outside > 0.2:
            warnings.append(f"The treated series lies outside the donors' range in {outside:.0%} "
                            "of pre-periods: a convex combination cannot track it.")
        top = ", ".join(f"{k} {v:.2f}" for k, v in self.weights[self.weights > 0.01].items())
        return Result(
            name=f"Effect on {self.outcome} (synthetic control)",
            estimate=est,
            method=(f"Synthetic control: donor weights (w ≥ 0, Σw = 1) minimise the squared "
                    f"pre-period gap on {int(self.pre.sum())} pre-treatment periods of "
                    f"{self.outcome!r} (exact active-set solution); "
                    f"{len(self.treated_units)} treated unit(s) averaged; effect = mean gap "
                    f"over {int((~self.pre).sum())} post-periods. "
                    "Inference: placebo_test() (permutation over donors)."),
            n=int(self.wide.size),
            table=self.gaps,
            details={"pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe,
                     "rmspe_ratio": post_rmspe / pre_rmspe if pre_rmspe > 0 else None,
                     "relative_effect": est / (treated_mean - est)
                     if treated_mean != est else None,
                     "n_donors": len(self.donor_pool),
                     "n_donors_with_weight": int((self.weights > 1e-6).sum()),
                     "weights": top},
            warnings=warnings,
            reference="Abadie, Diamond & Hainmueller (2010), JASA 105(490); Abadie (2021), JEL")

    def placebo_test(self, **kwargs: Any) -> Result:
        """Placebo-in-space inference (see :func:`checks.placebo_in_space`)."""
        from researchkit.experiments.causal.checks.placebo import placebo_in_space

        return placebo_in_space(self, **kwargs)

    def plot(self, ax: Any = None) -> Figure:
        """Treated vs synthetic series (top) and the gap (bottom)."""
        from researchkit.plots import PALETTE, new_figure

        if ax is None:
            fig, axes = new_figure(2, 1, height=6.5, sharex=True)
        else:
            axes = ax
            fig = axes[0].figure
        g = self.gaps
        x = g.index.to_numpy()
        axes[0].plot(x, g["treated"], color=PALETTE[1], label="treated")
        axes[0].plot(x, g["synthetic"], color=PALETTE[0], linestyle="--", label="synthetic control")
        axes[0].set_ylabel(self.outcome)
        axes[0].legend()
        axes[0].set_title("Synthetic control")
        axes[1].plot(x, g["gap"], color=PALETTE[2])
        axes[1].axhline(0, color="black", linewidth=0.8)
        axes[1].set_ylabel("gap (treated − synthetic)")
        axes[1].set_xlabel(self.time)
        for a in axes:
            a.axvline(self.start, color="grey", linestyle=":", linewidth=1)
        return fig
