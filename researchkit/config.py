"""Loading and validating YAML specification files (studies, questionnaires, codebooks...).

Every specification file goes through the same three steps, so all of them report problems the
same way, naming the file, the field path and the line:

1. :func:`load_yaml` reads the file with ``yaml.safe_load`` (never ``yaml.load``) and keeps a
   :class:`YamlDocument` that can tell the line of any field path;
2. :func:`validate_model` validates the data with a pydantic model and turns *every* pydantic
   error into a :class:`~researchkit.errors.Problem`;
3. semantic checks (duplicate ids, unknown references...) append to a :class:`ProblemList`,
   which raises one :class:`~researchkit.errors.SpecError` listing everything at the end.

Examples
--------
>>> from pydantic import BaseModel
>>> class Spec(BaseModel):
...     title: str
>>> doc = parse_yaml("title: Brand tracker\\n", source="inline.yaml")
>>> validate_model(Spec, doc, what="example").title
'Brand tracker'
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from researchkit.errors import Problem, SpecError

__all__ = [
    "ProblemList",
    "YamlDocument",
    "format_path",
    "load_yaml",
    "parse_yaml",
    "validate_model",
]

M = TypeVar("M")

PathPart = str | int


def format_path(parts: Sequence[PathPart]) -> str:
    """Format a field path.

    ``("notebooks", 2, "parameters", "n")`` becomes ``notebooks[2].parameters.n``.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, where it came from, and a map from field paths to lines."""

    data: Any
    source: str
    _node: yaml.Node | None = field(default=None, repr=False)

    def line_of(self, parts: Sequence[PathPart]) -> int | None:
        """1-based line of the value at ``parts``; the line of the closest existing parent."""
        node = self._node
        line = None if node is None else node.start_mark.line + 1
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if str(getattr(key_node, "value", None)) == str(part):
                        node = value_node
                        line = key_node.start_mark.line + 1
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    node = node.value[part]
                    line = node.start_mark.line + 1
                else:
                    return line
            else:
                return line
        return line


def parse_yaml(text: str, *, source: str = "<string>") -> YamlDocument:
    """Parse YAML text safely; a syntax error is a :class:`SpecError` with its line."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        detail = exc.problem or str(exc)
        if exc.context:
            started = exc.context_mark
            where = "" if started is None or started is mark else \
                f" that starts on line {started.line + 1}"
            detail = f"{exc.context}{where}, {detail}"
        raise SpecError(f"malformed YAML: {detail}", file=source, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"malformed YAML: {exc}", file=source) from None
    return YamlDocument(data=data, source=source, _node=node)


def load_yaml(path: str | Path) -> YamlDocument:
    """Read a YAML file; a missing, unreadable or malformed file is a :class:`SpecError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", file=p) from None
    except IsADirectoryError:
        raise SpecError("is a folder, expected a YAML file", file=p) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", file=p) from None
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror}", file=p) from None
    return parse_yaml(text, source=str(p))


def _pydantic_message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    kind = err.get("type", "")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check its spelling)"
    if "input" in err and kind not in {"missing"}:
        value = err["input"]
        if not isinstance(value, dict | list):
            text = repr(value)
            text = text if len(text) <= 60 else text[:57] + "..."
            return f"{msg} (got {text})"
    return msg


class ProblemList:
    """Collects problems with their field paths, then raises one :class:`SpecError`.

    Parameters
    ----------
    doc : YamlDocument, optional
        Used to attach line numbers to field paths.
    source : str, optional
        File name used when ``doc`` is not given (e.g. a spec built in Python).
    what : str
        What kind of specification this is, for the error message.
    """

    def __init__(
        self, doc: YamlDocument | None = None, *, source: str | None = None,
        what: str = "specification",
    ) -> None:
        self.doc = doc
        self.source = source if source is not None else (doc.source if doc else None)
        self.what = what
        self.problems: list[Problem] = []

    def add(self, parts: Sequence[PathPart] | str, message: str) -> None:
        """Record a problem at a field path (a tuple of keys/indices or a formatted path)."""
        if isinstance(parts, str):
            path, line = parts, None
        else:
            path = format_path(parts)
            line = self.doc.line_of(parts) if self.doc is not None else None
        self.problems.append(Problem(path, message, line))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def raise_if_any(self) -> None:
        """Raise one :class:`SpecError` listing every recorded problem, if there are any."""
        if self.problems:
            raise SpecError.from_problems(self.problems, file=self.source, what=self.what)


def validate_model(
    model: type[M], doc: YamlDocument | Any, *, what: str = "specification",
    source: str | None = None, problems: ProblemList | None = None,
) -> M:
    """Validate data with a pydantic model; every validation error becomes a problem.

    Parameters
    ----------
    model : pydantic model class
    doc : YamlDocument or plain data
        The parsed file (for line numbers) or data built in Python.
    what : str
        Kind of specification, for messages.
    source : str, optional
        File name, when ``doc`` is plain data.
    problems : ProblemList, optional
        Collect into this list instead of raising (the caller raises later).

    Returns
    -------
    The validated model instance.

    Raises
    ------
    SpecError
        Listing every problem, each with its field path (and line when known).
    """
    from pydantic import ValidationError

    if isinstance(doc, YamlDocument):
        data, ydoc = doc.data, doc
    else:
        data, ydoc = doc, None
    plist = problems if problems is not None else ProblemList(ydoc, source=source, what=what)
    if data is None:
        plist.add((), f"the file is empty, expected a {what}")
        plist.raise_if_any()
    try:
        return model.model_validate(data)  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err.get("loc", ()) if not _is_union_tag(p)]
            plist.add(tuple(loc), _pydantic_message(err))
        plist.raise_if_any()
        raise AssertionError("unreachable") from None


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts tags such as "function-after[...]" or "list[str]" into locations of
    # unions and validators; they are not fields of the user's file.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))
