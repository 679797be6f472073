"""Plan consistency rules, study templates, and the parameters-cell parser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from researchkit.errors import ParameterError
from researchkit.runner import check_plan, load_study, parse_study, research_brief
from researchkit.runner.parameters import check_value, parse_parameters_cell

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
title: T
objectives: [o]
notebooks: [{notebook: research_plan}]
"""


def findings(extra: str, **kwargs) -> dict[str, list[str]]:
    study = parse_study(BASE + extra, base_dir=ROOT)
    out: dict[str, list[str]] = {}
    for f in check_plan(study, **kwargs):
        out.setdefault(f.severity, []).append(f"{f.field}: {f.message}")
    return out


def test_causal_study_needs_causal_hypothesis_and_experiment():
    got = findings("design: {goal: causal, setting: field, nature: quantitative}\n"
                   "methods: [{kind: survey, contact: online}]\n"
                   "hypotheses: [{statement: s, type: causal}]\n"
                   "sampling: {population: p, method: census}\n")
    errors = "\n".join(got["error"])
    assert "experiment or a quasi-experiment" in errors
    assert "name its cause and its effect" in errors
    ok = findings("design: {goal: causal, setting: field, nature: quantitative}\n"
                  "methods: [{kind: experiment}]\n"
                  "hypotheses: [{statement: s, type: causal, cause: c, effect: e}]\n"
                  "sampling: {population: p, method: census}\n")
    assert "error" not in ok


def test_quantitative_study_needs_sampling_plan():
    got = findings("design: {goal: descriptive, setting: field, nature: quantitative}\n"
                   "methods: [{kind: survey, contact: mail}]\nhypotheses: [{statement: s}]\n")
    assert any("sampling plan" in e for e in got["error"])
    got = findings("design: {goal: descriptive, setting: field, nature: quantitative}\n"
                   "methods: [{kind: survey, contact: mail}]\nhypotheses: [{statement: s}]\n"
                   "sampling: {population: p, method: convenience, size: 100}\n")
    assert any("not a probability sample" in w for w in got["warning"])


def test_desk_sources_need_dates_and_freshness():
    extra = ("design: {goal: exploratory, setting: desk, nature: qualitative}\n"
             "methods: [{kind: desk_research}]\n"
             "data_sources:\n"
             "  - {name: old report, kind: secondary, date: 2020-01-01}\n"
             "  - {name: undated, kind: secondary}\n"
             "  - {name: fresh, kind: secondary, date: 2025-12-01}\n")
    got = findings(extra, as_of=date(2026, 1, 1))
    warnings = "\n".join(got["warning"])
    assert "data_sources[0].date" in warnings and "2192 days old" in warnings
    assert "data_sources[1].date" in warnings and "no date" in warnings
    assert "data_sources[2]" not in warnings
    relaxed = findings(extra, as_of=date(2026, 1, 1), max_source_age_days=3000)
    assert "days old" not in "\n".join(relaxed["warning"])
    none = findings("design: {goal: exploratory, setting: desk, nature: qualitative}\n"
                    "methods: [{kind: desk_research}]\n")
    assert any("secondary source" in e for e in none["error"])


def test_focus_group_and_qualitative_rules():
    got = findings("design: {goal: exploratory, setting: field, nature: qualitative}\n"
                   "methods: [{kind: focus_group, participants: 20, duration_minutes: 30}]\n"
                   "hypotheses: [{statement: s, type: associative}]\n")
    text = "\n".join(got.get("warning", []) + got.get("info", []))
    assert "6-12" in text and "90 minutes" in text and "discussion guide" in text
    assert "not for statistical tests" in text


def test_shipped_example_studies():
    survey = load_study(ROOT / "templates" / "studies" / "descriptive_survey.yaml")
    campaign = load_study(ROOT / "templates" / "studies" / "causal_campaign.yaml")
    assert survey.design.goal == "descriptive" and campaign.design.goal == "causal"
    assert [f for f in check_plan(campaign) if f.severity == "error"] == []
    brief = research_brief(survey)
    for heading in ("## Objectives", "## Hypotheses", "## Design", "## Sampling plan",
                    "## Instruments", "| Goal | descriptive |", "±3.0% at 95% confidence"):
        assert heading in brief


def test_parameters_cell_parsing():
    specs = parse_parameters_cell(
        'from typing import Literal\n'
        'n: int = 10  # respondents\nrate = 0.5\nmode: Literal["a", "b"] = "a"\n'
        "segs: list[str] | None = None  # segments\nopts: dict[str, float] = {}\n",
        notebook="nb")
    assert specs["n"].description == "respondents" and specs["rate"].type_text == "float"
    assert check_value(specs["n"], 3) is None and check_value(specs["n"], "3")
    assert check_value(specs["n"], True) and check_value(specs["n"], 1.0)
    assert check_value(specs["rate"], 1) is None  # int accepted as float
    assert check_value(specs["mode"], "b") is None and check_value(specs["mode"], "c")
    assert check_value(specs["segs"], None) is None and check_value(specs["segs"], ["x"]) is None
    assert check_value(specs["segs"], "x")
    assert check_value(specs["opts"], {"a": 1.5}) is None


@pytest.mark.parametrize("source, message", [
    ("import os", "only hold assignments"),
    ("from typing import cast", "only hold assignments"),
    ("x = len('a')", "must be a literal"),
    ("x: int = 'a'", "does not match its type"),
    ("x: Path = 'a'", "unsupported type"),
    ("x = (", "not valid Python"),
])
def test_parameters_cell_errors(source, message):
    with pytest.raises(ParameterError, match=message):
        parse_parameters_cell(source, notebook="nb.ipynb")
