"""Repeat buying and duplication of purchase across the waves of a panel.

The brand-performance measures of Ehrenberg's repeat-buying tradition, computed over the waves
of a panel (each wave = one purchase occasion or period, the brand bought = the answer):

* :func:`repeat_buying`: penetration, purchase frequency, share of category requirements,
  sole-brand loyalty and the wave-to-wave repeat rate of every brand;
* :func:`duplication`: which share of one brand's buyers also bought each other brand, against
  the *duplication of purchase law* :math:`b_{i \\cap j} / b_i \\approx D\\, b_j`, whose
  deviations reveal partitions (brands that compete more closely than their size says).

References
----------
Ehrenberg, A.S.C. (1988). *Repeat-Buying: Facts, Theory and Applications*, 2nd ed. Griffin,
ch. 2, 4 and 10.
Ehrenberg, A.S.C., Goodhardt, G.J. & Barwise, T.P. (1990). Double jeopardy revisited. *Journal
of Marketing* 54(3), 82-91.
Sharp, B. (2010). *How Brands Grow*. Oxford University Press, ch. 6 (duplication of purchase).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError
from researchkit.markov import transition_counts
from researchkit.panel.layout import _weights, panel_frame, wave_pairs
from researchkit.panel.switching import _states
from researchkit.results import Result

__all__ = ["Duplication", "duplication", "repeat_buying"]


def _choice_grid(
    data: pd.DataFrame, brand: str, respondent: str, wave: str, weight: str | None,
    states: Sequence[Any] | None, balanced: bool, waves: Sequence[Any] | None,
) -> tuple[np.ndarray, np.ndarray, list[Any], int, int]:
    """Counts respondents × brands of waves choosing each brand, respondent weights, states."""
    pf = panel_frame(data, respondent, wave, waves=waves,
                     columns={"brand": brand, "weight": weight})
    levels = _states(data, brand, states)
    vals = data[brand].to_numpy()
    ok = ~pd.isna(vals)
    code = np.full(len(data), -1, dtype=np.int64)
    code[ok] = pd.Categorical(vals[ok], categories=levels).codes
    m = len(levels)
    R = pf.n_respondents
    grid = np.zeros((R, m))
    np.add.at(grid, (pf.resp_code[ok], code[ok]), 1.0)
    w_rows = _weights(data, weight)
    wsum = np.bincount(pf.resp_code, weights=w_rows, minlength=R)
    nrows = np.bincount(pf.resp_code, minlength=R)
    resp_w = wsum / nrows  # the respondent's mean weight over their waves
    n_answered = grid.sum(axis=1)
    keep = n_answered == pf.n_waves if balanced else n_answered > 0
    if not keep.any():
        raise DataError("no respondent answered every wave with a brand" if balanced
                        else "no respondent has a brand in any wave", column=brand,
                        hint="use balanced=False to use every respondent" if balanced else None)
    return grid[keep], resp_w[keep], levels, int(keep.sum()), pf.n_waves


def repeat_buying(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    weight: str | None = None, states: Sequence[Any] | None = None, balanced: bool = True,
    waves: Sequence[Any] | None = None,
) -> Result:
    """Penetration, purchase frequency, loyalty and repeat rate of every brand.

    Over the waves of the panel, for respondent :math:`r` with weight :math:`w_r` (the mean of
    their rows' weights) and :math:`x_{rb}` = number of waves they chose brand :math:`b`, out of
    :math:`x_r` waves with an answer:

    * ``penetration`` :math:`b = \\sum_r w_r [x_{rb} > 0] / \\sum_r w_r`;
    * ``share_of_choices`` = :math:`\\sum_r w_r x_{rb} / \\sum_r w_r x_r` (market share);
    * ``frequency`` :math:`w = \\sum_r w_r x_{rb} / \\sum_r w_r [x_{rb} > 0]` (waves bought
      per buyer);
    * ``scr`` (share of category requirements) = :math:`\\sum_{r \\in B} w_r x_{rb} /
      \\sum_{r \\in B} w_r x_r` over the brand's buyers :math:`B`;
    * ``sole_loyal`` = weighted share of the brand's buyers who chose only it;
    * ``repeat_rate`` = :math:`\\hat P_{bb}`, share of the brand's choosers at one wave who
      chose it again at the next (consecutive waves pooled, weight at the earlier wave).

    Parameters
    ----------
    data : DataFrame
        Long format.
    brand, respondent, wave : str
        Column names.
    weight : str, optional
        Weight column.
    states : sequence, optional
        Brand order.
    balanced : bool
        Use only respondents with a brand in every wave (default), so every buyer had the same
        number of occasions; ``False`` uses everyone (frequencies then mix different lengths of
        observation). The repeat rate always uses every consecutive pair.
    waves : sequence, optional
        Order of the waves (needed for text labels).

    Returns
    -------
    Result
        ``table`` one row per brand; ``estimate`` = the category's average repeat rate
        (share of consecutive pairs with the same brand).

    References
    ----------
    Ehrenberg (1988), *Repeat-Buying*, ch. 2 and 4; Ehrenberg, Goodhardt & Barwise (1990).
    """
    grid, rw, levels, n_resp, n_waves = _choice_grid(data, brand, respondent, wave, weight,
                                                     states, balanced, waves)
    buyer = grid > 0
    W = rw.sum()
    bought_w = (buyer * rw[:, None]).sum(axis=0)
    choices_w = (grid * rw[:, None]).sum(axis=0)
    n_r = grid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        penetration = bought_w / W
        share = choices_w / (n_r * rw).sum()
        frequency = choices_w / bought_w
        scr = choices_w / (buyer * (n_r * rw)[:, None]).sum(axis=0)
        sole = ((buyer & (grid == n_r[:, None])) * rw[:, None]).sum(axis=0) / bought_w
    pairs = wave_pairs(data, brand, respondent, wave, weight=weight, waves=waves)
    counts = transition_counts(pairs, "from", "to", weight="weight", states=levels)
    c = counts.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat = np.diag(c) / c.sum(axis=1)
    overall = float(np.trace(c) / c.sum()) if c.sum() > 0 else np.nan
    who = ("respondents with a brand in every wave" if balanced
           else "every respondent with a brand in some wave")
    table = pd.DataFrame({"brand": levels, "penetration": penetration,
                          "share_of_choices": share, "frequency": frequency, "scr": scr,
                          "sole_loyal": sole, "repeat_rate": repeat,
                          "buyers": buyer.sum(axis=0).astype(int)})
    return Result(
        name="Repeat buying by brand", estimate=overall,
        method=(f"Over {n_waves} waves, {who} ({n_resp}): penetration = "
                "share who chose the brand at least once; frequency = waves chosen per buyer; "
                "SCR = brand's share of its buyers' choices; sole loyal = share of buyers "
                "choosing only this brand; repeat rate = share of one wave's choosers choosing "
                "it again at the next (all consecutive pairs pooled). "
                + ("Weighted by each respondent's mean weight." if weight else "Unweighted.")),
        n=n_resp, table=table,
        details={"n_respondents": n_resp, "n_waves": n_waves, "balanced": balanced,
                 "category_repeat_rate": overall},
        reference="Ehrenberg (1988), Repeat-Buying, 2nd ed., ch. 2 and 4.",
    )


@dataclass(eq=False)
class Duplication(Result):
    """Result of :func:`duplication`.

    Attributes
    ----------
    matrix : DataFrame
        ``matrix.loc[i, j]`` = share of brand *i*'s buyers who also bought brand *j* (NaN on the
        diagonal).
    expected : DataFrame
        What the duplication of purchase law predicts, :math:`D\\, b_j`.
    deviation : DataFrame
        ``matrix - expected``: positive values mark brands that share more buyers than their
        penetration predicts (a partition of the market).
    """

    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected: pd.DataFrame = field(default_factory=pd.DataFrame)
    deviation: pd.DataFrame = field(default_factory=pd.DataFrame)


def duplication(
    data: pd.DataFrame, brand: str, respondent: str = "respondent", wave: str = "wave", *,
    weight: str | None = None, states: Sequence[Any] | None = None, balanced: bool = True,
    waves: Sequence[Any] | None = None,
) -> Duplication:
    """Duplication of purchase between brands over the waves of a panel.

    :math:`d_{ij}` = (weighted) share of respondents who chose brand *i* in some wave that also
    chose brand *j* in some wave. The duplication of purchase law says
    :math:`d_{ij} \\approx D\\, b_j`, with :math:`b_j` the penetration of brand *j* and one
    duplication coefficient for the category, estimated as
    :math:`D = \\sum_{i \\ne j} d_{ij} / \\sum_{i \\ne j} b_j` (average duplication over average
    penetration of the brands duplicated with; Ehrenberg 1988, ch. 10).

    Parameters
    ----------
    data : DataFrame
        Long format.
    brand, respondent, wave : str
        Column names.
    weight : str, optional
        Weight column (each respondent's mean weight).
    states : sequence, optional
        Brand order.
    balanced : bool
        Use only respondents with a brand in every wave (default).
    waves : sequence, optional
        Order of the waves.

    Returns
    -------
    Duplication
        ``estimate`` = D; ``matrix``, ``expected``, ``deviation``; ``table`` the long form.

    References
    ----------
    Ehrenberg (1988), *Repeat-Buying*, ch. 10; Sharp (2010), *How Brands Grow*, ch. 6.
    """
    grid, rw, levels, n_resp, n_waves = _choice_grid(data, brand, respondent, wave, weight,
                                                     states, balanced, waves)
    buyer = (grid > 0).astype(float)
    both = (buyer * rw[:, None]).T @ buyer  # weighted counts of buyers of i and j
    bought = np.diag(both).copy()
    penetration = bought / rw.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        dup = both / bought[:, None]
    m = len(levels)
    off = ~np.eye(m, dtype=bool) & (bought[:, None] > 0)
    np.fill_diagonal(dup, np.nan)
    pen_j = np.broadcast_to(penetration[None, :], (m, m))
    D = float(np.nansum(dup[off]) / pen_j[off].sum()) if off.any() else np.nan
    expected = D * pen_j.copy()
    expected = np.where(off, expected, np.nan)
    idx = pd.Index(levels, name="buyers_of")
    cols = pd.Index(levels, name="also_bought")
    matrix = pd.DataFrame(dup, index=idx, columns=cols)
    exp_df = pd.DataFrame(expected, index=idx, columns=cols)
    dev = matrix - exp_df
    ii, jj = np.nonzero(~np.eye(m, dtype=bool))
    table = pd.DataFrame({
        "buyers_of": [levels[i] for i in ii], "also_bought": [levels[j] for j in jj],
        "duplication": dup[ii, jj], "expected": expected[ii, jj],
        "deviation": dup[ii, jj] - expected[ii, jj], "penetration_also_bought": penetration[jj],
    })
    return Duplication(
        name="Duplication of purchase between brands", estimate=D,
        method=(f"Share of each brand's buyers (chose it in at least one of {n_waves} waves) who "
                "also chose each other brand; expected values from the duplication of purchase "
                "law d_ij = D·b_j with D = sum of duplications / sum of the penetrations "
                "involved (Ehrenberg 1988). "
                + ("Respondents with a brand in every wave. " if balanced
                   else "Every respondent with a brand. ")
                + ("Weighted by each respondent's mean weight." if weight else "Unweighted.")),
        n=n_resp, table=table,
        details={"D": D, "penetration": dict(zip(map(str, levels), penetration.tolist(),
                                                 strict=True))},
        reference="Ehrenberg (1988), Repeat-Buying, 2nd ed., ch. 10.",
        matrix=matrix, expected=exp_df, deviation=dev,
    )
