"""Benchmark: Monte Carlo market sizing, 1,000,000 draws over 20 inputs with rank correlation.

Cases (same spec, same number of draws):

* ``independent``   - no correlations;
* ``6 correlated``  - three correlated pairs (6 of the 20 inputs reordered by Iman-Conover);
* ``20 correlated`` - all 20 inputs in one equicorrelated block (rho = 0.2).

Peer: a Gaussian-copula (NORTA) simulation written directly with numpy/scipy (correlated
normals -> normal CDF -> each input's inverse CDF), the usual alternative to Iman-Conover. The
script checks that both give the same output percentiles (within Monte Carlo error) and the same
achieved rank correlations.

Each case runs in its own subprocess: wall time of ``simulate`` (best and median of
``--repeat`` runs), CPU time (user + system, all threads), peak resident memory of the process
after imports and one run, and the tracemalloc peak of one call (numpy buffers). Timings on a
shared machine are noisy: the table header gives the load average.

Run: ``python benchmarks/bench_sizing_montecarlo.py [--n 1000000] [--repeat 7] [--threads 2]
[--no-peer]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

N_INPUTS = 20
CASES = ("independent", "6 correlated", "20 correlated")


def build_spec(case: str):
    from researchkit.sizing import (
        PERT,
        Interval,
        LogNormal,
        Normal,
        SizingSpecBuilder,
        Triangular,
        Uniform,
    )

    b = SizingSpecBuilder("Benchmark: 20 inputs", unit="unit")
    dists = [
        ("x1", LogNormal(13.0, 0.1), "count"), ("x2", PERT(0.2, 0.3, 0.45), "share"),
        ("x3", Interval(10, 30), "rate"), ("x4", Normal(1.0, 0.05), "other"),
        ("x5", Triangular(0.5, 0.6, 0.8), "share"), ("x6", Uniform(0.3, 0.5), "share"),
        ("x7", Interval(0.05, 0.15, shape="logitnormal"), "share"),
        ("x8", PERT(50, 65, 90), "price"), ("x9", LogNormal(11.0, 0.05), "count"),
        ("x10", PERT(0.2, 0.3, 0.4), "share"), ("x11", Interval(15, 35), "rate"),
        ("x12", LogNormal(10.5, 0.05), "count"), ("x13", Triangular(0.3, 0.4, 0.5), "share"),
        ("x14", Interval(10, 28), "rate"), ("x15", LogNormal(10.0, 0.05), "count"),
        ("x16", Uniform(0.1, 0.3), "share"), ("x17", Interval(5, 15), "rate"),
        ("x18", Interval(0.05, 0.15, shape="logitnormal"), "share"),
        ("x19", PERT(0.8, 0.9, 1.0), "share"), ("x20", PERT(55, 65, 80), "price"),
    ]
    for name, dist, kind in dists:
        b.input(name, dist, kind=kind, source="benchmark")
    if case == "6 correlated":
        for a, c, rho in (("x2", "x10", 0.5), ("x5", "x13", 0.3), ("x7", "x18", 0.6)):
            b.correlate(a, c, rho)
    elif case == "20 correlated":
        names = [d[0] for d in dists]
        for i, a in enumerate(names):
            for c in names[i + 1:]:
                b.correlate(a, c, 0.2)
    b.top_down(tam="x1 * x2 * x3 * x4", sam="tam * x5 * x6", som="sam * x7", price="x8")
    b.bottom_up(sam="x9 * x10 * x11 + x12 * x13 * x14 + x15 * x16 * x17",
                som="sam * x18 * x19", price="x20")
    return b.build()


def norta(spec, n: int, seed: int):
    """Gaussian-copula peer: correlated normals -> Phi -> inverse CDFs; then the same chains."""
    import numpy as np
    from scipy.special import ndtr

    from researchkit.sizing.correlation import pearson_for_spearman
    from researchkit.sizing.model import evaluate

    names = spec.uncertain_inputs
    idx = {nm: i for i, nm in enumerate(names)}
    target = np.eye(len(names))
    for c in spec.correlations:
        target[idx[c.a], idx[c.b]] = target[idx[c.b], idx[c.a]] = c.rho
    chol = np.linalg.cholesky(pearson_for_spearman(target))
    rng = np.random.default_rng(seed)
    z = chol @ rng.standard_normal((len(names), n))
    values = {nm: spec.inputs[nm].distribution.ppf(ndtr(z[idx[nm]])) for nm in names}
    return values, evaluate(spec, values, n)


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime  # every thread, user + system (page faults)


def measure(case: str, n: int, engine: str, repeat: int, threads: int | None) -> dict:
    import resource

    import numpy as np

    from researchkit.sizing import simulate

    spec = build_spec(case)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def run():
        if engine == "researchkit":
            res = simulate(spec, n, seed=1, threads=threads)
            return res.inputs, res.outputs
        return norta(spec, n, seed=1)

    times, cpu = [], []
    for rep in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        inputs, outputs = run()
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu() - c0)
        if rep == 0:
            # peak resident memory of the process: imports + one simulation
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            pct = {k: np.percentile(v, [5, 50, 95]).tolist() for k, v in outputs.items()}
            sub = 200_000
            pairs = [(c.a, c.b) for c in spec.correlations][:3]
            from scipy.stats import spearmanr

            achieved = {f"{a}-{b}": float(spearmanr(inputs[a][:sub], inputs[b][:sub])[0])
                        for a, b in pairs}
        del inputs, outputs
    # numpy buffers alive at the peak of one call (an extra, untimed run under tracemalloc)
    tracemalloc.start()
    inputs, outputs = run()
    peak_trace = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del inputs, outputs
    order = sorted(range(repeat), key=times.__getitem__)
    return {"case": case, "engine": engine, "n": n, "best": times[order[0]],
            "median": statistics.median(times), "cpu": statistics.median(cpu),
            "peak_rss_mb": rss, "base_rss_mb": base_rss, "peak_traced_mb": peak_trace / 2**20,
            "percentiles": pct, "achieved": achieved}


def run_child(case: str, n: int, engine: str, repeat: int, threads: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", case, "--engine", engine, "--n", str(n),
           "--repeat", str(repeat)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7,
                        help="timed runs per case for researchkit (the peer runs 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for simulate() (default: one per core, at most 8)")
    parser.add_argument("--no-peer", action="store_true", help="skip the NORTA peer")
    parser.add_argument("--child", default=None)
    parser.add_argument("--engine", default="researchkit")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.n, args.engine, args.repeat, args.threads)))
        return
    import numpy as np
    from _common import machine

    from researchkit.sizing.parallel import thread_count

    engines = ["researchkit"] if args.no_peer else ["researchkit", "numpy NORTA"]
    load_before = os.getloadavg()
    rows = []
    for case in CASES:
        for engine in engines:
            repeat = args.repeat if engine == "researchkit" else 2
            rows.append(run_child(case, args.n, engine, repeat, args.threads))
    load_after = os.getloadavg()
    print(f"## Monte Carlo sizing: {args.n:,} draws, {N_INPUTS} inputs, 10 outputs\n")
    print(f"{machine()}; simulate() threads: {thread_count(args.threads)}; load average "
          f"(1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.\n")
    print("| case | engine | wall best (s) | wall median (s) | CPU (s) | peak RSS (MB) | "
          "RSS after imports (MB) | peak numpy buffers (MB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['engine']} | {r['best']:.2f} | {r['median']:.2f} | "
              f"{r['cpu']:.2f} | {r['peak_rss_mb']:.0f} | {r['base_rss_mb']:.0f} | "
              f"{r['peak_traced_mb']:.0f} |")
    ok = True
    if not args.no_peer:
        print("\n### Agreement (researchkit Iman-Conover vs numpy Gaussian copula)\n")
        print("| case | largest relative difference of p5/p50/p95 over outputs | "
              "achieved rank correlations (researchkit / NORTA) |")
        print("|---|---:|---|")
        for case in CASES:
            a = next(r for r in rows if r["case"] == case and r["engine"] == "researchkit")
            b = next(r for r in rows if r["case"] == case and r["engine"] == "numpy NORTA")
            diff = max(float(np.max(np.abs(np.array(a["percentiles"][k]) / np.array(
                b["percentiles"][k]) - 1))) for k in a["percentiles"])
            corr = ", ".join(f"{k}: {a['achieved'][k]:.3f} / {b['achieved'][k]:.3f}"
                             for k in a["achieved"]) or "-"
            print(f"| {case} | {diff:.4f} | {corr} |")
            # Monte Carlo error of a tail percentile at 1e6 draws is well under 1%
            ok &= diff < 0.01 * (1_000_000 / args.n) ** 0.5 * 2
            ok &= all(abs(a["achieved"][k] - b["achieved"][k]) < 0.01 for k in a["achieved"])
        print(f"\nNumbers agree: {'yes' if ok else 'NO'}")
    print(f"\n(researchkit: best and median of {args.repeat} runs per case, each case in a "
          "fresh process; NORTA: 2 runs. CPU = user + system time of all threads (median run). "
          "Peak RSS = the process after imports and one run. Timings from a shared machine "
          "are noisy; see the load average.)")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
