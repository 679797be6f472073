"""The study runner: study files, parameter checks, papermill execution, run records, CLI.

The runner imports no analysis code: it validates and executes notebooks, which call the
analysis areas themselves. Names are imported lazily, so the CLI starts fast.
"""

from __future__ import annotations

from researchkit._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
