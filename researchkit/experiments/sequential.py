"""Sequential testing: group-sequential boundaries and always-valid confidence sequences.

Looking at an A/B test repeatedly and stopping at the first ``p < 0.05`` inflates the false
positive rate far above 5 % (Armitage, McPherson & Rowe 1969). Two remedies:

**Group-sequential designs** (planned looks). Lan & DeMets (1983) alpha spending: a spending
function ``α(t)`` says how much type-I error may be used up by information fraction ``t``;
at look ``k`` the boundary ``b_k`` solves

.. math:: P_0(|Z_1| < b_1, \\dots, |Z_{k-1}| < b_{k-1}, Z_k \\ge b_k) = α(t_k) - α(t_{k-1})

(per side), where ``Z_k`` are the cumulative z-statistics, jointly normal with
``corr(Z_j, Z_k) = sqrt(t_j / t_k)``. The probabilities are computed by recursive numerical
integration of the density of ``Z_k`` on the continuation region (Armitage, McPherson & Rowe
1969; Jennison & Turnbull 2000, ch. 19: their grid of ``6r − 1`` points per look with Simpson's
rule). Spending functions:

* ``"obrien-fleming"``: ``α(t) = 2 − 2 Φ(z_{1−α/2} / √t)`` (Lan–DeMets O'Brien–Fleming type);
* ``"pocock"``: ``α(t) = α log(1 + (e − 1) t)`` (Lan–DeMets Pocock type);
* ``"power"``: ``α(t) = α t^ρ`` (Kim & DeMets 1987; ``ρ = 1`` is linear spending).

``α`` in these formulas is the error spent on each side: a two-sided test at level ``α``
spends ``α/2`` per side with symmetric boundaries (the gsDesign / rpact convention).

**Always-valid confidence sequences** (continuous monitoring, no plan). The two-sided normal
mixture boundary (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon 2021, §3): for a
difference estimated with information ``I_t = 1 / se_t²`` (the score ``S_t = Δ̂_t I_t`` is
approximately a Brownian motion in ``I``),

.. math:: Δ \\in Δ̂_t \\pm \\frac{1}{I_t}\\sqrt{(I_t + ρ)\\,
          \\log\\frac{I_t + ρ}{ρ\\, α^2}} \\quad\\text{for all } t \\text{ simultaneously}

with probability at least ``1 − α`` (Ville's inequality applied to the mixture martingale
``sqrt(ρ/(I+ρ)) exp(S²/(2(I+ρ)))``). With estimated variances it is an asymptotic confidence
sequence in the sense of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2021). ``ρ`` is
chosen to make the interval narrowest at a planned information (sample size); the
always-valid p-value is the running minimum of ``1 / M_t``.

References
----------
Armitage, P., McPherson, C. K. & Rowe, B. C. (1969). Repeated significance tests on
accumulating data. JRSS A 132:235-244.
Lan, K. K. G. & DeMets, D. L. (1983). Discrete sequential boundaries for clinical trials.
Biometrika 70:659-663.
Kim, K. & DeMets, D. L. (1987). Design and analysis of group sequential tests based on the
type I error spending rate function. Biometrika 74:149-154.
Jennison, C. & Turnbull, B. W. (2000). Group Sequential Methods with Applications to Clinical
Trials. Chapman & Hall/CRC, ch. 7, 9 and 19.
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021). Time-uniform, nonparametric,
nonasymptotic confidence sequences. Annals of Statistics 49:1055-1080.
Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. & Ramdas, A. (2021). Time-uniform
central limit theory and asymptotic confidence sequences. arXiv:2103.06476.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from researchkit.errors import DataError, ParameterError
from researchkit.experiments._checks import check_alpha, check_choice, check_fraction
from researchkit.experiments.metrics import Metric
from researchkit.experiments.statistics import SufficientStats
from researchkit.results import Result

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "GroupSequentialDesign",
    "confidence_sequence",
    "cumulative_looks",
    "group_sequential_design",
    "look_estimates",
    "sequential_monitor",
    "spending_function",
]

SPENDING = ("obrien-fleming", "pocock", "power")
GS_REFERENCE = ("Lan & DeMets (1983), Biometrika 70:659-663; Jennison & Turnbull (2000), Group "
                "Sequential Methods, ch. 7 and 19")
CS_REFERENCE = ("Howard, Ramdas, McAuliffe & Sekhon (2021), Ann. Statist. 49:1055-1080; "
                "Waudby-Smith et al. (2021), arXiv:2103.06476")


# ---------------------------------------------------------------------------------------------
# spending functions
# ---------------------------------------------------------------------------------------------
def spending_function(name: str, alpha: float, t: Any, rho: float | None = None) -> np.ndarray:
    """Cumulative error ``α(t)`` spent by information fraction ``t`` (one side).

    Parameters
    ----------
    name : {"obrien-fleming", "pocock", "power"}
    alpha : float
        Error to spend in total (on one side).
    t : array-like
        Information fractions in [0, 1].
    rho : float, optional
        Exponent of the power family (default 1: linear).
    """
    import numpy as np
    from scipy.stats import norm

    name = check_choice(name, "spending", SPENDING)
    alpha = check_alpha(alpha)
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    out = np.zeros_like(t)
    pos = t > 0
    if name == "obrien-fleming":
        out[pos] = 2 - 2 * norm.cdf(norm.ppf(1 - alpha / 2) / np.sqrt(t[pos]))
    elif name == "pocock":
        out[pos] = alpha * np.log(1 + (math.e - 1) * t[pos])
    else:
        r = 1.0 if rho is None else float(rho)
        if not r > 0:
            raise ParameterError("rho must be positive", parameter="rho", got=rho)
        out[pos] = alpha * t[pos] ** r
    return np.minimum(out, alpha)


# ---------------------------------------------------------------------------------------------
# recursive numerical integration (Jennison & Turnbull 2000, ch. 19)
# ---------------------------------------------------------------------------------------------
def _grid(mu: float, lo: float, hi: float, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Simpson nodes and weights on (lo, hi) for a density centred near ``mu``."""
    import numpy as np

    i = np.arange(1, 6 * r, dtype=float)
    x = np.empty_like(i)
    a = i < r
    b = (i >= r) & (i <= 5 * r)
    c = i > 5 * r
    x[a] = -3 - 4 * np.log(r / i[a])
    x[b] = -3 + 3 * (i[b] - r) / (2 * r)
    x[c] = 3 + 4 * np.log(r / (6 * r - i[c]))
    x += mu
    inner = x[(x > lo) & (x < hi)]
    pts = np.concatenate([[lo] if math.isfinite(lo) and lo > x[0] else [],
                          inner,
                          [hi] if math.isfinite(hi) and hi < x[-1] else []])
    if len(pts) < 2:  # continuation region narrower than one grid step
        pts = np.array([max(lo, x[0]), min(hi, x[-1])])
    nodes = np.empty(2 * len(pts) - 1)
    nodes[0::2] = pts
    nodes[1::2] = (pts[:-1] + pts[1:]) / 2
    h = np.diff(pts)
    w = np.zeros_like(nodes)
    w[0:-1:2] += h / 6
    w[2::2] += h / 6
    w[1::2] = 4 * h / 6
    return nodes, w


