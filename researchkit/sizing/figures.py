"""Figures of a market sizing: funnel, tornado, top-down vs bottom-up, Bass fit and SOM ramp.

Each function returns a matplotlib Figure in the house style (call
:func:`researchkit.plots.set_style` first); save it with :func:`researchkit.plots.save_figure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from researchkit.errors import ParameterError
from researchkit.plots import PALETTE, new_figure

__all__ = ["bass_fit_figure", "funnel_figure", "ramp_figure", "reconciliation_figure",
           "tornado_figure"]


def _money(value: float, currency: str = "") -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    for div, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if v >= div:
            return f"{sign}{v / div:,.3g} {suffix}{' ' + currency if currency else ''}"
    return f"{sign}{v:,.3g}{' ' + currency if currency else ''}"


def _axis_formatter(ax: Any, axis: str = "x", currency: str = "") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: _money(v, ""))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def funnel_figure(result: Any, *, chain: str | None = None, measure: str | None = None,
                  level: float = 0.9, compare: bool = True) -> Any:
    """TAM → SAM → SOM as horizontal bars (medians) with interval whiskers.

    With ``compare=True`` and both chains present, the other chain's levels are drawn next to
    each bar, so the funnel also shows the top-down vs bottom-up comparison.
    """
    spec = result.spec
    if spec is None:
        raise ParameterError("expected a SizingResult", parameter="result")
    main = result.funnel(chain, measure, level)
    measure = main["output"].iloc[0].split(".")[2]
    chain = main["output"].iloc[0].split(".")[0]
    frames = [(chain, main)]
    if compare:
        for other in spec.chains:
            if other != chain and measure in spec.chains[other].measures:
                frames.append((other, result.funnel(other, measure, level)))
    levels = [lvl for lvl in ("TAM", "SAM", "SOM")
              if any(lvl in f["level"].tolist() for _, f in frames)]
    fig, ax = new_figure(height=1.2 + 0.9 * len(levels) * len(frames) ** 0.5)
    height = 0.8 / len(frames)
    for j, (name, frame) in enumerate(frames):
        for _, row in frame.iterrows():
            i = levels.index(row["level"])
            y = i + (j - (len(frames) - 1) / 2) * height
            ax.barh(y, row["median"], height=height * 0.9, color=PALETTE[j], alpha=0.85,
                    label=name.replace("_", "-") if i == 0 or row["level"] == frame["level"].iloc[0]
                    else None)
            ax.errorbar(row["median"], y, xerr=[[row["median"] - row["low"]],
                                                [row["high"] - row["median"]]],
                        fmt="none", ecolor="#333333", capsize=3, lw=1)
            ax.text(row["high"], y, "  " + _money(row["median"]), va="center",
                    fontsize="small")
    ax.set_yticks(range(len(levels)), levels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    unit = spec.currency if measure == "money" else f"{spec.unit}s"
    ax.set_xlabel(f"{unit} per {spec.period} (log scale; bars = median, whiskers = "
                  f"{level:.0%} interval)")
    ax.set_title(f"Market funnel: {spec.title}")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=False))
    if len(frames) > 1:
        ax.legend(uniq.values(), uniq.keys(), loc="lower right")
    return fig


def tornado_figure(tornado_result: Any, *, top: int | None = 12, currency: str = "") -> Any:
    """Tornado chart: one bar per input from output(low) to output(high), widest on top."""
    table = tornado_result.table
    if table is None or table.empty:
        raise ParameterError("the tornado has no inputs", parameter="tornado_result")
    t = table.head(top) if top else table
    base = float(tornado_result.estimate)
    fig, ax = new_figure(height=1.0 + 0.42 * len(t))
    for i, row in enumerate(t.itertuples()):
        lo, hi = row.output_low, row.output_high
        ax.barh(i, lo - base, left=base, color=PALETTE[0], height=0.6,
                label="input at low" if i == 0 else None)
        ax.barh(i, hi - base, left=base, color=PALETTE[1], height=0.6,
                label="input at high" if i == 0 else None)
    ax.axvline(base, color="#333333", lw=1)
    ax.set_yticks(range(len(t)), [f"{r.label}\n[{r.low:,.4g} – {r.high:,.4g}]"
                                  for r in t.itertuples()], fontsize="small")
    ax.invert_yaxis()
    _axis_formatter(ax, "x")
    out = tornado_result.details.get("output", "")
    ax.set_xlabel(f"{out} {('(' + currency + ')') if currency else ''}".strip())
    ax.set_title("Tornado: swing of the output as each input moves from low to high")
    ax.legend(loc="best")
    return fig


def reconciliation_figure(reconciliation: Any, *, currency: str = "") -> Any:
    """The two chains' medians and intervals side by side, with the overlap verdict."""
    comp = reconciliation.comparison
    fig, ax = new_figure(height=2.6)
    for i, row in enumerate(comp.itertuples()):
        ax.plot([row.low, row.high], [i, i], color=PALETTE[i], lw=6, alpha=0.5,
                solid_capstyle="butt")
        ax.plot(row.median, i, "o", color=PALETTE[i], ms=9)
        ax.text(row.high, i, "  " + _money(row.median, currency), va="center",
                fontsize="small")
    ax.set_yticks(range(len(comp)), [c.replace("_", "-") for c in comp["chain"]])
    ax.set_ylim(-0.7, len(comp) - 0.3)
    ax.invert_yaxis()
    _axis_formatter(ax, "x")
    verdict = "intervals overlap" if reconciliation.overlap else "intervals do NOT overlap"
    ax.set_title(f"{reconciliation.name}: {verdict}; ratio {reconciliation.estimate:.2f} "
                 f"[{reconciliation.ci[0]:.2f}, {reconciliation.ci[1]:.2f}]")
    return fig


