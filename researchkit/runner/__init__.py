"""The study runner: study files, parameter checks, papermill execution, run records, CLI.

The runner imports no analysis code: it validates and executes notebooks, which call the
analysis areas themselves.
"""

from researchkit.runner.notebooks import NotebookInfo, list_notebooks, read_notebook_info
from researchkit.runner.plan import Finding, check_plan, research_brief
from researchkit.runner.run import RunSummary, prepare_study, run_notebook, run_study
from researchkit.runner.study import Study, load_study, parse_study

__all__ = [
    "Finding",
    "NotebookInfo",
    "RunSummary",
    "Study",
    "check_plan",
    "list_notebooks",
    "load_study",
    "parse_study",
    "prepare_study",
    "read_notebook_info",
    "research_brief",
    "run_notebook",
    "run_study",
]
