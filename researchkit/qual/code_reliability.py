"""Reliability of each code: do coders agree on which segments a code applies to?

For each code, every unit (segment) gets a 1 from a coder who applied the code and a 0 from a
coder who reviewed the segment without applying it; Krippendorff's alpha (nominal, i.e. binary),
percent agreement and, for two coders, Cohen's kappa are computed on these presence/absence
data. A pooled row treats every segment × code decision as a unit and resamples whole segments
in its bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.qual._bootstrap import boot_method_text, check_boot_args
from researchkit.qual.agreement import _disagreement_weights, _kappa_from_tables
from researchkit.qual.coding import presence
from researchkit.qual.krippendorff import REFERENCE, alpha_from_matrix
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.qual.codebook import Codebook

__all__ = ["code_reliability", "plot_code_reliability"]

POOLED = "(all codes)"


def _binary_stats(x: np.ndarray) -> tuple[float, float, float]:
    """Percent agreement, Cohen's kappa (two coders, else NaN) and prevalence of 0/1 data."""
    mask = ~np.isnan(x)
    m = mask.sum(axis=1)
    keep = m >= 2
    ones = np.nansum(x, axis=1)
    prevalence = float(ones.sum() / mask.sum()) if mask.any() else np.nan
    if not keep.any():
        return np.nan, np.nan, prevalence
    mk, o = m[keep], ones[keep]
    agree = (o * (o - 1) + (mk - o) * (mk - o - 1)) / (mk * (mk - 1))
    pa = float(agree.mean())
    kappa = np.nan
    if x.shape[1] == 2:
        both = mask.all(axis=1)
        a, b = x[both, 0].astype(int), x[both, 1].astype(int)
        counts = np.bincount(a * 2 + b, minlength=4).astype(float).reshape(1, 2, 2)
        kappa = float(_kappa_from_tables(counts, _disagreement_weights(2, None))[0])
    return pa, kappa, prevalence


