"""Every notebook in notebooks/: conventions, starter study, and a CI-sized run (twice).

A notebook added to notebooks/ is covered automatically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from researchkit.runner import load_study, prepare_study, run_study
from researchkit.runner.notebooks import read_notebook_info

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert "research_plan" in NAMES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_conventions(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} has outputs: commit notebooks clean"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
    info = read_notebook_info(path)
    assert info.description, "metadata.researchkit.description is missing"
    assert nb["cells"][0]["cell_type"] == "markdown", "start with a narrative markdown cell"
    for spec in info.parameters.values():
        assert spec.type_text != "Any", f"parameter {spec.name!r} needs a type annotation"
        assert spec.description, f"parameter {spec.name!r} needs a '# comment' describing it"
    assert info.check(info.ci) == [], "metadata.researchkit.ci does not fit the parameters"
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "record_results(" in code, "the notebook must record its headline numbers"


@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_has_a_starter_study_and_is_in_the_demo(name: str):
    starter = ROOT / "templates" / "studies" / f"{name}.yaml"
    assert starter.is_file(), f"templates/studies/{name}.yaml is missing"
    study = load_study(starter)
    assert any(p.info.name == name for p in prepare_study(study))
    demo = yaml.safe_load((ROOT / "templates" / "demo-study.yaml").read_text())
    assert any(Path(e["notebook"]).stem == name for e in demo["notebooks"]), \
        f"{name} is not part of templates/demo-study.yaml (make demo runs every notebook)"


def test_demo_study_is_valid():
    study = load_study(ROOT / "templates" / "demo-study.yaml")
    assert prepare_study(study)


@pytest.fixture(scope="module")
def ci_runs(tmp_path_factory):
    """Run every notebook with its CI parameters, twice."""
    folder = tmp_path_factory.mktemp("ci")
    entries = []
    for path in NOTEBOOKS:
        info = read_notebook_info(path)
        params = json.dumps(info.ci)
        entries.append(f"  - notebook: {info.name}\n    parameters: {params}\n")
    study = folder / "ci-study.yaml"
    study.write_text(
        "title: CI run of every notebook\nobjectives: [Run every notebook]\n"
        "design: {goal: descriptive, setting: field, nature: quantitative}\nseed: 11\n"
        "notebooks:\n" + "".join(entries), encoding="utf-8")
    return [run_study(study, jobs=2, out=folder / "runs", timeout=600) for _ in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_records_results(ci_runs, name: str):
    first = ci_runs[0].folder / name
    record = json.loads((first / "run.json").read_text())
    assert record["status"] == "ok", record.get("error")
    assert (first / "report.html").stat().st_size > 1000
    results = json.loads((first / "results.json").read_text())
    assert results, "results.json is empty"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_results_are_reproducible(ci_runs, name: str):
    a, b = (json.loads((run.folder / name / "results.json").read_text()) for run in ci_runs)
    assert a == b
