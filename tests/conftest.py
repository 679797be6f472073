"""Shared fixtures: small notebooks and studies built in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def make_notebook(path: Path, parameters: str, *cells: str, description: str = "test notebook",
                  ci: dict | None = None, tag: bool = True) -> Path:
    """Write a notebook: a parameters cell (tagged unless ``tag=False``) then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {path.stem}"))
    pcell = nbformat.v4.new_code_cell(parameters)
    if tag:
        pcell.metadata["tags"] = ["parameters"]
    nb.cells.append(pcell)
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["researchkit"] = {"description": description, "ci": ci or {}}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook_factory(tmp_path: Path) -> Callable[..., Path]:
    def factory(name: str, parameters: str, *cells: str, **kwargs) -> Path:
        return make_notebook(tmp_path / "nbs" / f"{name}.ipynb", parameters, *cells, **kwargs)

    return factory


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point researchkit's run context at a temporary folder."""
    folder = tmp_path / "run"
    folder.mkdir()
    monkeypatch.setenv("RESEARCHKIT_RUN_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _no_stray_run_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RESEARCHKIT_RUN_DIR", "RESEARCHKIT_STUDY_FILE"):
        if var in os.environ:
            monkeypatch.delenv(var)