class _Recursion:
    """Sub-densities of Z_k on the continuation regions, look by look."""

    def __init__(self, info: Sequence[float], drift: float, r: int) -> None:
        self.info = list(info)
        self.drift = drift  # θ: E[Z_k] = θ √I_k
        self.r = r
        self.k = 0
        self.nodes = self.dens = None

    def exit_probs(self, lo: float, hi: float) -> tuple[float, float]:
        """P(continue to look k, then Z_{k+1} <= lo) and P(..., Z_{k+1} >= hi)."""
        from scipy.stats import norm

        ik = self.info[self.k]
        mu = self.drift * math.sqrt(ik)
        if self.k == 0:
            return float(norm.cdf(lo - mu)), float(norm.sf(hi - mu))
        ip = self.info[self.k - 1]
        dk = ik - ip
        sd = math.sqrt(dk)
        shift = self.nodes * math.sqrt(ip) + self.drift * dk
        low = float(self.dens @ norm.cdf((lo * math.sqrt(ik) - shift) / sd)) \
            if math.isfinite(lo) else 0.0
        up = float(self.dens @ norm.sf((hi * math.sqrt(ik) - shift) / sd)) \
            if math.isfinite(hi) else 0.0
        return low, up

    def advance(self, lo: float, hi: float) -> None:
        """Move to the next look with continuation region (lo, hi) at the current look."""
        from scipy.stats import norm

        ik = self.info[self.k]
        mu = self.drift * math.sqrt(ik)
        nodes, w = _grid(mu, lo, hi, self.r)
        if self.k == 0:
            dens = norm.pdf(nodes - mu)
        else:
            ip = self.info[self.k - 1]
            dk = ik - ip
            sd = math.sqrt(dk)
            shift = self.nodes * math.sqrt(ip) + self.drift * dk
            kernel = norm.pdf((nodes[:, None] * math.sqrt(ik) - shift[None, :]) / sd)
            dens = (kernel @ self.dens) * math.sqrt(ik) / sd
        self.nodes, self.dens = nodes, dens * w  # weights folded in for the next integral
        self.k += 1


