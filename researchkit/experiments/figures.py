"""Figures for the A/B notebooks (house style from :mod:`researchkit.plots`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from researchkit.plots import PALETTE, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from researchkit.results import Result

__all__ = [
    "confidence_sequence_figure",
    "lift_figure",
    "sample_size_figure",
    "segment_figure",
    "sequential_figure",
]


def sample_size_figure(mdes: Sequence[float], sizes: Sequence[int], *,
                       daily_units: float | None = None, title: str = "") -> Figure:
    """Units per arm (and days, if ``daily_units`` is given) against the relative MDE."""
    fig, ax = new_figure()
    ax.plot([m * 100 for m in mdes], sizes, marker="o", color=PALETTE[0])
    ax.set_xlabel("minimum detectable effect (relative, %)")
    ax.set_ylabel("units per arm")
    ax.set_yscale("log")
    if daily_units:
        sec = ax.secondary_yaxis("right", functions=(lambda n: n / daily_units,
                                                     lambda d: d * daily_units))
        sec.set_ylabel("days per arm at the daily traffic")
    ax.set_title(title or "Sample size against the minimum detectable effect")
    return fig


def lift_figure(result: Result, *, relative: bool = True) -> Figure:
    """Forest plot of every metric's lift with its CI (from :func:`analyze`'s table)."""
    table = result.table
    assert table is not None
    labels = [f"{m} [{t}]" for m, t in zip(table["metric"], table["treatment"], strict=True)]
    col, lo, hi = ("relative", "relative_ci_low", "relative_ci_high") if relative else \
        ("difference", "ci_low", "ci_high")
    fig, ax = new_figure(height=max(2.5, 0.7 * len(table) + 1.2))
    y = list(range(len(table)))[::-1]
    sig = table["significant"] if "significant" in table else [False] * len(table)
    for yi, (_, row), s in zip(y, table.iterrows(), sig, strict=True):
        colour = PALETTE[0] if s else PALETTE[7 % len(PALETTE)]
        ax.errorbar(row[col] * (100 if relative else 1), yi,
                    xerr=[[(row[col] - row[lo]) * (100 if relative else 1)],
                          [(row[hi] - row[col]) * (100 if relative else 1)]],
                    fmt="o", color=colour, capsize=4)
    ax.axvline(0, color="0.4", lw=1, ls="--")
    ax.set_yticks(y, labels)
    ax.set_xlabel("relative lift (%)" if relative else "difference (treatment − control)")
    ax.set_title("Effects with 95% CIs (filled colour: significant after correction)")
    return fig


def segment_figure(segment_table: Any, metric: str, *, relative: bool = True) -> Figure:
    """Lift of one metric in every segment value (from ``result.segments[col]``)."""
    t = segment_table[segment_table["metric"] == metric]
    fig, ax = new_figure(height=max(2.5, 0.6 * len(t) + 1.2))
    labels = [f"{v} [{a}]" for v, a in zip(t["value"], t["treatment"], strict=True)]
    y = list(range(len(t)))[::-1]
    k = 100 if relative else 1
    col, lo, hi = ("relative", "relative_ci_low", "relative_ci_high") if relative else \
        ("difference", "ci_low", "ci_high")
    for yi, (_, row) in zip(y, t.iterrows(), strict=True):
        ax.errorbar(row[col] * k, yi, xerr=[[(row[col] - row[lo]) * k],
                                            [(row[hi] - row[col]) * k]],
                    fmt="o", color=PALETTE[1], capsize=4)
    ax.axvline(0, color="0.4", lw=1, ls="--")
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"{metric}: relative lift (%)" if relative else f"{metric}: difference")
    ax.set_title(f"{metric} by segment (exploratory; unadjusted 95% CIs)")
    return fig


def sequential_figure(design: Result, monitor: Result | None = None) -> Figure:
    """Boundaries of a group-sequential design, with the observed z-statistics."""
    table = design.table
    assert table is not None
    fig, ax = new_figure()
    t = table["information_fraction"]
    b = table["z_boundary"]
    ax.plot(t, b, marker="s", color=PALETTE[3], label="efficacy boundary")
    if getattr(design, "sides", 2) == 2:
        ax.plot(t, -b, marker="s", color=PALETTE[3])
    ax.axhline(1.96, color="0.5", ls=":", lw=1, label="fixed-sample 1.96")
    ax.axhline(-1.96, color="0.5", ls=":", lw=1)
    if monitor is not None and monitor.table is not None:
        m = monitor.table
        ax.plot(m["information_fraction"], m["z"], marker="o", color=PALETTE[0],
                label="observed z")
        ax.plot(m["information_fraction"], m["z_boundary"], ls="--", color=PALETTE[3],
                alpha=0.6, label="boundary at observed looks")
    ax.set_xlabel("information fraction")
    ax.set_ylabel("z")
    finite = [float(v) for v in b if math.isfinite(v)]
    top = max([4.0, *finite]) + 0.5
    ax.set_ylim(-top if getattr(design, "sides", 2) == 2 else -3.0, top)
    ax.legend(loc="best")
    ax.set_title("Group-sequential monitoring")
    return fig


def confidence_sequence_figure(cs: Result, *, truth: float | None = None,
                               x: Sequence[float] | None = None, xlabel: str = "look"
                               ) -> Figure:
    """An always-valid confidence sequence over the looks."""
    t = cs.table
    assert t is not None
    xs = list(x) if x is not None else t["look"].tolist()
    fig, ax = new_figure()
    ax.fill_between(xs, t["ci_low"], t["ci_high"], color=PALETTE[0], alpha=0.25,
                    label="always-valid 95% interval")
    z = 1.959963984540054
    ax.plot(xs, t["estimate"] - z * t["std_error"], color="0.4", ls=":", lw=1,
            label="naive 95% CI (not valid when peeking)")
    ax.plot(xs, t["estimate"] + z * t["std_error"], color="0.4", ls=":", lw=1)
    ax.plot(xs, t["estimate"], color=PALETTE[0], label="estimate")
    ax.axhline(0, color="0.3", lw=1)
    if truth is not None:
        ax.axhline(truth, color=PALETTE[3], ls="--", lw=1, label="true effect")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("difference (treatment − control)")
    ax.legend(loc="best")
    ax.set_title("Continuous monitoring with a confidence sequence")
    return fig
