"""A small, safe expression language for questionnaire routing (``show_if``).

Routing conditions are parsed by a tokenizer and a recursive-descent parser into a tiny syntax
tree; nothing is ever passed to ``eval``. The grammar::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (op operand | ["not"] "in" list | "has" ["any" | "all"] (value | list)
                  | "is" ["not"] "missing")?
    operand    := NAME | NUMBER | STRING | func "(" NAME ")" | "(" expr ")"
    op         := "==" | "!=" | "<" | "<=" | ">" | ">="
    list       := "(" value ("," value)* ")"      (also [ ... ])
    func       := "answered" | "count"

Examples: ``aware has 1``, ``age >= 18 and region in (1, 2)``, ``not (usage == 3)``,
``aware has any (1, 2)``, ``count(aware) >= 2``, ``answered(why_nps)``, ``q5 is missing``.

Evaluation on a DataFrame uses three-valued (Kleene) logic: a comparison with a missing answer
is *unknown*; ``not unknown`` is unknown; ``unknown and False`` is False; a condition that ends
unknown means "not shown". ``has`` looks at the multiple-choice dummy variables
``<question>_<code>`` (1 = selected).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from researchkit.errors import ParameterError, SpecError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Condition", "RoutingSyntaxError", "parse_condition"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>==|!=|<=|>=|<|>)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),\[\]]))"
)
_KEYWORDS = {"and", "or", "not", "in", "has", "any", "all", "is", "missing"}
_FUNCS = {"answered", "count"}


class RoutingSyntaxError(ValueError):
    """A routing expression does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        self.position = position
        super().__init__(f"{message} (at character {position + 1})")


@dataclass(frozen=True)
class Tok:
    kind: str
    value: Any
    pos: int


def _tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()
            raise RoutingSyntaxError(f"unexpected character {bad[:1]!r}",
                                     len(text) - len(text[pos:].lstrip()))
        start = m.start(m.lastgroup)
        kind, raw = m.lastgroup, m.group(m.lastgroup)
        if kind == "num":
            out.append(Tok("value", float(raw) if "." in raw else int(raw), start))
        elif kind == "str":
            out.append(Tok("value", raw[1:-1], start))
        elif kind == "name" and raw in _KEYWORDS:
            out.append(Tok(raw, raw, start))
        else:
            out.append(Tok(kind, raw, start))
        pos = m.end()
    out.append(Tok("end", None, len(text)))
    return out


# --- syntax tree ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Var(Node):
    name: str
    pos: int


@dataclass(frozen=True)
class Const(Node):
    value: Any


@dataclass(frozen=True)
class Func(Node):
    func: str
    var: Var


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True)
class Has(Node):
    var: Var
    codes: tuple[Any, ...]
    mode: str  # "any" or "all"


@dataclass(frozen=True)
class IsMissing(Node):
    operand: Node
    negate: bool


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" / "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self, kind: str | None = None, value: Any = None) -> Tok:
        tok = self.toks[self.i]
        if kind is not None and (tok.kind != kind or (value is not None and tok.value != value)):
            want = value if value is not None else kind
            got = "the end" if tok.kind == "end" else repr(tok.value)
            raise RoutingSyntaxError(f"expected {want!r}, got {got}", tok.pos)
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise RoutingSyntaxError("empty condition", 0)
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            raise RoutingSyntaxError(f"unexpected {tok.value!r}", tok.pos)
        return node

    def _joined(self, op: str, item: Callable[[], Node]) -> Node:
        """``item (op item)*`` as one n-ary :class:`BoolOp` (or the lone item)."""
        items = [item()]
        while self.peek().kind == op:
            self.take()
            items.append(item())
        return items[0] if len(items) == 1 else BoolOp(op, tuple(items))

    def or_expr(self) -> Node:
        return self._joined("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._joined("and", self.not_expr)

    def not_expr(self) -> Node:
        if self.peek().kind == "not":
            self.take()
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op":
            self.take()
            return Compare(tok.value, left, self.operand())
        if tok.kind == "in" or (tok.kind == "not" and self.toks[self.i + 1].kind == "in"):
            negate = tok.kind == "not"
            if negate:
                self.take()
            self.take("in")
            return InList(left, self.value_list(), negate)
        if tok.kind == "has":
            self.take()
            if not isinstance(left, Var):
                raise RoutingSyntaxError("'has' needs a question name on its left", tok.pos)
            mode = "any"
            if self.peek().kind in ("any", "all"):
                mode = self.take().kind
            if self.peek().kind == "value":
                codes: tuple[Any, ...] = (self.take().value,)
            else:
                codes = self.value_list()
            return Has(left, codes, mode)
        if tok.kind == "is":
            self.take()
            negate = False
            if self.peek().kind == "not":
                self.take()
                negate = True
            self.take("missing")
            return IsMissing(left, negate)
        return left

    def operand(self) -> Node:
        tok = self.peek()
        if tok.kind == "value":
            self.take()
            return Const(tok.value)
        if tok.kind == "name":
            self.take()
            if tok.value in _FUNCS and self.peek().kind == "punct" and self.peek().value == "(":
                self.take()
                name = self.take("name")
                self.take("punct", ")")
                return Func(tok.value, Var(name.value, name.pos))
            return Var(tok.value, tok.pos)
        if tok.kind == "punct" and tok.value == "(":
            self.take()
            node = self.or_expr()
            self.take("punct", ")")
            return node
        got = "the end" if tok.kind == "end" else repr(tok.value)
        raise RoutingSyntaxError(f"expected a question name, a number or '(', got {got}",
                                 tok.pos)

    def value_list(self) -> tuple[Any, ...]:
        tok = self.peek()
        if tok.kind != "punct" or tok.value not in "([":
            raise RoutingSyntaxError("expected a list such as (1, 2)", tok.pos)
        close = ")" if self.take().value == "(" else "]"
        values = [self.take("value").value]
        while self.peek().kind == "punct" and self.peek().value == ",":
            self.take()
            values.append(self.take("value").value)
        self.take("punct", close)
        return tuple(values)


def _walk(node: Node) -> Iterable[Node]:
    yield node
    for child in _children(node):
        yield from _walk(child)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, InList | IsMissing):
        return (node.operand,)
    if isinstance(node, Has):
        return (node.var,)
    if isinstance(node, Func):
        return (node.var,)
    if isinstance(node, BoolOp):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


@dataclass(frozen=True)
class Condition:
    """A parsed routing condition.

    Attributes
    ----------
    text : str
        The source text.
    tree : Node
        The syntax tree.
    """

    text: str
    tree: Node

    @property
    def names(self) -> list[str]:
        """Question/variable names the condition refers to, in order of appearance."""
        seen: dict[str, None] = {}
        for node in _walk(self.tree):
            if isinstance(node, Var):
                seen.setdefault(node.name, None)
        return list(seen)

    def codes_used(self) -> list[tuple[str, Any]]:
        """``(name, code)`` pairs the condition compares a question with (for code checks)."""
        out: list[tuple[str, Any]] = []
        for node in _walk(self.tree):
            if isinstance(node, Compare) and node.op in ("==", "!="):
                if isinstance(node.left, Var) and isinstance(node.right, Const):
                    out.append((node.left.name, node.right.value))
                elif isinstance(node.right, Var) and isinstance(node.left, Const):
                    out.append((node.right.name, node.left.value))
            elif isinstance(node, InList) and isinstance(node.operand, Var):
                out.extend((node.operand.name, v) for v in node.values)
            elif isinstance(node, Has):
                out.extend((node.var.name, v) for v in node.codes)
        return out

    def has_names(self) -> list[str]:
        """Names used with ``has`` or ``count()`` (must be multiple-choice questions)."""
        out = []
        for node in _walk(self.tree):
            if isinstance(node, Has) or (isinstance(node, Func) and node.func == "count"):
                out.append(node.var.name)
        return out

    def evaluate(self, data: pd.DataFrame,
                 columns_of: Callable[[str], list[str]] | None = None) -> pd.Series:
        """Evaluate on every row of ``data``: a boolean Series (unknown counts as False).

        Parameters
        ----------
        data : DataFrame
            Responses: one column per single-valued question, dummy columns
            ``<question>_<code>`` for multiple-choice questions.
        columns_of : callable, optional
            Maps a name to the columns that hold it (used for ``answered()`` of a grid or a
            multiple-choice question). Default: the column of the same name.
        """
        result = _eval(self.tree, data, columns_of)
        return result.fillna(False).astype(bool)

    def evaluate_kleene(self, data: pd.DataFrame,
                        columns_of: Callable[[str], list[str]] | None = None) -> pd.Series:
        """Evaluate with missing outcomes kept as ``pd.NA`` (nullable boolean Series)."""
        return _eval(self.tree, data, columns_of)

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Parse a routing condition (raises :class:`RoutingSyntaxError` on a syntax error).

    Examples
    --------
    >>> parse_condition("aware has 1 and age >= 18").names
    ['aware', 'age']
    """
    if not isinstance(text, str):
        raise RoutingSyntaxError(f"a condition must be text, got {type(text).__name__}", 0)
    return Condition(text, _Parser(text).parse())


# --- evaluation -------------------------------------------------------------------------------
def _column(data: pd.DataFrame, name: str) -> pd.Series:
    if name not in data.columns:
        raise SpecError(f"routing refers to {name!r}, which is not a column of the data",
                        field="show_if")
    return data[name]


def _bool(values: Any, missing: Any) -> pd.Series:
    import pandas as pd

    arr = pd.array(values, dtype="boolean")
    arr[missing] = pd.NA
    return pd.Series(arr)


def _value(node: Node, data: pd.DataFrame, columns_of: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(node, Const):
        return node.value
    if isinstance(node, Var):
        return _column(data, node.name).reset_index(drop=True)
    if isinstance(node, Func):
        cols = columns_of(node.var.name) if columns_of else [node.var.name]
        block = pd.concat([_column(data, c) for c in cols], axis=1).reset_index(drop=True)
        if node.func == "count":
            counted = (block == 1).sum(axis=1).astype(float)
            counted[block.isna().all(axis=1)] = np.nan
            return counted
        raise ParameterError(f"{node.func}() is a condition, not a value", parameter="show_if")
    raise ParameterError("a value was expected here", parameter="show_if", got=str(node))


def _eval(node: Node, data: pd.DataFrame, columns_of: Any) -> pd.Series:
    import operator

    import numpy as np
    import pandas as pd

    n = len(data)
    if isinstance(node, BoolOp):
        parts = [_eval(item, data, columns_of) for item in node.items]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if node.op == "and" else (out | part)
        return out
    if isinstance(node, Not):
        return ~_eval(node.item, data, columns_of)
    if isinstance(node, Compare):
        ops = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}
        left, right = _value(node.left, data, columns_of), _value(node.right, data, columns_of)
        missing = np.zeros(n, dtype=bool)
        for side in (left, right):
            if isinstance(side, pd.Series):
                missing |= side.isna().to_numpy()
        res = ops[node.op](left, right)
        if not isinstance(res, pd.Series):
            res = pd.Series(np.full(n, bool(res)))
        return _bool(res.fillna(False).to_numpy(dtype=bool), missing)
    if isinstance(node, InList):
        val = _value(node.operand, data, columns_of)
        if not isinstance(val, pd.Series):
            val = pd.Series([val] * n)
        res = val.isin(list(node.values)).to_numpy()
        if node.negate:
            res = ~res
        return _bool(res, val.isna().to_numpy())
    if isinstance(node, IsMissing):
        if isinstance(node.operand, Var) and columns_of is not None:
            cols = columns_of(node.operand.name)
            block = pd.concat([_column(data, c) for c in cols], axis=1)
            miss = block.isna().all(axis=1).to_numpy()
        else:
            val = _value(node.operand, data, columns_of)
            miss = val.isna().to_numpy() if isinstance(val, pd.Series) \
                else np.full(n, val is None)
        res = ~miss if node.negate else miss
        return _bool(res, np.zeros(n, dtype=bool))
    if isinstance(node, Func) and node.func == "answered":
        cols = columns_of(node.var.name) if columns_of else [node.var.name]
        block = pd.concat([_column(data, c) for c in cols], axis=1)
        return _bool(block.notna().any(axis=1).to_numpy(), np.zeros(n, dtype=bool))
    if isinstance(node, Has):
        cols = [f"{node.var.name}_{code}" for code in node.codes]
        block = pd.concat([_column(data, c) for c in cols], axis=1).reset_index(drop=True)
        hit = block == 1
        res = hit.any(axis=1) if node.mode == "any" else hit.all(axis=1)
        return _bool(res.to_numpy(), block.isna().all(axis=1).to_numpy())
    if isinstance(node, Var | Const | Func):
        val = _value(node, data, columns_of)
        if isinstance(val, pd.Series):
            return _bool((val.fillna(0) != 0).to_numpy(), val.isna().to_numpy())
        return _bool(np.full(n, bool(val)), np.zeros(n, dtype=bool))
    raise AssertionError(f"unknown node {node!r}")
