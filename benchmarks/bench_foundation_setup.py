"""Fresh set-up time: `python -m venv` + install researchkit[test], with pip vs with uv.

Both start from an empty virtual environment, first with no package cache (pip --no-cache-dir,
uv --no-cache: downloads included, as on a new machine), then with a warm cache (a second
set-up on the same machine, e.g. after `make clean`). uv is itself installed from
PyPI into the venv, as the Makefile does. Bytecode is compiled in both cases (pip does it by
default; uv with --compile-bytecode), since compiled bytecode is what makes imports fast.

Run: .venv/bin/python benchmarks/bench_foundation_setup.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table

BASE_PYTHON = os.environ.get("BENCH_PYTHON", sys.base_prefix + "/bin/python3")


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t0


def _install(tool: str, venv: Path, cache: Path | None, env: dict[str, str],
             compile_bytecode: bool = True) -> tuple:
    """Times (venv, install uv, install packages) for one fresh venv; ``cache`` None = no
    package cache (downloads included), else a cache directory shared between runs."""
    t_venv = timed([BASE_PYTHON, "-m", "venv", str(venv)], env=env)
    py = str(venv / "bin" / "python")
    pip_cache = ["--no-cache-dir"] if cache is None else ["--cache-dir", str(cache / "pip")]
    pip = [py, "-m", "pip", "install", *pip_cache, "--disable-pip-version-check"]
    if tool == "pip":
        return t_venv, 0.0, timed([*pip, "-e", f"{ROOT}[test]"], env=env)
    uv_cache = ["--no-cache"] if cache is None else ["--cache-dir", str(cache / "uv")]
    t_tool = timed([*pip, "uv"], env=env)
    t_install = timed([py, "-m", "uv", "pip", "install", *uv_cache, "--python", py,
                       *(["--compile-bytecode"] if compile_bytecode else []), "-e",
                       f"{ROOT}[test]"], env=env)
    return t_venv, t_tool, t_install


def main() -> None:
    rows = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for tool in ("pip", "uv"):
            times = _install(tool, Path(tmp) / f"{tool}-cold", None, env)
            rows.append((tool, "none (fresh machine)", *times, sum(times)))
        times = _install("uv", Path(tmp) / "uv-lazy", None, env, compile_bytecode=False)
        lazy = ("uv, no --compile-bytecode", "none (fresh machine)", *times, sum(times))
        for tool in ("pip", "uv"):
            _install(tool, Path(tmp) / f"{tool}-fill", cache, env)  # fills the cache
            times = _install(tool, Path(tmp) / f"{tool}-warm", cache, env)
            rows.append((tool, "warm (second set-up)", *times, sum(times)))
    print(f"Fresh set-up of .venv with researchkit[test] ({machine()})\n")
    print(table(["installer", "package cache", "venv s", "install uv s", "install packages s",
                 "total s"], [*rows, lazy]))
    for cache_kind, (pip_row, uv_row) in (("no cache", rows[0:2]), ("warm cache", rows[2:4])):
        print(f"\npip / uv install time, {cache_kind}: {pip_row[4] / uv_row[4]:.1f}x "
              f"(whole set-up: {pip_row[5] / uv_row[5]:.1f}x)")
    print(f"pip / uv without bytecode compilation, no cache: {rows[0][4] / lazy[4]:.1f}x. The "
          "Makefile compiles bytecode at install time: most of uv's install time is that "
          "compilation, which otherwise happens on first import (kernels and workers).")


if __name__ == "__main__":
    sys.exit(main())
