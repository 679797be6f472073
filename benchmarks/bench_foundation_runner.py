"""Batch overhead of the study runner.

Measures, on this machine:
1. `import papermill` alone, and a bare kernel start + one trivial cell + shutdown
   (jupyter_client, no papermill) — the floor for any notebook run;
2. N trivial notebooks through `researchkit run` (long-lived workers: papermill imported once
   per worker) vs one `papermill` command per notebook (papermill imported every time);
   per-notebook overhead over a bare kernel;
3. the wall time of the whole demo study (`templates/demo-study.yaml`, --jobs 2).

Run: .venv/bin/python benchmarks/bench_foundation_runner.py [--skip-demo]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from _common import ROOT, machine, run_python, table

N = 8


def bare_kernel_seconds(repeat: int = 3) -> float:
    code = (
        "from jupyter_client.manager import start_new_kernel\n"
        "km, kc = start_new_kernel(kernel_name='python3')\n"
        "kc.execute_interactive('x = 1', timeout=60)\n"
        "kc.stop_channels(); km.shutdown_kernel(now=True)\n"
    )
    # time inside the interpreter, so the jupyter_client import is not counted
    times = []
    for _ in range(repeat):
        wrapped = ("import time\nfrom jupyter_client.manager import start_new_kernel\n"
                   "t0 = time.perf_counter()\n" + code.split("\n", 1)[1]
                   + "print('T', time.perf_counter() - t0)\n")
        out = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True,
                             check=True).stdout
        times.append(float(out.split("T")[-1]))
    return min(times)


def trivial_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x: int = 1  # a number")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# trivial"), cell,
                nbformat.v4.new_code_cell("y = x + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "trivial.ipynb"
    nbformat.write(nb, str(path))
    return path


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    bin_dir = Path(sys.executable).parent
    rows = []
    t_pm = min(run_python("import papermill", env=env)[0] for _ in range(3))
    rows.append(("import papermill", t_pm, ""))
    t_kernel = bare_kernel_seconds()
    rows.append(("bare kernel: start + 1 cell + shutdown", t_kernel, ""))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nb = trivial_notebook(folder)
        study = folder / "study.yaml"
        entries = "".join(f"  - {{notebook: trivial.ipynb, name: n{i}}}\n" for i in range(N))
        study.write_text("title: overhead\nobjectives: [o]\ndesign: {goal: descriptive, "
                         "setting: field, nature: quantitative}\nnotebooks:\n"
                         + entries.replace("trivial.ipynb", "./trivial.ipynb"))
        for jobs in (1, 2):
            t0 = time.perf_counter()
            subprocess.run([str(bin_dir / "researchkit"), "run", str(study), "--jobs", str(jobs),
                            "--out", str(folder / "runs")], check=True, capture_output=True,
                           env=env)
            total = time.perf_counter() - t0
            per = total / N
            rows.append((f"researchkit run: {N} trivial notebooks, --jobs {jobs}", total,
                         f"{per:.2f} s/notebook wall; {per * jobs - t_kernel:+.2f} s over a "
                         "bare kernel per worker-notebook"))
        t0 = time.perf_counter()
        for i in range(N):
            subprocess.run([str(bin_dir / "papermill"), str(nb), str(folder / f"pm{i}.ipynb"),
                            "-k", "python3", "--no-progress-bar"], check=True,
                           capture_output=True, env=env)
        total = time.perf_counter() - t0
        rows.append((f"papermill CLI, one process per notebook, {N} notebooks", total,
                     f"{total / N:.2f} s/notebook (no report, no run record)"))

    if "--skip-demo" not in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run([str(bin_dir / "researchkit"), "run",
                                   str(ROOT / "templates" / "demo-study.yaml"), "--jobs", "2",
                                   "--out", tmp], capture_output=True, text=True, env=env)
            total = time.perf_counter() - t0
            n = proc.stdout.count("[ok]") + proc.stdout.count("[FAILED]")
            rows.append((f"demo study ({n} notebooks, --jobs 2)", total,
                         "exit code " + str(proc.returncode)))

    print(f"Runner overhead ({machine()})\n")
    print(table(["what", "wall s", "note"], rows))


if __name__ == "__main__":
    sys.exit(main())
