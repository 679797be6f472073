"""Starter studies: ``researchkit new KIND DEST`` copies ``templates/studies/KIND.yaml``.

Relative paths in a template (instruments, data sources, notebook files, file parameters) point
from ``templates/studies/`` to files in the checkout; the copy rewrites them so that they point
to the same files from the new study's folder. Comments in the template are kept.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from researchkit.errors import DataError, ParameterError
from researchkit.runner.paths import templates_dir

__all__ = ["copy_template", "list_templates", "studies_dir"]


def studies_dir() -> Path:
    """Folder of the starter studies."""
    return templates_dir() / "studies"


def list_templates() -> dict[str, str]:
    """``{kind: title}`` of every starter study."""
    out = {}
    for path in sorted(studies_dir().glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            out[path.stem] = str(data.get("title", ""))
        except yaml.YAMLError:
            out[path.stem] = "(unreadable template)"
    return out


def _path_values(data: Any) -> dict[str, bool]:
    """Relative paths in a study: ``{value: is_a_path_field}``.

    Path fields (instruments, data sources, notebook files) are rebased even when the file does
    not exist yet; string parameters only when they name an existing file.
    """
    found: dict[str, bool] = {}
    if not isinstance(data, dict):
        return found
    for key in ("instruments", "data_sources"):
        for item in data.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                found[item["path"]] = True
    for entry in data.get("notebooks") or []:
        if not isinstance(entry, dict):
            continue
        nb = entry.get("notebook")
        if isinstance(nb, str) and ("/" in nb or "\\" in nb):
            found[nb] = True
        for value in (entry.get("parameters") or {}).values():
            if isinstance(value, str) and value:
                found.setdefault(value, False)
    return found


def copy_template(kind: str, dest: str | Path) -> Path:
    """Copy a starter study to ``dest`` (a new file, or a folder to put ``KIND.yaml`` in).

    Raises
    ------
    ParameterError
        Unknown template kind (listing the known ones).
    DataError
        ``dest`` already exists (nothing is ever overwritten).
    """
    source = studies_dir() / f"{kind}.yaml"
    if not source.is_file():
        raise ParameterError("unknown study template", parameter="KIND", got=kind,
                             expected=f"one of {sorted(list_templates())}")
    target = Path(dest)
    if target.is_dir():
        target = target / source.name
    elif target.suffix.lower() not in (".yaml", ".yml"):
        target = target.with_suffix(".yaml")
    if target.exists():
        raise DataError("file exists; refusing to overwrite it", file=target,
                        hint="choose another name")
    text = source.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    new_dir = target.resolve().parent
    for value, is_path_field in sorted(_path_values(data).items(), key=lambda kv: -len(kv[0])):
        old = Path(value)
        if old.is_absolute():
            continue
        resolved = (source.parent / old).resolve()
        if not is_path_field and not resolved.exists():
            continue
        rebased = Path(os.path.relpath(resolved, new_dir)).as_posix()
        pattern = re.compile(r"(:\s*[\"']?)" + re.escape(value) + r"([\"']?\s*(#.*)?)$",
                             re.MULTILINE)
        text = pattern.sub(lambda m, r=rebased: m.group(1) + r + m.group(2), text)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as fh:
        fh.write(text)
    return target
