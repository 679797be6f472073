"""Error messages name where the problem is; spec loading lists every problem with lines."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from researchkit.config import ProblemList, format_path, load_yaml, parse_yaml, validate_model
from researchkit.errors import DataError, ParameterError, Problem, ResearchkitError, SpecError


def test_data_error_names_file_row_column_and_expectation():
    err = DataError("code out of range", file="responses.csv", row=12, column="q3",
                    expected="a code in 1-5", got=7)
    assert str(err) == ("responses.csv, row 12, column 'q3': code out of range "
                        "(expected a code in 1-5, got 7)")
    assert err.row == 12 and err.column == "q3" and err.got == 7
    assert isinstance(err, ValueError) and isinstance(err, ResearchkitError)


def test_parameter_error_with_hint():
    err = ParameterError("must be positive", parameter="margin", got=-0.1,
                         hint="use a share such as 0.03")
    assert str(err) == "parameter 'margin': must be positive (got -0.1). use a share such as 0.03"


def test_spec_error_lists_all_problems():
    err = SpecError.from_problems([Problem("a.b", "bad", 3), Problem("c[0]", "worse")],
                                  file="q.yaml", what="questionnaire")
    text = str(err)
    assert text.startswith("q.yaml: 2 problems in this questionnaire:")
    assert "a.b (line 3): bad" in text and "c[0]: worse" in text
    single = SpecError.from_problems([Problem("x", "missing", 2)], file="s.yaml")
    assert str(single) == "s.yaml, line 2, x: missing"


def test_format_path():
    assert format_path(("notebooks", 2, "parameters", "n")) == "notebooks[2].parameters.n"
    assert format_path(()) == ""


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    points: int = Field(gt=1)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    items: list[Item]


def test_validate_model_reports_every_problem_with_line(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("title: Test\nitems:\n  - id: a\n    points: 5\n  - id: b\n    points: 1\n"
                    "  - points: 3\n    colour: red\n")
    with pytest.raises(SpecError) as info:
        validate_model(Doc, load_yaml(path), what="questionnaire")
    problems = {p.field: p for p in info.value.problems}
    assert set(problems) == {"items[1].points", "items[2].id", "items[2].colour"}
    assert problems["items[1].points"].line == 6
    assert problems["items[2].colour"].line == 8
    assert "unknown field" in problems["items[2].colour"].message
    assert "got 1" in problems["items[1].points"].message
    assert str(path) in str(info.value)


def test_malformed_and_missing_yaml(tmp_path):
    with pytest.raises(SpecError, match="flow sequence that starts on line 2") as info:
        parse_yaml("a: 1\nb: [1, 2\n", source="x.yaml")
    assert info.value.line == 3 and info.value.file == "x.yaml"
    with pytest.raises(SpecError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(SpecError, match="empty"):
        validate_model(Doc, load_yaml(empty))


def test_yaml_is_loaded_safely():
    with pytest.raises(SpecError):
        parse_yaml("!!python/object/apply:os.system ['echo hacked']")


def test_problem_list_collects_then_raises():
    doc = parse_yaml("items:\n  - id: a\n  - id: a\n", source="c.yaml")
    problems = ProblemList(doc, what="codebook")
    assert not problems
    problems.add(("items", 1, "id"), "duplicate id 'a'")
    assert len(problems) == 1
    with pytest.raises(SpecError) as info:
        problems.raise_if_any()
    assert info.value.problems[0].line == 3
