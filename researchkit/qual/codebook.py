"""Codebooks: hierarchical codes with definitions, rules, examples and keyword patterns.

A codebook is a YAML file::

    title: Omnichannel customer experience
    version: "1.0"
    description: Codes for focus groups and open-ended answers about shopping across channels.
    codes:
      - id: service                      # letters, digits, '_', '-', '.'
        label: Service
        definition: How staff and support treat the customer.
        codable: false                   # a category that only groups other codes
        children:                        # nest codes ...
          - id: staff
            label: Staff in store
            definition: Friendliness, competence and availability of store staff.
            include: [Comments on a named or described employee]
            exclude: [Call-centre agents (use support)]
            examples: ["The girl at the till was really helpful"]
            keywords: [staff, assistant, cashier]
            patterns: ['\\bsales ?(wo)?m[ae]n\\b']   # regular expressions (case-insensitive)
      - id: support
        parent: service                  # ... or point to a parent
        label: Customer support
        definition: Call centre, chat and messenger support.
    sets:                                # optional groups across the hierarchy (REFI "Sets")
      - name: Pain points
        codes: [support]

Every problem is reported at once, with its field path and line: missing or unknown fields,
duplicate ids, unknown parents, parent loops, empty definitions, invalid regular expressions,
sets naming unknown codes.

Codebooks move to and from NVivo, ATLAS.ti, MAXQDA and QualCoder as REFI-QDA ``.qdc`` files
(:mod:`researchkit.qual.refi`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from researchkit.config import ProblemList, YamlDocument, load_yaml, parse_yaml, validate_model
from researchkit.errors import DataError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Code", "Codebook", "load_codebook", "parse_codebook"]

CODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
COLOR = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")


class _CodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    definition: str = ""
    parent: str | None = None
    codable: bool = True
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    color: str | None = None
    guid: str | None = None
    children: list[_CodeSpec] = Field(default_factory=list)


class _SetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1)
    description: str = ""
    codes: list[str] = Field(default_factory=list)
    guid: str | None = None


class _CodebookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1)
    version: str | None = None
    description: str = ""
    language: str | None = None
    codes: list[_CodeSpec] = Field(min_length=1)
    sets: list[_SetSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class Code:
    """One code of a codebook.

    Attributes
    ----------
    id : str
        Short identifier used in coding tables.
    label : str
        Name shown to coders and in reports.
    definition : str
        What the code means.
    parent : str or None
        Id of the parent code.
    codable : bool
        False for categories that only group other codes.
    include, exclude, examples : tuple of str
        Inclusion rules, exclusion rules, example quotes.
    keywords, patterns : tuple of str
        Keywords (matched as whole words, case-insensitive) and regular expressions used for
        coding *suggestions*.
    color : str or None
        ``#RRGGBB``.
    guid : str or None
        REFI-QDA identifier, kept when a codebook is imported from or exported to ``.qdc``.
    """

    id: str
    label: str
    definition: str
    parent: str | None = None
    codable: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    color: str | None = None
    guid: str | None = None


@dataclass
class Codebook:
    """A validated codebook: codes in document order (parents before their children).

    Build one with :func:`load_codebook`, :func:`parse_codebook`,
    :meth:`Codebook.from_dict` or :func:`researchkit.qual.read_qdc`.
    """

    title: str
    codes: dict[str, Code]
    version: str | None = None
    description: str = ""
    language: str | None = None
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    set_descriptions: dict[str, str] = field(default_factory=dict)
    set_guids: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None,
                  allow_empty_definitions: bool = False) -> Codebook:
        """Validate a codebook given as Python data (the same structure as the YAML file)."""
        return _build(data, None, source=source or "<codebook>",
                      allow_empty_definitions=allow_empty_definitions)

    # -- access -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """Code ids in document order."""
        return list(self.codes)

    @property
    def codable_ids(self) -> list[str]:
        """Ids of the codes coders may apply."""
        return [c.id for c in self.codes.values() if c.codable]

    def __contains__(self, code_id: object) -> bool:
        return code_id in self.codes

    def __getitem__(self, code_id: str) -> Code:
        try:
            return self.codes[code_id]
        except KeyError:
            raise ParameterError("unknown code", parameter="code", got=code_id,
                                 expected=f"one of {self.ids}") from None

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes.values())

    def __len__(self) -> int:
        return len(self.codes)

    def label(self, code_id: str) -> str:
        """The label of a code (the id itself for codes not in the codebook)."""
        code = self.codes.get(code_id)
        return code.label if code else str(code_id)

    def children(self, code_id: str | None) -> list[str]:
        """Direct children of a code (``None``: the top-level codes)."""
        if code_id is not None:
            self[code_id]
        return [c.id for c in self.codes.values() if c.parent == code_id]

    def descendants(self, code_id: str) -> list[str]:
        """Every code below ``code_id``, depth first."""
        out: list[str] = []
        for child in self.children(code_id):
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def ancestors(self, code_id: str) -> list[str]:
        """Parent, grandparent, ... of a code."""
        out = []
        parent = self[code_id].parent
        while parent is not None:
            out.append(parent)
            parent = self.codes[parent].parent
        return out

    def depth(self, code_id: str) -> int:
        """0 for top-level codes."""
        return len(self.ancestors(code_id))

    def path(self, code_id: str, sep: str = " > ") -> str:
        """Labels from the top of the hierarchy down to the code."""
        chain = [*reversed(self.ancestors(code_id)), code_id]
        return sep.join(self.codes[c].label for c in chain)

    def top_level(self, code_id: str) -> str:
        """The top-level ancestor of a code (the code itself at the top)."""
        anc = self.ancestors(code_id)
        return anc[-1] if anc else code_id

    def to_frame(self) -> pd.DataFrame:
        """One row per code: id, label, parent, depth, path, codable, definition, rules."""
        import pandas as pd

        rows = []
        for c in self.codes.values():
            rows.append({
                "id": c.id, "label": c.label, "parent": c.parent, "depth": self.depth(c.id),
                "path": self.path(c.id), "codable": c.codable, "definition": c.definition,
                "include": "; ".join(c.include), "exclude": "; ".join(c.exclude),
                "examples": " | ".join(c.examples), "keywords": ", ".join(c.keywords),
                "patterns": ", ".join(c.patterns), "color": c.color,
            })
        return pd.DataFrame(rows)

    # -- output -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The codebook as nested data (children nested under their parents)."""

        def node(c: Code) -> dict[str, Any]:
            out: dict[str, Any] = {"id": c.id, "label": c.label, "definition": c.definition}
            if not c.codable:
                out["codable"] = False
            for name in ("include", "exclude", "examples", "keywords", "patterns"):
                if getattr(c, name):
                    out[name] = list(getattr(c, name))
            if c.color:
                out["color"] = c.color
            if c.guid:
                out["guid"] = c.guid
            kids = self.children(c.id)
            if kids:
                out["children"] = [node(self.codes[k]) for k in kids]
            return out

        data: dict[str, Any] = {"title": self.title}
        if self.version:
            data["version"] = self.version
        if self.description:
            data["description"] = self.description
        if self.language:
            data["language"] = self.language
        data["codes"] = [node(self.codes[k]) for k in self.children(None)]
        if self.sets:
            data["sets"] = []
            for name, ids in self.sets.items():
                entry: dict[str, Any] = {"name": name}
                if self.set_descriptions.get(name):
                    entry["description"] = self.set_descriptions[name]
                entry["codes"] = list(ids)
                if self.set_guids.get(name):
                    entry["guid"] = self.set_guids[name]
                data["sets"].append(entry)
        return data

    def to_yaml(self) -> str:
        """The codebook as YAML text (loads back to an equal codebook)."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=96)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the codebook as YAML; an existing file is replaced only with ``overwrite``."""
        p = Path(path)
        if p.exists() and not overwrite:
            raise DataError("file exists; refusing to overwrite it", file=p,
                            hint="choose a new name or pass overwrite=True")
        p.write_text(self.to_yaml(), encoding="utf-8")
        return p

    def check_codes(self, codes: Sequence[Any], *, where: str = "codes") -> None:
        """Raise a :class:`DataError` naming codes that are not in the codebook."""
        unknown = sorted({str(c) for c in codes if c not in self.codes})
        if unknown:
            raise DataError(f"{len(unknown)} codes are not in the codebook "
                            f"{self.title!r}", column=where, got=unknown[:10],
                            expected=f"ids such as {self.ids[:8]}")