def bass_fit_figure(fit: Any, forecast: Any | None = None) -> Any:
    """Observed adopters, the fitted Bass curve and (optionally) the forecast with its band."""
    fig, ax = new_figure()
    x = np.arange(1, fit.observed.size + 1)
    labels = fit.labels
    ax.bar(x, fit.observed, color=PALETTE[4], label="observed", alpha=0.8)
    ax.plot(x, fit.fitted, color=PALETTE[0], marker="o", ms=3, label=f"fitted ({fit.estimator})")
    if forecast is not None:
        t = forecast.table
        fut = t[t["kind"] == "forecast"] if "kind" in t else t
        ax.plot(fut["period"], fut["adopters"], color=PALETTE[1], marker="o", ms=3,
                label="forecast")
        ax.fill_between(fut["period"], fut["adopters_low"], fut["adopters_high"],
                        color=PALETTE[1], alpha=0.25,
                        label=f"{forecast.ci_level:.0%} {forecast.details.get('interval', '')} "
                              "interval".replace("  ", " "))
        ticks = t["period"].tolist()
        ax.set_xticks(ticks, [str(v) for v in t["label"]], rotation=45)
    else:
        ax.set_xticks(x, [str(v) for v in labels], rotation=45)
    ax.set_ylabel("adopters per period")
    ax.set_title(f"Bass fit: p = {fit.p:.4f}, q = {fit.q:.3f}, m = {fit.m:,.0f}, "
                 f"R² = {fit.diagnostics['r2']:.3f}")
    ax.legend()
    return fig


def ramp_figure(ramp: Any, *, currency: str = "") -> Any:
    """The SOM ramp: median volume per period with its interval, and the Bass share reached."""
    t = ramp.table
    fig, ax = new_figure()
    ax.bar(t["label"].astype(str), t["volume"], color=PALETTE[2], alpha=0.85,
           label="median volume")
    ax.errorbar(t["label"].astype(str), t["volume"],
                yerr=[t["volume"] - t["volume_low"], t["volume_high"] - t["volume"]],
                fmt="none", ecolor="#333333", capsize=3, lw=1,
                label=f"{ramp.ci_level:.0%} interval")
    for x, v, s in zip(t["label"].astype(str), t["volume_high"], t["share_of_som"], strict=True):
        ax.text(x, v, f"{s:.0%} of SOM", ha="center", va="bottom", fontsize="small")
    _axis_formatter(ax, "y")
    ax.set_ylabel(f"volume per period {('(' + currency + ')') if currency else ''}".strip())
    ax.set_title(f"{ramp.name} (p = {ramp.details['p']:.3g}, q = {ramp.details['q']:.3g})")
    ax.legend(loc="upper left")
    return fig
