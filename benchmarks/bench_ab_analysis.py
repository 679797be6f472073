"""A/B analysis at scale: researchkit vs tea-tasting on the same data.

Two workloads, each with three metrics (conversion: a proportion; revenue per user: a mean;
revenue per session: a ratio), two arms:

* a 100,000,000-row Parquet user table analysed through DuckDB without loading it into Python
  (researchkit: ``analyze(path, ...)``; tea-tasting: ``Experiment.analyze`` on an Ibis DuckDB
  table);
* the first 10,000,000 rows in memory as a pandas DataFrame (researchkit's numpy engine, and
  researchkit on a DuckDB relation over the DataFrame; tea-tasting on the DataFrame).

The tools of a workload run in one subprocess, alternating run by run (``--repeat`` rounds
after a warm-up), so that the load of a shared machine falls on all of them alike; the table
shows the best and the median wall time and the peak resident memory *added* by the analysis
(sampled every 2 ms with psutil; the DataFrame itself is not counted). Each tool then runs
    python benchmarks/bench_ab_analysis.py --rows 2000000 --memory-rows 1000000  # quick
(Welch t for the mean, unpooled z for the proportion, delta-method z for the ratio, log-scale
relative intervals) and the script checks the numbers agree.

The 100M-row file is generated once (in chunks, bounded memory) into benchmarks/_data/.

Usage::

    python benchmarks/bench_ab_analysis.py                  # full benchmark
    python benchmarks/bench_ab_analysis.py --rows 2000000 --memory-rows 1000000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
FIELDS = ["control", "treatment", "difference", "ci_low", "ci_high", "p_value", "relative",
          "relative_ci_low", "relative_ci_high"]


# ---------------------------------------------------------------------------------------------
# measurement helpers (run inside the subprocess)
# ---------------------------------------------------------------------------------------------
class PeakRSS:
    """Peak resident set size while the block runs, sampled every 2 ms."""

    def __enter__(self) -> PeakRSS:
        import psutil

        self._proc = psutil.Process()
        self.start = self._proc.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _rk_metrics():
    from researchkit.experiments import Mean, Proportion, Ratio

    return {"conversion": Proportion("converted", relative_ci="log"),
            "revenue": Mean("revenue", relative_ci="log"),
            "revenue_per_session": Ratio("revenue", "sessions", relative_ci="log")}


def _ibis_duckdb2_shim() -> None:
    """ibis 12 (tea-tasting's DuckDB path) still calls ``fetch_arrow_table``, which DuckDB 2.0
    renamed ``to_arrow_table``; alias it so the peer runs on the same DuckDB as researchkit.
    It is used once per query to read a result schema, not on the data path."""
    import duckdb

    cls = type(duckdb.connect())
    if not hasattr(cls, "fetch_arrow_table"):
        cls.fetch_arrow_table = cls.to_arrow_table


def _tt_experiment():
    import tea_tasting as tt

    return tt.Experiment(
        variant="arm",
        conversion=tt.Proportion("converted", method="norm", correction=False,
                                 equal_var=False),
        revenue=tt.Mean("revenue"),
        revenue_per_session=tt.RatioOfMeans("revenue", "sessions", use_t=False),
    )


def _rk_numbers(result) -> dict:
    out = {}
    for _, r in result.table.iterrows():
        out[r["metric"]] = {"control": r["control_value"], "treatment": r["treatment_value"],
                            "difference": r["difference"], "ci_low": r["ci_low"],
                            "ci_high": r["ci_high"], "p_value": r["p_value"],
                            "relative": r["relative"], "relative_ci_low": r["relative_ci_low"],
                            "relative_ci_high": r["relative_ci_high"]}
    return out


def _tt_numbers(result) -> dict:
    out = {}
    for d in result.to_dicts():
        out[d["metric"]] = {"control": d["control"], "treatment": d["treatment"],
                            "difference": d["effect_size"], "ci_low": d["effect_size_ci_lower"],
                            "ci_high": d["effect_size_ci_upper"], "p_value": d["pvalue"],
                            "relative": d["rel_effect_size"],
                            "relative_ci_low": d["rel_effect_size_ci_lower"],
                            "relative_ci_high": d["rel_effect_size_ci_upper"]}
    return out


def _load_frame(path: str, rows: int):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    groups, total = [], 0
    for i in range(pf.num_row_groups):
        if total >= rows:
            break
        groups.append(i)
        total += pf.metadata.row_group(i).num_rows
    table = pf.read_row_groups(groups)
    return table.slice(0, rows).to_pandas()


def make_job(case: str, path: str, frame):
    """(callable running the analysis once, function extracting its numbers)."""
    if case == "rk-duckdb":
        from researchkit.experiments import analyze

        metrics = _rk_metrics()

        def job():
            return analyze(path, metrics, arm="arm", decimals={"revenue": 2})
        numbers = _rk_numbers
    elif case == "rk-pandas":
        from researchkit.experiments import analyze

        metrics = _rk_metrics()

        def job():
            return analyze(frame, metrics, arm="arm", decimals={"revenue": 2})
        numbers = _rk_numbers
    elif case == "rk-duckdb-frame":
        from researchkit.experiments import analyze

        metrics = _rk_metrics()

        def job():
            return analyze(frame, metrics, arm="arm", decimals={"revenue": 2}, engine="duckdb")
        numbers = _rk_numbers
    elif case == "tt-ibis-duckdb":
        import warnings

        import ibis

        _ibis_duckdb2_shim()
        warnings.simplefilter("ignore")
        exp = _tt_experiment()

        def job():
            con = ibis.duckdb.connect()
            return exp.analyze(con.read_parquet(path))
        numbers = _tt_numbers
    elif case == "tt-pandas":
        exp = _tt_experiment()

        def job():
            return exp.analyze(frame)
        numbers = _tt_numbers
    else:
        raise SystemExit(f"unknown case {case}")
    return job, numbers


IN_MEMORY = ("rk-pandas", "rk-duckdb-frame", "tt-pandas")


def run_case(case: str, path: str, rows: int, repeat: int) -> dict:
    """One case in its own process: warm-up, then `repeat` timed runs (process peak RSS)."""
    frame = _load_frame(path, rows) if case in IN_MEMORY else None
    job, numbers = make_job(case, path, frame)
    result = job()  # warm-up: imports, file metadata, caches
    times = []
    with PeakRSS() as mem:
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = job()
            times.append(time.perf_counter() - t0)
    import resource

    return {"case": case, "rows": rows, "times": times,
            "added_peak_mb": (mem.peak - mem.start) / 2**20,
            "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "numbers": numbers(result)}


def run_interleaved(cases: list[str], path: str, rows: int, rounds: int) -> dict:
    """All cases of a workload in one process, alternating run by run, so that the load of a
    shared machine falls on every tool alike. Returns times and added peak memory per case."""
    frame = _load_frame(path, rows) if cases[0] in IN_MEMORY else None
    jobs = {c: make_job(c, path, frame) for c in cases}
    out = {c: {"times": [], "added_peak_mb": 0.0, "numbers": None} for c in cases}
    for c, (job, numbers) in jobs.items():  # warm-up
        out[c]["numbers"] = numbers(job())
    for _ in range(rounds):
        for c, (job, _) in jobs.items():
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                job()
                out[c]["times"].append(time.perf_counter() - t0)
            out[c]["added_peak_mb"] = max(out[c]["added_peak_mb"],
                                          (mem.peak - mem.start) / 2**20)
    return out


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------
def ensure_data(rows: int) -> Path:
    path = DATA / f"ab_users_{rows}.parquet" if rows != 100_000_000 else \
        DATA / "ab_users_100m.parquet"
    if not path.exists():
        from researchkit.datasets import write_ab_test_parquet

        print(f"generating {rows:,} rows into {path} (once) ...", flush=True)
        t0 = time.perf_counter()
        write_ab_test_parquet(path, rows, seed=20260101, chunk_rows=5_000_000)
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def subprocess_case(case: str, path: Path, rows: int, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "--case", case, "--path", str(path), "--rows", str(rows),
           "--repeat", str(repeat)]
    return _run_child(cmd, case)


def subprocess_workload(cases: list[str], path: Path, rows: int, rounds: int) -> dict:
    cmd = [sys.executable, __file__, "--workload", ",".join(cases), "--path", str(path),
           "--rows", str(rows), "--repeat", str(rounds)]
    return _run_child(cmd, "+".join(cases))


def _run_child(cmd: list[str], label: str) -> dict:
    env = dict(os.environ)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{label} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def max_rel_diff(a: dict, b: dict) -> float:
    worst = 0.0
    for metric, va in a.items():
        vb = b[metric]
        for f in FIELDS:
            x, y = float(va[f]), float(vb[f])
            scale = max(abs(x), abs(y), 1e-300)
            worst = max(worst, abs(x - y) / scale)
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--memory-rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds per tool")
    ap.add_argument("--case")
    ap.add_argument("--workload")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.case:  # inside a subprocess
        print(json.dumps(run_case(args.case, args.path, args.rows, args.repeat)))
        return
    if args.workload:
        print(json.dumps(run_interleaved(args.workload.split(","), args.path, args.rows,
                                         args.repeat)))
        return
    try:
        import tea_tasting
    except ImportError:
        raise SystemExit("tea-tasting is not installed: pip install -e '.[bench]'") from None
    path = ensure_data(args.rows)
    import duckdb

    print(f"researchkit vs tea-tasting {tea_tasting.__version__} (DuckDB {duckdb.__version__}); "
          f"{os.cpu_count()} CPUs; best and median of {args.repeat} interleaved runs after a "
          "warm-up\n")
    plan = [("Parquet, DuckDB", args.rows, ["rk-duckdb", "tt-ibis-duckdb"]),
            ("in memory, pandas", min(args.memory_rows, args.rows),
             ["rk-pandas", "rk-duckdb-frame", "tt-pandas"])]
    labels = {"rk-duckdb": "researchkit (DuckDB SQL on the Parquet file)",
              "tt-ibis-duckdb": "tea-tasting (Ibis → DuckDB on the Parquet file)",
              "rk-pandas": "researchkit (numpy engine on the DataFrame)",
              "rk-duckdb-frame": "researchkit (DuckDB on the DataFrame)",
              "tt-pandas": "tea-tasting (narwhals/pandas on the DataFrame)"}
    rows_out = []
    for title, rows, cases in plan:
        results = subprocess_workload(cases, path, rows, args.repeat)
        for c in cases:  # the whole process's peak, one tool per process
            results[c]["process_peak_mb"] = subprocess_case(c, path, rows, 1)["process_peak_mb"]
        peer = results[cases[-1]]
        for c in cases:
            r = results[c]
            best, med = min(r["times"]), statistics.median(r["times"])
            diff = "–" if c == cases[-1] else f"{max_rel_diff(r['numbers'], peer['numbers']):.1e}"

            rows_out.append(
                f"| {title} | {rows:,} | {labels[c]} | {best:.2f} | {med:.2f} | "
                f"{min(peer['times']) / best:.2f}× | {r['added_peak_mb']:.0f} | "
                f"{r['process_peak_mb']:.0f} | {diff} |")
    print("| data | rows | tool | best s | median s | tea-tasting time / this | "
          "added peak MB | process peak MB | max rel. diff vs tea-tasting |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows_out))
    print("\nNumbers compared: control and treatment values, difference and its CI, p-value, "
          "relative lift and its CI, for the three metrics. The machine is shared: timings are "
          "noisy.")


if __name__ == "__main__":
    main()
