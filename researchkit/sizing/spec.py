"""The market-sizing specification: inputs with sources, correlations, and the two chains.

A sizing spec is a YAML file (or a Python dict, or built with
:class:`~researchkit.sizing.builder.SizingSpecBuilder`)::

    title: Online grocery delivery, Greater Lyon
    currency: EUR
    unit: order                 # what one unit of market capacity is
    period: year
    as_of: 2026-06-01           # desk sources are aged against this date
    max_source_age_days: 730
    inputs:
      households:
        value: 720000           # a known number ("point")
        kind: count
        source: INSEE census 2021
        source_date: 2024-06-27
      share_online:
        dist: pert              # point | uniform | triangular | pert | normal | lognormal |
        low: 0.30               # logitnormal | interval ("90% interval from low to high")
        mode: 0.38
        high: 0.46
        kind: share             # share (0-1) | count | rate | price | money | other
        source: Household e-commerce survey
        source_date: 2025-11-30
    correlations:
      - {inputs: [share_online, orders_per_year], rho: 0.4}   # Spearman rank correlation
    top_down:
      measure: units            # what tam/sam/som compute: units or money
      tam: households * orders_per_year
      sam: tam * share_in_zone * share_online
      som: sam * target_share
      price: basket_value       # money = units x price
    bottom_up:
      measure: units
      som: [couriers, orders_per_courier_year]   # a list of factors = their product

Chains are arithmetic over inputs (see :mod:`researchkit.sizing.expressions`: numbers, input
names, ``+ - * / **``, parentheses, ``min``, ``max``; never ``eval``). A level may use the
levels above it (``tam`` → ``sam`` → ``som``). With a ``price``, a chain measured in units also
gives money (units × price) and one measured in money also gives units (money / price): market
capacity in units and in money.

Every problem in a spec (unknown fields, a chain naming an unknown input, a negative price, a
share above 1, ``low`` above ``high``, impossible correlations...) is reported in **one**
:class:`~researchkit.errors.SpecError` listing each with its field path (and its line in a
YAML file).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from researchkit.config import ProblemList, YamlDocument, load_yaml, parse_yaml, validate_model
from researchkit.sizing.distributions import (
    PARAMETER_NAMES,
    Distribution,
    distribution_from_params,
    distribution_problems,
)
from researchkit.sizing.expressions import Expression, ExpressionError, parse_expression

__all__ = [
    "CHAINS",
    "KINDS",
    "LEVELS",
    "Chain",
    "Correlation",
    "RampSpec",
    "SizingInput",
    "SizingSpec",
    "load_sizing_spec",
    "parse_sizing_spec",
    "sizing_spec_from_dict",
]

LEVELS = ("tam", "sam", "som")
CHAINS = ("top_down", "bottom_up")
MEASURES = ("units", "money")
#: Allowed range of each input kind: a share lies in [0, 1]; counts, rates, prices and money
#: amounts are not negative; "other" may be any finite number.
KINDS: dict[str, tuple[float, float]] = {
    "share": (0.0, 1.0),
    "count": (0.0, math.inf),
    "rate": (0.0, math.inf),
    "price": (0.0, math.inf),
    "money": (0.0, math.inf),
    "other": (-math.inf, math.inf),
}
#: An unbounded distribution may put at most this much probability outside its kind's range
#: on either side (it is checked with the 0.05th and 99.95th percentiles).
TAIL = 0.0005
RESERVED = frozenset({*LEVELS, "min", "max"})

Number = Annotated[float, Field(strict=True)]
LevelExpr = str | list[str | Number]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class InputModel(_Model):
    """One input: a known value or a distribution, with its source and the source's date."""

    dist: str | None = None
    value: Number | None = None
    low: Number | None = None
    mode: Number | None = None
    high: Number | None = None
    mean: Number | None = None
    sd: Number | None = None
    mu: Number | None = None
    sigma: Number | None = None
    median: Number | None = None
    level: Number | None = None
    shape: str | None = None
    lamb: Number | None = Field(default=None, alias="lambda")
    kind: Literal["share", "count", "rate", "price", "money", "other"] = "other"
    unit: str = ""
    label: str = ""
    source: str = Field(min_length=1)
    source_date: dt.date | None = None
    url: str | None = None
    notes: str = ""

    def distribution_params(self) -> dict[str, Any]:
        """The distribution parameters given (``lambda`` is the field ``lamb``)."""
        given = {name: getattr(self, "lamb" if name == "lambda" else name)
                 for name in PARAMETER_NAMES}
        return {name: value for name, value in given.items() if value is not None}


class CorrelationModel(_Model):
    """A Spearman rank correlation between two uncertain inputs."""

    inputs: list[str] = Field(min_length=2, max_length=2)
    rho: Number = Field(ge=-1, le=1)
    source: str = ""
    notes: str = ""


class ChainModel(_Model):
    """A top-down or bottom-up chain: expressions for TAM, SAM and/or SOM."""

    measure: Literal["units", "money"] = "units"
    tam: LevelExpr | None = None
    sam: LevelExpr | None = None
    som: LevelExpr | None = None
    price: LevelExpr | None = None
    description: str = ""


class RampModel(_Model):
    """How the SOM is reached over the planning horizon (a Bass diffusion curve)."""

    chain: Literal["top_down", "bottom_up"] | None = None
    level: Literal["tam", "sam", "som"] = "som"
    analog: str | list[str] | None = None
    p: Number | None = Field(default=None, gt=0, le=1)
    q: Number | None = Field(default=None, ge=0, le=3)
    horizon: int = Field(default=5, gt=0, le=100)
    start: int | None = None


class SizingSpecModel(_Model):
    """The whole sizing spec (see the module docstring).

    The sections are validated one item at a time (:func:`_build`), so that a problem in one
    input does not hide the problems of the others.
    """

    title: str = Field(min_length=1)
    description: str = ""
    region: str = ""
    currency: str = "EUR"
    unit: str = "unit"
    period: str = "year"
    as_of: dt.date | None = None
    max_source_age_days: int = Field(default=730, gt=0)
    inputs: dict[str, Any] = Field(min_length=1)
    correlations: list[Any] = Field(default_factory=list)
    top_down: Any = None
    bottom_up: Any = None
    ramp: Any = None


@dataclass
class _Parsed:
    """The spec with every section validated item by item (invalid items left out)."""

    top: SizingSpecModel
    inputs: dict[str, InputModel]
    bad_inputs: set[str]
    correlations: list[tuple[int, CorrelationModel]]
    chains: dict[str, ChainModel]
    ramp: RampModel | None


def _validate_part(model: type[Any], data: Any, prefix: tuple[str | int, ...],
                   problems: ProblemList) -> Any:
    """Validate one part of the spec; its pydantic errors are added under ``prefix``."""
    from pydantic import ValidationError

    from researchkit.config import _is_union_tag, _pydantic_message

    if data is None:
        problems.add(prefix, "is empty; expected a mapping of fields")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err.get("loc", ()) if not _is_union_tag(p)]
            if loc and loc[0] == "__root__":
                loc = loc[1:]
            problems.add((*prefix, *loc), _pydantic_message(err))
        return None


# -- the validated spec ---------------------------------------------------------------------
@dataclass(frozen=True)
class SizingInput:
    """A validated input."""

    name: str
    distribution: Distribution
    kind: str = "other"
    unit: str = ""
    label: str = ""
    source: str = ""
    source_date: dt.date | None = None
    url: str | None = None
    notes: str = ""

    @property
    def is_point(self) -> bool:
        return self.distribution.is_point


@dataclass(frozen=True)
class Correlation:
    """A rank correlation between two inputs."""

    a: str
    b: str
    rho: float
    source: str = ""


@dataclass(frozen=True)
class Chain:
    """A validated chain: level expressions in order tam → sam → som, and an optional price."""

    name: str
    measure: str
    levels: dict[str, Expression]
    price: Expression | None = None
    description: str = ""

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures this chain produces (both when it has a price)."""
        return MEASURES if self.price is not None else (self.measure,)

    def outputs(self) -> list[str]:
        """Output keys ``chain.level.measure``."""
        return [f"{self.name}.{lvl}.{m}" for lvl in self.levels for m in self.measures]


@dataclass(frozen=True)
class RampSpec:
    """The SOM ramp settings of a spec."""

    chain: str
    level: str = "som"
    analog: tuple[str, ...] = ()
    p: float | None = None
    q: float | None = None
    horizon: int = 5
    start: int | None = None


@dataclass(frozen=True)
class SizingSpec:
    """A validated market-sizing spec. Build it with :func:`load_sizing_spec`,
    :func:`parse_sizing_spec`, :func:`sizing_spec_from_dict` or the builder."""

    title: str
    inputs: dict[str, SizingInput]
    chains: dict[str, Chain]
    correlations: tuple[Correlation, ...] = ()
    description: str = ""
    region: str = ""
    currency: str = "EUR"
    unit: str = "unit"
    period: str = "year"
    as_of: dt.date | None = None
    max_source_age_days: int = 730
    ramp: RampSpec | None = None
    source: str | None = None
    warnings: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def outputs(self) -> list[str]:
        """Every output key, ``chain.level.measure`` (e.g. ``top_down.som.money``)."""
        return [key for chain in self.chains.values() for key in chain.outputs()]

    @property
    def uncertain_inputs(self) -> list[str]:
        """Names of the inputs that are distributions (not point values)."""
        return [n for n, i in self.inputs.items() if not i.is_point]

    def inputs_table(self) -> Any:
        """One row per input: distribution, median, 90% interval, kind, unit, source, date."""
        import pandas as pd

        rows = []
        for name, inp in self.inputs.items():
            d = inp.distribution
            lo, hi = d.interval(0.9)
            rows.append({
                "input": name, "label": inp.label or name, "distribution": d.describe(),
                "median": d.median, "p05": lo, "p95": hi, "kind": inp.kind, "unit": inp.unit,
                "source": inp.source, "source_date": inp.source_date,
            })
        return pd.DataFrame(rows)

    def label(self, name: str) -> str:
        """Readable label of an input (its ``label``, else its name)."""
        inp = self.inputs.get(name)
        return (inp.label or name) if inp is not None else name


# -- checks ---------------------------------------------------------------------------------
def _range_problem(kind: str, dist: Distribution) -> str | None:
    lo, hi = KINDS[kind]
    if kind == "other":
        return None
    s_lo, s_hi = dist.support
    what = {"share": "a share", "count": "a count", "rate": "a rate", "price": "a price",
            "money": "a money amount"}[kind]
    allowed = "lie in [0, 1]" if kind == "share" else "be 0 or more"
    if dist.is_point:
        if not lo <= s_lo <= hi:
            return f"{what} must {allowed}, got {s_lo:,.6g}"
        return None
    if math.isfinite(s_lo) and math.isfinite(s_hi):
        if s_lo < lo or s_hi > hi:
            bad = s_lo if s_lo < lo else s_hi
            return (f"{what} must {allowed}, but this {dist.kind} distribution reaches "
                    f"{bad:,.6g}")
        return None
    q_lo, q_hi = (float(x) for x in dist.ppf(np.array([TAIL, 1 - TAIL])))
    if q_lo < lo or q_hi > hi:
        side, value = ("below", q_lo) if q_lo < lo else ("above", q_hi)
        limit = lo if q_lo < lo else hi
        return (f"{what} must {allowed}, but more than {TAIL:.2%} of this "
                f"{dist.kind} distribution lies {side} {limit:g} (its "
                f"{(TAIL if side == 'below' else 1 - TAIL):.2%} percentile is {value:,.6g}); "
                "use a bounded distribution (pert, triangular, uniform) or an interval with "
                "shape lognormal (positive) or logitnormal (shares)")
    return None


def _pearson_from_spearman(rho: np.ndarray) -> np.ndarray:
    """Normal-scores Pearson correlation giving Spearman ``rho``: ``2 sin(π ρ / 6)``."""
    return 2 * np.sin(np.pi * rho / 6)


def correlation_groups(
    names: list[str], correlations: tuple[Correlation, ...],
) -> list[tuple[list[str], np.ndarray]]:
    """Connected groups of correlated inputs and each group's Spearman target matrix."""
    parent = {n: n for n in names}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in correlations:
        ra, rb = find(c.a), find(c.b)
        if ra != rb:
            parent[rb] = ra
    members: dict[str, list[str]] = {}
    for n in names:
        if any(n in (c.a, c.b) for c in correlations):
            members.setdefault(find(n), []).append(n)
    groups = []
    for group in members.values():
        idx = {n: i for i, n in enumerate(group)}
        mat = np.eye(len(group))
        for c in correlations:
            if c.a in idx and c.b in idx:
                mat[idx[c.a], idx[c.b]] = mat[idx[c.b], idx[c.a]] = c.rho
        groups.append((group, mat))
    return groups


