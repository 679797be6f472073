"""Import rules from DESIGN.md: a cheap top-level import; arrows point downward only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "researchkit"
AREAS = {"survey", "qual", "panel", "experiments", "sizing", "channels"}
HEAVY = ["pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "duckdb",
         "pingouin", "papermill", "nbconvert", "pydantic", "pyarrow"]


def test_import_researchkit_loads_no_heavy_library():
    code = ("import sys, researchkit; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"`import researchkit` imports {out}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("researchkit")}


def test_areas_do_not_import_each_other_and_runner_imports_no_analysis():
    problems = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        owner = rel[0] if len(rel) > 1 else None
        for mod in _imports(path):
            parts = mod.split(".")
            target = parts[1] if len(parts) > 1 else None
            if owner in AREAS and target in AREAS and target != owner:
                problems.append(f"{path.relative_to(ROOT)} imports {mod}")
            if owner == "runner" and target in AREAS:
                problems.append(f"{path.relative_to(ROOT)} imports analysis code {mod}")
            if owner is None and target in AREAS | {"runner"} and path.name != "__init__.py":
                problems.append(f"base module {path.relative_to(ROOT)} imports {mod}")
            # a simulator may use its own area's specs (e.g. to follow a questionnaire's
            # routing), never another area's
            if owner == "datasets" and target in AREAS | {"runner"} and target != path.stem:
                problems.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert problems == []
