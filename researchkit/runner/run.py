"""Validate a study, then run its notebooks: the engine behind ``researchkit run``."""

from __future__ import annotations

import html
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from researchkit.errors import ParameterError, Problem, SpecError
from researchkit.runner.execute import Outcome, Task, run_tasks
from researchkit.runner.notebooks import NotebookInfo, find_notebook, read_notebook_info
from researchkit.runner.records import (
    environment_record,
    hash_inputs,
    new_run_folder,
    package_versions,
    write_json,
)
from researchkit.runner.study import Study, load_study

__all__ = ["PreparedNotebook", "RunSummary", "prepare_study", "run_notebook", "run_study"]


@dataclass
class PreparedNotebook:
    """A study entry resolved to a notebook file, with checked parameters."""

    name: str
    info: NotebookInfo
    parameters: dict[str, Any]  # what is injected
    effective: dict[str, Any]  # defaults + injected
    seed: int | None
    description: str = ""  # the study entry's description, else the notebook's


@dataclass
class RunSummary:
    """Outcome of a whole run."""

    folder: Path
    outcomes: list[Outcome] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.status == "ok" for o in self.outcomes)

    @property
    def interrupted(self) -> bool:
        return any(o.status == "interrupted" for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "failed": 0, "interrupted": 0}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def exit_code(self) -> int:
        """0 when everything succeeded, 130 when interrupted, else 1."""
        if self.interrupted:
            return 130
        return 0 if self.ok else 1


def prepare_study(study: Study, *, only: Iterable[str] | None = None) -> list[PreparedNotebook]:
    """Resolve every notebook entry and check its parameters, before anything executes.

    Raises
    ------
    SpecError
        A notebook that does not exist, or ``only`` naming an entry the study lacks.
    ParameterError
        A notebook without a tagged ``parameters`` cell, an unknown parameter or a value of
        the wrong type, listing every problem and what each notebook accepts.
    """
    file = str(study.path) if study.path else None
    spec_problems: list[Problem] = []
    param_problems: list[str] = []
    prepared: list[PreparedNotebook] = []
    names = [e.run_name for e in study.notebooks]
    wanted = list(only) if only else None
    if wanted:
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise SpecError(f"--only names entries the study does not have: {unknown}",
                            file=file, expected=f"some of {names}")
    from researchkit.runner.paths import notebooks_dir

    for i, entry in enumerate(study.notebooks):
        if wanted and entry.run_name not in wanted:
            continue
        where = f"notebooks[{i}]"
        path = find_notebook(entry.notebook, base_dir=study.base_dir)
        if path is None:
            available = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
            spec_problems.append(Problem(
                f"{where}.notebook",
                f"unknown notebook {entry.notebook!r}; shipped notebooks are {available} "
                "(or give a path to an .ipynb file relative to the study file)"))
            continue
        try:
            info = read_notebook_info(path)
        except ParameterError as exc:
            param_problems.append(f"{where} ({entry.notebook}): {exc}")
            continue
        params = dict(entry.parameters)
        if study.seed is not None and "seed" in info.parameters and "seed" not in params:
            params["seed"] = study.seed
        issues = info.check(params)
        if issues:
            param_problems.append(
                f"{where}.parameters ({info.name}): " + "; ".join(issues) + f" [{info.accepted()}]")
            continue
        effective = {name: spec.default for name, spec in info.parameters.items()}
        effective.update(params)
        prepared.append(PreparedNotebook(entry.run_name, info, params, effective,
                                         effective.get("seed"),
                                         entry.description or info.description))
    if spec_problems:
        raise SpecError.from_problems(spec_problems, file=file, what="study")
    if param_problems:
        if len(param_problems) == 1:
            raise ParameterError(param_problems[0], file=file)
        text = "\n".join(f"  - {p}" for p in param_problems)
        raise ParameterError(f"{len(param_problems)} parameter problems:\n{text}", file=file)
    return prepared


def _parameter_files(values: Mapping[str, Any], base: Path) -> dict[str, Path]:
    out = {}
    for key, value in values.items():
        if isinstance(value, str) and value and len(value) < 4096:
            candidate = Path(value).expanduser()
            candidate = candidate if candidate.is_absolute() else base / candidate
            try:
                if candidate.is_file():
                    out[f"parameter:{key}"] = candidate.resolve()
            except OSError:
                continue
    return out


def _index_html(title: str, folder: Path, outcomes: list[Outcome]) -> str:
    rows = []
    for o in outcomes:
        colour = {"ok": "#009E73", "failed": "#b00020"}.get(o.status, "#E69F00")
        took = "" if o.duration_s is None else f"{o.duration_s:.1f} s"
        link = f"{o.name}/report.html"
        has_report = (folder / link).exists()
        name = f"<a href='{html.escape(link)}'>{html.escape(o.name)}</a>" if has_report \
            else html.escape(o.name)
        rows.append(f"<tr><td>{name}</td><td style='color:{colour};font-weight:600'>"
                    f"{o.status}</td><td>{took}</td><td>{html.escape(o.error_line())}</td></tr>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "margin:2em}}td,th{{padding:.3em 1em;text-align:left}}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Run folder: <code>{html.escape(str(folder))}</code></p>"
        "<table><tr><th>Notebook</th><th>Status</th><th>Time</th><th>Error</th></tr>"
        + "".join(rows) + "</table></body></html>\n"
    )