def _boundaries(t: Sequence[float], cum_alpha: Sequence[float], sides: int, r: int
                ) -> list[float]:
    """Upper boundaries b_k spending ``cum_alpha`` per side (symmetric when sides=2)."""
    from scipy.optimize import brentq

    rec = _Recursion(t, 0.0, r)
    out = []
    prev = 0.0
    for k in range(len(t)):
        target = float(cum_alpha[k]) - prev
        prev = float(cum_alpha[k])
        if target <= 1e-15:
            b = math.inf
        else:
            def f(b: float, target: float = target) -> float:
                lo = -b if sides == 2 else -math.inf
                return rec.exit_probs(lo, b)[1] - target

            hi_b = 40.0
            if f(hi_b) > 0:  # cannot spend this little: boundary beyond any reachable value
                b = math.inf
            else:
                b = float(brentq(f, -10.0 if sides == 1 else 0.0, hi_b, xtol=1e-12,
                                 rtol=1e-13, maxiter=300))
        out.append(b)
        if k < len(t) - 1:
            rec.advance(-b if sides == 2 else -math.inf, b)
    return out


def _crossing(t: Sequence[float], bounds: Sequence[float], sides: int, drift: float, r: int
              ) -> tuple[list[float], list[float]]:
    """Per-look probabilities of crossing the upper (and lower) boundary under drift."""
    rec = _Recursion(t, drift, r)
    ups, lows = [], []
    for k, b in enumerate(bounds):
        lo = -b if sides == 2 else -math.inf
        low, up = rec.exit_probs(lo, b)
        ups.append(up)
        lows.append(low if sides == 2 else 0.0)
        if k < len(bounds) - 1:
            rec.advance(lo, b)
    return ups, lows


# ---------------------------------------------------------------------------------------------
# design
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class GroupSequentialDesign(Result):
    """A group-sequential design: boundaries per look (see ``table``)."""

    information_fractions: list[float] | None = None
    boundaries: list[float] | None = None
    alpha: float = 0.05
    sides: int = 2
    spending: str = "obrien-fleming"
    rho: float | None = None
    grid: int = 32

    def boundaries_at(self, fractions: Sequence[float]) -> list[float]:
        """Boundaries for the looks actually taken (Lan–DeMets: spend at the observed t)."""
        t = _check_fractions(fractions, allow_incomplete=True)
        cum = spending_function(self.spending, self.alpha / self.sides, t, self.rho)
        return _boundaries(t, cum, self.sides, self.grid)

    def crossing_probabilities(self, drift: float) -> tuple[list[float], list[float]]:
        """Per-look probabilities of crossing the upper / lower boundary when
        ``E[Z_K] = drift`` (``drift = Δ / se`` at the final look)."""
        assert self.information_fractions is not None and self.boundaries is not None
        return _crossing(self.information_fractions, self.boundaries, self.sides, drift,
                         self.grid)


