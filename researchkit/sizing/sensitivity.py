"""Which inputs matter: the tornado (one at a time) and each input's share of output variance.

Tornado
-------
Each uncertain input in turn is set to its low and then its high value while every other input
stays at its base value (median by default); the chain is re-evaluated and the **swing**
``|y(high) − y(low)|`` is recorded. Bars are sorted by swing. By default low and high are the
5th and 95th percentiles of each input, so inputs described by different distributions are
compared on the same footing; ``quantiles=None`` uses the ranges the analyst stated (the bounds
of uniform/triangular/PERT inputs, the ends of a stated interval, the 5th/95th percentiles of
normal and lognormal inputs). One-at-a-time swings ignore correlations and interactions (Clemen
& Reilly, *Making Hard Decisions*, 2nd ed., 2001, ch. 5; Eschenbach 1992, "Spiderplots versus
tornado diagrams for sensitivity analysis", *Interfaces* 22(6), 40-46).

Variance shares
---------------
From the Monte Carlo draws (so correlations are included), two measures per input:

* ``rank_corr``: the Spearman correlation between input and output; ``rank_share`` =
  ``ρ_i² / Σ_j ρ_j²``, the "contribution to variance" of spreadsheet risk tools — a normalised
  approximation that assumes a roughly monotone, additive effect;
* ``first_order``: the first-order (main-effect) Sobol index ``S_i = Var(E[Y | X_i]) / Var(Y)``,
  estimated from the same draws by sorting on ``X_i`` and splitting into ``bins`` equal-count
  bins (the correlation ratio η²; Pearson 1905; Plischke 2010, "An effective algorithm for
  computing global sensitivity indices (EASI)", *Reliability Engineering & System Safety*
  95(4), 354-360): ``S_i ≈ [Σ_b n_b (ȳ_b − ȳ)² − (B − 1) s²_within] / Σ (y − ȳ)²``, the bias
  correction subtracting what the between-bin sum would be without any effect. For independent
  inputs the ``S_i`` sum to at most 1 (the rest is interaction); with correlated inputs they
  also carry the effect of the inputs each one is correlated with, so they may sum above 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError
from researchkit.results import Result
from researchkit.sizing.correlation import _argsort
from researchkit.sizing.model import base_values, evaluate, output_inputs, parse_output_key
from researchkit.sizing.simulate import SizingResult
from researchkit.sizing.spec import SizingSpec

__all__ = ["first_order_index", "tornado", "variance_shares"]


def _input_range(spec: SizingSpec, name: str, quantiles: tuple[float, float] | None
                 ) -> tuple[float, float]:
    dist = spec.inputs[name].distribution
    if quantiles is None:
        return dist.stated_range()
    lo, hi = dist.ppf(np.array(quantiles))
    return float(lo), float(hi)


def _check_quantiles(quantiles: Sequence[float] | None) -> tuple[float, float] | None:
    if quantiles is None:
        return None
    q = tuple(float(x) for x in quantiles)
    if len(q) != 2 or not 0 < q[0] < q[1] < 1:
        raise ParameterError("invalid tornado quantiles", parameter="quantiles",
                             expected="two levels 0 < low < high < 1, e.g. (0.05, 0.95)",
                             got=list(quantiles))
    return q[0], q[1]


def tornado(
    spec: SizingSpec, output: str, *, quantiles: Sequence[float] | None = (0.05, 0.95),
    base: Literal["median", "mean"] = "median",
) -> Result:
    """One-at-a-time sensitivity of an output to each uncertain input.

    Parameters
    ----------
    spec : SizingSpec
    output : str
        Output key ``chain.level.measure`` (e.g. ``"top_down.som.money"``).
    quantiles : (low, high) or None
        Input percentiles used as low and high (default 5th and 95th); ``None`` for the stated
        ranges.
    base : {"median", "mean"}
        Value of the inputs that are not being swung.

    Returns
    -------
    Result
        ``estimate``: the output at base values. ``table``: one row per input that the output
        depends on: ``input``, ``label``, ``low``, ``high`` (input values), ``output_low``,
        ``output_high``, ``swing`` = |output_high − output_low|, ``swing_share`` (swing / sum of
        swings), sorted by swing.
    """
    parse_output_key(spec, output)
    q = _check_quantiles(quantiles)
    basev = base_values(spec, base)
    used = set(output_inputs(spec, output))
    names = [n for n in spec.uncertain_inputs if n in used]
    k = len(names)
    values = {n: np.full(2 * k + 1, v) for n, v in basev.items()}
    ranges = {}
    for i, name in enumerate(names):
        lo, hi = _input_range(spec, name, q)
        ranges[name] = (lo, hi)
        values[name][2 * i] = lo
        values[name][2 * i + 1] = hi
    y = evaluate(spec, values, 2 * k + 1)[output]
    rows = []
    for i, name in enumerate(names):
        y_lo, y_hi = float(y[2 * i]), float(y[2 * i + 1])
        rows.append({"input": name, "label": spec.label(name), "low": ranges[name][0],
                     "high": ranges[name][1], "output_low": y_lo, "output_high": y_hi,
                     "swing": abs(y_hi - y_lo)})
    table = pd.DataFrame(rows, columns=["input", "label", "low", "high", "output_low",
                                        "output_high", "swing"])
    total = table["swing"].sum()
    table["swing_share"] = table["swing"] / total if total > 0 else 0.0
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    rng_text = (f"the {q[0]:.0%} and {q[1]:.0%} percentiles" if q is not None
                else "the stated ranges (bounds or interval ends)")
    return Result(
        name=f"Tornado: {output}", estimate=float(y[-1]),
        method=(f"One-at-a-time sensitivity: each input set to {rng_text} with all others at "
                f"their {base}; swing = |output(high) - output(low)|. Ignores correlations and "
                "interactions between inputs."),
        table=table, details={"output": output, "base": base, "n_inputs": k},
        reference="Eschenbach, T. G. (1992). Spiderplots versus tornado diagrams for "
                  "sensitivity analysis. Interfaces 22(6), 40-46.",
    )


def first_order_index(x: np.ndarray, y: np.ndarray, bins: int = 100) -> float:
    """First-order Sobol index of ``x`` for ``y`` from a sample, by equal-count binning.

    ``S = [Σ_b n_b (ȳ_b − ȳ)² − (B − 1) · SSW/(N − B)] / Σ (y − ȳ)²`` with B bins of ``x``
    (bias-corrected correlation ratio; see the module docstring).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if y.size != n:
        raise ParameterError("x and y differ in length", parameter="y")
    if not 2 <= bins <= n // 2:
        raise ParameterError("invalid number of bins", parameter="bins",
                             expected=f"an integer in [2, {n // 2}]", got=bins)
    sst = float(np.sum((y - y.mean()) ** 2))
    if sst == 0:
        return 0.0
    order = _argsort(x)
    ys = y[order]
    edges = np.linspace(0, n, bins + 1).round().astype(int)
    sums = np.add.reduceat(ys, edges[:-1])
    counts = np.diff(edges)
    means = sums / counts
    ssb = float(np.sum(counts * (means - y.mean()) ** 2))
    ssw = sst - ssb
    return (ssb - (bins - 1) * ssw / (n - bins)) / sst


