"""Questionnaire format, routing language, rendering, data map and SPSS export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets.survey import questionnaire_path, simulate_concept_test
from researchkit.errors import SpecError
from researchkit.survey import (
    data_map,
    export_sav,
    load_questionnaire,
    parse_condition,
    parse_questionnaire,
    read_sav,
    to_html,
    to_markdown,
)
from researchkit.survey.questionnaire import QUESTION_TYPES
from researchkit.survey.routing import RoutingSyntaxError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["brand_tracker", "omnichannel_cx", "concept_test"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_questionnaires_load(name):
    qn = load_questionnaire(ROOT / "surveys" / f"{name}.yaml")
    assert qn.mode in ("personal", "telephone", "mail", "online")
    dm = data_map(qn)
    assert dm["variable"].is_unique
    assert {"variable", "label", "codes", "measure"} <= set(dm.columns)


def test_shipped_questionnaires_cover_every_question_type():
    types = {q.type for n in SHIPPED for q in load_questionnaire(questionnaire_path(n))
             .questions()}
    assert types == set(QUESTION_TYPES)


def test_descriptive_survey_study_points_to_brand_tracker():
    text = (ROOT / "templates" / "studies" / "descriptive_survey.yaml").read_text()
    assert "surveys/brand_tracker.yaml" in text
    assert (ROOT / "surveys" / "brand_tracker.yaml").is_file()


def test_brand_tracker_content():
    qn = load_questionnaire(questionnaire_path("brand_tracker"))
    ids = [q.id for q in qn.questions()]
    for needed in ("aware", "consider", "usage", "nps", "image"):
        assert needed in ids
    assert qn.question("image").type == "grid" and len(qn.question("image").items) >= 6
    assert qn.question("nps").codes[0] == "Not at all likely"


BAD = """\
id: bad
title: Broken questionnaire
mode: online
scales:
  empty: {points: 1}
splits:
  - {id: form, variants: [A, B]}
sections:
  - id: s1
    title: One
    questions:
      - {id: q1, type: single, text: First, options: {1: 'Yes', 2: 'No'}}
      - {id: q1, type: single, text: Again, options: {1: 'Yes', 2: 'No'}}
      - {id: q3, type: likert, text: Agree, scale: {points: 5, labels: {1: Never, 5: Always}}}
      - {id: q4, type: single, text: Routed, options: {1: a, 2: b}, show_if: "q9 == 1"}
      - {id: q5, type: single, text: Later, options: {1: a, 2: b}, show_if: "q6 == 1"}
      - {id: q6, type: rating, variants: {A: x, B: y}, scale: {points: 5}}
      - {id: q7, type: rating, text: Bad scale, scale: empty}
      - {id: q8, type: single, text: Code, options: {1: a, 2: b}, show_if: "q1 == 7"}
      - {id: q10, type: single, text: Syntax, options: {1: a, 2: b}, show_if: "q1 = = 1"}
      - {id: q11, type: rating, text: Inconsistent, scale: {points: 3, labels: {5: Top}}}
quotas:
  - {id: qa, variable: nope, targets: {1: 10}}
