"""Krippendorff's alpha: researchkit vs the ``krippendorff`` package — time and peak memory.

Cases (data generated from fixed seeds):

1. nominal, 100,000 units × 5 coders, 5 categories, 10% missing codings;
2. interval, 2,000 units × 5 coders, 10,000 distinct values (every coding different; the
   package builds units × V × V arrays: ~1.5 TiB here);
3. interval, 2,000 units × 5 coders, 446 distinct values (the package needs ~9 GB);
4. interval, 2,000 units × 5 coders, 100 distinct values (both run: numbers must agree);
5. ordinal and ratio, 2,000 units × 5 coders, 10,000 distinct values (researchkit only);
6. nominal with a 1,000-resample bootstrap interval, 100,000 units × 5 coders (researchkit).

Every measurement runs in its own subprocess: time is the best of ``REPEAT`` calls (imports
excluded), memory is the peak traced by ``tracemalloc`` during the call (numpy reports its
buffers to it) and the process's peak resident set size. The package runs under an address-space
limit (``resource.setrlimit(RLIMIT_AS)``, default 6 GiB, ``--limit-gb``) so that its huge
allocations fail cleanly with MemoryError instead of exhausting the machine.

Usage: ``python benchmarks/bench_qual_krippendorff.py [--limit-gb 6] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CASES = {
    "nominal_100k": dict(level="nominal", units=100_000, coders=5, distinct=5, missing=0.1),
    "interval_10000": dict(level="interval", units=2_000, coders=5, distinct=10_000,
                           missing=0.0),
    "interval_446": dict(level="interval", units=2_000, coders=5, distinct=446, missing=0.1),
    "interval_100": dict(level="interval", units=2_000, coders=5, distinct=100, missing=0.1),
    "ordinal_10000": dict(level="ordinal", units=2_000, coders=5, distinct=10_000, missing=0.0),
    "ratio_10000": dict(level="ratio", units=2_000, coders=5, distinct=10_000, missing=0.0),
    "nominal_100k_boot": dict(level="nominal", units=100_000, coders=5, distinct=5,
                              missing=0.1, n_boot=1000),
}
PLAN = [
    ("nominal_100k", "researchkit"), ("nominal_100k", "krippendorff"),
    ("interval_10000", "researchkit"), ("interval_10000", "krippendorff"),
    ("interval_446", "researchkit"), ("interval_446", "krippendorff"),
    ("interval_100", "researchkit"), ("interval_100", "krippendorff"),
    ("ordinal_10000", "researchkit"), ("ratio_10000", "researchkit"),
    ("nominal_100k_boot", "researchkit"),
]


def make_data(level: str, units: int, coders: int, distinct: int, missing: float, **_):
    """Units × coders with ``distinct`` different values; coders agree with a shared truth.

    With as many distinct values as cells (10,000 = 2,000 × 5), every coding is a different
    number: a true score per unit plus each coder's measurement error.
    """
    import numpy as np

    rng = np.random.default_rng(20261126)
    if distinct >= units * coders:
        true = rng.uniform(0, 1000, size=units)
        x = true[:, None] + rng.normal(0, 40, size=(units, coders))
        x[rng.random(x.shape) < missing] = np.nan
        return np.abs(x)
    values = np.sort(rng.choice(np.arange(1, 100 * distinct), size=distinct, replace=False))
    truth = rng.integers(0, distinct, size=units)
    noise = rng.integers(-max(1, distinct // 20), max(1, distinct // 20) + 1,
                         size=(units, coders))
    idx = np.clip(truth[:, None] + np.where(rng.random((units, coders)) < 0.3, noise, 0),
                  0, distinct - 1)
    x = values[idx].astype(float)
    if level == "nominal":
        x = idx.astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def worker(case: str, impl: str, limit_gb: float, repeat: int) -> dict:
    import resource
    import tracemalloc

    import numpy as np

    spec = CASES[case]
    x = make_data(**spec)
    out = {"case": case, "impl": impl, "distinct": int(np.unique(x[~np.isnan(x)]).size)}
    if impl == "krippendorff":
        import krippendorff

        limit = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        def call():
            return krippendorff.alpha(reliability_data=x.T, level_of_measurement=spec["level"])
    else:
        from researchkit.qual import krippendorff_alpha

        def call():
            return krippendorff_alpha(x, spec["level"], n_boot=spec.get("n_boot", 0),
                                      seed=1).estimate
    best = float("inf")
    value = None
    try:
        tracemalloc.start()
        for _ in range(repeat):
            t0 = time.perf_counter()
            value = call()
            best = min(best, time.perf_counter() - t0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(status="ok", seconds=best, peak_mb=peak / 2**20, alpha=float(value))
    except MemoryError as exc:
        tracemalloc.stop()
        out.update(status="MemoryError", detail=str(exc)[:160])
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-gb", type=float, default=6.0,
                        help="address-space limit for the krippendorff package (GiB)")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        repeat = 1 if CASES[args.worker[0]].get("n_boot") else args.repeat
        print(json.dumps(worker(args.worker[0], args.worker[1], args.limit_gb, repeat)))
        return
    try:
        import krippendorff  # noqa: F401
    except ImportError:
        sys.exit("install the peer first: pip install krippendorff (make bench does)")
    rows = []
    for case, impl in PLAN:
        proc = subprocess.run([sys.executable, __file__, "--worker", case, impl,
                               "--limit-gb", str(args.limit_gb), "--repeat", str(args.repeat)],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            rows.append({"case": case, "impl": impl, "status": f"crashed: {last[:120]}"})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  done {case} / {impl}: {rows[-1].get('status')}", file=sys.stderr)

    print(f"\n## Krippendorff's alpha: researchkit vs krippendorff (package limited to "
          f"{args.limit_gb:g} GiB of address space; best of {args.repeat})\n")
    print("| case | level | units × coders | distinct values | implementation | status | "
          "time (s) | peak traced (MB) | max RSS (MB) | alpha |")
    print("|---|---|---|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        spec = CASES[r["case"]]
        boot = f" + {spec['n_boot']} bootstrap" if spec.get("n_boot") else ""
        def fmt(k: str, f: str, r: dict = r) -> str:
            return f.format(r[k]) if k in r else "–"

        print(f"| {r['case']} | {spec['level']}{boot} | {spec['units']:,} × {spec['coders']} | "
              f"{r.get('distinct', '–')} | {r['impl']} | {r['status']} | "
              f"{fmt('seconds', '{:.3f}')} | {fmt('peak_mb', '{:.0f}')} | "
              f"{fmt('maxrss_mb', '{:.0f}')} | {fmt('alpha', '{:.6f}')} |")
    print()
    by_case: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["impl"]] = r
    ok = True
    for case, impls in by_case.items():
        a, b = impls.get("researchkit"), impls.get("krippendorff")
        if a and b and a.get("status") == "ok" and b.get("status") == "ok":
            same = abs(a["alpha"] - b["alpha"]) <= 1e-9 * max(1.0, abs(b["alpha"]))
            ok &= same
            print(f"- {case}: alphas {'agree' if same else 'DIFFER'} "
                  f"({a['alpha']:.12f} vs {b['alpha']:.12f}); researchkit "
                  f"{b['seconds'] / a['seconds']:.1f}× the package's speed, "
                  f"{a['peak_mb']:.0f} vs {b['peak_mb']:.0f} MB traced")
        elif a and b:
            print(f"- {case}: krippendorff package {b.get('status')}"
                  f"{': ' + b['detail'] if b.get('detail') else ''}")
    target = by_case.get("interval_10000", {}).get("researchkit", {})
    if target.get("status") == "ok":
        print(f"- target (interval, 10,000 distinct values, < 1 s and < 300 MB): "
              f"{target['seconds']:.3f} s, {target['peak_mb']:.0f} MB traced, "
              f"{target['maxrss_mb']:.0f} MB max RSS")
    print("\nTimings on a shared 2-core machine are noisy; re-measure on a quiet one.")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
