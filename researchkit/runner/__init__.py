"""The study runner: study files, parameter checks, papermill execution, run records, CLI.

The runner imports no analysis code: it validates and executes notebooks, which call the
analysis areas themselves. Names are imported lazily, so the CLI starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Finding": "plan",
    "check_plan": "plan",
    "research_brief": "plan",
    "NotebookInfo": "notebooks",
    "list_notebooks": "notebooks",
    "read_notebook_info": "notebooks",
    "RunSummary": "run",
    "prepare_study": "run",
    "run_notebook": "run",
    "run_study": "run",
    "Study": "study",
    "load_study": "study",
    "parse_study": "study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f"researchkit.runner.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'researchkit.runner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
