"""Banner benchmark: a 20 × 10 weighted banner over 1,000,000 respondents.

20 row questions (10 five-point scales with top/bottom-2-box nets and means, 4 nominal
questions with 6 codes, 4 multiple-response questions with 5 options, 2 numeric questions with
means) against 10 banner variables (2 to 6 columns each, plus Total), weighted, with
significance letters at 95%/90% on effective bases.

No maintained Python library builds banner tables with tests, so the side-by-side peer is the
loop a pandas user writes for the same weighted column percentages (``pd.crosstab`` with
``values=w, aggfunc='sum', normalize='columns'``, one per question × banner variable, single
and numeric questions only, no bases, nets, means or tests), checked to give the same
percentages. Each measurement runs in its own subprocess (peak memory = that run's
``ru_maxrss``). Usage: python benchmarks/bench_survey_banner.py [--n 1000000] [--repeat 3]
The machine is shared: treat timings as indicative.
"""

# ruff: noqa: E501  (the child scripts embedded as strings keep long lines)
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "_data"


def make_data(n: int) -> Path:
    import pandas as pd

    path = DATA / f"banner_{n}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    cols: dict[str, np.ndarray] = {}
    for j in range(10):
        k = 2 + j % 5
        cols[f"b{j}"] = rng.integers(1, k + 1, n).astype(np.int8)
    latent = rng.normal(size=n)
    for i in range(10):
        x = np.clip(np.round(3 + latent * 0.8 + rng.normal(0, 1, n)), 1, 5)
        asked = rng.random(n) < 0.8
        cols[f"s{i}"] = np.where(asked, x, np.nan)
    for i in range(4):
        cols[f"c{i}"] = rng.integers(1, 7, n).astype(float)
    for i in range(4):
        for o in range(1, 6):
            cols[f"m{i}_{o}"] = (rng.random(n) < 0.15 + 0.1 * o).astype(float)
    for i in range(2):
        cols[f"x{i}"] = np.round(rng.gamma(2.0, 20.0, n), 1)
    cols["w"] = rng.lognormal(0, 0.4, n)
    pd.DataFrame(cols).to_parquet(path)
    return path


CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
tool, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_parquet(path)
banner_cols = [f"b{j}" for j in range(10)]
if tool == "researchkit":
    from researchkit.survey import RowSpec, banner
    rows = ([RowSpec(f"s{i}", nets={"Top 2 box": [4, 5], "Bottom 2 box": [1, 2]}, mean=True)
             for i in range(10)] + [RowSpec(f"c{i}") for i in range(4)]
            + [RowSpec(f"m{i}", kind="multiple", columns=[f"m{i}_{o}" for o in range(1, 6)],
                       labels={f"m{i}_{o}": f"option {o}" for o in range(1, 6)})
               for i in range(4)]
            + [RowSpec(f"x{i}", kind="numeric") for i in range(2)])
    def run():
        t = banner(df, rows=rows, cols=banner_cols, weight="w", sig_levels=(0.05, 0.10))
        c = t.cells
        return c[(c["kind"] == "category") & c["title"].isin([f"c{i}" for i in range(4)] + [f"s{i}" for i in range(10)])]
else:
    def run():
        out = []
        for r in [f"s{i}" for i in range(10)] + [f"c{i}" for i in range(4)]:
            for b in banner_cols:
                out.append(pd.crosstab(df[r], df[b], values=df["w"], aggfunc="sum", normalize="columns"))
        for r in [f"x{i}" for i in range(2)]:
            for b in banner_cols:
                out.append((df[r] * df["w"]).groupby(df[b]).sum() / df["w"].groupby(df[b]).sum())
        for i in range(4):
            for b in banner_cols:
                out.append(df[[f"m{i}_{o}" for o in range(1, 6)]].mul(df["w"], axis=0).groupby(df[b]).sum().div(df["w"].groupby(df[b]).sum(), axis=0))
        return out
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, cpu = [], []
for _ in range(repeat):
    c0 = time.process_time(); t0 = time.perf_counter(); res = run(); times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
check = None
if tool == "researchkit":
    r = res[(res["title"] == "s3") & (res["group"] == "b4") & (res["code"] == 4.0)]
    check = r["value"].tolist()
else:
    check = res[3 * 10 + 4].loc[4.0].tolist()
print(json.dumps({"time": min(times), "times": times, "cpu": min(cpu), "peak_mb": peak / 1024,
                  "after_load_mb": base / 1024, "check": check}))
"""


def measure(tool: str, path: Path, repeat: int) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, tool, str(path), str(repeat)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{res.stderr[-3000:]}")
    return json.loads([x for x in res.stdout.splitlines() if x.startswith("{")][-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = make_data(args.n)
    rk = measure("researchkit", path, args.repeat)
    pdx = measure("pandas", path, args.repeat)
    same = np.allclose(rk["check"], pdx["check"], rtol=1e-9)
    print("| respondents | researchkit banner: wall s (CPU s) | pandas crosstab loop: wall s "
          "(CPU s) | ratio (wall) | researchkit peak MB (after load) | pandas peak MB (after "
          "load) | same % |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.n:,} | {rk['time']:.2f} ({rk['cpu']:.2f}) | {pdx['time']:.2f} "
          f"({pdx['cpu']:.2f}) | {pdx['time'] / rk['time']:.1f}× | {rk['peak_mb']:,.0f} "
          f"({rk['after_load_mb']:,.0f}) | {pdx['peak_mb']:,.0f} ({pdx['after_load_mb']:,.0f}) "
          f"| {'yes' if same else 'NO'} |")
    print("\nresearchkit computes more: bases (unweighted, weighted, effective), nets, means "
          "with SD, multiple response and pairwise significance letters; the pandas loop "
          "only the weighted column percentages.")
    print(f"Target: under 2 s for the researchkit banner: {'met' if rk['time'] < 2 else 'NOT met'}"
          f" in wall time on this machine (CPU time {rk['cpu']:.2f} s; on a shared machine the "
          "CPU time is the better guide to a quiet machine's wall time)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