def _spearman(x: np.ndarray, y_rank: np.ndarray) -> float:
    rx = np.empty(x.size)
    rx[_argsort(x)] = np.arange(x.size)
    return float(np.corrcoef(rx, y_rank)[0, 1])


def variance_shares(
    result: SizingResult, output: str, *, method: Literal["first_order", "rank"] = "first_order",
    bins: int = 100, max_draws: int | None = 200_000,
) -> Result:
    """Each uncertain input's share of an output's variance, from the Monte Carlo draws.

    Parameters
    ----------
    result : SizingResult
        From :func:`simulate`.
    output : str
        Output key ``chain.level.measure``.
    method : {"first_order", "rank"}
        Which measure sorts the table and is the ``share`` column: the first-order Sobol index
        (binned correlation ratio) or the normalised squared Spearman correlation. Both are
        always reported.
    bins : int
        Equal-count bins for the first-order index.
    max_draws : int or None
        Use only the first ``max_draws`` draws (draws are independent, so this is a random
        subsample); ``None`` uses all.

    Returns
    -------
    Result
        ``table``: ``input``, ``label``, ``rank_corr``, ``rank_share``, ``first_order``,
        ``share`` (the chosen method), sorted by ``share``. ``estimate``: the sum of the
        first-order indices.
    """
    if result.spec is None:
        raise ParameterError("the result carries no spec", parameter="result")
    spec = result.spec
    parse_output_key(spec, output)
    if method not in ("first_order", "rank"):
        raise ParameterError("unknown variance-share method", parameter="method",
                             expected="'first_order' or 'rank'", got=method)
    y = result.outputs[output]
    m = y.size if max_draws is None else min(y.size, int(max_draws))
    y = y[:m]
    y_rank = np.empty(m)
    y_rank[_argsort(y)] = np.arange(m)
    used = set(output_inputs(spec, output))
    corr_partners = {n for c in spec.correlations for n in (c.a, c.b)
                     if {c.a, c.b} & used}
    names = [n for n in spec.uncertain_inputs if n in used or n in corr_partners]
    rows = []
    for name in names:
        x = result.inputs[name][:m]
        rows.append({"input": name, "label": spec.label(name), "in_chain": name in used,
                     "rank_corr": _spearman(x, y_rank),
                     "first_order": first_order_index(x, y, bins)})
    table = pd.DataFrame(rows, columns=["input", "label", "in_chain", "rank_corr",
                                        "first_order"])
    sq = table["rank_corr"] ** 2
    table.insert(4, "rank_share", sq / sq.sum() if sq.sum() > 0 else 0.0)
    table["share"] = table["first_order"] if method == "first_order" else table["rank_share"]
    table = table.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)
    total = float(table["first_order"].sum())
    warnings = []
    if spec.correlations and not table["in_chain"].all():
        warnings.append("inputs outside this chain appear because they are correlated with "
                        "inputs in it; their shares reflect that correlation only")
    if spec.correlations:
        warnings.append("with correlated inputs, first-order indices include the effect of "
                        "the inputs each one is correlated with and can sum above 1")
    return Result(
        name=f"Variance shares: {output}", estimate=total,
        method=(f"From {m:,} Monte Carlo draws: first-order Sobol index per input by "
                f"{bins} equal-count bins (bias-corrected correlation ratio), and squared "
                "Spearman correlations normalised to sum to 1. 'share' = "
                + ("first-order index." if method == "first_order"
                   else "normalised squared rank correlation.")),
        table=table, n=m, details={"output": output, "method": method, "bins": bins,
                                   "sum_first_order": total},
        warnings=warnings,
        reference="Plischke, E. (2010). An effective algorithm for computing global "
                  "sensitivity indices (EASI). Reliability Engineering & System Safety 95(4), "
                  "354-360; Saltelli, A. et al. (2008). Global Sensitivity Analysis: The Primer.",
    )
