"""How long `import researchkit` takes (target: under 0.3 s), and each area's import.

Each measurement runs in a fresh interpreter with bytecode caches warm; best of 5.
Run: .venv/bin/python benchmarks/bench_foundation_import.py
"""

from __future__ import annotations

import importlib.util
import os
import sys

from _common import machine, run_python, table

MODULES = ["researchkit", "researchkit.runner.cli", "researchkit.survey", "researchkit.qual",
           "researchkit.panel", "researchkit.experiments", "researchkit.experiments.causal",
           "researchkit.sizing", "researchkit.channels", "researchkit.channels.mmm",
           "researchkit.channels.customers", "pandas", "papermill"]


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    rows = []
    for mod in MODULES:
        if importlib.util.find_spec(mod.split(".")[0]) is None:
            continue
        try:
            if "." in mod and importlib.util.find_spec(mod) is None:
                continue
        except ModuleNotFoundError:
            continue
        run_python(f"import {mod}", env=env)  # warm the bytecode cache
        times = [run_python(f"import {mod}", env=env) for _ in range(5)]
        best = min(t for t, _, _ in times)
        rss = min(r for _, r, _ in times)
        target = "< 0.3 s" if mod == "researchkit" else ""
        rows.append((mod, best, rss, target))
    print(f"Import times ({machine()})\n")
    print(table(["module", "import s (best of 5)", "peak RSS MiB", "target"], rows))


if __name__ == "__main__":
    sys.exit(main())
