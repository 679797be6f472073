"""The causal_impact notebook runs every design at CI size (test_notebooks covers the default
design) and recovers the simulated effect within its interval for the designs with one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from researchkit.errors import ParameterError
from researchkit.experiments.causal import design_narrative
from researchkit.experiments.causal.narrative import DESIGN_NARRATIVES
from researchkit.runner import run_study
from researchkit.runner.notebooks import read_notebook_info

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "causal_impact.ipynb"
DESIGNS = ["event_study", "staggered", "synthetic_control", "its"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("causal_nb")
    ci = read_notebook_info(NOTEBOOK).ci
    entries = "".join(
        f"  - notebook: causal_impact\n    name: {d}\n"
        f"    parameters: {json.dumps({**ci, 'design': d})}\n" for d in DESIGNS)
    study = folder / "study.yaml"
    study.write_text(
        "title: causal designs\nobjectives: [Run every design]\n"
        "design: {goal: causal, setting: desk, nature: quantitative}\nseed: 3\n"
        "notebooks:\n" + entries, encoding="utf-8")
    return run_study(study, jobs=2, out=folder / "runs", timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS)
def test_every_design_runs(runs, design):
    record = json.loads((runs.folder / design / "run.json").read_text())
    assert record["status"] == "ok", record.get("error")
    results = json.loads((runs.folder / design / "results.json").read_text())
    assert results["design"] == design
    assert results["true_effect"] is not None
    if design != "synthetic_control":  # synthetic control reports a permutation p-value only
        assert results["ci_low"] < results["ci_high"]
    assert results["checks"]


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS)
def test_report_explains_the_chosen_design_only(runs, design):
    html = (runs.folder / design / "report.html").read_text(encoding="utf-8")
    headings = set(re.findall(r"<h2[^>]*>([^<]+)", html))
    shown = {d for d, text in DESIGN_NARRATIVES.items()
             if text.splitlines()[0].removeprefix("## ") in headings}
    assert shown == {design}, headings


def test_design_narrative():
    from IPython.display import Markdown

    md = design_narrative("its")
    assert isinstance(md, Markdown)
    assert md.data.startswith("## Interrupted time series")
    assert set(DESIGN_NARRATIVES) == {"did", *DESIGNS}
    with pytest.raises(ParameterError, match="design"):
        design_narrative("rdd")
