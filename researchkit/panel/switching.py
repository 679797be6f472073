"""Brand switching between panel waves: transition matrices, gains and losses, net flows.

The same respondents answer "which brand did you buy last?" every wave, so each respondent's
pair of answers in two waves is one observed move. Counting moves gives the (weighted)
switching table; dividing each row by its total gives the transition matrix
:math:`\\hat P_{ij}` (the probability that a buyer of brand *i* at one wave buys brand *j* at
the next; Anderson & Goodman 1957), estimated with :func:`researchkit.markov.transition_matrix`.

:func:`gains_losses` turns the same moves into the table a brand manager reads: for every brand
its share at each wave among the respondents present at both, the share it retained, gained from
and lost to other brands, and the net change, decomposed into net flows with every other brand
and separated from the change due to panel composition (leavers and newcomers).

References
----------
Anderson, T.W. & Goodman, L.A. (1957). Statistical inference about Markov chains. *Annals of
Mathematical Statistics* 28(1), 89-110.
Ehrenberg, A.S.C. (1988). *Repeat-Buying: Facts, Theory and Applications*, 2nd ed. Griffin.
Colombo, R.A. & Morrison, D.G. (1989). A brand switching model with implications for marketing
strategies. *Marketing Science* 8(1), 89-99.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.markov import transition_counts
from researchkit.panel.layout import (
    _wave_index,
    _weights,
    panel_frame,
    plain_label,
    wave_pairs,
)
from researchkit.results import Result

__all__ = [
    "SwitchingFlows",
    "SwitchingMatrix",
    "brand_shares",
    "gains_losses",
    "net_change_by_wave",
    "switching_matrix",
]


def _states(data: pd.DataFrame, brand: str, states: Sequence[Any] | None) -> list[Any]:
    if states is not None:
        states = list(states)
        present = set(data[brand].dropna().unique())
        unknown = sorted(present - set(states), key=str)
        if unknown:
            raise DataError("brands outside the given states", column=brand,
                            expected=f"one of {states}", got=unknown)
        return states
    return sorted(data[brand].dropna().unique().tolist(), key=str)


@dataclass(eq=False)
class SwitchingMatrix(Result):
    """Result of :func:`switching_matrix`.

    Attributes
    ----------
    matrix : DataFrame
        Transition probabilities, rows = brand at the earlier wave ("from"), columns = brand at
        the later wave ("to"); rows sum to 1.
    counts : DataFrame
        (Weighted) number of moves behind ``matrix``.
    """

    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)


def switching_matrix(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    from_wave: Any = None, to_wave: Any = None, weight: str | None = None,
    states: Sequence[Any] | None = None, waves: Sequence[Any] | None = None,
) -> SwitchingMatrix:
    """Brand-switching (transition) matrix between waves.

    :math:`\\hat P_{ij} = n_{ij} / \\sum_k n_{ik}`, where :math:`n_{ij}` is the (weighted)
    number of respondents choosing brand *i* at the earlier wave and brand *j* at the later one
    (maximum-likelihood estimate for a Markov chain; Anderson & Goodman 1957).

    Parameters
    ----------
    data : DataFrame
        Long format, one row per respondent-wave.
    brand : str
        The state column (brand bought, segment...). Rows where it is missing are not counted.
    respondent, wave : str
        Column names.
    from_wave, to_wave : wave labels, optional
        Compare these two waves (respondents answering both). Default: pool the moves between
        every pair of consecutive waves, which assumes the same matrix holds every period
        (check with :func:`~researchkit.panel.transition_homogeneity`).
    weight : str, optional
        Weight column; each move gets the respondent's weight at the earlier wave.
    states : sequence, optional
        Brands in the order to report them (default: sorted); brands nobody chose get a
        row of NaN and a column of zeros.
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    SwitchingMatrix
        ``matrix``, ``counts``; ``estimate`` = overall repeat rate (share of moves that stay
        with the same brand); ``table`` the long form (from, to, count, probability).
    """
    pairs = wave_pairs(data, brand, respondent, wave, from_wave=from_wave, to_wave=to_wave,
                       weight=weight, waves=waves)
    levels = _states(data, brand, states)
    if pairs.empty:
        raise DataError("no respondent answered both waves with a brand", column=brand)
    counts = transition_counts(pairs, "from", "to", weight="weight", states=levels)
    totals = counts.sum(axis=1)
    matrix = counts.div(totals.where(totals > 0), axis=0)
    total = float(counts.to_numpy().sum())
    stay = float(np.trace(counts.to_numpy())) / total if total > 0 else np.nan
    long = counts.stack().rename("count").to_frame()
    long["probability"] = matrix.stack()
    long = long.reset_index()
    which = (f"waves {plain_label(pairs['from_wave'].iloc[0])} → "
             f"{plain_label(pairs['to_wave'].iloc[0])}"
             if from_wave is not None else "consecutive waves, pooled")
    n_pairs_by = pairs.groupby(["from_wave", "to_wave"], sort=False).size()
    warnings = []
    empty = [s for s in levels if totals[s] == 0]
    if empty:
        warnings.append(f"no moves observed from {empty}: their rows are unknown (NaN)")
    return SwitchingMatrix(
        name=f"Brand-switching matrix ({which})", estimate=stay,
        method=("Transition probabilities P[i, j] = n_ij / n_i. (maximum likelihood, Anderson "
                "& Goodman 1957) from each respondent's brand at two waves; respondents missing "
                "either wave or brand are left out"
                + ("; moves weighted by the respondent's weight at the earlier wave"
                   if weight else "; unweighted")
                + ("; moves of all consecutive wave pairs pooled (a time-homogeneous chain is "
                   "assumed)" if from_wave is None else "") + "."),
        n=len(pairs), table=long,
        details={"n_moves": len(pairs), "n_respondents": int(pairs["respondent"].nunique()),
                 "weighted_moves": total,
                 "pairs": [{"from_wave": plain_label(a), "to_wave": plain_label(b), "n": int(n)}
                           for (a, b), n in n_pairs_by.items()]},
        warnings=warnings,
        reference="Anderson & Goodman (1957), Ann. Math. Statist. 28, 89-110.",
        matrix=matrix, counts=counts,
    )


@dataclass(eq=False)
class SwitchingFlows(Result):
    """Result of :func:`gains_losses`.

    Attributes
    ----------
    flows : DataFrame
        Share of the continuing panel moving from brand *i* (rows) to brand *j* (columns); sums
        to 1.
    net_flows : DataFrame
        ``net_flows.loc[i, j]`` = net gain of brand *i* from brand *j* = flow j→i − flow i→j
        (antisymmetric; row sums = each brand's net change among continuing respondents).
    """

    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    net_flows: pd.DataFrame = field(default_factory=pd.DataFrame)


def _wave_shares(data: pd.DataFrame, brand: str, w: np.ndarray, mask: np.ndarray,
                 levels: list[Any]) -> pd.Series:
    vals = data[brand].to_numpy()[mask]
    ww = w[mask]
    ok = ~pd.isna(vals)
    s = pd.Series(ww[ok]).groupby(vals[ok]).sum().reindex(levels, fill_value=0.0)
    total = s.sum()
    return s / total if total > 0 else s * np.nan


def gains_losses(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    from_wave: Any = None, to_wave: Any = None, weight: str | None = None,
    states: Sequence[Any] | None = None, waves: Sequence[Any] | None = None,
) -> SwitchingFlows:
    """Gains, losses and net change of every brand between two waves.

    Among the *continuing* respondents (answering both waves with a brand), with flows
    :math:`f_{ij}` = (weighted) share moving from brand *i* to brand *j*:

    * ``share_from`` = :math:`\\sum_j f_{ij}`, ``share_to`` = :math:`\\sum_i f_{ij}`;
    * ``retained`` = :math:`f_{ii}`; ``lost`` (switching out) = :math:`\\sum_{j\\ne i} f_{ij}`;
      ``gained`` (switching in) = :math:`\\sum_{j\\ne i} f_{ji}`;
    * ``net_switching`` = gained − lost = share_to − share_from, the sum over the other brands
      of the net flows :math:`f_{ji} - f_{ij}` (``net_flows``);
    * ``repeat_rate`` = :math:`f_{ii} / \\sum_j f_{ij}` (share of the brand's buyers who buy it
      again).

    The brand's change among *all* respondents of each wave (``total_change``) also includes
    the effect of who left and who joined the panel: ``composition`` = total_change −
    net_switching.

    Parameters
    ----------
    data : DataFrame
        Long format.
    brand, respondent, wave : str
        Column names.
    from_wave, to_wave : wave labels, optional
        Default: the last two waves.
    weight : str, optional
        Weight column; flows use each respondent's weight at ``from_wave``; the all-respondent
        shares use each wave's own weights.
    states : sequence, optional
        Brand order.
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    SwitchingFlows
        ``table`` one row per brand; ``flows`` and ``net_flows`` matrices; ``estimate`` = share
        of continuing respondents who switched brand.

    References
    ----------
    Ehrenberg (1988), *Repeat-Buying*, ch. 9-10; Colombo & Morrison (1989).
    """
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"brand": brand, "weight": weight})
    if (from_wave is None) != (to_wave is None):
        from researchkit.errors import ParameterError

        raise ParameterError("give both from_wave and to_wave, or neither (the last two waves)",
                             parameter="to_wave" if to_wave is None else "from_wave")
    a = pf.n_waves - 2 if from_wave is None else _wave_index(pf, from_wave, "from_wave")
    b = pf.n_waves - 1 if to_wave is None else _wave_index(pf, to_wave, "to_wave")
    sm = switching_matrix(data, brand, respondent, wave, from_wave=pf.waves[a],
                          to_wave=pf.waves[b], weight=weight, states=states, waves=pf.waves)
    levels = list(sm.counts.index)
    total = sm.counts.to_numpy().sum()
    if total <= 0:
        raise DataError("the continuing respondents have zero total weight", column=weight)
    flows = sm.counts / total
    F = flows.to_numpy()
    diag = np.diag(F)
    share_from, share_to = F.sum(axis=1), F.sum(axis=0)
    net = pd.DataFrame(F.T - F, index=pd.Index(levels, name="brand"),
                       columns=pd.Index(levels, name="from_brand"))
    w = _weights(data, weight)
    all_from = _wave_shares(data, brand, w, pf.wave_pos == a, levels).to_numpy()
    all_to = _wave_shares(data, brand, w, pf.wave_pos == b, levels).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat = np.where(share_from > 0, diag / np.where(share_from > 0, share_from, 1), np.nan)
    table = pd.DataFrame({
        "brand": levels, "share_from": share_from, "share_to": share_to, "retained": diag,
        "lost": share_from - diag, "gained": share_to - diag,
        "net_switching": share_to - share_from, "repeat_rate": repeat,
        "all_share_from": all_from, "all_share_to": all_to,
        "total_change": all_to - all_from,
    })
    table["composition"] = table["total_change"] - table["net_switching"]
    switched = float(1 - diag.sum())
    wa, wb = plain_label(pf.waves[a]), plain_label(pf.waves[b])
    return SwitchingFlows(
        name=f"Brand gains and losses, wave {wa} → {wb}", estimate=switched,
        method=(f"Flows between waves {wa} and {wb} among respondents answering both with a "
                "brand, as shares of that continuing panel"
                + (" (weighted by the weight at the earlier wave)" if weight else "")
                + "; gained = switching in, lost = switching out, net switching = gained − "
                "lost = sum of net flows with each other brand; total change = change in share "
                "among all respondents of each wave; composition = total change − net "
                "switching (effect of leavers and newcomers)."),
        n=sm.n, table=table,
        details={"from_wave": wa, "to_wave": wb, "n_continuing": sm.n,
                 "switched_share": switched},
        reference="Ehrenberg (1988), Repeat-Buying, 2nd ed.; Colombo & Morrison (1989), "
                  "Marketing Science 8, 89-99.",
        flows=flows, net_flows=net,
    )


def net_change_by_wave(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    weight: str | None = None, states: Sequence[Any] | None = None,
    waves: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """:func:`gains_losses` for every pair of consecutive waves, stacked into one table.

    Returns a tidy DataFrame with ``from_wave`` and ``to_wave`` columns before the per-brand
    columns of :func:`gains_losses`.
    """
    pf = panel_frame(data, respondent, wave, waves=waves, columns={"brand": brand})
    levels = _states(data, brand, states)
    frames = []
    for k in range(pf.n_waves - 1):
        res = gains_losses(data, brand, respondent, wave, from_wave=pf.waves[k],
                           to_wave=pf.waves[k + 1], weight=weight, states=levels,
                           waves=pf.waves)
        t = res.table.copy()
        t.insert(0, "to_wave", res.details["to_wave"])
        t.insert(0, "from_wave", res.details["from_wave"])
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def brand_shares(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    weight: str | None = None, states: Sequence[Any] | None = None,
    waves: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """(Weighted) share of each brand among the respondents of each wave.

    Returns a DataFrame with one row per wave (in order) and one column per brand; rows sum to
    1. Rows with a missing brand are left out of their wave.
    """
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"brand": brand, "weight": weight})
    levels = _states(data, brand, states)
    w = _weights(data, weight)
    rows = [_wave_shares(data, brand, w, pf.wave_pos == k, levels) for k in range(pf.n_waves)]
    out = pd.DataFrame(rows, index=pd.Index([plain_label(v) for v in pf.waves], name=wave))
    out.columns.name = brand
    return out