def _check_fractions(fractions: Sequence[float], allow_incomplete: bool = False) -> list[float]:
    vals = [float(f) for f in fractions]
    if not vals or any(not (0 < v <= 1) for v in vals) or \
            any(b <= a for a, b in itertools.pairwise(vals)):
        raise ParameterError("information fractions must increase strictly within (0, 1]",
                             parameter="information_fractions", got=list(fractions))
    if not allow_incomplete and abs(vals[-1] - 1) > 1e-12:
        raise ParameterError("the last look must be at information fraction 1",
                             parameter="information_fractions", got=list(fractions))
    return vals


def group_sequential_design(
    k: int | None = None, *, information_fractions: Sequence[float] | None = None,
    alpha: float = 0.05, sides: int = 2, spending: str = "obrien-fleming",
    rho: float | None = None, power: float | None = 0.8, grid: int = 32,
) -> GroupSequentialDesign:
    """Efficacy boundaries of a group-sequential test with Lan–DeMets alpha spending.

    Parameters
    ----------
    k : int, optional
        Number of equally spaced looks (give this or ``information_fractions``).
    information_fractions : sequence of float, optional
        Planned information (sample-size) fractions of the looks, ending at 1.
    alpha : float
        Overall type-I error (two-sided tests spend ``alpha/2`` per side).
    sides : {1, 2}
        One-sided (upper boundary only) or two-sided symmetric boundaries.
    spending : {"obrien-fleming", "pocock", "power"}
        Spending function (see the module docstring).
    rho : float, optional
        Exponent of the ``"power"`` family.
    power : float or None
        Target power for the sample-size inflation factor (None: skip).
    grid : int
        ``r`` of the Jennison–Turnbull grid (``6r − 1`` points per look; 32 gives boundaries
        to about 1e-7).

    Returns
    -------
    GroupSequentialDesign
        ``table``: per look the information fraction, cumulative and incremental alpha spent,
        boundary ``z_k`` and nominal p-value; ``details["inflation_factor"]``: maximum sample
        size relative to a fixed-sample test with the same power.

    Examples
    --------
    >>> d = group_sequential_design(3, alpha=0.025, sides=1, power=None)
    >>> [round(b, 4) for b in d.boundaries]      # Lan–DeMets O'Brien–Fleming, K = 3
    [3.7103, 2.5114, 1.993]
    """
    import pandas as pd
    from scipy.optimize import brentq
    from scipy.stats import norm

    from researchkit.datasets.base import check_positive_int

    alpha = check_alpha(alpha)
    spending = check_choice(spending, "spending", SPENDING)
    if sides not in (1, 2):
        raise ParameterError("sides must be 1 or 2", parameter="sides", got=sides)
    grid = check_positive_int(grid, "grid", minimum=8)
    if information_fractions is None:
        if k is None:
            raise ParameterError("give the number of looks or the information fractions",
                                 parameter="k")
        k = check_positive_int(k, "k")
        t = [(i + 1) / k for i in range(k)]
    else:
        if k is not None and k != len(information_fractions):
            raise ParameterError("k does not match the information fractions", parameter="k",
                                 got=k)
        t = _check_fractions(information_fractions)
    side_alpha = alpha / sides
    cum = spending_function(spending, side_alpha, t, rho)
    bounds = _boundaries(t, cum, sides, grid)
    inc = [float(cum[0])] + [float(cum[i] - cum[i - 1]) for i in range(1, len(t))]
    table = pd.DataFrame({
        "look": range(1, len(t) + 1), "information_fraction": t,
        "alpha_spent": [float(c) * sides for c in cum],
        "alpha_increment": [x * sides for x in inc],
        "z_boundary": bounds,
        "nominal_p": [float(min(1.0, sides * norm.sf(b))) for b in bounds],
    })
    details: dict[str, Any] = {"alpha_per_side": side_alpha, "looks": len(t)}
    design = GroupSequentialDesign(
        name=f"Group-sequential design: {len(t)} looks, {spending} spending",
        estimate=bounds[-1], n=None, table=table,
        method=(f"Lan–DeMets {_spending_text(spending, rho)} alpha spending, "
                f"{'two-sided symmetric' if sides == 2 else 'one-sided'} efficacy boundaries, "
                f"α = {alpha:g} ({side_alpha:g} per side), looks at information fractions "
                f"{[round(x, 4) for x in t]}; boundaries by recursive numerical integration "
                f"(Jennison & Turnbull 2000, ch. 19, grid r = {grid})"),
        details=details, reference=GS_REFERENCE, information_fractions=t, boundaries=bounds,
        alpha=alpha, sides=sides, spending=spending, rho=rho, grid=grid)
    if power is not None:
        power = check_fraction(power, "power")
        fixed = norm.ppf(1 - side_alpha) + norm.ppf(power)

        def f(drift: float) -> float:
            return sum(design.crossing_probabilities(drift)[0]) - power

        drift = float(brentq(f, fixed * 0.5, fixed * 3, xtol=1e-11, rtol=1e-12))
        ups, _ = design.crossing_probabilities(drift)
        details.update(inflation_factor=(drift / fixed) ** 2, power=power,
                       drift=drift, fixed_drift=fixed,
                       expected_information_fraction_h1=_expected_fraction(t, ups),
                       rejection_by_look_h1=ups)
        table["cumulative_power_h1"] = pd.Series(ups).cumsum().to_numpy()
    return design


