"""Codebooks: YAML validation with file/field/line errors, hierarchy, REFI-QDA .qdc round trips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from researchkit.datasets import example_path
from researchkit.errors import DataError, SpecError
from researchkit.qual import Codebook, load_codebook, parse_codebook, read_qdc, write_qdc

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
title: Test codebook
version: "2"
codes:
  - id: service
    label: Service
    definition: How people treat the customer.
    codable: false
    color: "#E69F00"
    children:
      - id: staff
        label: Store staff
        definition: Staff in stores.
        include: [Named employees]
        exclude: ["Call centre (use support)"]
        examples: ["The cashier was rude."]
        keywords: [staff, cashier]
        patterns: ['\\bsales ?(wo)?m[ae]n\\b']
  - id: support
    parent: service
    label: Support
    definition: |-
      Call centre and chat.
      Second line of the definition.
  - id: price
    label: Price
    definition: Price level.
sets:
  - name: Pain points
    codes: [support, price]
"""


def test_parse_hierarchy_and_views():
    cb = parse_codebook(GOOD)
    assert cb.ids == ["service", "staff", "support", "price"]
    assert cb.codable_ids == ["staff", "support", "price"]
    assert cb.children("service") == ["staff", "support"]
    assert cb.descendants("service") == ["staff", "support"]
    assert cb.ancestors("staff") == ["service"] and cb.depth("staff") == 1
    assert cb.path("support") == "Service > Support"
    assert cb.top_level("staff") == "service"
    assert cb["staff"].keywords == ("staff", "cashier")
    frame = cb.to_frame()
    assert list(frame["id"]) == cb.ids and frame.loc[1, "path"] == "Service > Store staff"
    assert cb.sets == {"Pain points": ("support", "price")}


def test_yaml_round_trip(tmp_path):
    cb = parse_codebook(GOOD)
    again = parse_codebook(cb.to_yaml())
    assert again.codes == cb.codes and again.sets == cb.sets
    path = cb.save(tmp_path / "cb.yaml")
    assert load_codebook(path).codes == cb.codes
    with pytest.raises(DataError, match="refusing to overwrite"):
        cb.save(path)


def test_every_problem_is_reported_with_field_and_line():
    bad = """\
title: Broken
codes:
  - id: a
    label: A
    definition: ""
    patterns: ['(']
  - id: a
    label: A again
    definition: z
    parent: nope
  - id: b
    label: B
    definition: d
    parent: c
  - id: c
    label: C
    definition: d
    parent: b
  - id: "bad id"
    label: X
    definition: d
    color: red
sets:
  - name: S
    codes: [zz]
"""
    with pytest.raises(SpecError) as err:
        parse_codebook(bad, source="codebook.yaml")
    text = str(err.value)
    assert text.startswith("codebook.yaml: 9 problems")
    for needle in ["codes[0].definition (line 5): code 'a' has an empty definition",
                   "codes[0].patterns[0] (line 6)", "not a valid regular expression",
                   "codes[1].id (line 7): duplicate code id 'a' (also at codes[0])",
                   "codes[1].parent (line 10): parent 'nope'",
                   "parent chain loops: b -> c -> b",
                   "codes[4].id (line 19)", "codes[4].color (line 22)",
                   "sets[0].codes[0] (line 25): set 'S' names code 'zz'"]:
        assert needle in text, needle
    assert len(err.value.problems) == 9