def code_reliability(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    codes: Sequence[str] | None = None,
    coders: Sequence[str] | None = None,
    codebook: Codebook | None = None,
    uncoded: Literal["exclude", "include"] = "exclude",
    assignments: pd.DataFrame | None = None,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
) -> Result:
    """Per-code inter-coder reliability on segment presence/absence.

    Parameters
    ----------
    codings : DataFrame
        Coding table (``segment, code, coder[, source]``); suggestion rows are ignored.
    segments : DataFrame, optional
        The segments table (needed for ``uncoded="include"``; also keeps its order).
    codes, coders : sequences, optional
        Which codes (default: the codebook's codable codes, else every code used) and
        coders (default: all human coders).
    codebook : Codebook, optional
        For labels and the list of codes.
    uncoded : {"exclude", "include"}
        Whether segments no coder coded at all are left out (default) or count as absence.
        The result's ``method`` says which.
    assignments : DataFrame, optional
        ``segment, coder`` rows when coders reviewed different subsets.
    n_boot, ci_level, seed
        Bootstrap of alpha over segments.

    Returns
    -------
    Result
        ``estimate`` = pooled alpha over every segment × code decision; ``table`` has one row
        per code and a pooled row: ``code, label, n_units, n_applied, prevalence,
        percent_agreement, cohen_kappa`` (two coders only), ``alpha, alpha_ci_low,
        alpha_ci_high``.

    Notes
    -----
    Presence/absence alpha is Krippendorff's nominal alpha on 0/1 values; with two coders it
    is close to Cohen's kappa (it assumes one shared distribution of values for both coders).
    Rare codes give wide intervals: a code applied to a handful of segments cannot show
    reliable agreement whatever the coders do.

    References
    ----------
    Krippendorff (2011); O'Connor, C. & Joffe, H. (2020). Intercoder reliability in
    qualitative research. *International Journal of Qualitative Methods*, 19.
    """
    n_boot, ci_level = check_boot_args(n_boot, ci_level)
    if codes is None and codebook is not None:
        codes = codebook.codable_ids
    tables, info = presence(codings, segments=segments, codes=codes, coders=coders,
                            uncoded=uncoded, assignments=assignments)
    rows = []
    for k, (code, tab) in enumerate(tables.items()):
        x = tab.to_numpy(dtype=float)
        core = alpha_from_matrix(x, "nominal", n_boot=n_boot, ci_level=ci_level,
                                 seed=seed + k)
        pa, kappa, prev = _binary_stats(x)
        ci = core["boot"].ci if core["boot"] is not None else None
        rows.append({
            "code": code, "label": codebook.label(code) if codebook else code,
            "n_units": core["n_pairable_units"], "n_applied": int(np.nansum(x)),
            "prevalence": prev, "percent_agreement": pa, "cohen_kappa": kappa,
            "alpha": core["alpha"], "alpha_ci_low": ci[0] if ci else np.nan,
            "alpha_ci_high": ci[1] if ci else np.nan,
        })
    stacked = np.vstack([t.to_numpy(dtype=float) for t in tables.values()])
    n_units = next(iter(tables.values())).shape[0]
    clusters = np.tile(np.arange(n_units), len(tables))
    pooled = alpha_from_matrix(stacked, "nominal", n_boot=n_boot, ci_level=ci_level,
                               seed=seed, clusters=clusters)
    pa, kappa, prev = _binary_stats(stacked)
    pci = pooled["boot"].ci if pooled["boot"] is not None else None
    rows.append({
        "code": POOLED, "label": "All codes pooled", "n_units": pooled["n_pairable_units"],
        "n_applied": int(np.nansum(stacked)), "prevalence": prev, "percent_agreement": pa,
        "cohen_kappa": kappa, "alpha": pooled["alpha"],
        "alpha_ci_low": pci[0] if pci else np.nan, "alpha_ci_high": pci[1] if pci else np.nan,
    })
    table = pd.DataFrame(rows)
    n_pairable = int(table["n_units"].iloc[0]) if len(table) > 1 else 0
    warnings = []
    low = table[(table["code"] != POOLED) & (table["alpha"] < 0.667)]["code"].tolist()
    if low:
        warnings.append(f"alpha below .667 for {low}: revise these definitions or retrain "
                        "before relying on them")
    undefined = table[table["alpha"].isna()]["code"].tolist()
    if undefined:
        warnings.append(f"alpha undefined (code never or always applied) for {undefined}")
    if info["n_suggestions_ignored"]:
        warnings.append(f"{info['n_suggestions_ignored']} suggestion rows were ignored: "
                        "suggestions are never counted as a coder")
    coders_used = info["coders"]
    method = (f"Krippendorff's alpha (nominal) on presence/absence of each code per segment, "
              f"{len(coders_used)} human coders ({', '.join(map(str, coders_used))}); "
              f"units: {info['n_units']} segments; {info['rule']}"
              + (f" ({info['n_uncoded_excluded']} excluded)" if uncoded == "exclude"
                 and segments is not None else "")
              + "; the pooled row treats each segment × code decision as a unit and its "
              "bootstrap resamples whole segments; "
              + boot_method_text(n_boot, ci_level, seed)
              + ("; Cohen's kappa on the same data" if len(coders_used) == 2 else ""))
    return Result(
        name="Per-code reliability (presence/absence)", estimate=pooled["alpha"],
        method=method, ci=pci, ci_level=ci_level if pci else None, n=n_pairable,
        table=table,
        details={"uncoded": uncoded, "n_units": info["n_units"],
                 "n_pairable_units": n_pairable,
                 "n_uncoded_excluded": info["n_uncoded_excluded"],
                 "n_codes": len(tables), "coders": coders_used,
                 "n_suggestions_ignored": info["n_suggestions_ignored"]},
        warnings=warnings, reference=REFERENCE,
    )


def plot_code_reliability(result: Result, *, title: str | None = None) -> Figure:
    """Forest plot of a :func:`code_reliability` result: alpha and interval per code, with
    Krippendorff's .667 and .800 thresholds."""
    from researchkit.plots import PALETTE, new_figure

    table = result.table
    if table is None or "alpha" not in table.columns:
        raise ParameterError("expected the result of code_reliability()", parameter="result")
    t = table.iloc[::-1].reset_index(drop=True)
    fig, ax = new_figure(height=max(3.0, 0.4 * len(t) + 1.2))
    y = np.arange(len(t))
    pooled = t["code"].eq(POOLED).to_numpy()
    lo = (t["alpha"] - t["alpha_ci_low"]).clip(lower=0).fillna(0)
    hi = (t["alpha_ci_high"] - t["alpha"]).clip(lower=0).fillna(0)
    ax.errorbar(t["alpha"], y, xerr=[lo, hi], fmt="none", ecolor="#888888", capsize=3)
    ax.scatter(t["alpha"][~pooled], y[~pooled], color=PALETTE[0], zorder=3, label="code")
    ax.scatter(t["alpha"][pooled], y[pooled], color=PALETTE[1], marker="D", s=50, zorder=3,
               label="all codes pooled")
    for x, style in ((0.667, ":"), (0.8, "--")):
        ax.axvline(x, color="#555555", linestyle=style, linewidth=1)
    ax.set_yticks(y, t["label"])
    ax.set_xlabel("Krippendorff's alpha (presence/absence)")
    ax.set_xlim(min(0.0, float(np.nanmin(t["alpha_ci_low"].fillna(t["alpha"]))) - 0.05), 1.02)
    ax.set_title(title or "Inter-coder reliability by code")
    ax.legend(loc="lower left")
    return fig