"""


def test_every_problem_is_listed_at_once_with_field_paths_and_lines():
    with pytest.raises(SpecError) as e:
        parse_questionnaire(BAD, source="bad.yaml")
    err = e.value
    text = str(err)
    fields = [p.field for p in err.problems]
    assert err.file == "bad.yaml"
    assert "duplicate question id 'q1'" in text
    assert "Likert scale labels every point" in text
    assert "unknown question 'q9'" in text
    assert "asked at or after this question" in text          # q5 refers to later q6
    assert "wording variants need a 'split'" in text
    assert "at least 2 points" in text                        # empty scale
    assert "code 7" in text                                   # code not among options
    assert "does not parse" in text
    assert "outside the scale" in text                        # inconsistent scale labels
    assert "unknown variable 'nope'" in text
    assert "not used by any question" in text                 # split without questions
    assert "sections[0].questions[1].id" in fields
    assert all(p.line is not None for p in err.problems if p.field.startswith("sections"))
    assert len(err.problems) >= 11


def test_unquoted_yes_no_labels_are_reported_not_guessed():
    text = BAD.replace("{1: 'Yes', 2: 'No'}", "{1: Yes, 2: No}")
    with pytest.raises(SpecError, match="put it in quotes") as e:
        parse_questionnaire(text)
    assert e.value.problems[0].field == "sections[0].questions[0].options"


def test_pydantic_errors_have_paths():
    with pytest.raises(SpecError) as e:
        parse_questionnaire("id: x\ntitle: t\nmode: carrier-pigeon\nsections: []\n")
    fields = {p.field for p in e.value.problems}
    assert "mode" in fields and "sections" in fields


def test_load_questionnaire_missing_file(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_questionnaire(tmp_path / "nope.yaml")


# --- routing ----------------------------------------------------------------------------
DATA = pd.DataFrame({
    "age": [20, 40, np.nan, 70],
    "region": [1, 2, 3, np.nan],
    "aware_1": [1, 0, 1, np.nan], "aware_2": [0, 0, 1, np.nan],
    "txt": ["a", None, "b", None],
})


@pytest.mark.parametrize("expr, expected", [
    ("age >= 30", [False, True, False, True]),
    ("age >= 30 and region in (1, 2)", [False, True, False, False]),
    ("not age >= 30", [True, False, False, False]),   # unknown stays unknown → not shown
    ("age < 30 or region == 3", [True, False, True, False]),
    ("region not in [1, 2]", [False, False, True, False]),
    ("aware has 1", [True, False, True, False]),
    ("aware has all (1, 2)", [False, False, True, False]),
    ("aware has any (1, 2)", [True, False, True, False]),
    ("not aware has 1", [False, True, False, False]),
    ("count(aware) >= 1", [True, False, True, False]),
    ("answered(txt)", [True, False, True, False]),
    ("age is missing", [False, False, True, False]),
    ("age is not missing and (region == 1 or region == 2)", [True, True, False, False]),
    ("txt == 'b'", [False, False, True, False]),
])
def test_routing_evaluation(expr, expected):
    cols = {"aware": ["aware_1", "aware_2"]}
    cond = parse_condition(expr)
    got = cond.evaluate(DATA, lambda n: cols.get(n, [n]))
    assert got.tolist() == expected


@pytest.mark.parametrize("expr", [
    "__import__('os').system('echo hi')", "age >= ", "age >>= 3", "(age > 1", "age in 1",
    "", "1 +", "age; region", "lambda: 1",
])
def test_routing_rejects_bad_syntax_without_eval(expr):
    with pytest.raises(RoutingSyntaxError):
        parse_condition(expr)


def test_routing_names_and_codes():
    cond = parse_condition("aware has (1, 3) and region in (2, 4) or age != 5")
    assert cond.names == ["aware", "region", "age"]
    assert ("region", 4) in cond.codes_used() and ("aware", 3) in cond.codes_used()


# --- rendering ----------------------------------------------------------------------------
def test_render_markdown_and_html():
    qn = load_questionnaire(questionnaire_path("concept_test"))
    md = to_markdown(qn)
    assert md.startswith("# New product concept test")
    assert "Split ballot `concept_form`" in md and "*Version B*" in md
    assert "Ask if: `intent >= 3`" in md
    assert "Old-fashioned" in md
    page = to_html(qn)
    assert page.startswith("<!DOCTYPE html>") and "Version A" in page
    assert "<script" not in page


def test_data_map_multiple_grid_and_split():
    qn = load_questionnaire(questionnaire_path("brand_tracker"))
    dm = data_map(qn).set_index("variable")
    assert dm.loc["aware_99", "codes"] == {0: "Not selected", 1: "Selected"}
    assert dm.loc["img_boring", "question"] == "image"
    assert dm.loc["img_boring", "codes"][5] == "Strongly agree"
    assert dm.loc["nps", "routing"] == "usage in (1, 2, 3)"
    ct = data_map(load_questionnaire(questionnaire_path("concept_test"))).set_index("variable")
    assert ct.loc["concept_form", "codes"] == {1: "A", 2: "B"}
    assert "words_3" in ct.index


def test_spss_export_round_trip(tmp_path):
    qn = load_questionnaire(questionnaire_path("concept_test"))
    sim = simulate_concept_test(60, seed=2)
    path = export_sav(sim.data, qn, tmp_path / "concept.sav",
                      extra_labels={"duration_sec": "Interview length (s)"})
    back = read_sav(path)
    assert back.attrs["value_labels"]["appeal"][5] == "Extremely appealing"
    assert back.attrs["value_labels"]["concept_form"] == {1: "A", 2: "B"}
    assert back.attrs["column_labels"]["duration_sec"] == "Interview length (s)"
    np.testing.assert_allclose(back["appeal"].to_numpy(), sim.data["appeal"].to_numpy())
    assert back["likes"].tolist() == sim.data["likes"].fillna("").tolist()
    with pytest.raises(Exception, match="refusing to overwrite"):
        export_sav(sim.data, qn, path)
