"""All attribution models side by side, and the path statistics that help read them.

Practitioners agree on one thing only: each question needs its own attribution model. So the
workbench shows them together: the rule-based models (first, last, last non-direct, linear,
position-based, time decay), Markov chains of several orders and Shapley values, per channel,
with the statistics that explain why they differ: **assisted conversions** (conversions whose
path contains the channel before the last touch; Google Analytics' multi-channel funnel
definition), **path length**, **time to conversion** and the **top paths**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels._paths import read_paths
from researchkit.channels.attribution_markov import markov_attribution
from researchkit.channels.rules import RULES, rule_based_attribution
from researchkit.channels.shapley import shapley_attribution
from researchkit.errors import ParameterError
from researchkit.results import Result

__all__ = [
    "ModelComparison",
    "assisted_conversions",
    "compare_models",
    "path_length_distribution",
    "plot_model_comparison",
    "plot_path_lengths",
    "time_to_conversion",
    "top_paths",
]


@dataclass(eq=False)
class ModelComparison(Result):
    """Result of :func:`compare_models`: ``table`` = attributed conversions (channel × model);
    ``value_table`` = attributed value; ``share_table`` = share of conversions."""

    value_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    share_table: pd.DataFrame = field(default_factory=pd.DataFrame)


def compare_models(
    journeys: Any,
    *,
    rules: Sequence[str] = RULES,
    markov_orders: Sequence[int] = (1, 2, 3),
    shapley: bool = True,
    direct: Sequence[str] = ("direct",),
    ignore: Sequence[str] = (),
    half_life: str = "7D",
) -> ModelComparison:
    """Run every attribution model on the same journeys and tabulate them per channel.

    Parameters
    ----------
    journeys : Journeys or DataFrame
        A :class:`~researchkit.channels.journeys.Journeys` object (needed for time decay) or a
        path table (time decay is then skipped).
    rules : sequence of str
        Rule-based models to include (see :data:`~researchkit.channels.rules.RULES`).
    markov_orders : sequence of int
        Markov orders to include.
    shapley : bool
        Include Shapley values (``coalition="conversions"``).
    direct, ignore, half_life
        Passed to the rules (``last_non_direct``, ``linear``, ``time_decay``).

    Returns
    -------
    ModelComparison
        ``estimate``: total conversions (identical under every model, which the comparison
        checks); ``details["max_conservation_error"]``.
    """
    has_touches = isinstance(getattr(journeys, "touches", None), pd.DataFrame)
    results: dict[str, Result] = {}
    for rule in rules:
        if rule == "time_decay" and not has_touches:
            continue
        results[rule] = rule_based_attribution(journeys, rule, direct=direct, ignore=ignore,
                                               half_life=half_life)
    # the path-based models read the unique-path table: build it once
    paths = journeys.path_table() if has_touches and hasattr(journeys, "path_table") and (
        markov_orders or shapley) else journeys
    for k in markov_orders:
        results[f"markov_{k}"] = markov_attribution(paths, order=k)
    if shapley:
        results["shapley"] = shapley_attribution(paths)
    if not results:
        raise ParameterError("no model selected", parameter="rules/markov_orders/shapley")
    conv = pd.concat({m: r.table.set_index("channel")["conversions"]
                      for m, r in results.items()}, axis=1).fillna(0.0)
    val = pd.concat({m: r.table.set_index("channel")["value"]
                     for m, r in results.items()}, axis=1).fillna(0.0)
    conv.index.name = val.index.name = "channel"
    totals = conv.sum(axis=0)
    err = float((totals - totals.iloc[0]).abs().max())
    share = conv / totals
    return ModelComparison(
        name="Attribution models compared",
        estimate=float(totals.iloc[0]),
        method=("Each model run on the same journeys: " + ", ".join(results) + ". Rule-based "
                "models split each conversion by position/time rules; Markov models by exact "
                "removal effects; Shapley by exact coalition values. Every column sums to the "
                "observed conversions."),
        n=int(results[next(iter(results))].n or 0),
        table=conv,
        details={"models": list(results), "max_conservation_error": err,
                 "total_value": float(val.sum(axis=0).iloc[0])},
        value_table=val,
        share_table=share,
    )


def plot_model_comparison(comparison: ModelComparison, *, what: str = "share", ax: Any = None):
    """Grouped bar chart: one group per channel, one bar per model.

    Parameters
    ----------
    comparison : ModelComparison
    what : {"share", "conversions", "value"}
    """
    from researchkit.plots import PALETTE, format_axis_percent, new_figure

    tables = {"share": comparison.share_table, "conversions": comparison.table,
              "value": comparison.value_table}
    if what not in tables:
        raise ParameterError("unknown quantity to plot", parameter="what",
                             expected="'share', 'conversions' or 'value'", got=what)
    data = tables[what]
    data = data.loc[data.mean(axis=1).sort_values(ascending=False).index]
    if ax is None:
        fig, ax = new_figure(width=10, height=5)
    else:
        fig = ax.figure
    n_models = data.shape[1]
    x = np.arange(len(data))
    width = 0.85 / n_models
    colours = [*list(PALETTE), "#999999", "#66c2a5", "#8da0cb", "#e78ac3"]
    for i, model in enumerate(data.columns):
        ax.bar(x + (i - (n_models - 1) / 2) * width, data[model].to_numpy(), width,
               label=model.replace("_", " "), color=colours[i % len(colours)])
    ax.set_xticks(x, data.index, rotation=30, ha="right")
    ax.set_ylabel({"share": "share of conversions", "conversions": "attributed conversions",
                   "value": "attributed value"}[what])
    if what == "share":
        format_axis_percent(ax)
    ax.set_title("Attributed " + what + " by channel and model")
    ax.legend(ncols=min(n_models, 4), fontsize="small")
    return fig


def assisted_conversions(journeys: Any, *, path: str = "path",
                         conversions: str = "conversions", sep: str = ">") -> pd.DataFrame:
    """Last-touch, first-touch and assisted conversions per channel.

    A conversion is *assisted* by a channel that appears on its path anywhere before the last
    touch (counted once per conversion; a channel can both assist and close the same path).
    ``assist_ratio`` = assisted / last-touch conversions: above 1 the channel mostly prepares
    sales, below 1 it mostly closes them.

    Returns
    -------
    DataFrame indexed by channel.
    """
    enc = read_paths(journeys, path=path, conversions=conversions, nulls=None, value=None,
                     sep=sep)
    K = len(enc.channels)
    pidx, pos, lengths = enc.path_index(), enc.position(), enc.lengths
    conv = enc.conversions
    is_last = pos == lengths[pidx] - 1
    last = np.bincount(enc.codes[is_last], weights=conv[pidx[is_last]], minlength=K)
    first_mask = pos == 0
    first = np.bincount(enc.codes[first_mask], weights=conv[pidx[first_mask]], minlength=K)
    early = ~is_last
    pair = np.unique(pidx[early] * K + enc.codes[early])
    assisted = np.bincount(pair % K, weights=conv[pair // K], minlength=K)
    pair_any = np.unique(pidx * K + enc.codes)
    on_path = np.bincount(pair_any % K, weights=conv[pair_any // K], minlength=K)
    out = pd.DataFrame({"conversions_on_path": on_path, "first_touch": first,
                        "last_touch": last, "assisted": assisted},
                       index=pd.Index(enc.channels, name="channel"))
    out["assist_ratio"] = np.divide(assisted, last, out=np.full(K, np.nan), where=last > 0)
    return out.sort_values("conversions_on_path", ascending=False)


def path_length_distribution(journeys: Any, *, path: str = "path",
                             conversions: str = "conversions", sep: str = ">",
                             max_length: int = 10) -> pd.DataFrame:
    """Journeys and conversions by number of touches (``max_length`` and more pooled).

    Returns
    -------
    DataFrame indexed by path length (``"10+"`` for the pooled tail) with ``journeys``,
    ``converting``, ``conversions``, ``conversion_rate`` and ``share_of_conversions``.
    """
    enc = read_paths(journeys, path=path, conversions=conversions, sep=sep)
    length = np.minimum(enc.lengths, max_length)
    n_j = enc.conversions + enc.nulls
    frame = pd.DataFrame({"length": length, "journeys": n_j, "conversions": enc.conversions})
    out = frame.groupby("length").sum()
    out = out.reindex(range(1, max_length + 1), fill_value=0.0)
    out["conversion_rate"] = out["conversions"] / out["journeys"].where(out["journeys"] > 0)
    out["share_of_conversions"] = out["conversions"] / out["conversions"].sum()
    out.index = [str(i) if i < max_length else f"{max_length}+" for i in out.index]
    out.index.name = "touches"
    return out


def time_to_conversion(journeys: Any, *, bins: Sequence[float] = (0, 1, 2, 4, 8, 15, 31, 61,
                                                                   np.inf)) -> pd.DataFrame:
    """Converting journeys by days from first touch to conversion.

    Parameters
    ----------
    journeys : Journeys
        Needs touch times (a :class:`~researchkit.channels.journeys.Journeys` object).
    bins : sequence of float
        Bin edges in days (left-closed).
    """
    table = getattr(journeys, "journeys", None)
    if not isinstance(table, pd.DataFrame):
        raise ParameterError("time to conversion needs a Journeys object (touch times)",
                             parameter="journeys", got=type(journeys).__name__)
    conv = table[table["converted"]]
    cut = pd.cut(conv["days_to_conversion"], bins=list(bins), right=False)
    out = conv.groupby(cut, observed=False).agg(conversions=("conversions", "sum"),
                                               value=("value", "sum"))
    out["share"] = out["conversions"] / out["conversions"].sum()
    out.index = [f"{lo:g}-{hi:g} d" if np.isfinite(hi) else f"{lo:g}+ d"
                 for lo, hi in zip(out.index.categories.left, out.index.categories.right,
                                   strict=True)]
    out.index.name = "days_to_conversion"
    out.attrs["median_days"] = float(conv["days_to_conversion"].median()) if len(conv) else None
    return out


def top_paths(journeys: Any, n: int = 10, *, by: str = "conversions") -> pd.DataFrame:
    """The ``n`` most frequent paths with conversions, nulls, value and conversion rate."""
    if isinstance(journeys, pd.DataFrame) and "nulls" in journeys.columns:
        table = journeys.copy()
    else:
        from researchkit.channels.journeys import path_table

        table = journeys.path_table() if hasattr(journeys, "path_table") else path_table(
            journeys)
    if by not in table.columns:
        raise ParameterError("unknown sort column", parameter="by",
                             expected=f"one of {list(table.columns)}", got=by)
    if "journeys" not in table.columns:
        table["journeys"] = table["conversions"] + table["nulls"]
    table["conversion_rate"] = table["conversions"] / table["journeys"].where(
        table["journeys"] > 0)
    table = table.sort_values([by, "path"], ascending=[False, True], kind="stable")
    return table.head(n).reset_index(drop=True)


def plot_path_lengths(distribution: pd.DataFrame, ax: Any = None):
    """Bars of journeys by path length with the conversion rate on a second axis.

    Parameters
    ----------
    distribution : DataFrame
        Output of :func:`path_length_distribution`.
    """
    from researchkit.plots import PALETTE, format_axis_percent, new_figure

    if ax is None:
        fig, ax = new_figure(width=8, height=4.5)
    else:
        fig = ax.figure
    x = np.arange(len(distribution))
    ax.bar(x, distribution["journeys"], color=PALETTE[4], label="journeys")
    ax.set_xticks(x, distribution.index)
    ax.set_xlabel("touches in the journey")
    ax.set_ylabel("journeys")
    ax2 = ax.twinx()
    ax2.plot(x, distribution["conversion_rate"], color=PALETTE[5], marker="o",
             label="conversion rate")
    ax2.set_ylabel("conversion rate")
    ax2.grid(False)
    format_axis_percent(ax2)
    ax.set_title("Path length and conversion rate")
    return fig
