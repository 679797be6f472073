"""REFI-QDA codebooks (``.qdc``): move codebooks to and from NVivo, ATLAS.ti, MAXQDA, QualCoder.

The REFI-QDA Codebook Exchange Standard (namespace ``urn:QDA-XML:codebook:1.0``) stores a tree
of ``<Code guid name isCodable color>`` elements, each with an optional ``<Description>``, and
optional ``<Sets>`` of member codes. It has no fields for inclusion/exclusion rules, examples or
keywords, so researchkit writes them into the description under plain headings, readable in any
QDA package and read back on import::

    Friendliness, competence and availability of store staff.

    Include:
    - Comments on a named or described employee
    Exclude:
    - Call-centre agents (use support)
    Examples:
    - The girl at the till was really helpful
    Keywords: staff; assistant; cashier
    Patterns:
    - \\bsales ?(wo)?m[ae]n\\b
    Code id: staff

GUIDs are kept when present and otherwise derived deterministically from the codebook title and
code id (UUID version 5), so exporting the same codebook twice gives the same file.
A codebook can also be read from a REFI-QDA project (``.qdpx``, the zip holding
``project.qde``).

Reference: REFI-QDA Standard, Codebook Exchange v1.0 and Project Exchange v1.0
(https://www.qdasoftware.org).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from researchkit import __version__
from researchkit.config import ProblemList
from researchkit.errors import DataError, SpecError
from researchkit.qual.codebook import Code, Codebook

__all__ = ["read_qdc", "write_qdc"]

NS = "urn:QDA-XML:codebook:1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SECTIONS = ("Include", "Exclude", "Examples", "Keywords", "Patterns", "Code id")
_HEADER = re.compile(r"^(Include|Exclude|Examples|Keywords|Patterns|Code id):\s*(.*)$")
_GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                   r"[0-9A-Fa-f]{12}\}?$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "researchkit:" + ":".join(parts))).upper()


def _color(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) == 4:  # #RGB -> #RRGGBB
        return "#" + "".join(ch * 2 for ch in value[1:]).upper()
    return value.upper()


def _description(code: Code) -> str:
    parts = [code.definition.strip()] if code.definition else []
    extra: list[str] = []
    for title, items in (("Include", code.include), ("Exclude", code.exclude),
                         ("Examples", code.examples)):
        if items:
            extra.append(f"{title}:")
            extra.extend(f"- {item}" for item in items)
    if code.keywords:
        extra.append("Keywords: " + "; ".join(code.keywords))
    if code.patterns:
        extra.append("Patterns:")
        extra.extend(f"- {p}" for p in code.patterns)
    extra.append(f"Code id: {code.id}")
    if parts:
        return parts[0] + "\n\n" + "\n".join(extra)
    return "\n".join(extra)


def write_qdc(codebook: Codebook, path: str | Path, *, overwrite: bool = False) -> Path:
    """Export a codebook as a REFI-QDA ``.qdc`` file.

    Parameters
    ----------
    codebook : Codebook
    path : str or Path
        Target file (``.qdc``); an existing file is replaced only with ``overwrite=True``.

    Returns
    -------
    Path
    """
    p = Path(path)
    if p.suffix.lower() != ".qdc":
        raise DataError("a REFI-QDA codebook file ends in .qdc", file=p)
    if p.exists() and not overwrite:
        raise DataError("file exists; refusing to overwrite it", file=p,
                        hint="choose a new name or pass overwrite=True")
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}CodeBook", {
        "origin": f"researchkit {__version__}",
        f"{{{XSI}}}schemaLocation": f"{NS} Codebook.xsd",
    })
    codes_el = ET.SubElement(root, f"{{{NS}}}Codes")
    guids: dict[str, str] = {}

    def add(parent: ET.Element, code_id: str) -> None:
        code = codebook.codes[code_id]
        guid = code.guid or _guid(codebook.title, code.id)
        guids[code_id] = guid
        attrs = {"guid": guid, "name": code.label,
                 "isCodable": "true" if code.codable else "false"}
        if code.color:
            attrs["color"] = _color(code.color) or ""
        el = ET.SubElement(parent, f"{{{NS}}}Code", attrs)
        desc = ET.SubElement(el, f"{{{NS}}}Description")
        desc.text = _description(code)
        for child in codebook.children(code_id):
            add(el, child)

    for top in codebook.children(None):
        add(codes_el, top)
    if codebook.sets:
        sets_el = ET.SubElement(root, f"{{{NS}}}Sets")
        for name, members in codebook.sets.items():
            s = ET.SubElement(sets_el, f"{{{NS}}}Set", {
                "guid": codebook.set_guids.get(name) or _guid(codebook.title, "set", name),
                "name": name})
            if codebook.set_descriptions.get(name):
                ET.SubElement(s, f"{{{NS}}}Description").text = codebook.set_descriptions[name]
            for cid in members:
                ET.SubElement(s, f"{{{NS}}}MemberCode", {"guid": guids[cid]})
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    p.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n", encoding="utf-8")
    return p


def _parse_description(text: str) -> dict[str, Any]:
    """Split a description into definition, rules, examples, keywords, patterns and id."""
    out: dict[str, Any] = {"definition": "", "include": [], "exclude": [], "examples": [],
                           "keywords": [], "patterns": []}
    lines = (text or "").replace("\r\n", "\n").split("\n")
    head: list[str] = []
    section = None
    for line in lines:
        m = _HEADER.match(line.strip())
        if m:
            section, rest = m.group(1), m.group(2).strip()
            if section == "Keywords":
                out["keywords"] = [k.strip() for k in rest.split(";") if k.strip()]
            elif section == "Code id":
                out["id"] = rest
            continue
        if section is None:
            head.append(line)
        elif line.strip().startswith("- ") and section in ("Include", "Exclude", "Examples",
                                                            "Patterns"):
            out[section.lower()].append(line.strip()[2:].strip())
        elif line.strip() and section in ("Include", "Exclude", "Examples", "Patterns") \
                and out[section.lower()]:
            out[section.lower()][-1] += " " + line.strip()
    out["definition"] = "\n".join(head).strip()
    return out


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", name.strip()).strip("_").lower()
    return s or "code"


def _root_of(p: Path) -> ET.Element:
    try:
        if p.suffix.lower() == ".qdpx":
            with zipfile.ZipFile(p) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".qde")]
                if not names:
                    raise DataError("no project.qde inside this REFI-QDA project", file=p)
                root = ET.fromstring(zf.read(names[0]))
            book = next((el for el in root.iter() if _local(el.tag) == "CodeBook"), None)
            if book is None:
                raise DataError("the project has no CodeBook", file=p)
            return book
        return ET.parse(p).getroot()
    except FileNotFoundError:
        raise DataError("file not found", file=p) from None
    except zipfile.BadZipFile:
        raise DataError("not a REFI-QDA project (.qdpx is a zip file)", file=p) from None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise SpecError(f"malformed XML: {exc}", file=p, line=line) from None


def read_qdc(path: str | Path, *, title: str | None = None,
             allow_empty_definitions: bool = False) -> Codebook:
    """Import a REFI-QDA codebook (``.qdc``, or the codebook of a ``.qdpx`` project).

    Parameters
    ----------
    path : str or Path
    title : str, optional
        Codebook title (default: the file name without extension).
    allow_empty_definitions : bool
        Accept codes without a description. QDA packages do not require descriptions; by
        default researchkit does, and lists every code lacking one.

    Returns
    -------
    Codebook
        Code ids come from a ``Code id:`` line in the description (written by
        :func:`write_qdc`), else from the code name (lower-case, ``_`` for other characters,
        made unique); labels are the names; GUIDs and colours are kept.

    Raises
    ------
    SpecError
        Malformed XML (with its line), codes without a name, invalid GUIDs, duplicate GUIDs,
        sets naming unknown codes, and every codebook problem (empty definitions...).
    """
    p = Path(path)
    root = _root_of(p)
    if _local(root.tag) != "CodeBook":
        raise SpecError(f"not a REFI-QDA codebook: the root element is <{_local(root.tag)}>",
                        file=p, expected="<CodeBook>")
    problems = ProblemList(source=str(p), what="REFI-QDA codebook")
    used_ids: set[str] = set()
    by_guid: dict[str, str] = {}

    def code_node(el: ET.Element, where: str) -> dict[str, Any]:
        name = (el.get("name") or "").strip()
        if not name:
            problems.add(where, "code without a name attribute")
        guid = el.get("guid")
        if not guid or not _GUID.match(guid):
            problems.add(where, f"code {name!r} has no valid guid (got {guid!r})")
        desc_el = next((c for c in el if _local(c.tag) == "Description"), None)
        info = _parse_description(desc_el.text if desc_el is not None and desc_el.text else "")
        cid = info.pop("id", None)
        if not cid or cid in used_ids:
            base = _slug(name)
            cid, k = base, 2
            while cid in used_ids:
                cid, k = f"{base}_{k}", k + 1
        used_ids.add(cid)
        if guid:
            if guid.upper() in by_guid:
                problems.add(where, f"guid {guid} is used twice")
            by_guid[guid.upper().strip("{}")] = cid
        node: dict[str, Any] = {"id": cid, "label": name or cid, **info}
        codable = (el.get("isCodable") or "true").strip().lower()
        if codable not in ("true", "false", "1", "0"):
            problems.add(where, f"isCodable must be true or false, got {codable!r}")
        node["codable"] = codable in ("true", "1")
        if el.get("color"):
            node["color"] = el.get("color")
        if guid:
            node["guid"] = guid
        kids = [c for c in el if _local(c.tag) == "Code"]
        if kids:
            node["children"] = [code_node(c, f"{where}/Code[{i + 1}]")
                                for i, c in enumerate(kids)]
        return node

    codes_el = next((c for c in root if _local(c.tag) == "Codes"), None)
    codes = [] if codes_el is None else [
        code_node(c, f"Codes/Code[{i + 1}]")
        for i, c in enumerate(x for x in codes_el if _local(x.tag) == "Code")]
    if not codes:
        problems.add("Codes", "the codebook has no codes")
    sets = []
    sets_el = next((c for c in root if _local(c.tag) == "Sets"), None)
    for i, s in enumerate([] if sets_el is None else
                          [x for x in sets_el if _local(x.tag) == "Set"]):
        members = []
        for member in s:
            if _local(member.tag) != "MemberCode":
                continue
            g = (member.get("guid") or "").upper().strip("{}")
            if g not in by_guid:
                problems.add(f"Sets/Set[{i + 1}]", f"member code {g!r} is not in the codebook")
            else:
                members.append(by_guid[g])
        desc = next((c.text or "" for c in s if _local(c.tag) == "Description"), "")
        entry: dict[str, Any] = {"name": s.get("name") or f"set {i + 1}", "codes": members,
                                 "description": desc.strip()}
        if s.get("guid"):
            entry["guid"] = s.get("guid")
        sets.append(entry)
    problems.raise_if_any()
    data = {"title": title or p.stem, "codes": codes, "sets": sets}
    try:
        return Codebook.from_dict(data, source=str(p),
                                  allow_empty_definitions=allow_empty_definitions)
    except SpecError as exc:
        hint = ("" if allow_empty_definitions else
                " (pass allow_empty_definitions=True to import codes without descriptions)")
        raise SpecError(str(exc) + hint, problems=exc.problems) from None