def _flatten(specs: list[_CodeSpec], parent: str | None, prefix: tuple[Any, ...],
             out: list[tuple[tuple[Any, ...], _CodeSpec, str | None]]) -> None:
    for i, spec in enumerate(specs):
        path = (*prefix, i)
        out.append((path, spec, parent))
        _flatten(spec.children, spec.id, (*path, "children"), out)


def _build(data: Any, doc: YamlDocument | None, *, source: str,
           allow_empty_definitions: bool = False) -> Codebook:
    problems = ProblemList(doc, source=source, what="codebook")
    if data is not None and not isinstance(data, dict):
        problems.add((), f"expected a mapping with title and codes, got {type(data).__name__}")
        problems.raise_if_any()
    spec = validate_model(_CodebookSpec, doc if doc is not None else data, what="codebook",
                          source=source, problems=problems)
    flat: list[tuple[tuple[Any, ...], _CodeSpec, str | None]] = []
    _flatten(spec.codes, None, ("codes",), flat)
    seen: dict[str, tuple[Any, ...]] = {}
    for path, c, _ in flat:
        if not CODE_ID.match(c.id):
            problems.add((*path, "id"), f"code id {c.id!r} may hold only letters, digits, "
                         "'_', '-' and '.', starting with a letter or digit")
        if c.id in seen:
            from researchkit.config import format_path

            problems.add((*path, "id"), f"duplicate code id {c.id!r} (also at "
                         f"{format_path(seen[c.id])})")
        else:
            seen[c.id] = path
        if not c.definition and not allow_empty_definitions:
            problems.add((*path, "definition"),
                         f"code {c.id!r} has an empty definition: say what the code means "
                         "so coders apply it alike")
        if c.color is not None and not COLOR.match(c.color):
            problems.add((*path, "color"), f"colour {c.color!r} is not #RRGGBB")
        for j, kw in enumerate(c.keywords):
            if not kw:
                problems.add((*path, "keywords", j), "empty keyword")
        for j, pat in enumerate(c.patterns):
            try:
                re.compile(pat)
            except re.error as exc:
                problems.add((*path, "patterns", j),
                             f"{pat!r} is not a valid regular expression: {exc}")
    parents: dict[str, str | None] = {}
    for path, c, nested_parent in flat:
        parent = nested_parent
        if c.parent is not None:
            if nested_parent is not None and c.parent != nested_parent:
                problems.add((*path, "parent"),
                             f"code {c.id!r} is nested under {nested_parent!r} but names "
                             f"parent {c.parent!r}")
            elif c.parent not in seen:
                problems.add((*path, "parent"),
                             f"parent {c.parent!r} of code {c.id!r} is not a code id in this "
                             "codebook")
                parent = None
            elif c.parent == c.id:
                problems.add((*path, "parent"), f"code {c.id!r} names itself as parent")
                parent = None
            else:
                parent = c.parent
        parents.setdefault(c.id, parent)
    for path, c, _ in flat:
        chain = [c.id]
        node = parents.get(c.id)
        while node is not None:
            if node in chain:
                problems.add((*path, "parent"),
                             "parent chain loops: " + " -> ".join([*chain, node]))
                break
            chain.append(node)
            node = parents.get(node)
    set_names: dict[str, int] = {}
    for i, s in enumerate(spec.sets):
        if s.name in set_names:
            problems.add(("sets", i, "name"), f"duplicate set name {s.name!r}")
        set_names[s.name] = i
        for j, cid in enumerate(s.codes):
            if cid not in seen:
                problems.add(("sets", i, "codes", j),
                             f"set {s.name!r} names code {cid!r}, which is not in the codebook")
    problems.raise_if_any()

    # order: parents before children, otherwise document order (depth first)
    by_id = {c.id: c for _, c, _ in flat}
    ordered: list[str] = []

    def visit(cid: str) -> None:
        if cid in ordered:
            return
        ordered.append(cid)
        for _, other, _ in flat:
            if parents[other.id] == cid:
                visit(other.id)

    for _, c, _ in flat:
        if parents[c.id] is None:
            visit(c.id)
    codes = {}
    for cid in ordered:
        c = by_id[cid]
        codes[cid] = Code(id=c.id, label=c.label, definition=c.definition,
                          parent=parents[cid], codable=c.codable, include=tuple(c.include),
                          exclude=tuple(c.exclude), examples=tuple(c.examples),
                          keywords=tuple(c.keywords), patterns=tuple(c.patterns),
                          color=c.color, guid=c.guid)
    return Codebook(
        title=spec.title, codes=codes, version=spec.version, description=spec.description,
        language=spec.language, sets={s.name: tuple(s.codes) for s in spec.sets},
        set_descriptions={s.name: s.description for s in spec.sets if s.description},
        set_guids={s.name: s.guid for s in spec.sets if s.guid}, source=source,
    )


def load_codebook(path: str | Path, *, allow_empty_definitions: bool = False) -> Codebook:
    """Read and validate a YAML codebook.

    Parameters
    ----------
    path : str or Path
        A ``.yaml``/``.yml`` codebook, or a REFI-QDA ``.qdc`` file (read with
        :func:`researchkit.qual.read_qdc`).
    allow_empty_definitions : bool
        Accept codes without a definition (e.g. while drafting).

    Raises
    ------
    SpecError
        Listing every problem with its field path and line.
    """
    p = Path(path)
    if p.suffix.lower() == ".qdc":
        from researchkit.qual.refi import read_qdc

        return read_qdc(p, allow_empty_definitions=allow_empty_definitions)
    doc = load_yaml(p)
    return _build(doc.data, doc, source=str(p), allow_empty_definitions=allow_empty_definitions)


def parse_codebook(text: str, *, source: str = "<codebook>",
                   allow_empty_definitions: bool = False) -> Codebook:
    """Validate a codebook given as YAML text."""
    doc = parse_yaml(text, source=source)
    return _build(doc.data, doc, source=source, allow_empty_definitions=allow_empty_definitions)
