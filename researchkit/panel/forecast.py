"""Markov forecast of brand (segment) shares, its steady state, and a test of its assumption.

If the same transition matrix :math:`P` holds every period, shares evolve as
:math:`s_{t+1} = s_t P` and approach the steady state :math:`\\pi = \\pi P` (shared helpers in
:mod:`researchkit.markov`). :func:`markov_forecast` estimates :math:`P` from the panel's moves,
projects the shares of the last wave forward and gives percentile intervals from a bootstrap
over *respondents* (each resampled respondent brings all of their moves, which keeps the
dependence between one person's waves). :func:`transition_homogeneity` tests the assumption the
forecast rests on: that the matrix is the same between every pair of consecutive waves.

References
----------
Anderson, T.W. & Goodman, L.A. (1957). Statistical inference about Markov chains. *Annals of
Mathematical Statistics* 28(1), 89-110 (estimation; test of stationarity, section 3.3).
Davison, A.C. & Hinkley, D.V. (1997). *Bootstrap Methods and their Application*. Cambridge
University Press, section 3.8 (resampling clusters).
Ehrenberg, A.S.C. (1965). An appraisal of Markov brand-switching models. *Journal of Marketing
Research* 2(4), 347-362 (why stationarity must be checked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import check_positive_int, make_rng
from researchkit.errors import DataError, ParameterError
from researchkit.markov import forecast_shares, steady_state
from researchkit.panel.layout import _weights, panel_frame, plain_label, wave_pairs
from researchkit.panel.switching import _states
from researchkit.results import Result

__all__ = ["MarkovForecast", "markov_forecast", "transition_homogeneity"]

#: Largest number of resample × respondent counts held in memory at once in the bootstrap.
_BOOT_CELLS = 4_000_000


@dataclass(eq=False)
class MarkovForecast(Result):
    """Result of :func:`markov_forecast`.

    Attributes
    ----------
    matrix : DataFrame
        Estimated transition matrix (rows = from, columns = to).
    forecast : DataFrame
        Long table: ``period`` (0 = the starting wave), ``wave`` (projected wave label when the
        waves are equally spaced numbers or dates), ``state``, ``share``, ``ci_low``,
        ``ci_high``.
    steady : DataFrame
        ``state``, ``share``, ``ci_low``, ``ci_high`` of the steady state.
    matrix_ci : DataFrame
        Long table of the transition probabilities with bootstrap intervals.
    """

    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    steady: pd.DataFrame = field(default_factory=pd.DataFrame)
    matrix_ci: pd.DataFrame = field(default_factory=pd.DataFrame)


def _future_waves(levels: list[Any], periods: int) -> list[Any]:
    """Labels of the projected waves when the waves are equally spaced numbers or dates."""
    last = levels[-1]
    if all(isinstance(v, int | float | np.integer | np.floating) for v in levels):
        gaps = np.diff(np.asarray(levels, dtype=float))
        if np.allclose(gaps, gaps[0]):
            step = gaps[0]
            out = [last + k * step for k in range(periods + 1)]
            return [plain_label(v) for v in out]
    if all(isinstance(v, pd.Timestamp) for v in levels):
        gaps = np.diff(pd.DatetimeIndex(levels).asi8)
        if len(gaps) and np.all(np.abs(gaps - np.median(gaps)) <= 0.2 * np.median(gaps)):
            step = pd.Timedelta(int(np.median(gaps)), unit="ns")
            return [(last + k * step).date().isoformat() for k in range(periods + 1)]
    return [plain_label(last)] + [None] * periods


def markov_forecast(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    periods: int = 4, weight: str | None = None, states: Sequence[Any] | None = None,
    initial: Mapping[Any, float] | pd.Series | None = None, n_boot: int = 200,
    ci_level: float = 0.95, seed: int | np.random.Generator | None = None,
    waves: Sequence[Any] | None = None,
) -> MarkovForecast:
    """Forecast brand shares with a Markov chain estimated on the panel, with its steady state.

    1. :math:`\\hat P_{ij} = n_{ij} / n_{i\\cdot}` from the (weighted) moves between all
       consecutive waves, pooled (time-homogeneous chain; Anderson & Goodman 1957);
    2. starting shares :math:`s_0` = the (weighted) brand shares of the last wave, or
       ``initial``;
    3. :math:`s_k = s_0 \\hat P^k` for k = 1..``periods``, and the steady state
       :math:`\\hat\\pi = \\hat\\pi \\hat P`;
    4. intervals: percentile bootstrap over respondents (``n_boot`` resamples with replacement
       of whole respondents, each bringing all their moves and their last-wave answer; the
       matrix, the starting shares, the forecast and the steady state are recomputed on each).
       Resamples in which a brand is never an origin (its row is unknown) or whose chain has
       no unique steady state are left out and counted in ``details``.

    Parameters
    ----------
    data : DataFrame
        Long format.
    brand, respondent, wave : str
        Column names.
    periods : int
        Number of future periods (one period = the spacing between waves).
    weight : str, optional
        Weight column (moves weighted at the earlier wave; starting shares with the last wave's
        weights).
    states : sequence, optional
        Brand order.
    initial : mapping or Series, optional
        Starting shares per brand (summing to 1) instead of the last wave's; then fixed in the
        bootstrap.
    n_boot : int
        Bootstrap resamples (0 = no intervals).
    ci_level : float
        Coverage of the intervals.
    seed : int or Generator, optional
        Seed of the bootstrap.
    waves : sequence, optional
        Order of the waves.

    Returns
    -------
    MarkovForecast
        ``estimate`` = steady-state shares (dict); ``matrix``, ``forecast``, ``steady``,
        ``matrix_ci``; ``table`` = ``forecast``.

    References
    ----------
    Anderson & Goodman (1957); Davison & Hinkley (1997), section 3.8; Ehrenberg (1965).
    """
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ParameterError("invalid number of periods", parameter="periods",
                             expected="an integer >= 1", got=periods)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ParameterError("invalid number of bootstrap resamples", parameter="n_boot",
                             expected="an integer >= 0", got=n_boot)
    if n_boot:
        check_positive_int(n_boot, "n_boot", minimum=20)
    if not isinstance(ci_level, float) or not 0 < ci_level < 1:
        raise ParameterError("invalid interval level", parameter="ci_level",
                             expected="a number between 0 and 1", got=ci_level)
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"brand": brand, "weight": weight})
    levels = _states(data, brand, states)
    m = len(levels)
    if m < 2:
        raise DataError("a forecast needs at least two brands", column=brand, got=levels)
    pairs = wave_pairs(data, brand, respondent, wave, weight=weight, waves=pf.waves)
    if pairs.empty:
        raise DataError("no respondent answered two consecutive waves with a brand",
                        column=brand)
    R = pf.n_respondents
    r_code = pf.respondents.get_indexer(pairs["respondent"])
    i_code = pd.Categorical(pairs["from"], categories=levels).codes
    j_code = pd.Categorical(pairs["to"], categories=levels).codes
    # per-respondent (weighted) move counts, flattened: R × m²
    C = np.zeros((R, m * m))
    np.add.at(C, (r_code, i_code * m + j_code), pairs["weight"].to_numpy(dtype=float))
    # per-respondent (weighted) indicator of the last wave's brand: R × m
    S = np.zeros((R, m))
    last = pf.wave_pos == pf.n_waves - 1
    vals = data[brand].to_numpy()
    ok = last & ~pd.isna(vals)
    w = _weights(data, weight)
    np.add.at(S, (pf.resp_code[ok], pd.Categorical(vals[ok], categories=levels).codes),
              w[ok])
    counts = C.sum(axis=0).reshape(m, m)
    row_tot = counts.sum(axis=1)
    never = [levels[i] for i in np.flatnonzero(row_tot == 0)]
    if never:
        raise DataError(f"brands never observed at an earlier wave of a pair: {never}; their "
                        "transitions are unknown, so shares cannot be projected", column=brand,
                        hint="leave these brands out or merge them into 'other'")
    P = pd.DataFrame(counts / row_tot[:, None], index=pd.Index(levels, name="from"),
                     columns=pd.Index(levels, name="to"))
    fixed_initial = initial is not None
    if fixed_initial:
        s0 = pd.Series(initial, dtype=float)
        unknown = sorted(set(s0.index) - set(levels), key=str)
        if unknown:
            raise ParameterError("initial shares for unknown brands", parameter="initial",
                                 expected=f"keys among {levels}", got=unknown)
        s0 = s0.reindex(levels, fill_value=0.0)
    else:
        tot = S.sum()
        if tot <= 0:
            raise DataError("nobody answered the last wave with a brand", column=brand)
        s0 = pd.Series(S.sum(axis=0) / tot, index=levels)
    path = forecast_shares(P, s0, int(periods))
    pi = steady_state(P)

    lo_q, hi_q = (1 - ci_level) / 2, 1 - (1 - ci_level) / 2
    path_lo = path_hi = pi_lo = pi_hi = P_lo = P_hi = None
    n_failed = 0
    if n_boot:
        rng = make_rng(seed)
        # resample counts per respondent, drawn in chunks to bound memory (n_boot × R)
        chunk = max(1, min(int(n_boot), _BOOT_CELLS // max(R, 1)))
        Cb = np.empty((int(n_boot), m * m))
        Sb = np.empty((int(n_boot), m))
        p_resp = np.full(R, 1.0 / R)
        for start in range(0, int(n_boot), chunk):
            stop = min(start + chunk, int(n_boot))
            M = rng.multinomial(R, p_resp, size=stop - start).astype(float)
            Cb[start:stop] = M @ C
            Sb[start:stop] = M @ S
        Cb = Cb.reshape(-1, m, m)
        tot_b = Cb.sum(axis=2)
        good = np.all(tot_b > 0, axis=1)
        Pb = np.full_like(Cb, np.nan)
        Pb[good] = Cb[good] / tot_b[good][:, :, None]
        if fixed_initial:
            sb = np.broadcast_to(s0.to_numpy(), (int(n_boot), m)).copy()
        else:
            sb = Sb / Sb.sum(axis=1, keepdims=True)
        paths = np.empty((int(n_boot), int(periods) + 1, m))
        paths[:, 0] = sb
        for k in range(1, int(periods) + 1):
            paths[:, k] = np.einsum("bi,bij->bj", paths[:, k - 1], Pb)
        pis = np.full((int(n_boot), m), np.nan)
        for b in np.flatnonzero(good):
            try:
                pis[b] = steady_state(Pb[b]).to_numpy()
            except ParameterError:
                good[b] = False
        n_failed = int((~good).sum())
        if good.sum() < 0.9 * n_boot:
            raise DataError(f"{n_failed} of {n_boot} bootstrap resamples lost a brand as origin "
                            "or had no unique steady state; too few moves for intervals",
                            column=brand, hint="merge small brands or use n_boot=0")
        path_lo, path_hi = np.quantile(paths[good], [lo_q, hi_q], axis=0)
        pi_lo, pi_hi = np.quantile(pis[good], [lo_q, hi_q], axis=0)
        P_lo, P_hi = np.quantile(Pb[good], [lo_q, hi_q], axis=0)

    labels = _future_waves(pf.waves, int(periods))
    rows = []
    for k in range(int(periods) + 1):
        for j, s in enumerate(levels):
            rows.append({"period": k, "wave": labels[k], "state": s,
                         "share": float(path.iloc[k, j]),
                         "ci_low": float(path_lo[k, j]) if path_lo is not None else np.nan,
                         "ci_high": float(path_hi[k, j]) if path_hi is not None else np.nan})
    forecast = pd.DataFrame(rows)
    steady = pd.DataFrame({"state": levels, "share": pi.to_numpy(),
                           "ci_low": pi_lo if pi_lo is not None else np.nan,
                           "ci_high": pi_hi if pi_hi is not None else np.nan})
    ii, jj = np.meshgrid(range(m), range(m), indexing="ij")
    matrix_ci = pd.DataFrame({
        "from": [levels[i] for i in ii.ravel()], "to": [levels[j] for j in jj.ravel()],
        "probability": P.to_numpy().ravel(),
        "ci_low": P_lo.ravel() if P_lo is not None else np.nan,
        "ci_high": P_hi.ravel() if P_hi is not None else np.nan})
    warnings = []
    if pf.n_waves > 2:
        warnings.append("the forecast assumes the same switching matrix every period; check "
                        "with transition_homogeneity()")
    method = (
        "Time-homogeneous first-order Markov chain: transition matrix from the moves between "
        "all consecutive waves, pooled (maximum likelihood"
        + (", moves weighted at the earlier wave" if weight else "") + "); starting shares "
        + ("given" if fixed_initial else f"of wave {plain_label(pf.waves[-1])}")
        + "; shares projected as s_k = s_0 P^k; steady state solves pi = pi P. "
        + (f"{ci_level:.0%} percentile intervals from {n_boot} bootstrap resamples of "
           "respondents (all of a respondent's moves kept together)"
           + (f"; {n_failed} resamples left out" if n_failed else "") + "."
           if n_boot else "No intervals (n_boot = 0).")
    )
    return MarkovForecast(
        name=f"Markov forecast of {brand} shares, {periods} periods ahead",
        estimate={str(k): float(v) for k, v in pi.items()}, method=method,
        n=len(pairs), table=forecast,
        details={"n_moves": len(pairs), "n_respondents": int(pairs["respondent"].nunique()),
                 "n_boot": int(n_boot), "n_boot_failed": n_failed, "seed": seed
                 if isinstance(seed, int) else None,
                 "initial": {str(k): float(v) for k, v in s0.items()}},
        warnings=warnings,
        reference=("Anderson & Goodman (1957), Ann. Math. Statist. 28, 89-110; Davison & "
                   "Hinkley (1997), Bootstrap Methods, section 3.8."),
        ci_level=ci_level if n_boot else None,
        matrix=P, forecast=forecast, steady=steady, matrix_ci=matrix_ci,
    )


def transition_homogeneity(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    states: Sequence[Any] | None = None, waves: Sequence[Any] | None = None,
) -> Result:
    """Likelihood-ratio test that the switching matrix is the same between all wave pairs.

    With :math:`n_{ij}(t)` the moves from brand *i* to brand *j* between waves *t* and
    *t + 1*, :math:`\\hat p_{ij}(t) = n_{ij}(t)/n_{i\\cdot}(t)` and the pooled
    :math:`\\hat p_{ij} = \\sum_t n_{ij}(t) / \\sum_t n_{i\\cdot}(t)`:

    .. math:: G^2 = 2 \\sum_i \\sum_t \\sum_j n_{ij}(t) \\ln\\frac{\\hat p_{ij}(t)}{\\hat p_{ij}}

    which is, for each origin brand *i*, the G-test of independence of the table
    period × destination; under homogeneity :math:`G^2 \\sim \\chi^2` with
    :math:`\\sum_i (T_i - 1)(m_i - 1)` degrees of freedom, where :math:`T_i` and :math:`m_i`
    count the periods and destinations with at least one move from *i* (Anderson & Goodman
    1957, section 3.3; empty rows and columns carry no information). Counts are unweighted: the
    chi-square distribution holds for counts of independent moves.

    Returns
    -------
    Result
        ``statistic`` = G², ``df``, ``p_value``; ``table`` one row per origin brand.

    References
    ----------
    Anderson & Goodman (1957), *Ann. Math. Statist.* 28, 89-110, section 3.3.
    """
    from scipy import stats

    pf = panel_frame(data, respondent, wave, waves=waves, columns={"brand": brand})
    if pf.n_waves < 3:
        raise DataError("testing that switching is the same every period needs at least three "
                        "waves (two pairs of waves)", column=wave, got=pf.n_waves)
    levels = _states(data, brand, states)
    pairs = wave_pairs(data, brand, respondent, wave, waves=pf.waves)
    m = len(levels)
    T = pf.n_waves - 1
    position = {v: k for k, v in enumerate(pf.waves)}
    t_code = pairs["from_wave"].map(position).to_numpy(dtype=np.int64)
    i_code = np.asarray(pd.Categorical(pairs["from"], categories=levels).codes)
    j_code = np.asarray(pd.Categorical(pairs["to"], categories=levels).codes)
    cube = np.bincount((i_code * T + t_code) * m + j_code,
                       minlength=m * T * m).reshape(m, T, m).astype(float)
    rows = []
    for i, s in enumerate(levels):
        tab = cube[i]
        if tab.sum() == 0:
            continue
        tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
        T_i, m_i = tab.shape
        if T_i < 2 or m_i < 2:
            g2, dof = 0.0, 0
        else:
            expected = tab.sum(axis=1, keepdims=True) * tab.sum(axis=0, keepdims=True) / \
                tab.sum()
            nz = tab > 0
            g2 = float(2 * np.sum(tab[nz] * np.log(tab[nz] / expected[nz])))
            dof = (T_i - 1) * (m_i - 1)
        rows.append({"from": s, "n_moves": int(tab.sum()), "periods": T_i,
                     "destinations": m_i, "g2": g2, "df": dof,
                     "p_value": float(stats.chi2.sf(g2, dof)) if dof > 0 else np.nan})
    table = pd.DataFrame(rows)
    G2, dof = float(table["g2"].sum()), int(table["df"].sum())
    if dof == 0:
        raise DataError("no brand has moves in two periods to two destinations; nothing to "
                        "test", column=brand)
    p = float(stats.chi2.sf(G2, dof))
    return Result(
        name="Same switching matrix every period? (Anderson-Goodman test)", estimate=G2,
        statistic=G2, statistic_name="G² (likelihood ratio)", df=float(dof), p_value=p,
        method=("Likelihood-ratio test of a time-homogeneous Markov chain: for each origin brand, "
                "G-test of independence between the pair of waves and the destination brand, "
                "summed over brands; chi-square reference distribution with df = sum over "
                "brands of (periods − 1)(destinations − 1), empty rows and columns dropped. "
                "Unweighted counts of moves between consecutive waves."),
        n=len(pairs), table=table,
        details={"n_periods": pf.n_waves - 1, "n_moves": len(pairs)},
        reference="Anderson & Goodman (1957), Ann. Math. Statist. 28, 89-110, section 3.3.",
    )