def _expected_fraction(t: Sequence[float], ups: Sequence[float]) -> float:
    """Expected information fraction at stopping (stop at the first crossing)."""
    stop_before = 0.0
    exp = 0.0
    for tk, p in zip(t[:-1], ups[:-1], strict=False):
        exp += tk * p
        stop_before += p
    return exp + t[-1] * (1 - stop_before)


def _spending_text(spending: str, rho: float | None) -> str:
    if spending == "obrien-fleming":
        return "O'Brien–Fleming-type"
    if spending == "pocock":
        return "Pocock-type"
    return f"power-family (ρ = {1.0 if rho is None else rho:g})"


# ---------------------------------------------------------------------------------------------
# looks from data
# ---------------------------------------------------------------------------------------------
def cumulative_looks(stats: SufficientStats, by: str, looks: Sequence[Any]
                     ) -> list[SufficientStats]:
    """Cumulative statistics at each look from statistics broken down by time.

    Parameters
    ----------
    stats : SufficientStats
        Aggregated with ``segments=[by, ...]`` (e.g. ``by="first_day"``), in one pass.
    by : str
        The time segment (enrolment day, week...).
    looks : sequence
        Time values of the looks; look ``j`` includes every unit with ``by <= looks[j]``.
    """
    if by not in stats.segments:
        raise ParameterError("aggregate with this time column as a segment first",
                             parameter="by", expected=f"one of {list(stats.segments)}", got=by)
    parts = stats.by_segment(by)
    times = list(parts)
    out = []
    for look in looks:
        groups: dict[tuple, Any] = {}
        for time in times:
            if time is None or time > look:
                continue
            for key, g in parts[time].groups.items():
                groups[key] = groups[key] + g if key in groups else g
        if not groups:
            raise DataError("no units before this look", parameter="looks", got=look)
        out.append(SufficientStats(stats.arm, (), dict(stats.specs), groups,
                                   source=f"{stats.source} [{by} <= {look}]"))
    return out


