"""The study runner: execution, failure handling, run records, determinism, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from researchkit.errors import ParameterError, SpecError
from researchkit.runner import load_study, run_study
from researchkit.runner.cli import main
from researchkit.runner.records import new_run_folder

pytestmark = pytest.mark.slow

STUDY_HEAD = """\
title: Runner test study
objectives: [Check the runner]
design: {goal: descriptive, setting: field, nature: quantitative}
seed: 7
"""

SEEDED = (
    "seed: int = 0  # random seed\nn: int = 1000  # draws\nlabel: str = 'x'",
    "import os\nimport numpy as np\nfrom researchkit.run_context import record_results",
    "rng = np.random.default_rng(seed)\nvalues = rng.normal(size=n)",
    "channels = list({'email', 'search', 'social', 'store', 'call_centre', 'sms', 'push'})\n"
    "record_results(mean=float(values.mean()), sd=float(values.std()), seed=seed, n=n,\n"
    "               label=label, channels=channels,\n"
    "               blas_threads=os.environ.get('OPENBLAS_NUM_THREADS'))",
)

FAILING = (
    "x: int = 1",
    "print('before the failure')",
    "from researchkit.run_context import record_results\nrecord_results(partial=x)",
    "1 / 0",
    "print('never printed')",
)


def write_study(folder: Path, entries: str, head: str = STUDY_HEAD) -> Path:
    path = folder / "study.yaml"
    path.write_text(head + "notebooks:\n" + entries, encoding="utf-8")
    return path


def test_failing_notebook_keeps_partial_output_and_others_run(tmp_path, notebook_factory):
    notebook_factory("seeded", *SEEDED)
    notebook_factory("failing", *FAILING)
    study = write_study(tmp_path, """\
  - notebook: nbs/failing.ipynb
    parameters: {x: 3}
  - notebook: nbs/seeded.ipynb
""")
    summary = run_study(study, jobs=2, out=tmp_path / "runs", progress=lambda m: None)
    assert summary.exit_code() == 1
    assert summary.counts() == {"ok": 1, "failed": 1, "interrupted": 0}
    failed = summary.folder / "failing"
    record = json.loads((failed / "run.json").read_text())
    assert record["status"] == "failed"
    # cell 0 is markdown, 1 parameters, 2 print, 3 record, 4 is the failing one
    assert record["error"]["cell"] == 4
    assert record["error"]["ename"] == "ZeroDivisionError"
    assert "division by zero" in record["error"]["evalue"]
    assert record["parameters"] == {"x": 3}
    assert record["duration_s"] > 0
    assert record["inputs"]["notebook"]["sha256"]
    assert record["inputs"]["study"]["sha256"]
    assert record["packages"]["researchkit"]
    assert record["packages"]["papermill"]
    # the partial notebook keeps what ran before the failure
    executed = json.loads((failed / "failing.ipynb").read_text())
    text = json.dumps(executed)
    assert "before the failure" in text
    assert "never printed" not in [o.get("text") for c in executed["cells"]
                                   for o in c.get("outputs", [])]
    assert json.loads((failed / "results.json").read_text()) == {"partial": 3}
    report = (failed / "report.html").read_text()
    assert "failed" in report and "ZeroDivisionError" in report
    ok = json.loads((summary.folder / "seeded" / "run.json").read_text())
    assert ok["status"] == "ok" and ok["error"] is None
    assert ok["seed"] == 7  # the study seed reaches notebooks with a `seed` parameter
    # two parallel notebooks share the cores: each kernel gets cpu_count // 2 BLAS threads
    expected = os.environ.get("OPENBLAS_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // 2))
    assert ok["threads"]["OPENBLAS_NUM_THREADS"] == expected
    seeded = json.loads((summary.folder / "seeded" / "results.json").read_text())
    assert seeded["blas_threads"] == expected
    index = (summary.folder / "index.html").read_text()
    assert "seeded/report.html" in index and "failing/report.html" in index
    assert json.loads((summary.folder / "summary.json").read_text())["counts"]["failed"] == 1


def test_same_study_twice_gives_identical_results(tmp_path, notebook_factory):
    notebook_factory("seeded", *SEEDED)
    study = write_study(tmp_path, """\
  - notebook: nbs/seeded.ipynb
    name: first
    parameters: {label: first}
  - notebook: nbs/seeded.ipynb
    name: second
    parameters: {seed: 99, n: 50}
