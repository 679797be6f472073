"""Top-down vs bottom-up: both estimates side by side, whether they agree, and what drives the gap.

Two independent routes to the same market size are the classic check of a sizing (Kotler &
Keller, *Marketing Management*, ch. on demand measurement; Sequoia-style "triangulation"). Their
central intervals are compared: if they do not overlap, at least one chain is probably wrong
(a missing segment, an optimistic share, a stale source).

The gap is measured per draw as the log ratio ``g = ln(top-down / bottom-up)``. Its drivers are
found two ways:

* **swing**: each uncertain input at its low and high (5th/95th percentiles), others at their
  medians, as in the tornado; ``ratio_low``/``ratio_high`` are the top-down / bottom-up ratios
  that result, and ``closes_gap`` says whether the ratio crosses 1 within the input's range —
  i.e. whether a plausible value of that input alone would reconcile the two chains;
* **variance share** of ``g`` across the Monte Carlo draws (normalised squared Spearman
  correlation), which includes correlations between inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.results import Result
from researchkit.sizing.correlation import _argsort
from researchkit.sizing.model import base_values, evaluate, output_inputs
from researchkit.sizing.sensitivity import _spearman
from researchkit.sizing.simulate import SizingResult, _result_dict

__all__ = ["Reconciliation", "reconcile"]


@dataclass(eq=False)
class Reconciliation(Result):
    """Top-down vs bottom-up comparison.

    Extra attributes
    ----------------
    comparison : DataFrame
        One row per chain: median, mean and the central interval.
    overlap : bool
        Whether the two intervals overlap.
    """

    comparison: pd.DataFrame | None = None
    overlap: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return _result_dict(self, exclude=())


def reconcile(
    result: SizingResult, *, level: str = "sam", measure: str = "money",
    interval: float = 0.9, quantiles: tuple[float, float] = (0.05, 0.95),
) -> Reconciliation:
    """Compare the top-down and bottom-up estimates of one level.

    Parameters
    ----------
    result : SizingResult
        A simulation of a spec with both chains.
    level : {"tam", "sam", "som"}
        The level both chains define.
    measure : {"money", "units"}
        The measure to compare (both chains must produce it: give them a price).
    interval : float
        Coverage of the intervals that are compared (default 90%).
    quantiles : (low, high)
        Input percentiles for the swing analysis of the gap.

    Returns
    -------
    Reconciliation
        ``estimate``: median of the ratio top-down / bottom-up over the draws; ``ci``: its
        ``interval``; ``overlap``; ``comparison`` (side by side); ``table``: the gap drivers
        sorted by swing; ``details``: ``p_top_down_higher`` (share of draws where top-down is
        higher), medians, interval ends.
    """
    spec = result.spec
    if spec is None:
        raise ParameterError("the result carries no spec", parameter="result")
    if set(spec.chains) != {"top_down", "bottom_up"}:
        raise ParameterError("reconciliation needs both a top_down and a bottom_up chain",
                             parameter="result", got=sorted(spec.chains))
    keys = {c: f"{c}.{level}.{measure}" for c in ("top_down", "bottom_up")}
    missing = [k for k in keys.values() if k not in result.outputs]
    if missing:
        raise ParameterError(
            f"both chains must define {level} in {measure}", parameter="level",
            got=missing, expected=f"outputs both chains share, among {spec.outputs()}",
            hint="a chain measured in units needs a price to be compared in money")
    if not 0 < interval < 1:
        raise ParameterError("interval must lie in (0, 1)", parameter="interval", got=interval)
    td, bu = result.outputs[keys["top_down"]], result.outputs[keys["bottom_up"]]
    rows = []
    bounds = {}
    for chain, arr in (("top_down", td), ("bottom_up", bu)):
        lo, hi = np.percentile(arr, [50 * (1 - interval), 50 * (1 + interval)])
        bounds[chain] = (float(lo), float(hi))
        rows.append({"chain": chain, "output": keys[chain], "median": float(np.median(arr)),
                     "mean": float(np.mean(arr)), "low": float(lo), "high": float(hi)})
    comparison = pd.DataFrame(rows)
    overlap = bool(bounds["top_down"][0] <= bounds["bottom_up"][1]
                   and bounds["bottom_up"][0] <= bounds["top_down"][1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = td / bu
    finite = np.isfinite(ratio) & (ratio > 0)
    r = ratio[finite]
    r_lo, r_med, r_hi = np.percentile(r, [50 * (1 - interval), 50, 50 * (1 + interval)])
    p_higher = float(np.mean(td > bu))

    # -- drivers: swing of the ratio, and variance shares of the log ratio ----------------------
    basev = base_values(spec, "median")
    names = spec.uncertain_inputs
    k = len(names)
    values = {n: np.full(2 * k + 1, v) for n, v in basev.items()}
    for i, name in enumerate(names):
        lo, hi = spec.inputs[name].distribution.ppf(np.array(quantiles))
        values[name][2 * i], values[name][2 * i + 1] = lo, hi
    out = evaluate(spec, values, 2 * k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = out[keys["top_down"]] / out[keys["bottom_up"]]
    gap = np.log(r)
    g_rank = np.empty(gap.size)
    g_rank[_argsort(gap)] = np.arange(gap.size)
    td_inputs = set(output_inputs(spec, keys["top_down"]))
    bu_inputs = set(output_inputs(spec, keys["bottom_up"]))
    chain_of = {}
    for name in names:
        in_td, in_bu = name in td_inputs, name in bu_inputs
        chain_of[name] = "both" if in_td and in_bu else "top_down" if in_td \
            else "bottom_up" if in_bu else "neither"
    drows = []
    for i, name in enumerate(names):
        a, b = float(ratios[2 * i]), float(ratios[2 * i + 1])
        corr = _spearman(result.inputs[name][finite], g_rank)
        drows.append({
            "input": name, "label": spec.label(name), "chain": chain_of[name],
            "ratio_low": a, "ratio_high": b, "swing_log_ratio": abs(np.log(b) - np.log(a)),
            "closes_gap": bool(min(a, b) <= 1 <= max(a, b)), "rank_corr": corr,
        })
    table = pd.DataFrame(drows)
    table = table[table["chain"] != "neither"].copy()
    sq = table["rank_corr"] ** 2
    table["variance_share"] = sq / sq.sum() if sq.sum() > 0 else 0.0
    table = table.sort_values("swing_log_ratio", ascending=False, kind="stable") \
        .reset_index(drop=True)
    warnings = []
    if not overlap:
        warnings.append(
            f"the {interval:.0%} intervals of the two chains do not overlap "
            f"(top-down {bounds['top_down'][0]:,.4g}-{bounds['top_down'][1]:,.4g}, bottom-up "
            f"{bounds['bottom_up'][0]:,.4g}-{bounds['bottom_up'][1]:,.4g}): check the inputs "
            "that drive the gap")
    if not finite.all():
        warnings.append(f"{int((~finite).sum()):,} draws with a zero or non-finite ratio were "
                        "left out of the ratio")
    closers = table.loc[table["closes_gap"], "input"].tolist()
    return Reconciliation(
        name=f"Top-down vs bottom-up: {level.upper()} ({measure})",
        estimate=float(r_med), ci=(float(r_lo), float(r_hi)), ci_level=interval,
        method=(f"Ratio top-down / bottom-up computed draw by draw over {r.size:,} Monte Carlo "
                f"draws (median and central {interval:.0%} interval); intervals of the two "
                f"chains compared for overlap. Gap drivers: ratio with each input at its "
                f"{quantiles[0]:.0%}/{quantiles[1]:.0%} percentile (others at their medians), "
                "and normalised squared Spearman correlation of each input with the log ratio."),
        n=int(r.size), table=table,
        details={"overlap": overlap, "p_top_down_higher": p_higher,
                 "top_down_median": rows[0]["median"], "bottom_up_median": rows[1]["median"],
                 "top_down_low": bounds["top_down"][0], "top_down_high": bounds["top_down"][1],
                 "bottom_up_low": bounds["bottom_up"][0],
                 "bottom_up_high": bounds["bottom_up"][1],
                 "inputs_that_close_gap": closers},
        warnings=warnings, comparison=comparison, overlap=overlap,
    )