def _check_inputs(parsed: _Parsed, problems: ProblemList) -> dict[str, SizingInput]:
    out: dict[str, SizingInput] = {}
    model = parsed.top
    for name in model.inputs:
        where: tuple[str | int, ...] = ("inputs", name)
        ok = True
        if not name.isidentifier() or name.startswith("_"):
            problems.add(where, "an input name must be a plain identifier (letters, digits and "
                                "_, not starting with a digit or _) so chains can use it")
            ok = False
        elif name in RESERVED:
            problems.add(where, f"{name!r} is reserved (tam, sam, som, min, max); rename the "
                                "input")
            ok = False
        inp = parsed.inputs.get(name)
        if inp is None:
            continue
        params = inp.distribution_params()
        kind = inp.dist
        if kind is None:
            if inp.value is None:
                problems.add(where, "give 'value' for a known number or 'dist' with its "
                                    "parameters for an uncertain one")
                continue
            kind = "point"
        issues = distribution_problems(kind, params)
        for param, message in issues:
            problems.add((*where, param) if param else where, message)
        if issues:
            continue
        dist = distribution_from_params(kind, params)
        message = _range_problem(inp.kind, dist)
        if message:
            problems.add(where, message)
            ok = False
        if model.as_of is not None and inp.source_date is not None \
                and inp.source_date > model.as_of:
            problems.add((*where, "source_date"),
                         f"source date {inp.source_date} is after the spec's as_of date "
                         f"{model.as_of}")
        if ok:
            out[name] = SizingInput(name, dist, inp.kind, inp.unit, inp.label, inp.source,
                                    inp.source_date, inp.url, inp.notes)
    return out


def _check_correlations(parsed: _Parsed, inputs: dict[str, SizingInput],
                        problems: ProblemList) -> tuple[Correlation, ...]:
    model = parsed.top
    out: list[Correlation] = []
    seen: dict[frozenset[str], int] = {}
    for i, c in parsed.correlations:
        where: tuple[str | int, ...] = ("correlations", i)
        a, b = c.inputs
        bad = False
        for j, name in enumerate((a, b)):
            if name not in model.inputs:
                problems.add((*where, "inputs", j),
                             f"unknown input {name!r} (inputs are: {', '.join(model.inputs)})")
                bad = True
            elif name in inputs and inputs[name].is_point:
                problems.add((*where, "inputs", j),
                             f"input {name!r} is a point value; only uncertain inputs can be "
                             "correlated")
                bad = True
        if a == b:
            problems.add((*where, "inputs"), f"an input cannot be correlated with itself ({a!r})")
            bad = True
        pair = frozenset((a, b))
        if pair in seen and a != b:
            problems.add(where, f"the pair {a!r}–{b!r} is already correlated in "
                                f"correlations[{seen[pair]}]")
            bad = True
        seen.setdefault(pair, i)
        if abs(c.rho) >= 1:
            problems.add((*where, "rho"), "a rank correlation of ±1 is degenerate; use a value "
                                          "strictly between -1 and 1")
            bad = True
        if not bad and a in inputs and b in inputs:
            out.append(Correlation(a, b, float(c.rho), c.source))
    if out:
        names = [n for n in inputs if not inputs[n].is_point]
        for group, target in correlation_groups(names, tuple(out)):
            smallest = float(np.linalg.eigvalsh(_pearson_from_spearman(target)).min())
            if smallest <= 1e-10:
                problems.add(("correlations",),
                             f"the rank correlations among {', '.join(group)} cannot hold "
                             "together (their normal-scores correlation matrix is not positive "
                             f"definite; smallest eigenvalue {smallest:.3g}); weaken some of them")
    return tuple(out)


def _check_chain(name: str, chain: ChainModel, names: set[str], problems: ProblemList
                 ) -> Chain | None:
    levels: dict[str, Expression] = {}
    defined = [lvl for lvl in LEVELS if getattr(chain, lvl) is not None]
    if not defined:
        problems.add((name,), "a chain needs at least one of tam, sam, som")
        return None
    ok = True
    for lvl in [*LEVELS, "price"]:
        raw = getattr(chain, lvl)
        if raw is None:
            continue
        where = (name, lvl)
        try:
            expr = parse_expression(raw)
        except ExpressionError as exc:
            problems.add(where, str(exc))
            ok = False
            continue
        above = [x for x in LEVELS[: LEVELS.index(lvl)] if x in defined] if lvl != "price" \
            else []
        for ref in expr.names:
            if ref in LEVELS:
                if ref not in above:
                    if lvl == "price":
                        why = "price may use inputs only"
                    elif ref in defined:
                        why = f"{lvl} may use only the levels above it ({' → '.join(LEVELS)})"
                    else:
                        why = f"this chain defines no {ref}"
                    problems.add(where, f"uses {ref!r}, but {why}")
                    ok = False
            elif ref not in names:
                problems.add(where, f"unknown input {ref!r} "
                                    f"(inputs are: {', '.join(sorted(names))})")
                ok = False
        if lvl == "price":
            continue
        levels[lvl] = expr
    if not ok:
        return None
    price = parse_expression(chain.price) if chain.price is not None else None
    return Chain(name, chain.measure, levels, price, chain.description)


def _check_ramp(parsed: _Parsed, chains: dict[str, Chain], problems: ProblemList
                ) -> RampSpec | None:
    ramp = parsed.ramp
    if ramp is None:
        return None
    ok = True
    chain = ramp.chain or next(iter(chains), None)
    if chain is None:
        return None
    if ramp.chain is not None and ramp.chain not in parsed.chains:
        problems.add(("ramp", "chain"), f"the spec has no {ramp.chain} chain")
        ok = False
    elif chain in chains and ramp.level not in chains[chain].levels:
        problems.add(("ramp", "level"), f"the {chain} chain defines no {ramp.level}")
        ok = False
    analogs: tuple[str, ...] = ()
    if ramp.analog is not None:
        analogs = (ramp.analog,) if isinstance(ramp.analog, str) else tuple(ramp.analog)
        from researchkit.sizing.analogs import bass_analogs

        known = {p.casefold() for p in bass_analogs()["product"].astype(str)}
        for j, a in enumerate(analogs):
            if a.casefold() not in known:
                path = ("ramp", "analog") if isinstance(ramp.analog, str) \
                    else ("ramp", "analog", j)
                problems.add(path, f"unknown analog product {a!r}; see "
                                   "researchkit.sizing.bass_analogs() for the shipped table")
                ok = False
        if not analogs:
            problems.add(("ramp", "analog"), "give at least one analog product")
            ok = False
    if (ramp.p is None) != (ramp.q is None):
        problems.add(("ramp",), "give both p and q, or neither (then an analog)")
        ok = False
    if ramp.p is not None and analogs:
        problems.add(("ramp",), "give either p and q or an analog, not both")
        ok = False
    if ramp.p is None and not analogs:
        problems.add(("ramp",), "give p and q, or an analog product")
        ok = False
    if not ok:
        return None
    return RampSpec(chain, ramp.level, analogs, ramp.p, ramp.q, ramp.horizon, ramp.start)


