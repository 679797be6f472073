"""Code co-occurrence: how often two codes are applied to the same segment.

With ``X`` the segments × codes 0/1 matrix of one coding, the count matrix is ``C = Xᵀ X``:
``C[a, b]`` segments carry both codes, the diagonal ``C[a, a]`` the segments carrying ``a``.
Normalised forms: Jaccard ``C[a,b] / (C[a,a] + C[b,b] − C[a,b])`` (symmetric) and conditional
``C[a,b] / C[a,a]`` (share of ``a``'s segments that also carry ``b``; rows sum over
co-codes). Co-occurrence at a coarser unit (``unit="participant"`` or ``"document"``) counts
units in which both codes occur anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from researchkit.qual._checks import check_choice
from researchkit.qual.frequencies import _coded_segments, _participant_key

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.qual.codebook import Codebook

__all__ = ["cooccurrence", "cooccurrence_heatmap"]


def cooccurrence(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    codebook: Codebook | None = None,
    measure: Literal["count", "jaccard", "conditional"] = "count",
    unit: Literal["segment", "participant", "document"] = "segment",
    roles: Sequence[str] | None = ("participant", "respondent"),
) -> pd.DataFrame:
    """Code × code co-occurrence matrix of one coding.

    Parameters
    ----------
    codings, segments : DataFrame
        Coding and segments tables.
    coder : str, optional
        Whose coding (needed when there are several).
    codes : sequence of str, optional
        Codes to include (default: all used, in codebook order when given).
    codebook : Codebook, optional
        Orders codes and labels the matrix.
    measure : {"count", "jaccard", "conditional"}
    unit : {"segment", "participant", "document"}
        Level at which two codes co-occur.
    roles : sequence of str or None
        Segments included (default participants and respondents).

    Returns
    -------
    DataFrame
        Square matrix indexed by code (labels if ``codebook``), ``attrs["n_units"]``.
    """
    check_choice(measure, "measure", ("count", "jaccard", "conditional"), "measure")
    check_choice(unit, "unit", ("segment", "participant", "document"), "unit")
    segs, ind, coder, used = _coded_segments(codings, segments, coder, codebook, False, roles)
    code_list = list(codes) if codes is not None else used
    ind = ind.reindex(columns=code_list, fill_value=0)
    if unit != "segment":
        key = _participant_key(segs) if unit == "participant" else segs["document"]
        ind = ind.groupby(key.to_numpy()).max()
    x = ind.to_numpy(dtype=np.float64)
    counts = x.T @ x
    diag = np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "count":
            mat = counts
        elif measure == "jaccard":
            mat = counts / (diag[:, None] + diag[None, :] - counts)
        else:
            mat = counts / diag[:, None]
    labels = [codebook.label(c) for c in code_list] if codebook else code_list
    out = pd.DataFrame(mat, index=labels, columns=labels)
    if measure == "count":
        out = out.astype(int)
    out.attrs.update(n_units=int(x.shape[0]), unit=unit, measure=measure, coder=coder)
    return out


def cooccurrence_heatmap(matrix: pd.DataFrame, *, title: str | None = None,
                         annotate: bool = True, mask_diagonal: bool = True) -> Figure:
    """Heatmap of a :func:`cooccurrence` matrix (lower triangle for symmetric measures)."""
    import seaborn as sns

    from researchkit.plots import SEQUENTIAL_CMAP, new_figure

    n = matrix.shape[0]
    size = max(4.5, 0.55 * n + 2)
    fig, ax = new_figure(width=size + 1.5, height=size)
    symmetric = matrix.attrs.get("measure", "count") != "conditional"
    mask = np.zeros(matrix.shape, dtype=bool)
    if symmetric:
        mask |= np.triu(np.ones(matrix.shape, dtype=bool), k=1)
    if mask_diagonal:
        mask |= np.eye(n, dtype=bool)
    fmt = "d" if matrix.attrs.get("measure", "count") == "count" else ".2f"
    sns.heatmap(matrix, mask=mask, cmap=SEQUENTIAL_CMAP, annot=annotate and n <= 20, fmt=fmt,
                square=True, linewidths=0.5, cbar_kws={"shrink": 0.7}, ax=ax)
    ax.grid(False)
    unit = matrix.attrs.get("unit", "segment")
    ax.set_title(title or f"Code co-occurrence ({matrix.attrs.get('measure', 'count')}, "
                 f"per {unit})")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return fig
