"""Errors raised by researchkit.

Every error a user can trigger with bad input is a :class:`ResearchkitError` (or a child), and
its message says *where* the problem is (file, line, field path, row, column, parameter) and
*what was expected*. Code catching errors can read the same facts from attributes.

Examples
--------
>>> raise DataError("code out of range", file="responses.csv", row=12, column="q3",
...                 expected="a code in 1-5", got=7)
Traceback (most recent call last):
...
researchkit.errors.DataError: responses.csv, row 12, column 'q3': code out of range \
(expected a code in 1-5, got 7)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

__all__ = [
    "DataError",
    "ParameterError",
    "Problem",
    "ResearchkitError",
    "SpecError",
]

_UNSET: Any = object()


def _fmt_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ResearchkitError(Exception):
    """Base class of every error researchkit raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    file : str or path, optional
        The file the problem is in.
    line : int, optional
        1-based line number inside ``file``.
    field : str, optional
        Field path inside a configuration file, e.g. ``notebooks[2].parameters.n``.
    row : int or str, optional
        Row (1-based data row, or index label) of a data table.
    column : str, optional
        Column of a data table.
    parameter : str, optional
        Name of a function or notebook parameter.
    expected : str, optional
        What was expected, in words.
    got : any, optional
        The value that was found instead.
    hint : str, optional
        How to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
        parameter: str | None = None,
        expected: str | None = None,
        got: Any = _UNSET,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        self.row = row
        self.column = column
        self.parameter = parameter
        self.expected = expected
        self.got = None if got is _UNSET else got
        self._has_got = got is not _UNSET
        self.hint = hint
        super().__init__(self._format())

    def _where(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}, line {self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.parameter is not None:
            parts.append(f"parameter {self.parameter!r}")
        if self.field is not None:
            parts.append(self.field)
        return ", ".join(parts)

    def _format(self) -> str:
        where = self._where()
        text = f"{where}: {self.message}" if where else self.message
        extra = []
        if self.expected is not None:
            extra.append(f"expected {self.expected}")
        if self._has_got:
            extra.append(f"got {_fmt_value(self.got)}")
        if extra:
            text += f" ({', '.join(extra)})"
        if self.hint:
            text += f". {self.hint}"
        return text


class DataError(ResearchkitError, ValueError):
    """A data file or table is unreadable or does not have the expected content."""


class ParameterError(ResearchkitError, ValueError):
    """A function or notebook parameter is unknown, missing or of the wrong type/value."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a specification file.

    Attributes
    ----------
    field : str
        Field path, e.g. ``questions[3].scale.points`` ("" for the whole document).
    message : str
        What is wrong and what was expected.
    line : int or None
        1-based line in the file, when known.
    """

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.field or "(document)"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


class SpecError(ResearchkitError, ValueError):
    """A specification file (study, questionnaire, codebook, sizing spec) is invalid.

    A single ``SpecError`` lists *every* problem found, so a user fixes the file in one pass.
    Use :meth:`from_problems` to raise one error for many problems.
    """

    def __init__(self, message: str, *, problems: Sequence[Problem] = (), **kwargs: Any) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(message, **kwargs)

    @classmethod
    def from_problems(
        cls, problems: Iterable[Problem], *, file: str | PathLike[str] | None = None,
        what: str = "specification",
    ) -> SpecError:
        """Build one error listing every problem.

        Parameters
        ----------
        problems : iterable of Problem
            The problems, in the order found.
        file : str or path, optional
            The file they were found in.
        what : str
            What kind of file this is ("study", "questionnaire"...), for the message.
        """
        probs = list(problems)
        if not probs:
            raise ValueError("SpecError.from_problems needs at least one problem")
        if len(probs) == 1:
            p = probs[0]
            return cls(p.message, problems=probs, file=file, line=p.line, field=p.field or None)
        lines = "\n".join(f"  - {p}" for p in probs)
        return cls(f"{len(probs)} problems in this {what}:\n{lines}", problems=probs, file=file)
