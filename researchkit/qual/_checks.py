"""Validation of the options of the qual functions (one message format for all of them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from researchkit.errors import ParameterError

__all__ = ["check_choice"]


def check_choice(value: Any, parameter: str, choices: Sequence[str], what: str = "option"
                 ) -> None:
    """Raise ``ParameterError("unknown <what>")`` unless ``value`` is one of ``choices``.

    The error names ``parameter`` and lists the choices in order, e.g.
    ``expected="'error', 'drop' or 'keep'"``.
    """
    if value not in tuple(choices):
        quoted = [f"'{c}'" for c in choices]
        expected = quoted[0] if len(quoted) == 1 else \
            f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        raise ParameterError(f"unknown {what}", parameter=parameter, expected=expected,
                             got=value)
