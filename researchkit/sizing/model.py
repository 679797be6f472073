"""Evaluating a sizing spec's chains on given input values (numbers or whole samples).

Output keys are ``chain.level.measure``, e.g. ``top_down.som.money``:

* a chain measured in **units** gives ``level.units`` = its expression, and with a price also
  ``level.money`` = units × price;
* a chain measured in **money** gives ``level.money`` = its expression, and with a price also
  ``level.units`` = money / price.

The same function serves the Monte Carlo simulation (arrays of draws), the tornado (a few rows
of chosen values) and the reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from researchkit.sizing.spec import LEVELS, SizingSpec

if TYPE_CHECKING:
    from researchkit.sizing.parallel import Runner
    from researchkit.sizing.spec import Chain

__all__ = ["base_values", "evaluate", "output_inputs", "output_key", "parse_output_key"]


def output_key(chain: str, level: str, measure: str) -> str:
    """``"top_down", "som", "money"`` → ``"top_down.som.money"``."""
    return f"{chain}.{level}.{measure}"


def parse_output_key(spec: SizingSpec, key: str, *, parameter: str = "output"
                     ) -> tuple[str, str, str]:
    """Split and check an output key; a bad key raises a ParameterError listing valid keys."""
    from researchkit.errors import ParameterError

    if key not in spec.outputs():
        raise ParameterError("unknown sizing output", parameter=parameter, got=key,
                             expected=f"one of {spec.outputs()}")
    chain, level, measure = key.split(".")
    return chain, level, measure


def output_inputs(spec: SizingSpec, key: str) -> list[str]:
    """The inputs an output depends on (through its level, the levels above it that the level
    uses, and the price when the output is converted), in spec order."""
    chain_name, level, measure = parse_output_key(spec, key)
    chain = spec.chains[chain_name]
    needed: set[str] = set()
    todo = [level]
    seen: set[str] = set()
    while todo:
        lvl = todo.pop()
        if lvl in seen:
            continue
        seen.add(lvl)
        for name in chain.levels[lvl].names:
            if name in LEVELS:
                todo.append(name)
            else:
                needed.add(name)
    if measure != chain.measure and chain.price is not None:
        needed.update(chain.price.names)
    return [n for n in spec.inputs if n in needed]


def evaluate(spec: SizingSpec, values: Mapping[str, Any], n: int | None = None, *,
             runner: Runner | None = None) -> dict[str, np.ndarray]:
    """Every output of the spec for the given input values.

    Parameters
    ----------
    spec : SizingSpec
    values : mapping name → number or 1-D array
        A value for every input (arrays of one common length ``n``).
    n : int, optional
        Length of the outputs (default: the length of the array values, else 1).
    runner : Runner, optional
        Evaluates the chains in parallel (:func:`researchkit.sizing.parallel.worker_pool`).

    Returns
    -------
    dict
        ``{"chain.level.measure": array of length n}`` in spec order.
    """
    if n is None:
        sizes = {np.size(v) for v in values.values() if np.ndim(v) > 0}
        n = sizes.pop() if sizes else 1
    tasks = [partial(_evaluate_chain, chain, values, n) for chain in spec.chains.values()]
    out: dict[str, np.ndarray] = {}
    for part in (runner.run(tasks) if runner is not None else [t() for t in tasks]):
        out.update(part)
    # keep the documented key order: levels in order, units before money
    return {k: out[k] for k in spec.outputs() if k in out}


def _evaluate_chain(chain: Chain, values: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    env: dict[str, Any] = dict(values)
    price = None
    if chain.price is not None:
        price = np.broadcast_to(np.asarray(chain.price.evaluate(values), dtype=float), (n,))
    for level in LEVELS:
        expr = chain.levels.get(level)
        if expr is None:
            continue
        value = np.asarray(expr.evaluate(env), dtype=float)
        if value.shape != (n,):
            value = np.broadcast_to(value, (n,)).copy()
        env[level] = value
        if chain.measure == "units":
            out[output_key(chain.name, level, "units")] = value
            if price is not None:
                out[output_key(chain.name, level, "money")] = value * price
        else:
            if price is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[output_key(chain.name, level, "units")] = value / price
            out[output_key(chain.name, level, "money")] = value
    return out


def base_values(spec: SizingSpec, base: str = "median") -> dict[str, float]:
    """Each input's base value: its median (default) or its mean."""
    from researchkit.errors import ParameterError

    if base not in ("median", "mean"):
        raise ParameterError("unknown base value", parameter="base",
                             expected="'median' or 'mean'", got=base)
    return {name: float(getattr(inp.distribution, base)) for name, inp in spec.inputs.items()}
