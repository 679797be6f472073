"""The chain expression language: arithmetic only, never eval."""

from __future__ import annotations

from functools import reduce

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


@pytest.mark.parametrize("text", [
    "a * b * c", "a * b + b * c - a / c", "-(a * b)", "2 - a * b", "a / (b * c)",
    "(a * b) ** 2", "min(a * b, c, 2.5) + max(a, b * c)", "+(a - b)", "3 * a", "a ** b / c",
])
def test_in_place_intermediates_match_plain_numpy_and_leave_inputs_alone(text):
    # Intermediate arrays are overwritten in place; the inputs never are, and the result is
    # the same as evaluating the expression with plain (allocating) numpy operators.
    rng = np.random.default_rng(1)
    env = {name: rng.uniform(0.5, 2.0, 1000) for name in "abc"}
    before = {k: v.copy() for k, v in env.items()}
    out = parse_expression(text).evaluate(env)
    with np.errstate(all="ignore"):
        ref = eval(text, {"min": lambda *x: reduce(np.minimum, x),  # trusted test text
                          "max": lambda *x: reduce(np.maximum, x)}, dict(env))
    np.testing.assert_array_equal(out, ref)
    for k in env:
        np.testing.assert_array_equal(env[k], before[k])
        assert out is not env[k]


def test_in_place_evaluation_keeps_integer_and_scalar_semantics():
    ints = {"a": np.array([1, 2, 3]), "b": np.array([2, 2, 2])}
    out = parse_expression("a * b / b").evaluate(ints)  # int product, then true division
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    assert parse_expression("a * b - 1").evaluate({"a": 2.0, "b": 4.0}) == 7.0
    out = parse_expression("a * b * 2").evaluate({"a": np.ones(3), "b": 4.0})
    np.testing.assert_array_equal(out, [8.0, 8.0, 8.0])
