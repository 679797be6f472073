"""Executing notebooks with papermill in long-lived worker processes.

Importing papermill and nbconvert costs seconds, and a kernel start about one more; so the runner
starts ``jobs`` worker processes that import them once and then execute notebook after notebook
(each in a fresh kernel) from a shared queue. The parent process only validates, hands out
tasks, prints progress and writes the study-level summary.

Each notebook run writes, in its own new folder: the executed notebook (saved after every cell,
so a failed or interrupted run keeps its partial output), ``report.html``, ``results.json``
(whatever the notebook recorded), ``figures/``, ``tables/`` and ``run.json``.

Ctrl-C (SIGINT) in the parent stops the run: queued notebooks are not started, running ones are
stopped; every one of them gets a ``run.json`` saying ``interrupted``; finished notebooks are
left as they are.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing as mp
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from researchkit.run_context import RUN_DIR_ENV, STUDY_FILE_ENV
from researchkit.runner.records import read_json, read_noted_inputs, write_json

__all__ = ["KERNEL_NAME", "Outcome", "Task", "run_tasks"]

KERNEL_NAME = "researchkit-runner"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Thread-pool sizes of numerical libraries; set for each kernel unless the user set them.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class Task:
    """One notebook execution, fully resolved and validated."""

    name: str
    notebook: str
    out_dir: str
    parameters: dict[str, Any]
    effective_parameters: dict[str, Any]
    cwd: str
    seed: int | None = None
    timeout: float | None = None
    show_code: bool = False
    threads: int | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What happened to a task."""

    name: str
    status: str  # "ok" | "failed" | "interrupted"
    out_dir: str
    duration_s: float | None = None
    started: bool = True
    error: dict[str, Any] | None = None
    results: dict[str, Any] | None = None

    def error_line(self) -> str:
        if not self.error:
            return ""
        where = ""
        if self.error.get("cell") is not None:
            where = f" (cell {self.error['cell']})"
        text = f"{self.error.get('ename', 'Error')}: {self.error.get('evalue', '')}".strip()
        return (text[:200] + where).strip()