""")
    runs = [run_study(study, jobs=2, out=tmp_path / "runs", progress=lambda m: None)
            for _ in range(2)]
    assert runs[0].folder != runs[1].folder  # nothing is overwritten
    for name in ("first", "second"):
        a, b = (json.loads((r.folder / name / "results.json").read_text()) for r in runs)
        assert a == b
    first = json.loads((runs[0].folder / "first" / "results.json").read_text())
    second = json.loads((runs[0].folder / "second" / "results.json").read_text())
    assert first["seed"] == 7 and second["seed"] == 99 and second["n"] == 50
    assert first["mean"] != second["mean"]


def test_report_hides_code_unless_asked(tmp_path, notebook_factory):
    notebook_factory("seeded", *SEEDED)
    study = write_study(tmp_path, "  - notebook: nbs/seeded.ipynb\n")
    hidden = run_study(study, out=tmp_path / "runs", progress=lambda m: None)
    shown = run_study(study, out=tmp_path / "runs", show_code=True, progress=lambda m: None)
    assert "default_rng" not in (hidden.folder / "seeded" / "report.html").read_text()
    assert "default_rng" in (shown.folder / "seeded" / "report.html").read_text()


def test_files_read_through_io_are_fingerprinted(tmp_path, notebook_factory):
    data = tmp_path / "sales.csv"
    data.write_text("region,sales\nnorth,10\nsouth,12\n")
    notebook_factory("reader", "path: str = ''",
                     "from researchkit.io import read_table\n"
                     "from researchkit.run_context import record_results\n"
                     "df = read_table(path)\nrecord_results(total=int(df.sales.sum()))")
    study = write_study(tmp_path, "  - notebook: nbs/reader.ipynb\n"
                                  "    parameters: {path: sales.csv}\n")
    before = data.stat().st_mtime_ns
    summary = run_study(study, out=tmp_path / "runs", progress=lambda m: None)
    assert summary.ok
    record = json.loads((summary.folder / "reader" / "run.json").read_text())
    assert record["inputs"]["parameter:path"]["path"] == str(data.resolve())
    assert record["files_read"][0]["path"] == str(data.resolve())
    assert record["files_read"][0]["sha256"] == record["inputs"]["parameter:path"]["sha256"]
    assert data.stat().st_mtime_ns == before  # raw input untouched


def test_run_folders_never_reused():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        now = datetime(2026, 1, 2, 3, 4, 5)
        folders = [new_run_folder(Path(tmp), "s", now=now) for _ in range(3)]
        assert len({f.name for f in folders}) == 3
        assert folders[0].name == "2026-01-02T03-04-05"
        assert folders[2].name == "2026-01-02T03-04-05-2"


# -- bad study files: one clear error each ------------------------------------------------
def _cli_error(capsys, *argv: str) -> str:
    code = main(list(argv))
    assert code == 2
    return capsys.readouterr().err


def test_malformed_yaml(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text("title: ok\nobjectives: [a, b\ndesign: {goal: causal}\n")
    err = _cli_error(capsys, "validate", str(path))
    assert "malformed YAML" in err and str(path) in err and "line" in err
    assert err.count("error:") == 1


def test_missing_field_names_field_and_line(tmp_path, capsys):
    path = write_study(tmp_path, "  - notebook: research_plan\n",
                       head="title: T\ndesign: {goal: descriptive, setting: desk, "
                            "nature: qualitative}\n")
    err = _cli_error(capsys, "validate", str(path))
    assert "objectives" in err and "required field is missing" in err
    assert str(path) in err


def test_every_field_problem_listed_at_once(tmp_path):
    path = write_study(tmp_path, "  - notebook: research_plan\n", head="""\
