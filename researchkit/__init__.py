"""researchkit: a marketing-research workbench for JupyterLab.

From research plan to reproducible report: survey design, sampling, cleaning and weighting;
qualitative coding; panels; A/B tests and quasi-experiments; market sizing; channel attribution
and marketing-mix models.

Importing the package is cheap: the areas (``researchkit.survey``, ``researchkit.experiments``,
...) and the heavy libraries they use are imported only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from researchkit.errors import DataError, ParameterError, ResearchkitError, SpecError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "ParameterError",
    "ResearchkitError",
    "SpecError",
    "__version__",
]

_SUBMODULES = frozenset(
    {
        "channels",
        "config",
        "datasets",
        "errors",
        "experiments",
        "io",
        "markov",
        "panel",
        "plots",
        "qual",
        "results",
        "run_context",
        "runner",
        "sizing",
        "survey",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = import_module(f"researchkit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'researchkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