def look_estimates(looks: Sequence[SufficientStats], metric: Metric, *, control: Any = None,
                   treatment: Any = None) -> pd.DataFrame:
    """Difference, standard error and z-statistic of a metric at each look."""
    import pandas as pd

    from researchkit.experiments.frequentist import compare_arms

    rows = []
    for i, st in enumerate(looks, start=1):
        comp = compare_arms(st, metric, control=control, treatment=treatment).comparison
        rows.append({"look": i, "n": comp.n_control + comp.n_treatment,
                     "estimate": comp.difference, "std_error": comp.std_error,
                     "z": comp.difference / comp.std_error if comp.std_error > 0 else 0.0,
                     "control_value": comp.control_value,
                     "treatment_value": comp.treatment_value})
    return pd.DataFrame(rows)


def sequential_monitor(estimates: Sequence[float], std_errors: Sequence[float],
                       information_fractions: Sequence[float],
                       design: GroupSequentialDesign) -> Result:
    """Apply a group-sequential design to the looks observed so far.

    The boundaries are recomputed at the observed information fractions (Lan–DeMets: the
    spending function, not the planned look times, controls the error), the test stops at
    the first look whose z-statistic crosses a boundary, and each look gets a repeated
    confidence interval ``Δ̂_k ± b_k se_k`` (Jennison & Turnbull 2000, ch. 9), valid
    simultaneously over the looks.

    Parameters
    ----------
    estimates, std_errors : sequence of float
        Estimated difference and its standard error at each look so far.
    information_fractions : sequence of float
        Observed fraction of the planned maximum information (e.g. ``n_k / n_max``) at each
        look; the planned final look is fraction 1.
    design : GroupSequentialDesign

    Returns
    -------
    Result
        ``estimate`` = the estimate at the stopping look (or the latest look);
        ``details["stopped_at"]`` (None if no boundary was crossed); ``table`` per look.
    """
    import pandas as pd
    from scipy.stats import norm

    est = [float(x) for x in estimates]
    se = [float(x) for x in std_errors]
    if not (len(est) == len(se) == len(information_fractions)) or not est:
        raise ParameterError("one estimate, standard error and fraction per look",
                             parameter="estimates", got=len(est))
    if any(s <= 0 or not math.isfinite(s) for s in se):
        raise ParameterError("standard errors must be positive", parameter="std_errors",
                             got=se)
    t = [min(1.0, float(x)) for x in information_fractions]
    bounds = design.boundaries_at(t)
    z = [e / s for e, s in zip(est, se, strict=True)]
    stopped = None
    rows = []
    for k, (zk, bk) in enumerate(zip(z, bounds, strict=True)):
        crossed = zk >= bk or (design.sides == 2 and zk <= -bk)
        if crossed and stopped is None:
            stopped = k + 1
        rows.append({"look": k + 1, "information_fraction": t[k], "estimate": est[k],
                     "std_error": se[k], "z": zk, "z_boundary": bk,
                     "nominal_p": float(min(1.0, design.sides * norm.sf(abs(zk)))),
                     "rci_low": est[k] - bk * se[k] if math.isfinite(bk) else -math.inf,
                     "rci_high": est[k] + bk * se[k] if math.isfinite(bk) else math.inf,
                     "crossed": bool(crossed)})
    table = pd.DataFrame(rows)
    last = (stopped or len(est)) - 1
    decision = (f"boundary crossed at look {stopped} (z = {z[stopped - 1]:.3f}, boundary "
                f"{bounds[stopped - 1]:.3f}): stop and reject H0" if stopped else
                "no boundary crossed: continue" if t[-1] < 1 else
                "no boundary crossed at the final look: do not reject H0")
    return Result(
        name="Group-sequential monitoring", estimate=est[last],
        ci=(rows[last]["rci_low"], rows[last]["rci_high"]), ci_level=1 - design.alpha,
        statistic=z[last], statistic_name="z",
        method=(f"{design.method.split(';')[0]}; boundaries recomputed at the observed "
                f"information fractions {[round(x, 4) for x in t]}; {decision}; intervals are "
                f"repeated confidence intervals (simultaneous over looks)"),
        table=table, details={"stopped_at": stopped, "decision": decision,
                              "boundaries": bounds},
        reference=GS_REFERENCE)


