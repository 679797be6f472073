"""Parameter checks shared by the A/B modules (clear researchkit errors, never bare tracebacks)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from researchkit.errors import DataError, ParameterError

ALTERNATIVES = ("two-sided", "greater", "less")


def check_fraction(value: Any, name: str, *, low: float = 0.0, high: float = 1.0,
                   inclusive: bool = False) -> float:
    """A float strictly inside (low, high) (or inside [low, high] when ``inclusive``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (low <= value <= high) if inclusive else (low < value < high)
    if not ok:
        brackets = "[]" if inclusive else "()"
        raise ParameterError("out of range", parameter=name,
                             expected=f"a number in {brackets[0]}{low}, {high}{brackets[1]}",
                             got=value)
    return float(value)


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    return check_fraction(alpha, name, low=0.0, high=1.0)


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value >= 0 if allow_zero else value > 0
    if not ok:
        raise ParameterError("invalid value", parameter=name,
                             expected="a number >= 0" if allow_zero else "a number > 0",
                             got=value)
    return float(value)


def check_alternative(alternative: Any) -> str:
    if alternative not in ALTERNATIVES:
        raise ParameterError("unknown alternative", parameter="alternative",
                             expected=f"one of {list(ALTERNATIVES)}", got=alternative)
    return str(alternative)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ParameterError(f"unknown {name}", parameter=name,
                             expected=f"one of {list(choices)}", got=value)
    return str(value)


def check_columns(columns: Iterable[str], available: Sequence[str], *, parameter: str,
                  source: str = "the data") -> None:
    """Every name in ``columns`` must be a column of the data."""
    have = set(available)
    missing = [c for c in columns if c not in have]
    if missing:
        shown = list(available)[:30]
        raise DataError(f"column(s) {missing} not found in {source}", parameter=parameter,
                        expected=f"one of {shown}", got=missing[0] if len(missing) == 1
                        else missing)


def check_name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ParameterError("expected a column name", parameter=name,
                             expected="a non-empty string", got=value)
    return value
