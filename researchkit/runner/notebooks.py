"""What the runner knows about a notebook before executing it.

A researchkit notebook carries, in its metadata under ``researchkit``:

* ``description``: one sentence shown by ``researchkit list``;
* ``ci``: a small parameter set (small data) that the test suite runs the notebook with.

and has exactly one code cell tagged ``parameters`` (see :mod:`researchkit.runner.parameters`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from researchkit.errors import ParameterError
from researchkit.runner.parameters import ParameterSpec, check_value, parse_parameters_cell
from researchkit.runner.paths import notebooks_dir

__all__ = ["NotebookInfo", "find_notebook", "list_notebooks", "read_notebook_info"]


@dataclass(frozen=True)
class NotebookInfo:
    """A notebook's name, description, declared parameters and CI parameter set."""

    path: Path
    name: str
    description: str
    parameters: dict[str, ParameterSpec]
    ci: dict[str, Any] = field(default_factory=dict)

    def check(self, values: Mapping[str, Any], *, where: str | None = None) -> list[str]:
        """Problems with ``values`` as parameters of this notebook (empty list = fine)."""
        problems = []
        for key, value in values.items():
            spec = self.parameters.get(key)
            if spec is None:
                problems.append(f"unknown parameter {key!r}")
                continue
            issue = check_value(spec, value)
            if issue:
                problems.append(f"parameter {key!r}: {issue}")
        return problems

    def accepted(self) -> str:
        """Human-readable list of accepted parameters, for error messages."""
        if not self.parameters:
            return f"notebook {self.name!r} accepts no parameters"
        items = ", ".join(f"{s.name}: {s.type_text} = {s.default!r}"
                          for s in self.parameters.values())
        return f"notebook {self.name!r} accepts: {items}"

    def validate(self, values: Mapping[str, Any], *, where: str | None = None,
                 file: str | None = None) -> dict[str, Any]:
        """Raise one :class:`ParameterError` for every problem; return the merged parameters."""
        problems = self.check(values)
        if problems:
            raise ParameterError("; ".join(problems), file=file, field=where,
                                 hint=self.accepted())
        merged = {name: spec.default for name, spec in self.parameters.items()}
        merged.update(values)
        return merged


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def read_notebook_info(path: str | Path) -> NotebookInfo:
    """Read a notebook's description, parameters and CI parameter set.

    Raises
    ------
    ParameterError
        Unreadable notebook, no tagged ``parameters`` cell (or more than one), or a
        parameters cell that is not plain literal assignments.
    """
    p = Path(path)
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError("notebook not found", file=p) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError(f"cannot read notebook: {exc}", file=p) from None
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ParameterError(
            "the notebook has no cell tagged 'parameters'", file=p,
            hint="tag the code cell holding the defaults with 'parameters' (papermill's "
            "convention) so the runner can check and inject parameters",
        )
    if len(tagged) > 1:
        raise ParameterError(f"{len(tagged)} cells are tagged 'parameters'; expected one",
                             file=p)
    if tagged[0].get("cell_type") != "code":
        raise ParameterError("the cell tagged 'parameters' is not a code cell", file=p)
    specs = parse_parameters_cell(_source(tagged[0]), notebook=str(p))
    meta = nb.get("metadata", {}).get("researchkit", {})
    description = str(meta.get("description", "")).strip()
    if not description:
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                lines = [ln.strip("# ").strip() for ln in _source(cell).splitlines()]
                description = next((ln for ln in lines if ln), "")
                break
    ci = meta.get("ci", {})
    if not isinstance(ci, dict):
        raise ParameterError("metadata researchkit.ci must be a mapping of parameters", file=p,
                             got=ci)
    return NotebookInfo(path=p.resolve(), name=p.stem, description=description,
                        parameters=specs, ci=dict(ci))


def list_notebooks(folder: str | Path | None = None) -> list[NotebookInfo]:
    """Every notebook in ``folder`` (default: the shipped ``notebooks/``), sorted by name."""
    d = Path(folder) if folder is not None else notebooks_dir()
    return [read_notebook_info(p) for p in sorted(d.glob("*.ipynb"))]


def find_notebook(ref: str, *, base_dir: Path) -> Path | None:
    """Resolve a study's ``notebook:`` entry: a shipped notebook's name, or a path.

    ``"survey_analysis"`` (or ``"survey_analysis.ipynb"``) names a shipped notebook; anything
    with a folder separator is a path relative to ``base_dir``.
    """
    if "/" in ref or "\\" in ref:
        candidate = Path(ref).expanduser()
        candidate = candidate if candidate.is_absolute() else base_dir / candidate
        return candidate.resolve() if candidate.is_file() else None
    stem = ref[:-6] if ref.endswith(".ipynb") else ref
    shipped = notebooks_dir() / f"{stem}.ipynb"
    if shipped.is_file():
        return shipped.resolve()
    local = base_dir / f"{stem}.ipynb"
    return local.resolve() if local.is_file() else None
