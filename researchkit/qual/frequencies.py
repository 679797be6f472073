"""Code frequencies by document, participant and participant group; crosstabs against
closed answers.

Counts describe *one* coding (one coder, or a consensus): see
:func:`researchkit.qual.coding.select_coder`. A participant "mentions" a code when at least one
of their segments carries it; shares of participants use as denominator the participants of the
group who have at least one segment in the analysed roles (they spoke / answered).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.qual._checks import check_choice
from researchkit.qual.coding import select_coder
from researchkit.qual.segments import check_segments
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.qual.codebook import Codebook

__all__ = ["code_by_group", "code_frequencies", "plot_code_frequencies"]


def _participant_key(segs: pd.DataFrame) -> pd.Series:
    if "participant" in segs.columns:
        return segs["participant"].astype(object).where(segs["participant"].notna(), None)
    return segs["document"].astype(str) + "/" + segs["speaker"].astype(str)


def _coded_segments(
    codings: pd.DataFrame, segments: pd.DataFrame, coder: str | None,
    codebook: Codebook | None, rollup: bool, roles: Sequence[str] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    """(segments in scope, segment × code 0/1 indicator table, coder, codes)."""
    check_segments(segments)
    segs = segments
    if roles is not None and "role" in segments.columns:
        segs = segments[segments["role"].isin(list(roles))]
    if segs.empty:
        raise DataError("no segments in the analysed roles", expected=f"roles {roles}")
    rows, coder = select_coder(codings, coder)
    rows = rows[rows["segment"].isin(set(segs["segment"].astype(str)))]
    codes = list(dict.fromkeys(rows["code"]))
    if codebook is not None:
        codebook.check_codes(codes)
        if rollup:
            parents = {c: codebook.ancestors(c) for c in codes}
            extra = [(s, p) for s, c in zip(rows["segment"], rows["code"], strict=True)
                     for p in parents[c]]
            if extra:
                rows = pd.concat([rows, pd.DataFrame(extra, columns=["segment", "code"])],
                                 ignore_index=True)
            codes = [c for c in codebook.ids if c in set(rows["code"])]
        else:
            codes = [c for c in codebook.ids if c in set(codes)]
    elif rollup:
        raise ParameterError("rollup needs the codebook", parameter="codebook")
    else:
        codes = sorted(codes)
    ind = pd.crosstab(rows["segment"], rows["code"]).clip(upper=1)
    ind = ind.reindex(index=segs["segment"].astype(str), columns=codes, fill_value=0)
    return segs, ind, coder, codes


def code_frequencies(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    coder: str | None = None,
    codebook: Codebook | None = None,
    rollup: bool = False,
    roles: Sequence[str] | None = ("participant", "respondent"),
) -> pd.DataFrame:
    """How often each code occurs: segments, participants and documents mentioning it.

    Parameters
    ----------
    codings : DataFrame
        Coding table.
    segments : DataFrame
        Segments table; with ``participant`` and attribute columns after
        :func:`~researchkit.qual.join_participants` (else participants are document/speaker).
    by : str or list of str, optional
        Break down by these segment columns: ``document``, ``participant``, a participant
        attribute (age group, segment...). ``None``: overall.
    coder : str, optional
        Whose coding (needed when the table holds several coders).
    codebook : Codebook, optional
        Orders codes as in the codebook and adds labels.
    rollup : bool
        Count a parent code wherever one of its descendants is applied (needs ``codebook``).
    roles : sequence of str or None
        Segments counted (default participants and respondents; moderators excluded).

    Returns
    -------
    DataFrame
        One row per (group, code): ``n_segments`` (segments coded), ``share_segments`` (of
        the group's segments), ``n_participants`` (mentioning it), ``share_participants``
        (of the group's participants), ``n_documents``; plus ``label``.
    """
    segs, ind, coder, codes = _coded_segments(codings, segments, coder, codebook, rollup, roles)
    groups = [] if by is None else [by] if isinstance(by, str) else list(by)
    missing = [g for g in groups if g not in segs.columns]
    if missing:
        raise ParameterError("no such segment column", parameter="by", got=missing,
                             expected=f"some of {list(segs.columns)}")
    frame = pd.DataFrame({"participant_key": _participant_key(segs).to_numpy(),
                          "document": segs["document"].to_numpy()
                          if "document" in segs.columns else "all"},
                         index=ind.index)
    for g in groups:
        frame[f"g:{g}"] = segs[g].to_numpy()
    gcols = [f"g:{g}" for g in groups]
    data = pd.concat([frame, ind], axis=1)
    if gcols:
        grouped = data.groupby(gcols, dropna=False, sort=True)
    else:
        data["g:all"] = "all"
        grouped = data.groupby(["g:all"])
    out_rows = []
    for key, sub in grouped:
        key = key if isinstance(key, tuple) else (key,)
        n_seg = len(sub)
        parts = sub["participant_key"].dropna()
        n_part = parts.nunique()
        for code in codes:
            hit = sub[code].to_numpy() > 0
            row: dict[str, Any] = dict(zip(groups, key, strict=False)) if groups else {}
            row.update({
                "code": code,
                "label": codebook.label(code) if codebook else code,
                "n_segments": int(hit.sum()),
                "share_segments": hit.sum() / n_seg if n_seg else np.nan,
                "n_participants": int(sub.loc[hit, "participant_key"].dropna().nunique()),
                "share_participants": (sub.loc[hit, "participant_key"].dropna().nunique()
                                       / n_part) if n_part else np.nan,
                "n_documents": int(sub.loc[hit, "document"].nunique()),
                "group_segments": n_seg,
                "group_participants": int(n_part),
            })
            out_rows.append(row)
    out = pd.DataFrame(out_rows)
    out.attrs["coder"] = coder
    return out


def code_by_group(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    by: str,
    *,
    coder: str | None = None,
    codebook: Codebook | None = None,
    rollup: bool = False,
    unit: str = "participant",
    roles: Sequence[str] | None = ("participant", "respondent"),
    adjust: str = "fdr_bh",
) -> Result:
    """Crosstab of codes against a closed answer, with a chi-square test per code.

    Each code is a yes/no variable per ``unit`` (participant: mentioned it in any segment;
    segment: the segment carries it); the table gives the share of units in each category of
    ``by`` that carry the code, and a Pearson chi-square test of independence of the code
    and ``by`` (p-values adjusted across codes, Benjamini-Hochberg by default).

    Parameters
    ----------
    codings, segments, coder, codebook, rollup, roles
        As in :func:`code_frequencies`.
    by : str
        A closed answer or attribute column of ``segments`` (segment, satisfaction...).
    unit : {"participant", "segment"}
    adjust : str
        Multiple-testing correction (a ``statsmodels.stats.multitest.multipletests`` method,
        or ``"none"``).

    Returns
    -------
    Result
        ``table``: one row per code with the share per category, ``n``, ``chi2``, ``df``,
        ``p_value``, ``p_adjusted``, ``cramers_v``; ``details["counts"]`` the group sizes.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., ch. 3. Benjamini, Y. & Hochberg,
    Y. (1995). JRSS B 57, 289-300.
    """
    from scipy import stats

    check_choice(unit, "unit", ("participant", "segment"), "unit")
    segs, ind, coder, codes = _coded_segments(codings, segments, coder, codebook, rollup, roles)
    if by not in segs.columns:
        raise ParameterError("no such segment column", parameter="by", got=by,
                             expected=f"one of {list(segs.columns)}")
    data = ind.copy()
    data["_by"] = segs[by].to_numpy()
    if unit == "participant":
        data["_unit"] = _participant_key(segs).to_numpy()
        data = data.dropna(subset=["_unit"])
        nvals = data.groupby("_unit")["_by"].nunique(dropna=False)
        if (nvals > 1).any():
            raise DataError(f"participants have several values of {by!r}", column=by,
                            got=list(nvals[nvals > 1].index[:5]),
                            hint="use unit='segment' for attributes that vary by segment")
        agg = data.groupby("_unit").agg({**{c: "max" for c in codes}, "_by": "first"})
    else:
        agg = data
    agg = agg.dropna(subset=["_by"])
    cats = sorted(agg["_by"].unique(), key=lambda v: (str(type(v)), v))
    sizes = agg["_by"].value_counts().reindex(cats)
    rows = []
    for code in codes:
        tab = pd.crosstab(agg[code] > 0, agg["_by"]).reindex(index=[False, True],
                                                              columns=cats, fill_value=0)
        shares = tab.loc[True] / tab.sum(axis=0)
        row: dict[str, Any] = {"code": code, "label": codebook.label(code) if codebook
                               else code, "n": int(tab.to_numpy().sum()),
                               "overall": float(tab.loc[True].sum() / tab.to_numpy().sum())}
        row.update({str(c): float(shares[c]) for c in cats})
        if (tab.sum(axis=1) > 0).all() and (tab.sum(axis=0) > 0).sum() > 1:
            chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(), correction=False)
            v = np.sqrt(chi2 / (tab.to_numpy().sum() * (min(tab.shape) - 1)))
            row.update(chi2=float(chi2), df=int(dof), p_value=float(p), cramers_v=float(v),
                       min_expected=float(expected.min()))
        else:
            row.update(chi2=np.nan, df=np.nan, p_value=np.nan, cramers_v=np.nan,
                       min_expected=np.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    ok = table["p_value"].notna()
    table["p_adjusted"] = np.nan
    if ok.any():
        if adjust == "none":
            table.loc[ok, "p_adjusted"] = table.loc[ok, "p_value"]
        else:
            from statsmodels.stats.multitest import multipletests

            try:
                table.loc[ok, "p_adjusted"] = multipletests(table.loc[ok, "p_value"],
                                                            method=adjust)[1]
            except ValueError:
                raise ParameterError("unknown correction", parameter="adjust",
                                     got=adjust) from None
    warnings = []
    small = table[table["min_expected"] < 5]["code"].tolist()
    if small:
        warnings.append(f"expected counts below 5 for {small}: the chi-square approximation "
                        "is rough there")
    return Result(
        name=f"Codes by {by}", estimate=None,
        method=(f"share of {unit}s carrying each code by {by} ({coder}'s coding); Pearson "
                f"chi-square test of independence per code, p-values adjusted across "
                f"{int(ok.sum())} codes ({adjust}); Cramér's V as effect size"),
        n=len(agg), table=table,
        details={"counts": {str(k): int(v) for k, v in sizes.items()}, "unit": unit,
                 "coder": coder},
        warnings=warnings,
        reference="Agresti (2013), Categorical Data Analysis, ch. 3; Benjamini & Hochberg "
                  "(1995).",
    )


def plot_code_frequencies(
    freq: pd.DataFrame, *, value: str = "share_participants", by: str | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bar chart of a :func:`code_frequencies` table (grouped bars with ``by``)."""
    import seaborn as sns

    from researchkit.plots import format_axis_percent, new_figure

    if value not in freq.columns:
        raise ParameterError("no such column", parameter="value", got=value,
                             expected=f"one of {list(freq.columns)}")
    n_codes = freq["label"].nunique()
    fig, ax = new_figure(height=max(3.0, 0.35 * n_codes * (1 + 0.3 * (by is not None)) + 1))
    order = (freq.groupby("label", sort=False)[value].mean()
             .sort_values(ascending=False).index.tolist())
    sns.barplot(data=freq, y="label", x=value, hue=by, order=order, ax=ax, orient="h")
    if value.startswith("share"):
        format_axis_percent(ax, "x")
    ax.set_ylabel("")
    ax.set_xlabel(value.replace("_", " "))
    ax.set_title(title or f"Codes: {value.replace('_', ' ')}")
    return fig
