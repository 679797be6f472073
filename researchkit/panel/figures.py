"""House-style figures for panel results (retention, switching matrix, flows, forecast).

Each function takes a result of :mod:`researchkit.panel` and returns a matplotlib Figure; save
it with :func:`researchkit.plots.save_figure`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.plots import PALETTE, SEQUENTIAL_CMAP, format_axis_percent, new_figure
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.panel.forecast import MarkovForecast
    from researchkit.panel.switching import SwitchingFlows, SwitchingMatrix

__all__ = ["plot_forecast", "plot_gains_losses", "plot_retention", "plot_switching"]


def _need(result: object, cls_name: str, parameter: str) -> None:
    if type(result).__name__ != cls_name and cls_name != "Result":
        raise ParameterError(f"expected a {cls_name}", parameter=parameter,
                             got=type(result).__name__)


def plot_retention(attrition: Result) -> Figure:
    """Respondents per wave (bars) and first-wave cohort retention (line)."""
    t = attrition.table
    if t is None or "cohort_retention" not in t:
        raise ParameterError("expected the result of attrition_table()", parameter="attrition")
    fig, ax = new_figure()
    x = np.arange(len(t))
    ax.bar(x, t["n_respondents"], color=PALETTE[4], label="respondents")
    ax.set_xticks(x, [str(w) for w in t["wave"]])
    ax.set_xlabel("wave")
    ax.set_ylabel("respondents")
    ax2 = ax.twinx()
    ax2.plot(x, t["cohort_retention"], color=PALETTE[1], marker="o",
             label="first-wave cohort retained")
    ax2.set_ylim(0, 1.05)
    ax2.grid(False)
    format_axis_percent(ax2)
    ax2.set_ylabel("cohort retention")
    ax.set_title("Panel size and retention by wave")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="lower left")
    return fig


def plot_switching(switching: SwitchingMatrix, truth: pd.DataFrame | None = None) -> Figure:
    """Heatmap of a transition matrix (and of the true one next to it, when known)."""
    import seaborn as sns

    _need(switching, "SwitchingMatrix", "switching")
    panels = [("estimated", switching.matrix)]
    if truth is not None:
        panels.append(("true (simulation)", truth))
    fig, axes = new_figure(1, len(panels), height=4.2)
    axes = np.atleast_1d(axes)
    for ax, (label, M) in zip(axes, panels, strict=True):
        sns.heatmap(M.astype(float), annot=True, fmt=".0%", cmap=SEQUENTIAL_CMAP, vmin=0,
                    vmax=1, cbar=False, ax=ax, square=True)
        ax.set_title(f"Switching matrix, {label}")
        ax.set_xlabel("brand at the next wave")
        ax.set_ylabel("brand at a wave")
    return fig


def plot_gains_losses(flows: SwitchingFlows) -> Figure:
    """Per brand: gained (switching in), lost (switching out) and net change."""
    _need(flows, "SwitchingFlows", "flows")
    t = flows.table
    fig, ax = new_figure()
    x = np.arange(len(t))
    ax.bar(x - 0.25, t["gained"], width=0.25, color=PALETTE[2], label="gained")
    ax.bar(x, -t["lost"], width=0.25, color=PALETTE[5], label="lost")
    ax.bar(x + 0.25, t["net_switching"], width=0.25, color=PALETTE[0], label="net")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [str(b) for b in t["brand"]])
    format_axis_percent(ax, decimals=1)
    ax.set_ylabel("share of continuing panel")
    ax.set_title(flows.name)
    ax.legend()
    return fig


def plot_forecast(forecast: MarkovForecast, history: pd.DataFrame | None = None) -> Figure:
    """Projected shares with their intervals and the steady state (dotted).

    ``history`` (optional): observed shares, one row per wave and one column per brand.
    """
    _need(forecast, "MarkovForecast", "forecast")
    f = forecast.forecast
    fig, ax = new_figure()
    steady = forecast.steady.set_index("state")["share"]
    for k, (state, g) in enumerate(f.groupby("state", sort=False)):
        color = PALETTE[k % len(PALETTE)]
        ax.plot(g["period"], g["share"], color=color, marker="o", label=str(state))
        if g["ci_low"].notna().all():
            ax.fill_between(g["period"], g["ci_low"], g["ci_high"], color=color, alpha=0.15)
        ax.axhline(steady[state], color=color, linestyle=":", linewidth=1)
        if history is not None and state in history:
            h = history[state].to_numpy()
            ax.plot(np.arange(-len(h) + 1, 1), h, color=color, linestyle="--", alpha=0.7)
    ax.axvline(0, color="grey", linewidth=0.8)
    format_axis_percent(ax)
    ax.set_xlabel("periods after the last wave (negative = observed waves)")
    ax.set_ylabel("share")
    ax.set_title("Markov forecast of shares (dotted: steady state)")
    ax.legend(ncols=min(4, f["state"].nunique()))
    return fig
