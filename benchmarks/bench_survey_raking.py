"""Raking benchmark: researchkit.survey.rake vs weightipy on the same data.

1,000,000 and 10,000,000 respondents, 4 weighting variables (4, 2, 5 and 6 categories),
uniform base weights. Every measurement runs in its own subprocess (so peak memory is that
run's alone: ``ru_maxrss`` of the child), times the weighting call only (data already loaded),
and saves the weights, which are then compared (largest relative difference).

weightipy runs with convcrit=1e-9 (its default, 0.01, stops before the margins match; at
1e-9 both libraries reach the same fixed point); researchkit with tol=1e-9 on the margin shares.
Usage: python benchmarks/bench_survey_raking.py [--sizes 1000000 10000000] [--repeat 3]
The machine is shared: treat timings as indicative.
"""

# ruff: noqa: E501  (the child scripts embedded as strings keep long lines)
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "_data"
TARGETS = {
    "age": {1: 0.25, 2: 0.30, 3: 0.25, 4: 0.20},
    "sex": {1: 0.49, 2: 0.51},
    "region": {1: 0.2, 2: 0.25, 3: 0.2, 4: 0.15, 5: 0.2},
    "edu": {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.2, 5: 0.1, 6: 0.1},
}


def make_data(n: int) -> Path:
    import pandas as pd

    path = DATA / f"raking_{n}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    df = pd.DataFrame({
        "age": rng.choice([1, 2, 3, 4], n, p=[0.40, 0.30, 0.20, 0.10]).astype(np.int8),
        "sex": rng.choice([1, 2], n, p=[0.40, 0.60]).astype(np.int8),
        "region": rng.choice([1, 2, 3, 4, 5], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]).astype(np.int8),
        "edu": rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.05, 0.15, 0.4, 0.2, 0.1, 0.1])
        .astype(np.int8),
    })
    df.to_parquet(path)
    return path


CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
tool, path, out, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
targets = {k: {int(c): v for c, v in t.items()} for k, t in json.loads(sys.argv[5]).items()}
df = pd.read_parquet(path)
if tool == "researchkit":
    from researchkit.survey import rake
    run = lambda: rake(df, targets, tol=1e-9).weights.to_numpy()
else:
    import weightipy as wp
    scheme = wp.scheme_from_dict({k: {c: v * 100 for c, v in t.items()} for k, t in targets.items()},
                                 name="bench", rim_params={"convcrit": 1e-9, "max_iterations": 1000})
    run = lambda: wp.weight(df, scheme).to_numpy()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, cpu = [], []
for _ in range(repeat):
    c0 = time.process_time(); t0 = time.perf_counter(); w = run(); times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
np.save(out, w)
print(json.dumps({"time": min(times), "times": times, "cpu": min(cpu), "peak_mb": peak / 1024,
                  "after_load_mb": base / 1024}))
"""


def measure(tool: str, path: Path, repeat: int) -> dict:
    out = DATA / f"w_{tool}_{path.stem}.npy"
    res = subprocess.run([sys.executable, "-c", CHILD, tool, str(path), str(out), str(repeat),
                          json.dumps(TARGETS)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{res.stderr[-2000:]}")
    line = [x for x in res.stdout.splitlines() if x.startswith("{")][-1]
    info = json.loads(line)
    info["weights"] = np.load(out)
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        t0 = time.perf_counter()
        path = make_data(n)
        prep = time.perf_counter() - t0
        rk = measure("researchkit", path, args.repeat)
        wp = measure("weightipy", path, args.repeat)
        diff = float(np.max(np.abs(rk["weights"] - wp["weights"]) / wp["weights"]))
        import pandas as pd

        df = pd.read_parquet(path)
        gaps = []
        for res in (rk, wp):
            w = res["weights"]
            gap = max(float(np.max(np.abs(np.bincount(df[v].to_numpy(), weights=w)[list(t)]
                                          / w.sum() - np.array(list(t.values())))))
                      for v, t in TARGETS.items())
            gaps.append(gap)
        rows.append((n, rk, wp, diff, gaps, prep))
    print("| respondents | researchkit: wall s (CPU s) | weightipy: wall s (CPU s) | speed-up "
          "(wall) | researchkit peak MB (after load) | weightipy peak MB (after load) | "
          "max rel. weight diff | max margin gap rk / wp |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, rk, wp, diff, gaps, _ in rows:
        print(f"| {n:,} | {rk['time']:.3f} ({rk['cpu']:.3f}) | {wp['time']:.3f} "
              f"({wp['cpu']:.3f}) | {wp['time'] / rk['time']:.1f}× "
              f"| {rk['peak_mb']:,.0f} ({rk['after_load_mb']:,.0f}) | {wp['peak_mb']:,.0f} "
              f"({wp['after_load_mb']:,.0f}) | {diff:.1e} | {gaps[0]:.1e} / {gaps[1]:.1e} |")
    ok = True
    for n, _, _, diff, (rk_gap, wp_gap), _ in rows:
        if diff < 1e-6:
            verdict = "same weights (max relative difference < 1e-6)"
        elif rk_gap < 1e-8 < wp_gap:
            verdict = (f"weights differ by up to {diff:.1e} because weightipy stopped before "
                       f"its margins matched (gap {wp_gap:.1e}); researchkit's margins match "
                       f"to {rk_gap:.1e}")
        else:
            verdict = "DIFFERENT weights"
            ok = False
        print(f"\n{n:,} respondents: {verdict}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
