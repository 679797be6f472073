"""A notebook's parameters: read from its ``parameters`` cell, checked before execution.

The ``parameters`` cell (the cell tagged ``parameters``, as papermill expects) may hold only
assignments of literal defaults, optionally annotated, each optionally followed by a comment that
documents it::

    n: int = 2000                       # number of simulated respondents
    margin: float = 0.03                # target margin of error
    design: Literal["did", "synthetic_control", "its"] = "did"
    study: str = ""                     # study file; "" = the bundled example
    segments: list[str] | None = None   # segment columns to break down by

The cell may also import ``Literal``/``Optional``/``Any`` from ``typing`` (module-level
annotations are evaluated when the cell runs, so ``Literal`` must be defined)::

    from typing import Literal

The type is the annotation when given, else the type of the default. Allowed annotations:
``int, float, str, bool, list, dict, list[T], dict[str, T], T | None, Optional[T],
Literal[...]``. An ``int`` is accepted where a ``float`` is expected; nothing else is converted.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

from pydantic import ConfigDict, TypeAdapter, ValidationError

from researchkit.errors import ParameterError

__all__ = ["ParameterSpec", "check_value", "parse_parameters_cell"]

_TYPING_NAMES = {"Literal", "Optional", "Any"}

_NAMES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "None": type(None),
    "Any": Any,
}


@dataclass(frozen=True)
class ParameterSpec:
    """One notebook parameter."""

    name: str
    type_text: str
    default: Any
    description: str
    annotation: Any

    def adapter(self) -> TypeAdapter[Any]:
        return _adapter(self.annotation)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    key = repr(annotation)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(annotation, config=ConfigDict(strict=True))
    return _ADAPTERS[key]


def _annotation(node: ast.expr, where: str) -> Any:
    """Turn an annotation AST into a Python type, allowing only a safe, small vocabulary."""
    if isinstance(node, ast.Constant) and node.value is None:
        return type(None)
    if isinstance(node, ast.Name):
        if node.id in _NAMES:
            return _NAMES[node.id]
        raise ParameterError(f"unsupported type {node.id!r}", field=where,
                             expected=f"one of {sorted(_NAMES)} (or list[...], Literal[...])")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return Union[_annotation(node.left, where), _annotation(node.right, where)]  # noqa: UP007
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        head = node.value.id
        inner = node.slice
        if head == "Literal":
            elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            try:
                values = tuple(ast.literal_eval(e) for e in elts)
            except ValueError:
                raise ParameterError("Literal[...] takes literal values only",
                                     field=where) from None
            return Literal[values]  # type: ignore[valid-type]
        if head == "Optional":
            return Optional[_annotation(inner, where)]  # noqa: UP045
        if head == "list":
            return list[_annotation(inner, where)]  # type: ignore[misc]
        if head == "dict" and isinstance(inner, ast.Tuple) and len(inner.elts) == 2:
            return dict[_annotation(inner.elts[0], where), _annotation(inner.elts[1], where)]  # type: ignore[misc]
    raise ParameterError(f"unsupported type annotation {ast.unparse(node)!r}", field=where,
                         expected="int, float, str, bool, list[...], dict[...], X | None, "
                         "Literal[...]")


def _comments_by_line(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return comments


def parse_parameters_cell(source: str, *, notebook: str) -> dict[str, ParameterSpec]:
    """Parse a ``parameters`` cell into named parameter specs.

    Raises
    ------
    ParameterError
        Syntax errors, statements other than assignments, non-literal defaults or unsupported
        annotations, naming the notebook and the line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"the parameters cell is not valid Python: {exc.msg}",
                             file=notebook, field=f"parameters cell, line {exc.lineno}") from None
    comments = _comments_by_line(source)
    specs: dict[str, ParameterSpec] = {}
    for stmt in tree.body:
        where = f"parameters cell, line {stmt.lineno}"
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name, value_node, ann_node = stmt.target.id, stmt.value, stmt.annotation
            if value_node is None:
                raise ParameterError(f"parameter {name!r} has no default value", file=notebook,
                                     field=where)
        elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
              and isinstance(stmt.targets[0], ast.Name)):
            name, value_node, ann_node = stmt.targets[0].id, stmt.value, None
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring-like note
        elif (isinstance(stmt, ast.ImportFrom) and stmt.module == "typing"
              and {a.name for a in stmt.names} <= _TYPING_NAMES):
            continue  # module-level annotations are evaluated, so Literal must be imported
        else:
            raise ParameterError(
                "the parameters cell may only hold assignments of literal defaults",
                file=notebook, field=where, got=ast.unparse(stmt)[:60],
            )
        try:
            default = ast.literal_eval(value_node)
        except ValueError:
            raise ParameterError(
                f"default of {name!r} must be a literal (number, string, list...)",
                file=notebook, field=where, got=ast.unparse(value_node)[:60],
            ) from None
        if ann_node is not None:
            annotation = _annotation(ann_node, where)
            type_text = ast.unparse(ann_node)
        elif default is None:
            annotation, type_text = Any, "Any"
        else:
            annotation = type(default)
            type_text = annotation.__name__
        spec = ParameterSpec(name, type_text, default, comments.get(stmt.lineno, ""), annotation)
        if ann_node is not None:
            problem = check_value(spec, default)
            if problem:
                raise ParameterError(f"default of {name!r} does not match its type: {problem}",
                                     file=notebook, field=where)
        specs[name] = spec
    return specs


def check_value(spec: ParameterSpec, value: Any) -> str | None:
    """Return ``None`` if ``value`` fits the parameter's type, else a short description."""
    if spec.annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    try:
        spec.adapter().validate_python(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        return f"expected {spec.type_text}, got {value!r} ({err['msg'].lower()})"
    return None
