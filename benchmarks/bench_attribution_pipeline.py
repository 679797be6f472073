"""Identity stitching, journeys and all attribution models on growing omnichannel data.

For 10,000 and 50,000 simulated people (``researchkit.datasets.simulate_omnichannel``: about
3 records and 4.5 touches per person over 10 channels), the script times each stage of the
attribution notebook and its peak memory (tracemalloc), and checks the recovery of the known
channel shares by the first-order Markov chain (max absolute share error). Memory is the
process's peak resident set size after the stage (``resource.getrusage``; tracemalloc is not
used here because it slows pandas' Python-level code several-fold).

Usage::

    .venv/bin/python benchmarks/bench_attribution_pipeline.py [--people 10000 50000]
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from researchkit.channels import (
    build_journeys,
    compare_models,
    link_events,
    markov_attribution,
    stitch_identities,
)
from researchkit.datasets import simulate_omnichannel

IDS = {"email": "email", "phone": "phone", "user_id": "user_id",
       "loyalty_card": "loyalty_card", "device_id": "device_id"}


def timed(func):
    t0 = time.perf_counter()
    out = func()
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out, seconds, peak_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()
    rows = []
    for n in args.people:
        sim = simulate_omnichannel(n, seed=1)
        rec = sim.data["records"]
        st, t_st, m_st = timed(lambda rec=rec: stitch_identities(
            rec, IDS, record="record_id", source="source"))
        j, t_j, m_j = timed(lambda st=st, sim=sim: build_journeys(
            link_events(sim.data["touches"], st), link_events(sim.data["conversions"], st),
            kind="kind", campaign="campaign", cost="cost"))
        _cmp, t_c, m_c = timed(lambda j=j: compare_models(j))
        shares = markov_attribution(j).table.set_index("channel")["share"]
        truth = pd.Series(sim.truth["attribution_shares"])
        err = float((shares.drop("(no touch)", errors="ignore") - truth).abs().max())
        rows.append({
            "people": f"{n:,}", "records": f"{len(rec):,}",
            "touches": f"{len(sim.data['touches']):,}",
            "stitching s / peak RSS MB": f"{t_st:.2f} / {m_st:.0f}",
            "people after": f"{st.details['people_after']:,}",
            "journeys s / peak RSS MB": f"{t_j:.2f} / {m_j:.0f}",
            "journeys": f"{len(j.journeys):,}",
            "10 models s / peak RSS MB": f"{t_c:.2f} / {m_c:.0f}",
            "Markov-1 max share error": f"{err:.3f}",
        })
    table = pd.DataFrame(rows)
    try:
        print(table.to_markdown(index=False))
    except ImportError:
        print(table.to_string(index=False))
    print("\nTimes are wall-clock on a shared 2-core machine (other jobs running): indicative.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