title: T
objectives: [o]
design: {goal: casual, setting: desk, nature: quantitative}
sampling: {population: p, method: random, size: -5}
""")
    with pytest.raises(SpecError) as info:
        load_study(path)
    fields = {p.field for p in info.value.problems}
    assert {"design.goal", "sampling.method", "sampling.size"} <= fields
    lines = {p.field: p.line for p in info.value.problems}
    assert lines["design.goal"] == 3 and lines["sampling.size"] == 4
    assert "casual" in str(info.value)


def test_unknown_notebook(tmp_path, capsys):
    path = write_study(tmp_path, "  - notebook: research_plan\n  - notebook: no_such_notebook\n")
    err = _cli_error(capsys, "validate", str(path))
    assert "notebooks[1].notebook" in err and "no_such_notebook" in err
    assert "research_plan" in err  # lists what exists


def test_wrong_parameter_type(tmp_path, capsys, notebook_factory):
    notebook_factory("seeded", *SEEDED)
    path = write_study(tmp_path, "  - notebook: nbs/seeded.ipynb\n    parameters: {n: many}\n")
    err = _cli_error(capsys, "run", str(path), "--out", str(tmp_path / "runs"))
    assert "notebooks[0].parameters" in err and "'n'" in err and "expected int" in err
    assert "accepts: seed: int = 0, n: int = 1000, label: str = 'x'" in err
    assert not (tmp_path / "runs").exists()  # nothing executed, nothing written


def test_unknown_parameter_and_float_accepts_int(tmp_path, notebook_factory):
    notebook_factory("p", "rate: float = 0.5\nflag: bool = False", "pass")
    path = write_study(tmp_path, "  - notebook: nbs/p.ipynb\n"
                                 "    parameters: {rate: 1, flag: 1, colour: red}\n")
    with pytest.raises(ParameterError) as info:
        run_study(path, out=tmp_path / "runs", progress=lambda m: None)
    msg = str(info.value)
    assert "unknown parameter 'colour'" in msg and "'flag'" in msg and "'rate'" not in msg


def test_notebook_without_parameters_cell(tmp_path, capsys, notebook_factory):
    notebook_factory("untagged", "x = 1", "pass", tag=False)
    path = write_study(tmp_path, "  - notebook: nbs/untagged.ipynb\n")
    err = _cli_error(capsys, "validate", str(path))
    assert "no cell tagged 'parameters'" in err


def test_duplicate_run_names(tmp_path):
    path = write_study(tmp_path, "  - notebook: research_plan\n  - notebook: research_plan\n")
    with pytest.raises(SpecError, match="give each entry"):
        load_study(path)


def test_only_runs_selected_entries(tmp_path, notebook_factory, capsys):
    notebook_factory("seeded", *SEEDED)
    path = write_study(tmp_path, "  - notebook: nbs/seeded.ipynb\n    name: a\n"
                                 "  - notebook: nbs/seeded.ipynb\n    name: b\n")
    code = main(["run", str(path), "--only", "b", "--out", str(tmp_path / "runs")])
    assert code == 0
    run = next((tmp_path / "runs" / "study").iterdir())
    assert (run / "b" / "run.json").exists() and not (run / "a").exists()
    assert "--only" in _cli_error(capsys, "run", str(path), "--only", "zzz")


def test_run_notebook_with_parameters(tmp_path, notebook_factory, capsys):
    nb = notebook_factory("seeded", *SEEDED)
    code = main(["run-notebook", str(nb), "-p", "n", "20", "-p", "label", "cli",
                 "--out", str(tmp_path / "runs")])
    assert code == 0
    run = next((tmp_path / "runs" / "seeded").iterdir())
    results = json.loads((run / "seeded" / "results.json").read_text())
    assert results["n"] == 20 and results["label"] == "cli"
    err = _cli_error(capsys, "run-notebook", str(nb), "-p", "n", "1.5")
    assert "expected int" in err


def test_list_shows_notebooks_and_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "research_plan" in out and "max_source_age_days: int = 0" in out


def test_new_copies_template_and_rebases_paths(tmp_path, capsys):
    dest = tmp_path / "work" / "my-study.yaml"
    dest.parent.mkdir()
    assert main(["new", "descriptive_survey", str(dest)]) == 0
    text = dest.read_text()
    assert "# A descriptive survey study" in text  # comments kept
    study = load_study(dest)
    template = load_study(Path(__file__).resolve().parents[1] / "templates" / "studies"
                          / "descriptive_survey.yaml")
    assert study.resolve(study.instruments[0].path) == template.resolve(
        template.instruments[0].path)
    err = _cli_error(capsys, "new", "descriptive_survey", str(dest))
    assert "refusing to overwrite" in err
    err = _cli_error(capsys, "new", "nonsense", str(tmp_path / "x.yaml"))
    assert "unknown study template" in err and "descriptive_survey" in err


def test_ctrl_c_keeps_finished_and_marks_the_rest(tmp_path, notebook_factory):
    notebook_factory("fast", *SEEDED)
    notebook_factory(
        "sleepy", "seconds: int = 120",
        "import os, pathlib\npathlib.Path('kernel.pid').write_text(str(os.getpid()))",
        "import time\ntime.sleep(seconds)",
    )
    path = write_study(tmp_path, "  - notebook: nbs/fast.ipynb\n"
                                 "  - notebook: nbs/sleepy.ipynb\n"
                                 "  - notebook: nbs/fast.ipynb\n    name: queued\n")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "researchkit.runner.cli", "run", str(path), "--jobs", "1",
         "--out", str(tmp_path / "runs")], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    pid_file = tmp_path / "kernel.pid"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pid_file.exists(), "the sleepy notebook never started"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, out
    run = next((tmp_path / "runs" / "study").iterdir())
    status = {name: json.loads((run / name / "run.json").read_text())
              for name in ("fast", "sleepy", "queued")}
    assert status["fast"]["status"] == "ok"
    assert (run / "fast" / "results.json").exists()
    assert status["sleepy"]["status"] == "interrupted" and status["sleepy"]["started"]
    assert status["queued"]["status"] == "interrupted" and not status["queued"]["started"]
    assert (run / "sleepy" / "sleepy.ipynb").exists()  # partial output kept
    kernel = int(pid_file.read_text())
    for _ in range(50):
        if not psutil.pid_exists(kernel):
            break
        time.sleep(0.1)
    assert not psutil.pid_exists(kernel), "the interrupted notebook's kernel is still running"


def test_literal_parameters_run_and_are_checked(tmp_path, notebook_factory):
    notebook_factory("lit", 'from typing import Literal\n'
                            'mode: Literal["did", "its"] = "did"  # design',
                     "from researchkit.run_context import record_results\n"
                     "record_results(mode=mode)")
    good = write_study(tmp_path, "  - notebook: nbs/lit.ipynb\n    parameters: {mode: its}\n")
    summary = run_study(good, out=tmp_path / "runs", progress=lambda m: None)
    assert summary.ok
    assert json.loads((summary.folder / "lit" / "results.json").read_text()) == {"mode": "its"}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "nbs").symlink_to(tmp_path / "nbs")
    path = write_study(bad, "  - notebook: nbs/lit.ipynb\n    parameters: {mode: rdd}\n")
    with pytest.raises(ParameterError, match="expected Literal"):
        run_study(path, out=tmp_path / "runs", progress=lambda m: None)
