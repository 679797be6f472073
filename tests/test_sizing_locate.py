"""Which sizing spec the notebook uses: given, the study's instrument, or the example."""

from __future__ import annotations

from pathlib import Path

import pytest

from researchkit.datasets import sizing_example_path
from researchkit.errors import SpecError
from researchkit.sizing import resolve_sizing_spec

ROOT = Path(__file__).resolve().parents[1]


def test_given_path_and_missing_file(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: x\n", encoding="utf-8")
    assert resolve_sizing_spec(str(spec)) == spec
    with pytest.raises(SpecError, match="not found"):
        resolve_sizing_spec(tmp_path / "nope.yaml")


def test_default_is_the_shipped_example():
    assert resolve_sizing_spec("") == sizing_example_path()


def test_study_instrument_is_used(monkeypatch):
    study = ROOT / "templates" / "studies" / "market_sizing.yaml"
    monkeypatch.setenv("RESEARCHKIT_STUDY_FILE", str(study))
    found = resolve_sizing_spec("")
    assert found.resolve() == (ROOT / "templates" / "sizing" / "online_grocery.yaml").resolve()


def test_study_pointing_to_a_missing_spec(tmp_path, monkeypatch):
    study = tmp_path / "study.yaml"
    study.write_text("title: x\ninstruments:\n  - name: Sizing\n    kind: sizing_spec\n"
                     "    path: missing.yaml\n", encoding="utf-8")
    monkeypatch.setenv("RESEARCHKIT_STUDY_FILE", str(study))
    with pytest.raises(SpecError) as info:
        resolve_sizing_spec("")
    assert info.value.field == "instruments[0].path" and info.value.line == 5


def test_study_without_a_sizing_instrument_falls_back(tmp_path, monkeypatch):
    study = tmp_path / "study.yaml"
    study.write_text("title: x\ninstruments:\n  - {name: Q, kind: questionnaire}\n",
                     encoding="utf-8")
    monkeypatch.setenv("RESEARCHKIT_STUDY_FILE", str(study))
    assert resolve_sizing_spec("") == sizing_example_path()
