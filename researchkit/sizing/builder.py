"""Build a sizing spec in Python instead of YAML.

The builder assembles the same structure as a YAML spec and validates it the same way, so a
mistake raises the same single :class:`~researchkit.errors.SpecError` listing every problem.

Examples
--------
>>> from researchkit.sizing import PERT, SizingSpecBuilder
>>> spec = (SizingSpecBuilder("Meal kits in Riverton", currency="EUR", unit="box")
...         .input("households", 650_000, kind="count", source="Census", source_date="2024-06-30")
...         .input("share_buying", PERT(0.02, 0.04, 0.07), kind="share", source="Panel survey")
...         .input("boxes_per_year", PERT(10, 18, 30), kind="rate", source="Panel survey")
...         .input("price", 39.0, kind="price", source="Price list")
...         .top_down(tam="households * boxes_per_year", sam="tam * share_buying",
...                   price="price")
...         .build())
>>> spec.outputs()[:2]
['top_down.tam.units', 'top_down.tam.money']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from researchkit.sizing.distributions import Distribution
from researchkit.sizing.spec import SizingSpec, sizing_spec_from_dict

__all__ = ["SizingSpecBuilder"]


def _date(value: dt.date | str | None) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value  # left for validation to report with its field path
    return value


class SizingSpecBuilder:
    """Fluent builder of a :class:`SizingSpec`; every method returns the builder.

    Parameters mirror the YAML fields (see :mod:`researchkit.sizing.spec`).
    """

    def __init__(self, title: str, *, description: str = "", region: str = "",
                 currency: str = "EUR", unit: str = "unit", period: str = "year",
                 as_of: dt.date | str | None = None, max_source_age_days: int = 730) -> None:
        self._data: dict[str, Any] = {
            "title": title, "description": description, "region": region,
            "currency": currency, "unit": unit, "period": period,
            "max_source_age_days": max_source_age_days, "inputs": {}, "correlations": [],
        }
        if as_of is not None:
            self._data["as_of"] = _date(as_of)

    def input(self, name: str, value: float | Distribution, *, source: str,
              source_date: dt.date | str | None = None, kind: str = "other", unit: str = "",
              label: str = "", url: str | None = None, notes: str = "") -> SizingSpecBuilder:
        """Add an input: a number (known value) or a distribution, with its source."""
        if isinstance(value, Distribution):
            entry: dict[str, Any] = value.to_dict()
        else:
            entry = {"value": value}
        entry.update({"kind": kind, "source": source})
        for key, v in (("unit", unit), ("label", label), ("url", url), ("notes", notes)):
            if v:
                entry[key] = v
        if source_date is not None:
            entry["source_date"] = _date(source_date)
        self._data["inputs"][name] = entry
        return self

    def correlate(self, a: str, b: str, rho: float, *, source: str = "") -> SizingSpecBuilder:
        """Add a Spearman rank correlation between two uncertain inputs."""
        self._data["correlations"].append({"inputs": [a, b], "rho": rho, "source": source})
        return self

    def _chain(self, name: str, tam: Any, sam: Any, som: Any, price: Any, measure: str,
               description: str) -> SizingSpecBuilder:
        chain: dict[str, Any] = {"measure": measure, "description": description}
        for key, value in (("tam", tam), ("sam", sam), ("som", som), ("price", price)):
            if value is not None:
                chain[key] = list(value) if isinstance(value, Sequence) \
                    and not isinstance(value, str) else value
        self._data[name] = chain
        return self

    def top_down(self, *, tam: Any = None, sam: Any = None, som: Any = None,
                 price: Any = None, measure: str = "units",
                 description: str = "") -> SizingSpecBuilder:
        """Set the top-down chain (expressions or lists of factors)."""
        return self._chain("top_down", tam, sam, som, price, measure, description)

    def bottom_up(self, *, tam: Any = None, sam: Any = None, som: Any = None,
                  price: Any = None, measure: str = "units",
                  description: str = "") -> SizingSpecBuilder:
        """Set the bottom-up chain (expressions or lists of factors)."""
        return self._chain("bottom_up", tam, sam, som, price, measure, description)

    def ramp(self, *, analog: str | Sequence[str] | None = None, p: float | None = None,
             q: float | None = None, chain: str | None = None, level: str = "som",
             horizon: int = 5, start: int | None = None) -> SizingSpecBuilder:
        """Set the Bass ramp of the SOM over the planning horizon."""
        ramp: dict[str, Any] = {"level": level, "horizon": horizon}
        for key, value in (("analog", analog), ("p", p), ("q", q), ("chain", chain),
                           ("start", start)):
            if value is not None:
                ramp[key] = list(value) if isinstance(value, Sequence) \
                    and not isinstance(value, str) else value
        self._data["ramp"] = ramp
        return self

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain dict (the YAML structure)."""
        import copy

        return copy.deepcopy(self._data)

    def build(self) -> SizingSpec:
        """Validate and return the spec (raises one SpecError listing every problem)."""
        return sizing_spec_from_dict(self.to_dict(), source="<SizingSpecBuilder>")
