"""Plot shared by the event-time designs (event study, Callaway & Sant'Anna)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_relative_effects"]


def plot_relative_effects(x: np.ndarray, estimate: Any, low: Any, high: Any, *, ylabel: str,
                          title: str, ax: Any = None,
                          truth: dict[int, float] | None = None) -> Figure:
    """Effects by period relative to treatment start with intervals.

    Leads (x < 0) and lags are coloured apart; the dotted line is the true effect when
    ``truth`` (relative period → effect) is given, e.g. on simulated data.
    """
    from researchkit.plots import PALETTE, new_figure

    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    x = np.asarray(x)
    ax.errorbar(x, estimate, yerr=[estimate - low, high - estimate],
                fmt="none", ecolor="grey", capsize=3, linewidth=1)
    ax.scatter(x, estimate, c=[PALETTE[0] if e < 0 else PALETTE[1] for e in x], zorder=3)
    if truth:
        ks = sorted(k for k in truth if x.min() <= k <= x.max())
        ax.plot(ks, [truth[k] for k in ks], color=PALETTE[2], linestyle=":",
                label="true effect")
        ax.legend()
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("periods relative to treatment start")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig
