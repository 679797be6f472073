"""Sufficient statistics of an A/B test: per-group counts, sums and cross-products.

Every A/B analysis in :mod:`researchkit.experiments` runs on these numbers, never on the raw
rows: for each group (an arm, or an arm within a segment) the count ``n``, the sums
``Σx`` of the metric columns and the sums of products ``Σxy`` (squares included). Means,
variances, covariances and therefore every delta-method, CUPED and t-test result follow from
them; they add up across groups, so segments merge and arms pool exactly.

Exact arithmetic
----------------
A column is stored in one of three *kinds*:

* ``"int"``: integer or boolean values; sums are Python integers (exact, no overflow);
* ``"fixed"``: decimal numbers with a declared number of decimals ``d`` (money in cents,
  ``d=2``); values are stored as integers in units of ``10**-d``, so sums are exact integers;
* ``"float"``: any other float column; sums are float64 (rounding error of summation).

Integer and fixed columns give bit-identical statistics whatever computes them (pandas,
DuckDB, a warehouse); moments derived from them (:meth:`GroupStats.mean`,
:meth:`GroupStats.cov`) use a single correctly rounded division of exact integers, e.g.

.. math:: \\widehat{\\operatorname{cov}}(x, y) = \\frac{n\\sum xy - \\sum x \\sum y}{n(n-1)}.

Examples
--------
>>> g = GroupStats(n=4, sums={"x": 6}, cross={("x", "x"): 14})
>>> g.mean("x"), g.var("x")
(1.5, 1.6666666666666667)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from researchkit.errors import DataError, ParameterError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["ColumnSpec", "GroupStats", "SufficientStats", "pair_key"]

Number = int | float


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The canonical (sorted) key of a cross-product ``Σ a·b``."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class ColumnSpec:
    """How a metric column is stored.

    Attributes
    ----------
    kind : {"int", "fixed", "float"}
    decimals : int
        Number of decimals of a ``"fixed"`` column (0 otherwise); values are stored as
        integers in units of ``10**-decimals``.
    """

    kind: str
    decimals: int = 0

    @property
    def scale(self) -> int:
        return 10 ** self.decimals

    @property
    def exact(self) -> bool:
        return self.kind in ("int", "fixed")


def _div(num: Number, den: int) -> float:
    """``num / den`` (exact integers: one correctly rounded division)."""
    return float(num / den) if den else float("nan")


@dataclass
class GroupStats:
    """Sufficient statistics of one group (an arm, or an arm within a segment).

    Attributes
    ----------
    n : int
        Number of units (users) in the group.
    sums : dict
        ``column -> Σx`` in storage units (integers for exact columns).
    cross : dict
        ``(a, b) -> Σ a·b`` with sorted keys (see :func:`pair_key`); ``(a, a)`` is ``Σ a²``.
    specs : dict
        ``column -> ColumnSpec``; a column without a spec is an exact integer column.
    """

    n: int
    sums: dict[str, Number] = field(default_factory=dict)
    cross: dict[tuple[str, str], Number] = field(default_factory=dict)
    specs: dict[str, ColumnSpec] = field(default_factory=dict)

    def _spec(self, column: str) -> ColumnSpec:
        return self.specs.get(column, ColumnSpec("int"))

    def _sum(self, column: str) -> Number:
        try:
            return self.sums[column]
        except KeyError:
            raise ParameterError("no sum was aggregated for this column", parameter="column",
                                 expected=f"one of {sorted(self.sums)}", got=column) from None

    def _cross(self, a: str, b: str) -> Number:
        key = pair_key(a, b)
        try:
            return self.cross[key]
        except KeyError:
            raise ParameterError(
                "this cross-product was not aggregated", parameter="columns",
                expected=f"one of {sorted(self.cross)}", got=key,
                hint="declare it in the metric (or pass pairs=) when aggregating") from None

    def is_exact(self, *columns: str) -> bool:
        """True if every listed column has exact (integer) sums."""
        return all(self._spec(c).exact for c in columns)

    def mean(self, column: str) -> float:
        """Sample mean ``Σx / n`` in the column's own units."""
        spec = self._spec(column)
        s = self._sum(column)
        if spec.exact:
            return _div(s, self.n * spec.scale)
        return float(s) / self.n if self.n else float("nan")

    def cov(self, a: str, b: str) -> float:
        """Sample covariance (divisor ``n - 1``) of two columns; ``cov(x, x)`` is the variance.

        Formula: ``(n Σab − Σa Σb) / (n (n − 1))``, computed with exact integers for exact
        columns (one rounding) and in float64 otherwise.
        """
        n = self.n
        if n < 2:
            return float("nan")
        sa, sb, sab = self._sum(a), self._sum(b), self._cross(a, b)
        spa, spb = self._spec(a), self._spec(b)
        if spa.exact and spb.exact:
            num = n * int(sab) - int(sa) * int(sb)
            return _div(num, n * (n - 1) * spa.scale * spb.scale)
        # float path: centred form of the same formula
        fa = float(sa) / (spa.scale if spa.exact else 1)
        fb = float(sb) / (spb.scale if spb.exact else 1)
        fab = float(sab) / ((spa.scale if spa.exact else 1) * (spb.scale if spb.exact else 1))
        return (fab - fa * fb / n) / (n - 1)

    def var(self, column: str) -> float:
        """Sample variance (divisor ``n - 1``)."""
        return self.cov(column, column)

    def moments(self, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and sample covariance matrix of ``columns``."""
        import numpy as np

        k = len(columns)
        mu = np.array([self.mean(c) for c in columns], dtype=float)
        cov = np.empty((k, k), dtype=float)
        for i in range(k):
            for j in range(i, k):
                cov[i, j] = cov[j, i] = self.cov(columns[i], columns[j])
        return mu, cov

    def __add__(self, other: GroupStats) -> GroupStats:
        """Statistics of the union of two disjoint groups (sums add exactly)."""
        if not isinstance(other, GroupStats):
            return NotImplemented
        if set(self.sums) != set(other.sums) or set(self.cross) != set(other.cross):
            raise ParameterError("cannot merge statistics of different columns",
                                 parameter="other", expected=sorted(self.sums),
                                 got=sorted(other.sums))
        return GroupStats(
            n=self.n + other.n,
            sums={c: self.sums[c] + other.sums[c] for c in self.sums},
            cross={k: self.cross[k] + other.cross[k] for k in self.cross},
            specs=dict(self.specs),
        )

    def exact_mean(self, column: str) -> Fraction:
        """The mean as an exact fraction (exact columns only)."""
        spec = self._spec(column)
        if not spec.exact:
            raise ParameterError("exact means need an integer or fixed-decimal column",
                                 parameter="column", got=column)
        return Fraction(int(self._sum(column)), self.n * spec.scale)


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (2, "", "")
    if isinstance(value, bool | int | float):
        return (0, "", float(value))
    return (1, type(value).__name__, str(value))


def sort_keys(keys: Iterable[Any]) -> list[Any]:
    """Deterministic order of group keys: numbers, then strings, then missing."""
    return sorted(keys, key=lambda k: tuple(_sort_key(v) for v in (k if isinstance(k, tuple)
                                                                     else (k,))))


@dataclass
class SufficientStats:
    """Sufficient statistics of an experiment, per arm and (optionally) per segment.

    Build it with :func:`researchkit.experiments.aggregate` (pandas, Parquet or DuckDB) or
    :meth:`from_frame` (statistics computed elsewhere, e.g. in a warehouse).

    Attributes
    ----------
    arm : str
        Name of the arm (variant) column.
    segments : tuple of str
        Names of the segment columns (empty: no segment breakdown).
    specs : dict
        ``column -> ColumnSpec`` of every aggregated metric column.
    groups : dict
        ``(arm value, *segment values) -> GroupStats``.
    source : str
        Where the statistics were computed (for the record).
    """

    arm: str
    segments: tuple[str, ...]
    specs: dict[str, ColumnSpec]
    groups: dict[tuple, GroupStats]
    source: str = ""

    def __eq__(self, other: object) -> bool:  # the source is not part of the numbers
        if not isinstance(other, SufficientStats):
            return NotImplemented
        return (self.arm, self.segments, self.specs, self.groups) == \
            (other.arm, other.segments, other.specs, other.groups)

    # -- views -------------------------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.specs)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        first = next(iter(self.groups.values()), None)
        return tuple(first.cross) if first is not None else ()

    @property
    def arms(self) -> tuple[Any, ...]:
        """Arm values in a deterministic order."""
        seen = dict.fromkeys(k[0] for k in self.groups)
        return tuple(sort_keys(seen))

    @property
    def exact(self) -> bool:
        """True when every column has exact (integer) sums."""
        return all(s.exact for s in self.specs.values())

    def segment_values(self, segment: str) -> tuple[Any, ...]:
        """Values of one segment column, in a deterministic order."""
        i = self._segment_index(segment)
        return tuple(sort_keys(dict.fromkeys(k[i + 1] for k in self.groups)))

    def _segment_index(self, segment: str) -> int:
        if segment not in self.segments:
            raise ParameterError("not a segment of these statistics", parameter="segment",
                                 expected=f"one of {list(self.segments)}", got=segment)
        return self.segments.index(segment)

    def _empty(self) -> GroupStats:
        first = next(iter(self.groups.values()))
        return GroupStats(0, {c: 0 if self.specs[c].exact else 0.0 for c in first.sums},
                          {k: 0 if (self.specs[k[0]].exact and self.specs[k[1]].exact)
                           else 0.0 for k in first.cross}, dict(self.specs))

    def group(self, arm: Any, **where: Any) -> GroupStats:
        """Statistics of one arm, merged over segments (optionally within segment values).

        Parameters
        ----------
        arm : value of the arm column
        **where : segment column = value
            Keep only the groups with these segment values.
        """
        if arm not in self.arms:
            raise ParameterError("no such arm in the data", parameter="arm",
                                 expected=f"one of {list(self.arms)}", got=arm)
        idx = {self._segment_index(s) + 1: v for s, v in where.items()}
        out = self._empty()
        found = False
        for key in sort_keys(self.groups):
            if key[0] == arm and all(key[i] == v for i, v in idx.items()):
                out = out + self.groups[key]
                found = True
        if not found:
            raise ParameterError("no units in this arm and segment", parameter="where",
                                 got={"arm": arm, **where})
        return out

    def counts(self) -> dict[Any, int]:
        """Number of units per arm."""
        return {a: sum(g.n for k, g in self.groups.items() if k[0] == a) for a in self.arms}

    def by_segment(self, segment: str) -> dict[Any, SufficientStats]:
        """One :class:`SufficientStats` per value of ``segment`` (other segments merged)."""
        i = self._segment_index(segment)
        out: dict[Any, SufficientStats] = {}
        for value in self.segment_values(segment):
            groups: dict[tuple, GroupStats] = {}
            for key in sort_keys(self.groups):
                if key[i + 1] != value:
                    continue
                new = (key[0],)
                groups[new] = groups[new] + self.groups[key] if new in groups \
                    else self.groups[key]
            out[value] = SufficientStats(self.arm, (), dict(self.specs), groups,
                                         source=f"{self.source} [{segment} = {value!r}]")
        return out

    def overall(self) -> SufficientStats:
        """The statistics with segments merged (one group per arm)."""
        if not self.segments:
            return self
        groups = {(a,): self.group(a) for a in self.arms}
        return SufficientStats(self.arm, (), dict(self.specs), groups, source=self.source)

    # -- tables ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: keys, column kinds and the table of sums (see :meth:`to_frame`)."""
        return {"arm": self.arm, "segments": list(self.segments), "source": self.source,
                "columns": {c: {"kind": s.kind, "decimals": s.decimals}
                            for c, s in self.specs.items()},
                "sums": self.to_frame()}

    def to_frame(self) -> pd.DataFrame:
        """One row per group: keys, ``n``, ``sum__<col>`` and ``sum__<a>__<b>`` columns.

        Exact sums are Python integers (object columns), so nothing is rounded.
        """
        import pandas as pd

        rows = []
        for key in sort_keys(self.groups):
            g = self.groups[key]
            row: dict[str, Any] = {self.arm: key[0]}
            row.update(dict(zip(self.segments, key[1:], strict=True)))
            row["n"] = g.n
            row.update({f"sum__{c}": v for c, v in g.sums.items()})
            row.update({f"sum__{a}__{b}": v for (a, b), v in g.cross.items()})
            rows.append(row)
        df = pd.DataFrame(rows)
        return df.astype({c: object for c in df.columns if c.startswith("sum__")})

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, arm: str, segments: Sequence[str] = (),
                   decimals: Mapping[str, int] | None = None,
                   float_columns: Sequence[str] = (), source: str = "table of sums"
                   ) -> SufficientStats:
        """Statistics from a table of sums (e.g. computed in a warehouse).

        Parameters
        ----------
        df : DataFrame
            One row per group with the arm (and segment) columns, ``n``, ``sum__<col>`` for
            every metric column and ``sum__<a>__<b>`` for the cross-products (``a <= b``).
        arm, segments : str
            Key columns.
        decimals : dict, optional
            ``column -> d`` for fixed-decimal columns whose sums are in units of ``10**-d``.
        float_columns : sequence of str
            Columns whose sums are floats; every other column must hold integer sums.
        """
        from researchkit.experiments._checks import check_columns

        segments = tuple(segments)
        check_columns([arm, *segments, "n"], list(df.columns), parameter="df",
                      source="the table of sums")
        decimals = dict(decimals or {})
        cols: list[str] = []
        pairs: list[tuple[str, str]] = []
        for c in df.columns:
            if not isinstance(c, str) or not c.startswith("sum__"):
                continue
            parts = c[5:].split("__")
            if len(parts) == 1:
                cols.append(parts[0])
            elif len(parts) == 2:
                pairs.append(pair_key(*parts))
            else:
                raise DataError("cannot parse this sum column", column=c,
                                expected="sum__<col> or sum__<a>__<b> (names without '__')")
        if not cols:
            raise DataError("no sum__<column> columns in the table of sums", parameter="df")
        specs: dict[str, ColumnSpec] = {}
        for c in cols:
            if c in float_columns:
                specs[c] = ColumnSpec("float")
            elif decimals.get(c, 0):
                specs[c] = ColumnSpec("fixed", int(decimals[c]))
            else:
                specs[c] = ColumnSpec("int")
        for a, b in pairs:
            for c in (a, b):
                if c not in specs:
                    raise DataError("a cross-product names a column without a sum",
                                    column=f"sum__{a}__{b}", expected=f"a column sum__{c}")
        groups: dict[tuple, GroupStats] = {}
        for i, rec in enumerate(df.to_dict("records"), start=1):
            key = (rec[arm], *(rec[s] for s in segments))
            if key in groups:
                raise DataError("duplicate group in the table of sums", row=i, got=key)
            n = rec["n"]
            if isinstance(n, float) and n.is_integer():
                n = int(n)
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise DataError("invalid count", row=i, column="n",
                                expected="an integer >= 0", got=n)
            sums = {c: _as_sum(rec[f"sum__{c}"], specs[c], i, f"sum__{c}") for c in cols}
            cross = {}
            for a, b in pairs:
                spec = specs[a] if not specs[a].exact else specs[b]
                name = f"sum__{a}__{b}" if f"sum__{a}__{b}" in rec else f"sum__{b}__{a}"
                cross[(a, b)] = _as_sum(rec[name], spec, i, name)
            groups[key] = GroupStats(int(n), sums, cross, dict(specs))
        return cls(arm, segments, specs, groups, source=source)


def _as_sum(value: Any, spec: ColumnSpec, row: int, column: str) -> Number:
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if spec.exact:
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError("exact sums must be integers", row=row, column=column,
                            expected="an integer (declare float_columns= for float sums)",
                            got=value)
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise DataError("sums must be numbers", row=row, column=column, got=value)
    return float(value)
