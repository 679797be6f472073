"""Figures for a fitted marketing-mix model (house style from :mod:`researchkit.plots`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from researchkit.plots import PALETTE, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.channels.mmm.result import MMMResult
    from researchkit.results import Result

__all__ = ["plot_budget", "plot_decomposition", "plot_response_curves", "plot_roi",
           "plot_spend"]


def _colors(n: int) -> list[str]:
    import seaborn as sns

    return list(PALETTE[:n]) if n <= len(PALETTE) else sns.color_palette("husl", n).as_hex()


def plot_spend(data: pd.DataFrame, *, date: str, y: str, channels: list[str],
               title: str = "Weekly spend by channel and sales") -> Figure:
    """Stacked weekly spend per channel (top) and sales (bottom)."""
    fig, (ax1, ax2) = new_figure(2, 1, height=6.0, sharex=True)
    ax1.stackplot(pd.to_datetime(data[date]), *[data[c] for c in channels], labels=channels,
                  colors=_colors(len(channels)), alpha=0.85)
    ax1.set_ylabel("spend")
    ax1.set_title(title)
    ax1.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    ax2.plot(pd.to_datetime(data[date]), data[y], color="black", lw=1.2)
    ax2.set_ylabel(y)
    return fig


def plot_decomposition(result: MMMResult, *, title: str = "Sales decomposition") -> Figure:
    """Stacked base and channel contributions per period, with actual sales as a line."""
    dec = result.decomposition
    assert dec is not None and result.model is not None
    channels = result.model.channels
    fig, ax = new_figure(height=4.8)
    layers = [dec["base"].to_numpy()] + [dec[c].to_numpy() for c in channels]
    ax.stackplot(dec["date"], *layers, labels=["base", *channels],
                 colors=["#BBBBBB", *_colors(len(channels))], alpha=0.85)
    ax.plot(dec["date"], dec["actual"], color="black", lw=1.0, label="actual sales")
    ax.set_title(title)
    ax.set_ylabel("sales")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return fig


def plot_roi(result: MMMResult, *, truth: Mapping[str, float] | None = None,
             title: str = "ROI by channel") -> Figure:
    """ROI per channel with its bootstrap interval (and the true ROI, if known)."""
    table = result.table
    assert table is not None
    fig, ax = new_figure(height=0.45 * len(table) + 1.5)
    order = table.sort_values("roi").index
    y = np.arange(len(order))
    roi = table.loc[order, "roi"].to_numpy()
    ax.barh(y, roi, color=PALETTE[0], alpha=0.8, label="estimated ROI")
    if "roi_ci_low" in table:
        lo = table.loc[order, "roi_ci_low"].to_numpy()
        hi = table.loc[order, "roi_ci_high"].to_numpy()
        # percentile intervals need not contain the estimate: draw them as they are
        ax.hlines(y, lo, hi, color="black", lw=1.2, label=f"{result.ci_level:.0%} interval")
    if truth is not None:
        ax.scatter([truth[c] for c in order], y, marker="D", color=PALETTE[1], zorder=3,
                   label="true ROI")
    ax.axvline(1.0, color="grey", ls=":", lw=1)
    ax.set_yticks(y, order)
    ax.set_xlabel("sales per unit of spend")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_response_curves(curves: pd.DataFrame, *, title: str = "Response curves") -> Figure:
    """Contribution against budget per channel (from :func:`response_curves`)."""
    channels = list(dict.fromkeys(curves["channel"]))
    ncols = min(4, len(channels))
    nrows = int(np.ceil(len(channels) / ncols))
    fig, axes = new_figure(nrows, ncols, width=3.2 * ncols, height=2.6 * nrows, squeeze=False)
    for ax, ch, color in zip(axes.ravel(), channels, _colors(len(channels)), strict=False):
        d = curves[curves["channel"] == ch]
        ax.plot(d["spend"], d["contribution"], color=color)
        if "contribution_ci_low" in d:
            ax.fill_between(d["spend"], d["contribution_ci_low"], d["contribution_ci_high"],
                            color=color, alpha=0.2, lw=0)
        cur = d[d["current"]]
        ax.scatter(cur["spend"], cur["contribution"], color="black", zorder=3, s=15)
        ax.set_title(ch, fontsize="medium")
        ax.tick_params(labelsize="small")
    for ax in axes.ravel()[len(channels):]:
        ax.set_visible(False)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.supxlabel("budget")
    fig.supylabel("sales from the channel")
    return fig


def plot_budget(allocation: Result, *, title: str = "Budget: current vs optimal") -> Figure:
    """Current and optimal budget per channel (from :func:`optimize_budget`)."""
    table = allocation.table
    assert table is not None
    fig, ax = new_figure(height=0.45 * len(table) + 1.5)
    y = np.arange(len(table))
    ax.barh(y - 0.2, table["current_spend"], height=0.4, color=PALETTE[0], label="current")
    ax.barh(y + 0.2, table["optimal_spend"], height=0.4, color=PALETTE[1], label="optimal")
    for i, (lo, hi) in enumerate(zip(table["lower_bound"], table["upper_bound"], strict=True)):
        ax.plot([lo, hi], [i + 0.45, i + 0.45], color="grey", lw=1)
    ax.set_yticks(y, table.index)
    ax.set_xlabel("budget")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig

