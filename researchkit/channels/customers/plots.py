"""Figures for customer economics (house style from :mod:`researchkit.plots`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from researchkit.plots import PALETTE, SEQUENTIAL_CMAP, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.results import Result

__all__ = ["plot_funnel", "plot_ltv_curves", "plot_retention", "plot_segment_forecast",
           "plot_unit_economics"]


def plot_retention(triangle: Result, *, max_age: int = 24,
                   title: str = "Retention by cohort") -> Figure:
    """Heatmap of a retention triangle (share of each cohort ordering at each age)."""
    import seaborn as sns

    table = triangle.table
    assert table is not None
    data = table.loc[:, [c for c in table.columns if c <= max_age]]
    fig, ax = new_figure(height=max(3.0, 0.22 * len(data) + 1.2), width=9.0)
    sns.heatmap(data.iloc[:, 1:], ax=ax, cmap=SEQUENTIAL_CMAP, vmin=0,
                cbar_kws={"label": "share ordering"})
    ax.grid(False)
    ax.set_xlabel("age (periods since first purchase)")
    ax.set_title(title)
    return fig


def plot_ltv_curves(ltv: Result, *, title: str = "Lifetime value per customer") -> Figure:
    """Historical (solid) and projected (dashed) cumulative value per customer by group."""
    curves = ltv.details["curves"]
    key = curves.columns[0]
    fig, ax = new_figure()
    for color, (g, d) in zip(PALETTE * 3, curves.groupby(key, sort=True), strict=False):
        ax.plot(d["age"], d["projected_ltv"], ls="--", color=color, lw=1.2)
        ax.plot(d["age"], d["historical_ltv"], color=color, lw=2, label=str(g))
    ax.set_xlabel("age (periods since first purchase)")
    ax.set_ylabel("cumulative value per customer")
    ax.set_title(title)
    ax.legend(fontsize="small", title="solid = observed, dashed = projected",
              title_fontsize="small")
    return fig


def plot_funnel(result: Result, *, title: str = "Funnel (people)") -> Figure:
    """People reaching each stage, with conversion from the previous stage."""
    table = result.table
    assert table is not None
    fig, ax = new_figure(height=0.5 * table["stage"].nunique() + 1.5)
    first = table.drop_duplicates("stage")  # first group, or the only one
    y = np.arange(len(first))[::-1]
    ax.barh(y, first["people"], color=PALETTE[0])
    for yi, (_, row) in zip(y, first.iterrows(), strict=True):
        text = f"{row['people']:,}"
        if np.isfinite(row["conversion_from_previous"]):
            text += f"  ({row['conversion_from_previous']:.0%} of previous)"
        ax.text(row["people"], yi, " " + text, va="center", fontsize="small")
    ax.set_yticks(y, first["stage"])
    ax.set_xlabel("people")
    ax.set_title(title)
    ax.set_xlim(0, first["people"].max() * 1.45)
    return fig


def plot_segment_forecast(forecast: Result, *, title: str = "Customer base by segment"
                          ) -> Figure:
    """Stacked segment counts over the forecast periods."""
    table = forecast.table
    assert table is not None
    segs = [c for c in table.columns if c != "total"]
    fig, ax = new_figure()
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(segs))]
    ax.stackplot(table.index, *[table[s] for s in segs], labels=segs, colors=colors,
                 alpha=0.85)
    ax.set_xlabel("periods ahead")
    ax.set_ylabel("customers")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return fig


def plot_unit_economics(result: Result, *, title: str = "LTV and CAC by channel") -> Figure:
    """Projected LTV (with interval) against CAC per channel."""
    t = result.table
    assert t is not None
    fig, ax = new_figure(height=0.5 * len(t) + 1.5)
    y = np.arange(len(t))
    ax.barh(y + 0.2, t["ltv"], height=0.4, color=PALETTE[0], label="LTV")
    if "ltv_ci_low" in t:
        ax.hlines(y + 0.2, t["ltv_ci_low"], t["ltv_ci_high"], color="black", lw=1.2)
    ax.barh(y - 0.2, t["cac"], height=0.4, color=PALETTE[1], label="CAC")
    ax.set_yticks(y, t.index)
    ax.set_xlabel("per customer")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig

