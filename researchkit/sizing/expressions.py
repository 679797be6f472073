"""A small, safe arithmetic language for sizing chains.

A chain level such as ``households * share_online * orders_per_year`` is parsed with Python's
own parser (:func:`ast.parse`, which only builds a syntax tree and runs nothing) and then checked
node by node against a short allow-list: numbers, input names, ``+ - * / **``, unary ``-``,
parentheses and the functions ``min(...)`` and ``max(...)``. Anything else (attribute access,
subscripts, calls to other functions, comparisons, strings...) is rejected with a message that
says what is allowed. The checked tree is compiled into numpy operations, so one expression
evaluates a whole Monte Carlo sample at once. Python's ``eval`` is never used. Intermediate
results are updated in place (``a * b * c`` allocates one array, not two), never the input
arrays themselves.

A chain level may also be given as a list of factors (names or numbers), which means their
product: ``[households, share_online, orders_per_year]``.

Examples
--------
>>> e = parse_expression("households * (share_a + share_b) * 12")
>>> e.names
('households', 'share_a', 'share_b')
>>> float(e.evaluate({"households": 1000, "share_a": 0.25, "share_b": 0.5}))
9000.0
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Expression", "ExpressionError", "factors_to_text", "parse_expression"]

_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
    ast.Pow: ("**", np.power),
}
_FUNCS: dict[str, Callable[[Any, Any], Any]] = {"min": np.minimum, "max": np.maximum}
ALLOWED = "numbers, input names, + - * / **, parentheses, min(...) and max(...)"


class ExpressionError(ValueError):
    """An expression is malformed or uses something outside the allowed language."""


Evaluator = Callable[[Mapping[str, Any]], Any]
# A compiled node returns its value and whether that value is a temporary array the expression
# owns (so the next operation may overwrite it).
_Node = Callable[[Mapping[str, Any]], tuple[Any, bool]]


@dataclass(frozen=True)
class Expression:
    """A parsed, checked arithmetic expression over named quantities.

    Attributes
    ----------
    text : str
        The expression as written.
    names : tuple of str
        The names it refers to, in order of first appearance.
    """

    text: str
    names: tuple[str, ...]
    _fn: Evaluator = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Evaluate with numbers or numpy arrays for every name (broadcast elementwise).

        Raises
        ------
        KeyError
            If a name has no value (spec validation prevents this for sizing specs).
        """
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._fn(values)

    def __str__(self) -> str:
        return self.text


def factors_to_text(factors: Sequence[Any]) -> str:
    """The expression text of a list of factors: their product."""
    parts = []
    for f in factors:
        if isinstance(f, bool) or not isinstance(f, str | int | float):
            raise ExpressionError(
                f"a factor must be an input name or a number, got {f!r}")
        parts.append(str(f).strip() if isinstance(f, str) else repr(f))
    if not parts:
        raise ExpressionError("an empty list of factors")
    return " * ".join(f"({p})" if isinstance(f, str) and not p.isidentifier() else p
                      for p, f in zip(parts, factors, strict=True))


def parse_expression(text: str | Sequence[Any]) -> Expression:
    """Parse and check an expression (or a list of factors, meaning their product).

    Raises
    ------
    ExpressionError
        Syntax errors (with the column) and anything outside the allowed language.
    """
    if not isinstance(text, str):
        if isinstance(text, Sequence):
            text = factors_to_text(text)
        else:
            raise ExpressionError(f"expected an expression or a list of factors, got {text!r}")
    source = text.strip()
    if not source:
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"cannot parse {source!r}{col}: {exc.msg}") from None
    names: list[str] = []
    node = _compile(tree.body, names, source)
    return Expression(source, tuple(names), lambda env: node(env)[0])


def _apply(op: Callable[..., Any], a: tuple[Any, bool], b: tuple[Any, bool]
           ) -> tuple[Any, bool]:
    """``op(a, b)``, written into an operand's buffer when the expression owns that operand
    and it already has the result's shape and type (float64)."""
    (x, x_owned), (y, y_owned) = a, b
    for target, owned in ((x, x_owned), (y, y_owned)):
        if owned and target.dtype == np.float64 \
                and np.result_type(x, y) == np.float64 \
                and target.shape == np.broadcast_shapes(np.shape(x), np.shape(y)):
            return op(x, y, out=target), True
    out = op(x, y)
    return out, isinstance(out, np.ndarray) and out.ndim > 0


def _compile(node: ast.AST, names: list[str], source: str) -> _Node:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"only numbers are allowed as constants, got {value!r}")
        if not math.isfinite(value):
            raise ExpressionError(f"constant {value!r} is not finite")
        number = float(value)
        return lambda env: (number, False)
    if isinstance(node, ast.Name):
        name = node.id
        if name not in names:
            names.append(name)
        return lambda env: (env[name], False)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)][1]
        left = _compile(node.left, names, source)
        right = _compile(node.right, names, source)
        return lambda env: _apply(op, left(env), right(env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _compile(node.operand, names, source)
        if isinstance(node.op, ast.UAdd):
            return inner

        def negate(env: Mapping[str, Any]) -> tuple[Any, bool]:
            value, owned = inner(env)
            if owned and value.dtype == np.float64:
                return np.negative(value, out=value), True
            out = np.negative(value)
            return out, isinstance(out, np.ndarray) and out.ndim > 0

        return negate
    if isinstance(node, ast.Call):
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if fname not in _FUNCS:
            shown = ast.get_source_segment(source, node.func) or "?"
            raise ExpressionError(f"function {shown!r} is not allowed; only min(...) and "
                                  "max(...) are")
        if node.keywords or len(node.args) < 2:
            raise ExpressionError(f"{fname}(...) takes two or more plain arguments")
        reducer = _FUNCS[fname]
        args = [_compile(a, names, source) for a in node.args]

        def call(env: Mapping[str, Any]) -> tuple[Any, bool]:
            out = args[0](env)
            for a in args[1:]:
                out = _apply(reducer, out, a(env))
            return out

        return call
    shown = ast.get_source_segment(source, node) or type(node).__name__
    raise ExpressionError(f"{shown!r} is not allowed in a sizing expression; use {ALLOWED}")
