"""Where a notebook run writes its outputs, and how it records its headline numbers.

When the study runner executes a notebook it sets ``RESEARCHKIT_RUN_DIR`` to the notebook's run
folder (``runs/<study>/<timestamp>/<notebook>/``). Outside the runner (a notebook opened in
JupyterLab, a script) the first write creates a fresh folder
``runs/interactive/<timestamp>/`` under the current directory, so an interactive session never
overwrites anything either.

A notebook's last cell calls :func:`record_results` with its headline numbers; they land in
``results.json``, which the runner and the tests read.

This module imports only the standard library (it is used by the runner and by ``io``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from researchkit.errors import ParameterError

__all__ = [
    "RUN_DIR_ENV",
    "SavedFiles",
    "current_study_file",
    "figures_dir",
    "note_input",
    "record_results",
    "run_dir",
    "save_table",
    "tables_dir",
    "to_jsonable",
]

RUN_DIR_ENV = "RESEARCHKIT_RUN_DIR"
STUDY_FILE_ENV = "RESEARCHKIT_STUDY_FILE"
INPUTS_FILE = ".inputs.jsonl"
RESULTS_FILE = "results.json"

_interactive_dir: Path | None = None


def run_dir(create: bool = True) -> Path:
    """The current run's output folder.

    Parameters
    ----------
    create : bool
        Create the folder (and, outside the runner, choose a new interactive folder) if needed.
    """
    global _interactive_dir
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        path = Path(env)
    else:
        if _interactive_dir is None:
            if not create:
                return Path("runs") / "interactive" / "(not started)"
            base = Path.cwd() / "runs" / "interactive"
            stamp = datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
            path = base / stamp
            n = 1
            while path.exists():
                path = base / f"{stamp}-{n}"
                n += 1
            _interactive_dir = path
        path = _interactive_dir
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def current_study_file() -> Path | None:
    """The study file the runner is executing this notebook for (``None`` outside a study)."""
    env = os.environ.get(STUDY_FILE_ENV)
    return Path(env) if env else None


def figures_dir() -> Path:
    """The run's ``figures/`` folder (created on demand)."""
    path = run_dir() / "figures"
    path.mkdir(exist_ok=True)
    return path


def tables_dir() -> Path:
    """The run's ``tables/`` folder (created on demand)."""
    path = run_dir() / "tables"
    path.mkdir(exist_ok=True)
    return path


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ParameterError(
            f"invalid {what} name", parameter="name",
            expected="letters, digits, '_', '-' or '.', not starting with a dot", got=name,
        )
    return name


class SavedFiles(list):  # type: ignore[type-arg]
    """Paths written into the run folder; shows as one short line in a notebook."""

    def _names(self) -> str:
        base = run_dir(create=False)
        out = []
        for p in self:
            try:
                out.append(str(Path(p).relative_to(base)))
            except ValueError:
                out.append(str(p))
        return ", ".join(out)

    def __repr__(self) -> str:
        return f"Saved: {self._names()}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        import html

        return f"<div style='color:#777;font-size:85%'>Saved: {html.escape(self._names())}</div>"


def save_table(df: Any, name: str, *, formats: tuple[str, ...] = ("csv",)) -> SavedFiles:
    """Save a table into the run's ``tables/`` folder.

    Parameters
    ----------
    df : pandas.DataFrame
    name : str
        File name without extension.
    formats : tuple of {"csv", "xlsx", "parquet", "html"}
        One file per format.

    Returns
    -------
    SavedFiles
        A list of the paths written.
    """
    _check_name(name, "table")
    allowed = {"csv", "xlsx", "parquet", "html"}
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise ParameterError("unknown table format", parameter="formats",
                             expected=f"some of {sorted(allowed)}", got=list(formats))
    out = []
    for fmt in formats:
        path = tables_dir() / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=True)
        elif fmt == "xlsx":
            df.to_excel(path)
        elif fmt == "parquet":
            df.to_parquet(path)
        else:
            path.write_text(df.to_html(), encoding="utf-8")
        out.append(path)
    return SavedFiles(out)


def note_input(path: str | Path, sha256: str) -> None:
    """Record that the current run read ``path`` (called by :func:`researchkit.io.read_table`).

    Inside a runner-managed run the record goes to ``<run>/.inputs.jsonl`` and ends up in
    ``run.json``; outside a run nothing is written.
    """
    env = os.environ.get(RUN_DIR_ENV)
    if not env:
        return
    record = {"path": str(Path(path).resolve()), "sha256": sha256}
    with (Path(env) / INPUTS_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def to_jsonable(obj: Any, _path: str = "") -> Any:
    """Convert numbers, arrays, tables and result objects to JSON-safe Python values.

    NaN and infinities become ``None``; numpy scalars become Python numbers; DataFrames become
    lists of records; objects with a ``to_dict()`` method are converted with it.

    Raises
    ------
    ParameterError
        For a value that has no JSON form, naming where in the structure it is.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, f"{_path}.{k}" if _path else str(k))
                for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v, f"{_path}[{i}]") for i, v in enumerate(items)]
    module = type(obj).__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return to_jsonable(float(obj))
        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist(), _path)
        if isinstance(obj, np.datetime64):
            return str(obj)
    if module == "pandas":
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            frame = obj.reset_index() if not isinstance(obj.index, pd.RangeIndex) else obj
            return to_jsonable(frame.to_dict(orient="records"), _path)
        if isinstance(obj, pd.Series):
            return to_jsonable(obj.to_dict(), _path)
        if isinstance(obj, pd.Timestamp):
            return obj.isoformat()
        if obj is pd.NaT or obj is pd.NA:
            return None
        if isinstance(obj, pd.Interval):
            return [to_jsonable(obj.left), to_jsonable(obj.right)]
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict(), _path)
    raise ParameterError(
        f"value of type {type(obj).__name__} has no JSON form",
        field=_path or None, expected="numbers, strings, lists, dicts, tables or results",
    )


def record_results(values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
    """Record a notebook's headline numbers in the run's ``results.json``.

    Call it in the notebook's last cell. Later calls add to (and may update) earlier keys.

    Parameters
    ----------
    values : mapping, optional
        Numbers, strings, lists, dicts, DataFrames or result objects.
    **more
        Same, as keyword arguments.

    Returns
    -------
    dict
        Everything recorded so far in this run (JSON-safe).

    Examples
    --------
    >>> record_results(n_respondents=1200, nps=31.5)  # doctest: +SKIP
    """
    new = dict(values or {})
    new.update(more)
    if not new:
        raise ParameterError("nothing to record", parameter="values",
                             expected="at least one named value")
    payload = to_jsonable(new)
    path = run_dir() / RESULTS_FILE
    current: dict[str, Any] = {}
    if path.exists():
        current = json.loads(path.read_text(encoding="utf-8"))
    current.update(payload)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, allow_nan=False) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return current
