"""Simulated data with known ground truth, and small bundled example files.

Simulators
----------
Every simulator is a function ``name(n=..., seed=..., **knobs)`` returning a
:class:`Simulated`: the data (a DataFrame or a dict of DataFrames) plus ``truth``, the
population values the simulation was built from, so a test or a workshop exercise can check that
an analysis recovers them. The same ``seed`` always gives the same data.

Simulators live in topic modules of this package (``researchkit.datasets.survey``, ``.qual``,
``.panel``, ``.experiments``...), each with an ``__all__``; every name in those ``__all__`` lists
is also reachable from this package: ``researchkit.datasets.<simulator>``.

Bundled files
-------------
Small example files ship in ``researchkit/datasets/data/``; :func:`example_path` returns the
path of one, :func:`list_examples` lists them.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from typing import Any

from researchkit.datasets.base import Simulated, example_path, list_examples, make_rng

__all__ = ["Simulated", "example_path", "list_examples", "make_rng"]


@cache
def _topic_names() -> tuple[str, ...]:
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)
                        if m.name != "base" and not m.name.startswith("_")))


def _area_modules() -> list[Any]:
    """Topic modules, imported lazily (on the first lookup of a simulator)."""
    return [import_module(f"researchkit.datasets.{name}") for name in _topic_names()]


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    for module in _area_modules():
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module 'researchkit.datasets' has no simulator or attribute {name!r}")


def __dir__() -> list[str]:
    names = set(__all__)
    for module in _area_modules():
        names.update(getattr(module, "__all__", ()))
    return sorted(names)