def _build(doc: YamlDocument | Any, *, source: str | None) -> SizingSpec:
    ydoc = doc if isinstance(doc, YamlDocument) else None
    data = doc.data if isinstance(doc, YamlDocument) else doc
    problems = ProblemList(ydoc, source=source, what="sizing spec")
    if data is not None and not isinstance(data, Mapping):
        problems.add((), f"expected a mapping of sizing-spec fields, got {type(data).__name__}")
        problems.raise_if_any()
    model = validate_model(SizingSpecModel, doc, what="sizing spec", source=source,
                           problems=problems)
    parsed_inputs: dict[str, InputModel] = {}
    for name, raw in model.inputs.items():
        item = _validate_part(InputModel, raw, ("inputs", name), problems)
        if item is not None:
            parsed_inputs[str(name)] = item
    correlations = []
    for i, raw in enumerate(model.correlations):
        item = _validate_part(CorrelationModel, raw, ("correlations", i), problems)
        if item is not None:
            correlations.append((i, item))
    chain_models: dict[str, ChainModel] = {}
    for cname in CHAINS:
        raw = getattr(model, cname)
        if raw is not None:
            item = _validate_part(ChainModel, raw, (cname,), problems)
            if item is not None:
                chain_models[cname] = item
    ramp_model = _validate_part(RampModel, model.ramp, ("ramp",), problems) \
        if model.ramp is not None else None
    parsed = _Parsed(model, parsed_inputs, set(model.inputs) - set(parsed_inputs),
                     correlations, chain_models, ramp_model)
    inputs = _check_inputs(parsed, problems)
    correlations_ = _check_correlations(parsed, inputs, problems)
    chains: dict[str, Chain] = {}
    if model.top_down is None and model.bottom_up is None:
        problems.add((), "give a top_down chain, a bottom_up chain, or both")
    names = set(model.inputs)
    for cname, cm in chain_models.items():
        chain = _check_chain(cname, cm, names, problems)
        if chain is not None:
            chains[cname] = chain
    ramp = _check_ramp(parsed, chains, problems)
    problems.raise_if_any()
    used = {n for c in chains.values() for e in [*c.levels.values(), c.price] if e is not None
            for n in e.names}
    unused = [n for n in inputs if n not in used]
    warnings = tuple(f"input {n!r} is not used by any chain" for n in unused)
    return SizingSpec(
        title=model.title, inputs=inputs, chains=chains, correlations=correlations_,
        description=model.description, region=model.region, currency=model.currency,
        unit=model.unit, period=model.period, as_of=model.as_of,
        max_source_age_days=model.max_source_age_days, ramp=ramp, source=source,
        warnings=warnings, data=dict(data),
    )


def load_sizing_spec(path: str | Path) -> SizingSpec:
    """Read and validate a sizing spec YAML file.

    Raises
    ------
    SpecError
        Malformed YAML (with its line) or every problem in the spec at once, each with its
        field path and line.
    """
    doc = load_yaml(path)
    return _build(doc, source=str(path))


def parse_sizing_spec(text: str, *, source: str = "<sizing spec>") -> SizingSpec:
    """Validate a sizing spec given as YAML text."""
    return _build(parse_yaml(text, source=source), source=source)


def sizing_spec_from_dict(data: Mapping[str, Any], *, source: str = "<sizing spec>"
                          ) -> SizingSpec:
    """Validate a sizing spec given as a Python mapping (the YAML structure)."""
    return _build(dict(data), source=source)