# ----------------------------------------------------------------------------- worker side
class _Stop(BaseException):
    """Raised inside a worker by SIGTERM: stop the notebook being executed."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Stop()


def _prepare_kernelspec() -> None:
    """A private kernel spec that runs this very Python, so runs never pick another one."""
    folder = Path(tempfile.mkdtemp(prefix="researchkit-kernel-"))
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (researchkit runner)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(folder), os.environ.get("JUPYTER_PATH", "")) if p)
    atexit.register(shutil.rmtree, folder, True)


def _kill_children() -> None:
    """Stop kernels this worker started (they run in their own sessions)."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=3)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _redirect_stderr(path: Path) -> tuple[int, int, Path]:
    """Send this process's stderr (inherited by the kernel) to the run's ``kernel.log``."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    return saved, fd, path


def _restore_stderr(saved: int, fd: int, path: Path) -> None:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(fd)
    if path.exists() and path.stat().st_size == 0:
        path.unlink()


def _source_cell_index(executed: Path, output_index: int | None) -> int | None:
    """Index of the failing cell in the *source* notebook (papermill adds cells)."""
    if output_index is None or not executed.exists():
        return output_index
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return output_index
    # papermill's index counts the injected-parameters cell but not the error cells it
    # inserts afterwards
    cells = [c for c in cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    added = sum("injected-parameters" in c.get("metadata", {}).get("tags", [])
                for c in cells[: output_index + 1])
    return output_index - added


def _run_record(task: Task, outcome: Outcome, *, started_at: str | None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    record = {
        "notebook": task.name,
        "source_notebook": task.notebook,
        "status": outcome.status,
        "started": outcome.started,
        "started_at": started_at,
        "duration_s": None if outcome.duration_s is None else round(outcome.duration_s, 3),
        "error": outcome.error,
        "parameters": task.effective_parameters,
        "injected_parameters": task.parameters,
        "seed": task.seed,
        "inputs": task.inputs,
        "working_directory": task.cwd,
        "results_file": "results.json" if outcome.results is not None else None,
    }
    record.update(task.context)
    record.update(extra or {})
    return record


def execute_task(task: Task) -> Outcome:
    """Execute one notebook into its run folder (in the current process)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from researchkit.runner.report import export_report

    out = Path(task.out_dir)
    out.mkdir(parents=True, exist_ok=False)
    (out / "figures").mkdir()
    (out / "tables").mkdir()
    executed = out / f"{task.name}.ipynb"
    os.environ[RUN_DIR_ENV] = str(out)
    os.environ["PYTHONHASHSEED"] = "0"
    threads = {}
    for var in _THREAD_VARS:
        if task.threads and var not in _USER_THREAD_VARS:
            os.environ[var] = str(task.threads)
        if var in os.environ:
            threads[var] = os.environ[var]
    if task.context.get("study_file"):
        os.environ[STUDY_FILE_ENV] = str(task.context["study_file"])
    else:
        os.environ.pop(STUDY_FILE_ENV, None)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    outcome = Outcome(task.name, "running", str(out))
    write_json(out / "run.json", _run_record(task, outcome, started_at=started_at))

    t0 = time.perf_counter()
    log = _redirect_stderr(out / "kernel.log")
    try:
        papermill.execute_notebook(
            task.notebook, str(executed), parameters=task.parameters, kernel_name=KERNEL_NAME,
            cwd=task.cwd, progress_bar=False, log_output=False, request_save_on_cell_execute=True,
            execution_timeout=task.timeout, start_timeout=120,
        )
        outcome.status = "ok"
    except PapermillExecutionError as exc:
        outcome.status = "failed"
        outcome.error = {
            "cell": _source_cell_index(executed, exc.cell_index),
            "executed_cell": exc.cell_index,
            "execution_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": _ANSI.sub("", str(exc.evalue)),
            "traceback": [_ANSI.sub("", line) for line in (exc.traceback or [])][-30:],
            "source": (exc.source or "")[:2000],
        }
    except (_Stop, KeyboardInterrupt):
        outcome.status = "interrupted"
        outcome.error = {"ename": "Interrupted", "evalue": "stopped by the user (Ctrl-C)"}
        _kill_children()
    except Exception as exc:  # kernel died, timeout, unreadable notebook...
        outcome.status = "failed"
        outcome.error = {"cell": None, "ename": type(exc).__name__,
                         "evalue": _ANSI.sub("", str(exc))[:2000],
                         "traceback": traceback.format_exc().splitlines()[-30:]}
        _kill_children()
    finally:
        os.environ.pop(RUN_DIR_ENV, None)
        os.environ.pop(STUDY_FILE_ENV, None)
        _restore_stderr(*log)
    outcome.duration_s = time.perf_counter() - t0

    extra: dict[str, Any] = {"threads": threads}
    noted = read_noted_inputs(out)
    if noted:
        extra["files_read"] = noted
    results_path = out / "results.json"
    if results_path.exists():
        try:
            outcome.results = read_json(results_path)
        except ValueError as exc:
            extra["results_error"] = f"results.json is not valid JSON: {exc}"
    if executed.exists():
        header = {
            "title": task.context.get("notebook_title") or task.name,
            "notebook": task.name,
            "study_title": task.context.get("study_title"),
            "run_id": task.context.get("run_id", ""),
            "status": outcome.status,
            "duration_s": outcome.duration_s,
            "seed": task.seed,
            "version": task.context.get("researchkit_version", ""),
            "parameters": {k: repr(v) for k, v in task.effective_parameters.items()},
            "error": outcome.error_line(),
        }
        try:
            export_report(executed, out / "report.html", header=header,
                          show_code=task.show_code)
        except Exception as exc:
            extra["report_error"] = f"{type(exc).__name__}: {exc}"
    write_json(out / "run.json", _run_record(task, outcome, started_at=started_at, extra=extra))
    return outcome


_USER_THREAD_VARS = frozenset(v for v in _THREAD_VARS if v in os.environ)