def _execute(
    *, title: str, slug: str, prepared: list[PreparedNotebook], cwd: Path, out: Path | None,
    jobs: int, timeout: float | None, show_code: bool, base_inputs: dict[str, Path],
    progress: Callable[[str], None] | None, context: dict[str, Any],
    study_file: Path | None = None,
) -> RunSummary:
    say = progress or (lambda msg: print(msg, flush=True))
    base = (out or Path.cwd() / "runs").resolve()
    folder = new_run_folder(base, slug)
    if study_file is not None:
        shutil.copy2(study_file, folder / "study.yaml")
    versions = package_versions()
    ctx = dict(context)
    ctx.update({"run_id": folder.name, "run_folder": str(folder), "packages": versions,
                "environment": environment_record(),
                "researchkit_version": versions.get("researchkit", "")})
    tasks = []
    for p in prepared:
        inputs = dict(base_inputs)
        inputs["notebook"] = p.info.path
        inputs.update(_parameter_files(p.effective, cwd))
        tctx = dict(ctx)
        tctx["notebook_title"] = p.description or p.info.description or p.name
        tasks.append(Task(
            name=p.name, notebook=str(p.info.path), out_dir=str(folder / p.name),
            parameters=p.parameters, effective_parameters=p.effective, cwd=str(cwd),
            seed=p.seed, timeout=timeout, show_code=show_code, inputs=hash_inputs(inputs),
            context=tctx,
        ))
    jobs = max(1, min(jobs, len(tasks)))
    # parallel notebooks share the cores: one BLAS/OpenMP pool per notebook would oversubscribe
    threads = max(1, (os.cpu_count() or 1) // jobs)
    for task in tasks:
        task.threads = threads
    say(f"researchkit: running {len(tasks)} notebook{'s' * (len(tasks) != 1)} of {title!r} "
        f"with {jobs} worker{'s' * (jobs != 1)}")
    say(f"  output: {folder}")
    t0 = time.perf_counter()
    outcomes = run_tasks(tasks, jobs=jobs, progress=say)
    summary = RunSummary(folder, outcomes, time.perf_counter() - t0)
    write_json(folder / "summary.json", {
        "title": title, "study": slug, "run_id": folder.name,
        "duration_s": round(summary.duration_s, 3), "counts": summary.counts(),
        "notebooks": [{"name": o.name, "status": o.status, "duration_s": o.duration_s,
                       "error": o.error_line() or None} for o in outcomes],
    })
    (folder / "index.html").write_text(_index_html(title, folder, outcomes), encoding="utf-8")
    counts = summary.counts()
    say(f"Summary: {counts['ok']} ok, {counts['failed']} failed, "
        f"{counts['interrupted']} interrupted in {summary.duration_s:.1f} s")
    say(f"Reports: {folder / 'index.html'}")
    return summary


def run_study(
    study: Study | str | Path, *, jobs: int = 1, only: Iterable[str] | None = None,
    out: str | Path | None = None, timeout: float | None = None, show_code: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Validate a study and run its notebooks.

    Parameters
    ----------
    study : Study or path
        The study, or its YAML file.
    jobs : int
        Notebooks executed in parallel (one worker process each).
    only : iterable of str, optional
        Run only these entries (by run name).
    out : path, optional
        Base folder for runs (default ``./runs``); the run goes to
        ``<out>/<study>/<timestamp>/<notebook>/``.
    timeout : float, optional
        Per-cell time limit in seconds.
    show_code : bool
        Show code in the HTML reports.
    progress : callable, optional
        Receives progress lines (default: print).

    Returns
    -------
    RunSummary
        Use ``summary.exit_code()`` for a process exit status.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    if jobs < 1:
        raise ParameterError("need at least one job", parameter="jobs", got=jobs)
    prepared = prepare_study(study, only=only)
    base_inputs: dict[str, Path] = {}
    if study.path is not None and study.path.is_file():
        base_inputs["study"] = study.path
    for i, inst in enumerate(study.instruments):
        if inst.path:
            base_inputs[f"instrument:{i}:{inst.name}"] = study.resolve(inst.path)
    for i, src in enumerate(study.data_sources):
        if src.path:
            base_inputs[f"data_source:{i}:{src.name}"] = study.resolve(src.path)
    context = {"study_title": study.title, "study": study.slug,
               "study_file": str(study.path) if study.path else None}
    return _execute(
        title=study.title, slug=study.slug, prepared=prepared, cwd=study.base_dir,
        out=Path(out) if out else None, jobs=jobs, timeout=timeout, show_code=show_code,
        base_inputs=base_inputs, progress=progress, context=context,
        study_file=study.path if study.path is not None and study.path.is_file() else None,
    )


def run_notebook(
    notebook: str | Path, parameters: Mapping[str, Any] | None = None, *,
    out: str | Path | None = None, timeout: float | None = None, show_code: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run one notebook (a shipped name or a path) with parameters, outside any study."""
    ref = str(notebook)
    path = find_notebook(ref, base_dir=Path.cwd())
    if path is None:
        raise ParameterError("unknown notebook", parameter="notebook", got=ref,
                             hint="give a shipped notebook's name (see `researchkit list`) "
                             "or a path to an .ipynb file")
    info = read_notebook_info(path)
    params = dict(parameters or {})
    effective = info.validate(params, where="-p")
    prepared = [PreparedNotebook(info.name, info, params, effective, effective.get("seed"))]
    return _execute(
        title=info.name, slug=info.name.lower().replace(" ", "-"), prepared=prepared,
        cwd=Path.cwd(), out=Path(out) if out else None, jobs=1, timeout=timeout,
        show_code=show_code, base_inputs={}, progress=progress,
        context={"study_title": None, "study": None, "study_file": None},
    )
