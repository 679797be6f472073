"""The result type every statistical function in researchkit returns.

A :class:`Result` carries the headline ``estimate``, its confidence/credible interval ``ci``
(where defined), the ``p_value`` (where defined), and a plain-words ``method`` text saying which
method, test, correction and assumptions were used, so a reader never has to guess. Detail tables
go in ``table``; any further named numbers in ``details``; caveats in ``warnings``.

* ``summary()`` gives a tidy DataFrame (the detail table, or one row for the headline);
* ``to_dict()`` gives a JSON-safe dict (what notebooks store in ``results.json``);
* ``_repr_html_()`` renders it readably in JupyterLab.

Areas may subclass :class:`Result` (a dataclass) to add typed fields.

Examples
--------
>>> r = Result(name="Share aware of brand", estimate=0.42, ci=(0.39, 0.45), n=1000,
...            method="Wald interval for a proportion, simple random sample assumed")
>>> r.to_dict()["ci"]
[0.39, 0.45]
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from researchkit.run_context import to_jsonable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Result"]


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "NaN"
    if x != 0 and (abs(x) < 10 ** -(digits - 1) or abs(x) >= 10**7):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:,.{max(digits - 2, 2)}f}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}"


@dataclass(eq=False)
class Result:
    """Outcome of a statistical computation.

    Attributes
    ----------
    name : str
        What was estimated, e.g. "Difference in conversion rate (B − A)".
    estimate : float, dict or None
        The headline estimate (a number, or a dict of named numbers).
    method : str
        Method, test, corrections and assumptions, in plain words.
    ci : tuple of float, optional
        Interval ``(low, high)`` at level ``ci_level``.
    ci_level : float, optional
        Coverage of ``ci`` (e.g. 0.95).
    p_value : float, optional
    statistic : float, optional
        Test statistic (``statistic_name`` says which).
    statistic_name : str, optional
    df : float, optional
        Degrees of freedom of the test statistic.
    n : int, optional
        Number of observations used.
    table : DataFrame, optional
        Detail table (per arm, per channel, per item...). ``summary()`` returns it.
    details : dict
        Further named numbers (variance reduction, effective n, iterations...).
    warnings : list of str
        Caveats a reader must see (shown in red in JupyterLab).
    reference : str, optional
        Literature reference for the method.
    """

    name: str
    estimate: Any
    method: str
    ci: tuple[float, float] | None = None
    ci_level: float | None = None
    p_value: float | None = None
    statistic: float | None = None
    statistic_name: str | None = None
    df: float | None = None
    n: int | None = None
    table: pd.DataFrame | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.ci is not None:
            lo, hi = self.ci
            self.ci = (float(lo), float(hi))
            if self.ci_level is None:
                self.ci_level = 0.95
        if self.p_value is not None:
            self.p_value = float(self.p_value)

    # -- views ---------------------------------------------------------------------------
    def headline(self) -> dict[str, Any]:
        """The headline numbers as a flat dict (estimate, ci_low, ci_high, p_value...)."""
        row: dict[str, Any] = {"name": self.name}
        if isinstance(self.estimate, dict):
            row.update({f"estimate_{k}": v for k, v in self.estimate.items()})
        else:
            row["estimate"] = self.estimate
        if self.ci is not None:
            row["ci_low"], row["ci_high"] = self.ci
            row["ci_level"] = self.ci_level
        for name in ("p_value", "statistic", "df", "n"):
            value = getattr(self, name)
            if value is not None:
                row[name] = value
        return row

    def summary(self) -> pd.DataFrame:
        """Tidy DataFrame: the detail table if there is one, else one row for the headline."""
        import pandas as pd

        if self.table is not None:
            return self.table.copy()
        return pd.DataFrame([self.headline()])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field (tables as lists of records, NaN as None)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "table" and value is None:
                continue
            out[f.name] = value
        return to_jsonable(out)

    def __str__(self) -> str:
        lines = [self.name]
        head = f"  estimate = {self._estimate_text()}"
        if self.ci is not None:
            head += f", {self.ci_level:.0%} CI [{_fmt(self.ci[0])}, {_fmt(self.ci[1])}]"
        if self.p_value is not None:
            head += f", p = {_fmt_p(self.p_value)}"
        lines.append(head)
        if self.n is not None:
            lines.append(f"  n = {self.n:,}")
        lines.append(f"  method: {self.method}")
        lines.extend(f"  WARNING: {w}" for w in self.warnings)
        if self.table is not None:
            lines.append(self.table.to_string(max_rows=30))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {self._estimate_text()}>"

    def _estimate_text(self) -> str:
        if isinstance(self.estimate, dict):
            return ", ".join(f"{k}={_fmt(v)}" for k, v in self.estimate.items())
        return _fmt(self.estimate)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = [("Estimate", self._estimate_text())]
        if self.ci is not None:
            rows.append((f"{self.ci_level:.0%} interval",
                         f"[{_fmt(self.ci[0])}, {_fmt(self.ci[1])}]"))
        if self.p_value is not None:
            rows.append(("p-value", _fmt_p(self.p_value)))
        if self.statistic is not None:
            label = self.statistic_name or "Statistic"
            text = _fmt(self.statistic)
            if self.df is not None:
                text += f" (df = {_fmt(self.df)})"
            rows.append((label, text))
        if self.n is not None:
            rows.append(("n", f"{self.n:,}"))
        for key, value in self.details.items():
            if isinstance(value, int | float | str | bool) or value is None:
                rows.append((str(key).replace("_", " "), _fmt(value)))
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{esc(k)}</th>"
            f"<td style='text-align:left'>{esc(v)}</td></tr>" for k, v in rows
        )
        warn = "".join(
            f"<div style='color:#b00020;margin:.3em 0'>&#9888; {esc(w)}</div>"
            for w in self.warnings
        )
        ref = f"<div style='color:#666'>Reference: {esc(self.reference)}</div>" \
            if self.reference else ""
        table = ""
        if self.table is not None:
            table = self.table.to_html(max_rows=60, float_format=lambda x: _fmt(x))
        return (
            f"<div class='researchkit-result'><h4 style='margin:.2em 0'>{esc(self.name)}</h4>"
            f"{warn}<table>{body}</table>"
            f"<div style='color:#444;margin:.4em 0'><b>Method:</b> {esc(self.method)}</div>"
            f"{ref}{table}</div>"
        )
