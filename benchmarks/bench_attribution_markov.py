"""Markov attribution: researchkit (exact) vs ChannelAttribution (simulation) on the same data.

For 1,000,000 and 10,000,000 journeys over 8 channels (walks of the known channel chain of
``researchkit.datasets.simulate_channel_paths``, aggregated to a unique-path table as
ChannelAttribution users keep it), and Markov orders 1-3, the script times

* ``researchkit.channels.markov_attribution`` (removal effects solved exactly), three runs;
* ``ChannelAttribution.markov_model`` (removal effects by simulation; package ``channelattribution``
  from the ``bench`` extra), with three seeds;

and reports the median time, peak memory (tracemalloc, a separate run), the run-to-run spread of
the per-channel attributed conversions (max over channels of (max - min) / mean across runs or
seeds) and how far the two packages' per-channel conversions are apart. It fails if researchkit's
runs are not identical or if the two packages disagree by more than ChannelAttribution's own
seed-to-seed spread allows.

Usage::

    .venv/bin/python benchmarks/bench_attribution_markov.py [--sizes 1000000 10000000]

Generated tables are cached in benchmarks/_data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from researchkit.channels import markov_attribution
from researchkit.datasets import OMNICHANNEL_CHANNELS, simulate_channel_paths

DATA = Path(__file__).resolve().parent / "_data"
EIGHT = ["search", "social", "display", "direct", "email", "sms", "call_centre", "store"]
CA_SEEDS = (0, 1000, 2000)  # ChannelAttribution seeds fold f with seed + f: keep them apart


def path_table(n: int) -> pd.DataFrame:
    DATA.mkdir(exist_ok=True)
    file = DATA / f"markov_paths_{n}.parquet"
    if file.exists():
        return pd.read_parquet(file)
    spec = {k: OMNICHANNEL_CHANNELS[k] for k in EIGHT}
    table = simulate_channel_paths(n, seed=2026, channels=spec).data
    table.to_parquet(file)
    return table


def spread(frames: list[pd.Series]) -> float:
    stack = pd.concat(frames, axis=1)
    return float(((stack.max(axis=1) - stack.min(axis=1)) / stack.mean(axis=1)).max())


def peak_mb(func) -> float:
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_ours(table: pd.DataFrame, order: int) -> tuple[list[float], list[pd.Series]]:
    times, outs = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        res = markov_attribution(table, order=order)
        times.append(time.perf_counter() - t0)
        outs.append(res.table.set_index("channel")["conversions"])
    return times, outs


def run_ca(table: pd.DataFrame, order: int) -> tuple[list[float], list[pd.Series]] | None:
    try:
        import ChannelAttribution as ca
    except ImportError:
        return None
    times, outs = [], []
    for seed in CA_SEEDS:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            res = ca.markov_model(table, "path", "conversions", var_value="value",
                                  var_null="nulls", order=order, seed=seed, verbose=False,
                                  flg_pro=False)
        times.append(time.perf_counter() - t0)
        outs.append(res.set_index("channel_name")["total_conversions"])
    return times, outs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = []
    ok = True
    for n in args.sizes:
        t0 = time.perf_counter()
        table = path_table(n)
        prep = time.perf_counter() - t0
        print(f"{n:,} journeys -> {len(table):,} unique paths "
              f"(generated/loaded in {prep:.1f} s)", file=sys.stderr)
        for order in args.orders:
            times, outs = run_ours(table, order)
            mem = peak_mb(lambda table=table, order=order: markov_attribution(table, order=order))
            identical = all(o.equals(outs[0]) for o in outs)
            ok &= identical
            row = {"journeys": f"{n:,}", "unique paths": f"{len(table):,}", "order": order,
                   "researchkit s (median of 3)": f"{np.median(times):.2f}",
                   "researchkit peak MB": f"{mem:.0f}",
                   "researchkit run-to-run spread": "0 (identical)" if identical else
                   f"{spread(outs):.2%}"}
            ca_res = run_ca(table, order)
            if ca_res is None:
                row.update({"ChannelAttribution s": "not installed"})
            else:
                ca_times, ca_outs = ca_res
                ca_spread = spread(ca_outs)
                mean_ca = pd.concat(ca_outs, axis=1).mean(axis=1)
                ours = outs[0].reindex(mean_ca.index)
                diff = float(((ours - mean_ca).abs() / mean_ca).max())
                # agreement: within CA's own seed-to-seed spread (plus a small margin)
                agree = diff <= max(ca_spread, 0.01) * 1.5
                ok &= agree
                row.update({
                    "ChannelAttribution s (median of 3 seeds)": f"{np.median(ca_times):.2f}",
                    "ChannelAttribution seed-to-seed spread": f"{ca_spread:.2%}",
                    "max rel. difference (ours vs CA mean)": f"{diff:.2%}",
                    "agree": "yes" if agree else "NO",
                })
            rows.append(row)
            print(row, file=sys.stderr)
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    print("\nTimes are wall-clock on a shared 2-core machine (other jobs running): indicative.")
    return 0 if ok else 1


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
