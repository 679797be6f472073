"""Run records: new run folders, ``run.json``, package versions and input-file fingerprints."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from researchkit.io import file_sha256
from researchkit.run_context import INPUTS_FILE, to_jsonable

__all__ = [
    "environment_record",
    "hash_inputs",
    "new_run_folder",
    "package_versions",
    "read_json",
    "write_json",
]


def new_run_folder(base: Path, study_slug: str, *, now: datetime | None = None) -> Path:
    """Create ``base/<study>/<timestamp>/``, never reusing an existing folder.

    The timestamp is local time to the second (``2026-11-26T14-03-59``); if that folder
    exists (two runs in the same second), ``-1``, ``-2``... is appended.
    """
    stamp = (now or datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")
    parent = base / study_slug
    parent.mkdir(parents=True, exist_ok=True)
    candidate, n = parent / stamp, 0
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = parent / f"{stamp}-{n}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    """Read a JSON file, or ``None`` if it does not exist."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _req_name(req: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0]


def package_versions() -> dict[str, str]:
    """Versions of researchkit, Python and every installed runtime dependency."""
    out = {"python": platform.python_version()}
    try:
        out["researchkit"] = metadata.version("researchkit")
        requires = metadata.requires("researchkit") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = _req_name(req)
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return dict(sorted(out.items()))


def environment_record() -> dict[str, Any]:
    """Where and with what a run executed."""
    return {
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
        "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017
    }


def hash_inputs(paths: dict[str, Path]) -> dict[str, dict[str, str]]:
    """``{role: {"path": ..., "sha256": ...}}`` for every existing file among ``paths``."""
    out = {}
    for role, path in paths.items():
        if path.is_file():
            out[role] = {"path": str(path), "sha256": file_sha256(path)}
    return out


def read_noted_inputs(run_folder: Path) -> list[dict[str, str]]:
    """Files the notebook read through ``researchkit.io`` (deduplicated, in order)."""
    path = run_folder / INPUTS_FILE
    if not path.exists():
        return []
    seen, out = set(), []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        key = (rec["path"], rec["sha256"])
        if key not in seen:
            seen.add(key)
            out.append(rec)
    path.unlink()
    return out
