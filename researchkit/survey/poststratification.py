"""Post-stratification: weight respondents so the joint cells match known population shares.

For cells :math:`h` (combinations of the post-stratification variables) with population share
:math:`P_h` and base weights :math:`d_i`,

.. math:: w_i = d_i \\cdot \\frac{P_h \\, W}{\\sum_{j \\in h} d_j}, \\qquad W = \\sum_i d_i,

so the weighted share of every cell equals :math:`P_h` exactly. Unlike raking it needs the joint
distribution and a respondent in every cell with a positive share.

Reference: Holt, D. & Smith, T. M. F. (1979). Post stratification. *JRSS A* 142, 33-46;
Lohr, S. (2010). *Sampling: Design and Analysis*, 2nd ed., §4.4.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.survey.diagnostics import _weight_stats
from researchkit.survey.raking import WeightingResult

__all__ = ["poststratify"]


def poststratify(
    df: pd.DataFrame, cells: list[str] | str, targets: pd.DataFrame | pd.Series | Mapping,
    base_weight: str | None = None, *, share: str = "share", total: float | None = None,
) -> WeightingResult:
    """Post-stratification weights on a joint cell table.

    Parameters
    ----------
    df : DataFrame
        Respondents.
    cells : list of str
        The post-stratification variables (e.g. ``["age_group", "gender"]``).
    targets : DataFrame, Series or mapping
        Population shares of every cell: a DataFrame with the ``cells`` columns and a
        ``share`` column, a Series indexed by the cells, or ``{(a, b): share}`` (a scalar key
        for one variable). Shares must sum to 1.
    base_weight : str, optional
        Design weights to start from.
    total : float, optional
        Scale the weights to sum to this (default: the number of respondents).

    Raises
    ------
    DataError
        Shares not summing to 1; a cell with a positive share but no respondent (collapse cells
        or rake instead); respondents in a cell without a target; missing values.
    """
    cols = [cells] if isinstance(cells, str) else list(cells)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError("post-stratification variable not in the data", column=missing[0])
    if isinstance(targets, pd.DataFrame):
        absent = [c for c in [*cols, share] if c not in targets.columns]
        if absent:
            raise ParameterError("targets table lacks columns", parameter="targets",
                                 expected=f"columns {[*cols, share]}", got=absent)
        tser = targets.set_index(cols)[share].astype(float)
    elif isinstance(targets, pd.Series):
        tser = targets.astype(float)
    elif isinstance(targets, Mapping):
        tser = pd.Series(dict(targets), dtype=float)
        if len(cols) > 1:
            tser.index = pd.MultiIndex.from_tuples(list(targets.keys()), names=cols)
    else:
        raise ParameterError("targets must be a DataFrame, Series or mapping",
                             parameter="targets", got=type(targets).__name__)
    if abs(tser.sum() - 1) > 1e-6:
        raise DataError("cell shares do not sum to 1", parameter="targets",
                        expected="shares summing to 1", got=round(float(tser.sum()), 8))
    if (tser < 0).any() or tser.isna().any():
        raise DataError("cell shares must be non-negative numbers", parameter="targets")
    if tser.index.has_duplicates:
        raise DataError("a cell is listed twice in the targets", parameter="targets",
                        got=tser.index[tser.index.duplicated()].tolist()[:5])
    na = df[cols].isna().any(axis=1)
    if na.any():
        raise DataError("missing values in a post-stratification variable",
                        row=df.index[np.flatnonzero(na.to_numpy())[0]])
    n = len(df)
    d = np.ones(n) if base_weight is None else \
        pd.to_numeric(df[base_weight], errors="coerce").to_numpy(dtype=float)
    if base_weight is not None and (~np.isfinite(d) | (d <= 0)).any():
        raise DataError("base weights must be positive numbers", column=base_weight)
    keys = pd.MultiIndex.from_frame(df[cols]) if len(cols) > 1 else pd.Index(df[cols[0]])
    tindex = tser.index
    pos = tindex.get_indexer(keys)
    if (pos < 0).any():
        bad = keys[np.flatnonzero(pos < 0)[0]]
        raise DataError("respondents in a cell that has no target", parameter="targets",
                        got=bad, hint="add its population share or recode the cell")
    mass = np.bincount(pos, weights=d, minlength=len(tindex))
    empty = (mass == 0) & (tser.to_numpy() > 0)
    if empty.any():
        raise DataError("cells with a population share but no respondent",
                        parameter="targets", got=[tindex[i] for i in np.flatnonzero(empty)][:8],
                        hint="collapse them with neighbouring cells, or rake on the margins")
    factor = np.where(mass > 0, tser.to_numpy() * d.sum() / np.where(mass > 0, mass, 1), 0.0)
    w = d * factor[pos]
    w = w * ((total if total is not None else n) / w.sum())
    achieved = np.bincount(pos, weights=w, minlength=len(tindex)) / w.sum()
    unweighted = np.bincount(pos, minlength=len(tindex)) / n
    table = pd.DataFrame({"cell": list(tindex), "target": tser.to_numpy(),
                          "respondents": np.bincount(pos, minlength=len(tindex)),
                          "unweighted": unweighted, "weighted": achieved,
                          "cell_factor": factor / (factor[pos].mean() if n else 1)})
    stats = _weight_stats(w)
    warnings = []
    small = table[(table["respondents"] > 0) & (table["respondents"] < 20)]
    if len(small):
        warnings.append(f"{len(small)} cells have fewer than 20 respondents: their weights "
                        "are unstable; consider collapsing cells")
    return WeightingResult(
        name="Post-stratification weights",
        estimate={"design_effect": stats["design_effect"], "efficiency": stats["efficiency"],
                  "n_effective": stats["n_effective"]},
        method=f"Post-stratification on the joint cells of {', '.join(cols)}: w = d × P_h W / "
               "Σ_h d (each cell's weighted share equals its population share)"
               + (f", from base weights '{base_weight}'" if base_weight else "") + ".",
        n=n, table=table, details={"cells": len(tindex), **stats}, warnings=warnings,
        reference="Holt & Smith (1979) JRSS A 142:33-46; Lohr (2010) §4.4.",
        weights=pd.Series(w, index=df.index, name="weight"), margins=table)