# ---------------------------------------------------------------------------------------------
# always-valid confidence sequences
# ---------------------------------------------------------------------------------------------
def _cs_half_width(info: Any, rho: float, alpha: float) -> Any:
    import numpy as np

    info = np.asarray(info, dtype=float)
    return np.sqrt((info + rho) * np.log((info + rho) / (rho * alpha**2))) / info


def optimal_rho(information: float, alpha: float) -> float:
    """Mixture parameter ``ρ`` making the interval narrowest at ``information``."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda lr: float(_cs_half_width(information, math.exp(lr), alpha)),
                          bounds=(math.log(information) - 12, math.log(information) + 12),
                          method="bounded", options={"xatol": 1e-10})
    return float(math.exp(res.x))


def confidence_sequence(estimates: Sequence[float], std_errors: Sequence[float], *,
                        alpha: float = 0.05, planned_information: float | None = None,
                        rho: float | None = None) -> Result:
    """Always-valid (anytime) confidence intervals for a difference, for continuous
    monitoring.

    Parameters
    ----------
    estimates, std_errors : sequence of float
        The estimated difference and its standard error at every time it was looked at
        (any number of looks, no plan needed).
    alpha : float
        The intervals cover the true difference at *all* times simultaneously with
        probability ``1 − alpha``.
    planned_information : float, optional
        Information ``1/se²`` at which the interval should be narrowest (e.g. from the
        planned sample size); default: the information of the last look.
    rho : float, optional
        Mixture parameter (overrides ``planned_information``).

    Returns
    -------
    Result
        ``table``: per look the interval, the running intersection (also valid), and the
        always-valid p-value of H0: difference = 0.

    Notes
    -----
    The boundary is the two-sided normal mixture (see the module docstring). It is exact for
    Gaussian increments with known variance and asymptotically valid with estimated variances
    (Waudby-Smith et al. 2021).
    """
    import numpy as np
    import pandas as pd

    alpha = check_alpha(alpha)
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    if est.ndim != 1 or est.shape != se.shape or not len(est):
        raise ParameterError("one estimate and one standard error per look",
                             parameter="std_errors", got=se.shape)
    if not np.all(np.isfinite(se)) or np.any(se <= 0):
        raise ParameterError("standard errors must be positive", parameter="std_errors")
    info = 1 / se**2
    if rho is None:
        target = float(info[-1]) if planned_information is None else float(planned_information)
        if not target > 0:
            raise ParameterError("planned information must be positive",
                                 parameter="planned_information", got=planned_information)
        rho = optimal_rho(target, alpha)
    half = _cs_half_width(info, rho, alpha)
    lo, hi = est - half, est + half
    score = est * info
    log_m = 0.5 * np.log(rho / (info + rho)) + score**2 / (2 * (info + rho))
    p = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_m)))
    table = pd.DataFrame({"look": np.arange(1, len(est) + 1), "estimate": est,
                          "std_error": se, "information": info, "ci_low": lo, "ci_high": hi,
                          "running_low": np.maximum.accumulate(lo),
                          "running_high": np.minimum.accumulate(hi),
                          "always_valid_p": p})
    target_info = info[-1] if planned_information is None else planned_information
    return Result(
        name="Always-valid confidence sequence", estimate=float(est[-1]),
        ci=(float(lo[-1]), float(hi[-1])), ci_level=1 - alpha, p_value=float(p[-1]),
        method=(f"two-sided normal-mixture confidence sequence (Howard et al. 2021; ρ = "
                f"{rho:.4g}, narrowest at information {target_info:.4g}); "
                "valid under continuous monitoring (any number of looks, optional stopping), "
                "asymptotically with estimated variances (Waudby-Smith et al. 2021); p-value "
                "is the always-valid p-value (running minimum of the inverse mixture "
                "martingale)"),
        table=table, details={"rho": rho, "alpha": alpha}, reference=CS_REFERENCE)
