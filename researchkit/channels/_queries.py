"""The aggregation queries of the attribution area, in one place.

Journeys too large for memory stay in Parquet files (or a DuckDB relation); only the
unique-path table, the sufficient statistic of every path-based model (Markov, Shapley,
first/last/linear/position rules), comes back. The same SQL is meant to run on a warehouse
or Spark later (through Ibis); in-memory and pushed-down paths give identical numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from researchkit.errors import DataError, ParameterError

#: Unique-path table from one row per journey (conversions 0/1 or counts, optional value).
PATH_TABLE_SQL = """
SELECT {path} AS path,
       SUM({conversions})::DOUBLE AS conversions,
       SUM(CASE WHEN {conversions} = 0 THEN 1 ELSE 0 END)::DOUBLE AS nulls,
       {value_sum} AS value,
       COUNT(*) AS journeys
FROM source
GROUP BY {path}
ORDER BY conversions DESC, journeys DESC, path
"""

#: Re-aggregation of a table that already has a nulls column (several files of paths).
UNIQUE_PATH_SQL = """
SELECT {path} AS path,
       SUM({conversions})::DOUBLE AS conversions,
       SUM({nulls})::DOUBLE AS nulls,
       {value_sum} AS value
FROM source
GROUP BY {path}
ORDER BY conversions DESC, path
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def path_table_sql(source: Any, *, path: str = "path", conversions: str = "conversions",
                   nulls: str | None = None, value: str | None = "value") -> pd.DataFrame:
    """Aggregate journeys to a unique-path table inside DuckDB.

    Parameters
    ----------
    source : str, Path or duckdb relation
        A Parquet file (or glob, e.g. ``"journeys/*.parquet"``) or a DuckDB relation with one
        row per journey (``path`` as an ``"a > b"`` string, ``conversions``, optional
        ``value``), or one row per path with a ``nulls`` column (then pass ``nulls``).
    path, conversions, nulls, value : str
        Column names (``value=None``: no value column).

    Returns
    -------
    DataFrame
        ``path``, ``conversions``, ``nulls``, ``value`` (and ``journeys`` for journey rows).
    """
    import duckdb

    con = duckdb.connect()
    try:
        if isinstance(source, str | Path):
            text = str(source)
            if not any(ch in text for ch in "*?[") and not Path(text).exists():
                raise DataError("file not found", file=text)
            rel = con.read_parquet(text)
        elif hasattr(source, "columns") and hasattr(source, "aggregate"):
            rel = source
        else:
            raise ParameterError("source must be a Parquet path or a DuckDB relation",
                                 parameter="source", got=type(source).__name__)
        columns = list(rel.columns)
        for col, param in ((path, "path"), (conversions, "conversions"), (nulls, "nulls"),
                           (value, "value")):
            if col is not None and col not in columns:
                raise DataError("column not found", column=col, parameter=param,
                                expected=f"one of {columns}")
        value_sum = f"SUM({_quote(value)})::DOUBLE" if value else "0.0::DOUBLE"
        template = UNIQUE_PATH_SQL if nulls else PATH_TABLE_SQL
        query = template.format(path=_quote(path), conversions=_quote(conversions),
                                nulls=_quote(nulls) if nulls else "", value_sum=value_sum)
        bad = rel.filter(f"{_quote(conversions)} < 0 OR {_quote(conversions)} IS NULL "
                         f"OR {_quote(path)} IS NULL").limit(1).fetchall()
        if bad:
            raise DataError("missing path or negative/missing conversions in the journeys",
                            column=f"{path}/{conversions}", got=bad[0])
        out = rel.query("source", query).df()
    finally:
        con.close()
    if not value:
        out = out.drop(columns="value")
    return out