def test_structural_errors_name_fields(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text("title: T\ncodes:\n  - id: a\n    definition: x\n    colour: red\n")
    with pytest.raises(SpecError) as err:
        load_codebook(p)
    msg = str(err.value)
    assert str(p) in msg and "codes[0].label" in msg and "codes[0].colour" in msg
    with pytest.raises(SpecError, match="line 3: malformed YAML"):
        parse_codebook("title: T\ncodes: [\n")
    with pytest.raises(SpecError, match="empty"):
        parse_codebook("")
    with pytest.raises(SpecError, match="file not found"):
        load_codebook(tmp_path / "missing.yaml")
    nested = "title: T\ncodes:\n  - id: a\n    label: A\n    definition: d\n    children:\n" \
             "      - {id: b, label: B, definition: d, parent: c}\n  - {id: c, label: C, " \
             "definition: d}\n"
    with pytest.raises(SpecError, match="nested under 'a' but names parent 'c'"):
        parse_codebook(nested)


def test_drafts_may_have_empty_definitions():
    cb = Codebook.from_dict({"title": "T", "codes": [{"id": "a", "label": "A"}]},
                            allow_empty_definitions=True)
    assert cb["a"].definition == ""
    with pytest.raises(SpecError, match="empty definition"):
        Codebook.from_dict({"title": "T", "codes": [{"id": "a", "label": "A"}]})


def test_qdc_round_trip(tmp_path):
    cb = parse_codebook(GOOD)
    path = write_qdc(cb, tmp_path / "cb.qdc")
    text = path.read_text()
    assert 'xmlns="urn:QDA-XML:codebook:1.0"' in text and "<Sets>" in text
    back = read_qdc(path, title="Test codebook")
    assert back.ids == cb.ids
    for cid in cb.ids:
        a, b = cb[cid], back[cid]
        assert (a.label, a.definition, a.parent, a.codable, a.include, a.exclude, a.examples,
                a.keywords, a.patterns) == (b.label, b.definition, b.parent, b.codable,
                                            b.include, b.exclude, b.examples, b.keywords,
                                            b.patterns)
        assert b.guid is not None
    assert back["service"].color == "#E69F00"
    assert back.sets == cb.sets
    # deterministic GUIDs: the same codebook exports to the same file; GUIDs survive a re-export
    again = write_qdc(cb, tmp_path / "cb2.qdc")
    assert again.read_text() == text
    third = write_qdc(back, tmp_path / "cb3.qdc")
    assert read_qdc(third).codes == back.codes
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_qdc(cb, path)


ATLAS = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" origin="ATLAS.ti Win 23.4.0"
          xmlns="urn:QDA-XML:codebook:1.0">
  <Codes>
    <Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Delivery problems" color="#46AA00"
          isCodable="true">
      <Description>Late, lost or damaged parcels.</Description>
      <Code guid="2FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Late courier" isCodable="true"/>
    </Code>
    <Code guid="3FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Delivery problems" isCodable="true">
      <Description>Duplicate name in another branch.</Description>
    </Code>
  </Codes>
  <Sets>
    <Set name="code group 1" guid="ECA18D76-2B8B-4F26-BC1D-19ECA19FB3F0">
      <Description>kategorie 1</Description>
      <MemberCode guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" />
    </Set>
  </Sets>
</CodeBook>
"""


def test_import_foreign_qdc(tmp_path):
    p = tmp_path / "atlas.qdc"
    p.write_text(ATLAS)
    with pytest.raises(SpecError, match="empty definition"):
        read_qdc(p)
    cb = read_qdc(p, allow_empty_definitions=True)
    assert cb.ids == ["delivery_problems", "late_courier", "delivery_problems_2"]
    assert cb["late_courier"].parent == "delivery_problems"
    assert cb["delivery_problems"].definition == "Late, lost or damaged parcels."
    assert cb.sets == {"code group 1": ("delivery_problems",)}
    assert cb.title == "atlas"
    # the same codebook inside a REFI-QDA project (.qdpx)
    proj = tmp_path / "project.qdpx"
    qde = ATLAS.replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:project:1.0").replace(
        "<CodeBook", "<Project name='p'><CodeBook").replace("</CodeBook>",
                                                             "</CodeBook></Project>")
    with zipfile.ZipFile(proj, "w") as zf:
        zf.writestr("project.qde", qde)
    assert read_qdc(proj, allow_empty_definitions=True).ids == cb.ids
    assert load_codebook(p, allow_empty_definitions=True).ids == cb.ids


def test_qdc_errors(tmp_path):
    p = tmp_path / "bad.qdc"
    p.write_text("<CodeBook><Codes><Code name='x'></Codes></CodeBook>")
    with pytest.raises(SpecError, match="malformed XML") as err:
        read_qdc(p)
    assert err.value.line == 1
    p.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                 '<Code name="" guid="nope"/></Codes></CodeBook>')
    with pytest.raises(SpecError) as err:
        read_qdc(p, allow_empty_definitions=True)
    assert "Codes/Code[1]" in str(err.value) and "guid" in str(err.value)
    p.write_text("<Project/>")
    with pytest.raises(SpecError, match="not a REFI-QDA codebook"):
        read_qdc(p)
    with pytest.raises(DataError, match="file not found"):
        read_qdc(tmp_path / "none.qdc")


def test_bundled_codebook_is_valid_and_matches_the_template():
    cb = load_codebook(example_path("omnichannel_cx_codebook.yaml"))
    from researchkit.datasets.qual import CX_CODES

    assert tuple(cb.codable_ids) == CX_CODES
    template = ROOT / "templates" / "qual" / "omnichannel_cx_codebook.yaml"
    assert template.read_bytes() == example_path("omnichannel_cx_codebook.yaml").read_bytes()
