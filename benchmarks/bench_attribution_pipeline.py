"""Identity stitching, journeys and all attribution models on growing omnichannel data.

For 10,000, 50,000 and 1,000,000 simulated people (``researchkit.datasets.simulate_omnichannel``:
about 3.2 identity records and 4.5 touches per person over 10 channels), the script times each
stage of the attribution notebook (wall-clock and CPU seconds), reports the peak resident
memory of the process, and checks the recovery of the known channel shares by the first-order
Markov chain (max absolute share error). Every size runs in a fresh Python process, so the
peak memory is that size's own (it includes the input tables, read from Parquet; the memory
after reading them is shown in brackets).

With ``--reference`` (default for up to 50,000 people) the same data also go through the
straightforward pandas implementation kept in ``tests/_attribution_reference.py`` (the code
before the vectorised rewrite): its stitching, linking and journey times are printed as
"before", and every table is checked to be identical.

Simulated data are cached in ``benchmarks/_data/`` (Parquet), so only the first run of a size
pays for the simulation (about 25 CPU seconds for 1,000,000 people on this machine).

Usage::

    .venv/bin/python benchmarks/bench_attribution_pipeline.py [--people 10000 50000 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"
IDS = {"email": "email", "phone": "phone", "user_id": "user_id",
       "loyalty_card": "loyalty_card", "device_id": "device_id"}
SEED = 1


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(stats: dict, name: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    out = func()
    stats[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    return out


def _files(n: int) -> dict[str, Path]:
    return {k: DATA / f"omnichannel_{n}_seed{SEED}_{k}.parquet"
            for k in ("records", "touches", "conversions")}


def generate(n: int) -> float:
    """Simulate n people into the cache; the CPU seconds of the simulation."""
    from researchkit.datasets import simulate_omnichannel

    t0 = time.process_time()
    sim = simulate_omnichannel(n, seed=SEED)
    seconds = time.process_time() - t0
    DATA.mkdir(parents=True, exist_ok=True)
    for k, f in _files(n).items():
        sim.data[k].to_parquet(f)
    return seconds


def _load(n: int) -> dict:
    import pandas as pd

    return {k: pd.read_parquet(f) for k, f in _files(n).items()}


def worker(n: int, reference: bool) -> dict:
    import pandas as pd
    import scipy.sparse.csgraph  # noqa: F401  (import time is not stitching time)

    from researchkit.channels import (
        build_journeys,
        compare_models,
        link_events,
        markov_attribution,
        stitch_identities,
    )
    from researchkit.datasets import channel_chain

    data = _load(n)
    rss_data = _rss_mb()
    stats: dict = {}
    rec = data["records"]
    st = _timed(stats, "stitch", lambda: stitch_identities(rec, IDS, record="record_id",
                                                           source="source"))
    t, c = _timed(stats, "link", lambda: (link_events(data["touches"], st),
                                          link_events(data["conversions"], st)))
    j = _timed(stats, "journeys", lambda: build_journeys(
        t, c, kind="kind", campaign="campaign", cost="cost"))
    _timed(stats, "path_table", lambda: j.path_table())
    _timed(stats, "models", lambda: compare_models(j))
    peak = _rss_mb()
    shares = markov_attribution(j).table.set_index("channel")["share"]
    truth = pd.Series(channel_chain()["attribution_shares"])
    err = float((shares.drop("(no touch)", errors="ignore") - truth).abs().max())
    out = {"people": n, "records": len(rec), "touches": len(data["touches"]),
           "stages": stats, "rss_data_mb": rss_data,
           "peak_rss_mb": peak, "people_after": st.details["people_after"],
           "journeys": len(j.journeys), "markov_error": err}
    if reference:
        sys.path.insert(0, str(ROOT / "tests"))
        import _attribution_reference as ref

        ref_stats: dict = {}
        st_ref = _timed(ref_stats, "stitch", lambda: ref.stitch_identities(
            rec, IDS, record="record_id", source="source"))
        t_ref, c_ref = _timed(ref_stats, "link", lambda: (
            ref.link_events(data["touches"], st_ref), ref.link_events(data["conversions"],
                                                                     st_ref)))
        j_ref = _timed(ref_stats, "journeys", lambda: ref.build_journeys(
            t_ref, c_ref, kind="kind", campaign="campaign", cost="cost"))
        _timed(ref_stats, "path_table", lambda: ref.path_table(j_ref))
        same = all(a.equals(b) for a, b in [
            (st.records, st_ref.records), (st.identifiers, st_ref.identifiers),
            (st.problems, st_ref.problems), (st.conflicts, st_ref.conflicts),
            (st.people, st_ref.people), (st.table, st_ref.table), (t, t_ref), (c, c_ref),
            (j.journeys, j_ref.journeys), (j.touches, j_ref.touches),
            (j.path_table(), ref.path_table(j_ref))]) and j.details == j_ref.details
        out["reference"] = {"stages": ref_stats, "identical": bool(same)}
    return out


def _fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} / {pair[1]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 50_000, 1_000_000])
    parser.add_argument("--reference", choices=["auto", "yes", "no"], default="auto",
                        help="also run the reference implementation (auto: up to 50,000)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--with-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        print(f"__RESULT__ {generate(args.generate)}")
        return 0
    if args.worker:
        print("__RESULT__ " + json.dumps(worker(args.worker, args.with_reference)))
        return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import machine, table

    results = []
    for n in args.people:
        simulate_s = None
        if not all(f.exists() for f in _files(n).values()):
            proc = subprocess.run([sys.executable, __file__, "--generate", str(n)],
                                  capture_output=True, text=True, check=False)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("__RESULT__ ")),
                        None)
            if proc.returncode or line is None:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return 1
            simulate_s = float(line.split(" ", 1)[1])
        ref = args.reference == "yes" or (args.reference == "auto" and n <= 50_000)
        cmd = [sys.executable, __file__, "--worker", str(n)] + (
            ["--with-reference"] if ref else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("__RESULT__ ")), None)
        if proc.returncode or line is None:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        results.append({**json.loads(line.split(" ", 1)[1]), "simulate_s": simulate_s})
        print(f"done: {n:,} people", file=sys.stderr, flush=True)

    stage_names = ["stitch", "link", "journeys", "path_table", "models"]
    rows = []
    for r in results:
        s = r["stages"]
        total = (sum(s[k][0] for k in stage_names), sum(s[k][1] for k in stage_names))
        rows.append([f"{r['people']:,}", f"{r['records']:,}", f"{r['touches']:,}",
                     *[_fmt(s[k]) for k in stage_names], _fmt(total),
                     f"{r['peak_rss_mb']:.0f} ({r['rss_data_mb']:.0f})",
                     f"{r['people_after']:,}", f"{r['journeys']:,}",
                     f"{r['markov_error']:.3f}",
                     "cached" if r["simulate_s"] is None else f"{r['simulate_s']:.1f}"])
    print(f"Machine: {machine()}\n")
    print("Stage times in seconds, wall / CPU (10 models = 6 rules, Markov orders 1-3, "
          "Shapley)\n")
    print(table(["people", "records", "touches", "stitch", "link events", "journeys",
                 "path table", "10 models", "total", "peak RSS MB (data)", "people after",
                 "journeys", "Markov-1 max share error", "simulate CPU s"], rows))
    refs = [r for r in results if "reference" in r]
    if refs:
        ref_rows = []
        for r in refs:
            new, old = r["stages"], r["reference"]["stages"]
            ref_rows.append([f"{r['people']:,}", *[
                f"{_fmt(old[k])} -> {_fmt(new[k])}" for k in ("stitch", "link", "journeys",
                                                               "path_table")],
                "yes" if r["reference"]["identical"] else "NO"])
        print("\nBefore (reference implementation, tests/_attribution_reference.py) -> "
              "after, wall / CPU seconds\n")
        print(table(["people", "stitch", "link events", "journeys", "path table",
                     "identical tables"], ref_rows))
    print("\nThe machine is shared with other jobs (2 cores): wall times are noisy; CPU "
          "times are the steadier figure.")
    if any(r.get("reference", {}).get("identical") is False for r in results):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
