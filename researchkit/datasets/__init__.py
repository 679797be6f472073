"""Simulated data with known ground truth, and small bundled example files.

Simulators
----------
Every simulator is a function ``name(n=..., seed=..., **knobs)`` returning a
:class:`Simulated`: the data (a DataFrame or a dict of DataFrames) plus ``truth``, the
population values the simulation was built from, so a test or a workshop exercise can check that
an analysis recovers them. The same ``seed`` always gives the same data.

Simulators live in one module per area (``researchkit.datasets.survey``, ``.qual``, ``.panel``,
``.experiments``, ``.sizing``, ``.channels``) and are also reachable from this package:
``researchkit.datasets.<simulator>``.

Bundled files
-------------
Small example files ship in ``researchkit/datasets/data/``; :func:`example_path` returns the
path of one, :func:`list_examples` lists them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from researchkit.datasets.base import Simulated, example_path, list_examples, make_rng

__all__ = ["Simulated", "example_path", "list_examples", "make_rng"]

#: Area modules whose public simulators are re-exported here (looked up lazily).
_AREAS = ("survey", "qual", "panel", "experiments", "sizing", "channels")


def _area_modules() -> list[Any]:
    modules = []
    for area in _AREAS:
        try:
            modules.append(import_module(f"researchkit.datasets.{area}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"researchkit.datasets.{area}":
                raise
    return modules


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