def _worker_main(task_q: Any, result_q: Any, stop: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        import logging

        # The runner checks parameters itself; papermill's own (weaker) check only adds noise.
        logging.getLogger("papermill").setLevel(logging.ERROR)
        _prepare_kernelspec()
        import nbconvert  # noqa: F401  (imported once per worker, not once per notebook)
        import papermill  # noqa: F401

        while True:
            task = task_q.get()
            if task is None:
                break
            if stop.is_set():
                result_q.put(("done", asdict(_not_started(task))))
                continue
            result_q.put(("started", task.name, os.getpid()))
            outcome = execute_task(task)
            result_q.put(("done", asdict(outcome)))
    except _Stop:
        pass


def _not_started(task: Task) -> Outcome:
    return Outcome(task.name, "interrupted", task.out_dir, started=False,
                   error={"ename": "Interrupted", "evalue": "not started: the run was stopped"})


# ----------------------------------------------------------------------------- parent side
def _write_unfinished(task: Task, status: str, message: str, *, started: bool) -> Outcome:
    out = Path(task.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ename = "Interrupted" if status == "interrupted" else "WorkerDied"
    outcome = Outcome(task.name, status, str(out), started=started,
                      error={"ename": ename, "evalue": message})
    previous = read_json(out / "run.json") or {}
    write_json(out / "run.json", _run_record(task, outcome, started_at=previous.get("started_at")))
    return outcome


def run_tasks(
    tasks: list[Task], *, jobs: int = 1, progress: Callable[[str], None] | None = None,
    grace_s: float = 20.0,
) -> list[Outcome]:
    """Execute tasks on ``jobs`` worker processes; return their outcomes in task order.

    A worker process that dies (e.g. killed by the out-of-memory killer) fails its notebook
    and is replaced; the other notebooks still run.
    """
    say = progress or (lambda msg: print(msg, flush=True))
    if not tasks:
        return []
    ctx = mp.get_context("spawn")
    task_q, result_q, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    by_name = {t.name: t for t in tasks}
    for task in tasks:
        task_q.put(task)
    n_workers = max(1, min(jobs, len(tasks)))
    for _ in range(n_workers):
        task_q.put(None)

    def start_worker() -> Any:
        proc = ctx.Process(target=_worker_main, args=(task_q, result_q, stop),
                           name="researchkit-worker")
        proc.start()
        return proc

    workers = [start_worker() for _ in range(n_workers)]
    outcomes: dict[str, Outcome] = {}
    running: dict[str, int] = {}  # task name -> worker pid
    width = max(len(t.name) for t in tasks)

    def handle(msg: tuple[Any, ...]) -> None:
        if msg[0] == "started":
            running[msg[1]] = msg[2]
            say(f"  [start]  {msg[1]}")
            return
        outcome = Outcome(**msg[1])
        if not outcome.started:
            outcome = _write_unfinished(by_name[outcome.name], "interrupted",
                                        "not started: the run was stopped", started=False)
        running.pop(outcome.name, None)
        outcomes[outcome.name] = outcome
        tag = {"ok": "[ok]    ", "failed": "[FAILED]", "interrupted": "[stopped]"}.get(
            outcome.status, outcome.status)
        took = "" if outcome.duration_s is None else f"{outcome.duration_s:7.1f} s"
        line = f"  {tag} {outcome.name:<{width}} {took}  ({len(outcomes)}/{len(tasks)})"
        if outcome.status != "ok":
            line += f"  {outcome.error_line()}"
        say(line)

    def reap_dead() -> None:
        for i, proc in enumerate(workers):
            if proc.is_alive() or proc.exitcode == 0:
                continue
            lost = [name for name, pid in running.items() if pid == proc.pid]
            for name in lost:
                running.pop(name)
                outcomes[name] = _write_unfinished(
                    by_name[name], "failed",
                    f"the worker process died (exit code {proc.exitcode})", started=True)
                say(f"  [FAILED] {name:<{width}}  worker process died "
                    f"(exit code {proc.exitcode})")
            workers[i] = start_worker()
            task_q.put(None)  # the dead worker's stop marker may still be queued; add one

    try:
        while len(outcomes) < len(tasks):
            try:
                handle(result_q.get(timeout=0.5))
            except queue.Empty:
                reap_dead()
    except KeyboardInterrupt:
        stop.set()
        say("Interrupted: stopping running notebooks; finished ones are kept ...")
        for proc in workers:
            if proc.is_alive():
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace_s
        while len(outcomes) < len(tasks) and time.monotonic() < deadline:
            try:
                handle(result_q.get(timeout=0.2))
            except queue.Empty:
                if not any(p.is_alive() for p in workers):
                    break
            except KeyboardInterrupt:
                break
        for task in tasks:
            if task.name not in outcomes:
                started = task.name in running
                outcomes[task.name] = _write_unfinished(
                    task, "interrupted",
                    "stopped by the user (Ctrl-C)" if started else
                    "not started: the run was stopped", started=started)
    finally:
        for proc in workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for q in (task_q, result_q):
            q.cancel_join_thread()
            q.close()
    return [outcomes[t.name] for t in tasks]
