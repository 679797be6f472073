"""The chain expression language: arithmetic only, never eval."""

from __future__ import annotations

import numpy as np
import pytest

from researchkit.sizing.expressions import ExpressionError, factors_to_text, parse_expression


def test_arithmetic_and_precedence():
    e = parse_expression("a + b * c ** 2 / d - -e")
    value = e.evaluate({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0})
    assert value == pytest.approx(1 + 2 * 9 / 4 + 5)
    assert e.names == ("a", "b", "c", "d", "e")


def test_vectorised_evaluation_broadcasts_scalars():
    e = parse_expression("households * (share_a + share_b) * 12")
    out = e.evaluate({"households": 1000.0, "share_a": np.array([0.1, 0.2]), "share_b": 0.3})
    np.testing.assert_allclose(out, [4800.0, 6000.0])


def test_min_and_max():
    e = parse_expression("min(a, b, 3) + max(a, b)")
    out = e.evaluate({"a": np.array([1.0, 5.0]), "b": np.array([2.0, 4.0])})
    np.testing.assert_allclose(out, [1 + 2, 3 + 5])


def test_list_of_factors_is_their_product():
    assert factors_to_text(["a", 2, "b"]) == "a * 2 * b"
    e = parse_expression(["a", 0.5, "b"])
    assert e.evaluate({"a": 4.0, "b": 3.0}) == 6.0


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo hacked')",
    "a.real",
    "a[0]",
    "'text'",
    "a if b else c",
    "a < b",
    "lambda: 1",
    "abs(a)",
    "min(a)",
    "max(a, key=b)",
    "[a, b]",
    "a and b",
    "True * a",
    "a // b",
    "a % b",
])
def test_everything_outside_the_language_is_rejected(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


@pytest.mark.parametrize("text", ["a *", "(a + b", "", "   ", "a b"])
def test_syntax_errors(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_bad_factors():
    with pytest.raises(ExpressionError):
        parse_expression([])
    with pytest.raises(ExpressionError):
        parse_expression(["a", None])


def test_division_by_zero_gives_inf_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = parse_expression("a / b").evaluate({"a": np.array([1.0]), "b": np.array([0.0])})
    assert np.isinf(out[0])
