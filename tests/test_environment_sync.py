"""pyproject.toml and environment.yml must list the same dependencies with the same bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    assert m, req
    return _norm(m.group(1)), m.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    wanted = dict(_split(r) for r in meta["dependencies"] + extras["test"] + extras["lab"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            # the `pip:` section: PyPI packages of the extras (the editable install aside)
            for req in dep.get("pip", []):
                if not req.startswith("-"):
                    name, spec = _split(req)
                    assert name not in conda, f"{name} listed twice in environment.yml"
                    conda[name] = spec
            continue
        if dep.split(">")[0].split("=")[0] in ("python", "pip"):
            continue
        name, spec = _split(dep)
        assert _norm(CONDA_TO_PYPI.get(name, name)) not in conda, f"{name} listed twice"
        conda[_norm(CONDA_TO_PYPI.get(name, name))] = spec
    assert conda == wanted


def test_bench_peers_are_not_runtime_dependencies():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_split(r)[0] for r in meta["dependencies"]}
    bench = {_split(r)[0] for r in meta["optional-dependencies"]["bench"]}
    assert not runtime & bench
