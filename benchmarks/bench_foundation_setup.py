"""Fresh set-up time: `python -m venv` + install researchkit[test], with pip vs with uv.

Both start from an empty virtual environment and an empty package cache (pip --no-cache-dir,
uv --no-cache), so downloads are included, as on a new machine. uv is itself installed from
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


def main() -> None:
    rows = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        for tool in ("pip", "uv"):
            venv = Path(tmp) / tool
            t_venv = timed([BASE_PYTHON, "-m", "venv", str(venv)], env=env)
            py = str(venv / "bin" / "python")
            if tool == "pip":
                t_tool = 0.0
                t_install = timed([py, "-m", "pip", "install", "--no-cache-dir",
                                   "--disable-pip-version-check", "-e", f"{ROOT}[test]"],
                                  env=env)
            else:
                t_tool = timed([py, "-m", "pip", "install", "--no-cache-dir",
                                "--disable-pip-version-check", "uv"], env=env)
                t_install = timed([py, "-m", "uv", "pip", "install", "--no-cache",
                                   "--python", py, "--compile-bytecode", "-e",
                                   f"{ROOT}[test]"], env=env)
            rows.append((tool, t_venv, t_tool, t_install, t_venv + t_tool + t_install))
    ratio = rows[0][3] / rows[1][3]
    print(f"Fresh set-up of .venv with researchkit[test] ({machine()})\n")
    print(table(["installer", "venv s", "install uv s", "install packages s", "total s"], rows))
    print(f"\npip / uv install time: {ratio:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
