"""Charts for survey results: estimates with intervals (optionally against the truth)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from researchkit.errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_estimates"]


def plot_estimates(table: pd.DataFrame, *, label: str = "label", estimate: str = "estimate",
                   low: str = "ci_low", high: str = "ci_high", truth: str | None = None,
                   compare: str | None = None, title: str = "", percent: bool = True
                   ) -> Figure:
    """Horizontal bars of estimates with confidence intervals.

    Parameters
    ----------
    table : DataFrame
        One row per bar with ``label``, ``estimate``, ``ci_low``, ``ci_high`` columns.
    truth : str, optional
        Column of true values, drawn as markers (for simulated data).
    compare : str, optional
        Column of a second estimate (e.g. unweighted), drawn as hollow markers.
    percent : bool
        Format the axis as percentages (estimates are shares 0-1).
    """
    from researchkit.plots import PALETTE, format_axis_percent, new_figure

    need = [c for c in (label, estimate, low, high) if c not in table.columns]
    if need:
        raise ParameterError("table lacks columns", parameter="table", expected=str(need))
    t = table.iloc[::-1]
    fig, ax = new_figure(width=7.5, height=0.5 * len(t) + 1.4)
    y = range(len(t))
    ax.barh(list(y), t[estimate], color=PALETTE[0], alpha=0.85, label="estimate")
    ax.errorbar(t[estimate], list(y), xerr=[t[estimate] - t[low], t[high] - t[estimate]],
                fmt="none", ecolor="#333333", capsize=3, linewidth=1, label="95% CI")
    if compare is not None:
        ax.scatter(t[compare], list(y), marker="o", facecolors="none",
                   edgecolors=PALETTE[5], zorder=3, label=compare)
    if truth is not None:
        ax.scatter(t[truth], list(y), marker="D", color=PALETTE[1], zorder=4, label=truth)
    ax.set_yticks(list(y), [str(v) for v in t[label]])
    if percent:
        format_axis_percent(ax, "x")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig
