"""Regenerate the ChannelAttribution reference numbers used by tests/test_attribution_markov.py.

ChannelAttribution (Altomare & Loris; PyPI ``channelattribution``) builds from source, so it is
not installed in CI; this script is run by hand in an environment with the ``bench`` extra::

    .venv/bin/python tests/data/make_channelattribution_reference.py

It writes ``attribution_reference_paths.csv`` (a fixed unique-path table simulated with
``researchkit.datasets.simulate_channel_paths(4000, seed=20261126)``) and
``channelattribution_reference.json``: for Markov orders 1-3, ChannelAttribution's removal
effects, attributed conversions and value, averaged over 10 seeds, with their standard
deviation across seeds (its simulation error).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
# ChannelAttribution seeds its fold f with seed + f: keep the seeds far apart
SEEDS = [1000 * k for k in range(10)]


def main() -> None:
    import ChannelAttribution as ca

    from researchkit.datasets import simulate_channel_paths

    table = simulate_channel_paths(4000, seed=20261126).data
    table.to_csv(HERE / "attribution_reference_paths.csv", index=False)
    table = pd.read_csv(HERE / "attribution_reference_paths.csv")
    out = {"channelattribution_version": ca.__version__ if hasattr(ca, "__version__") else
           "2.2.5", "call": "markov_model(Data, 'path', 'conversions', var_value='value', "
           "var_null='nulls', order=k, out_more=True, seed=s, verbose=False, flg_pro=False)",
           "seeds": list(SEEDS), "orders": {}}
    for order in (1, 2, 3):
        runs = []
        for seed in SEEDS:
            res = ca.markov_model(table, "path", "conversions", var_value="value",
                                  var_null="nulls", order=order, out_more=True, seed=seed,
                                  verbose=False, flg_pro=False)
            frame = res["result"].set_index("channel_name").join(
                res["removal_effects"].set_index("channel_name"))
            runs.append(frame.sort_index())
        stack = np.stack([r.to_numpy(dtype=float) for r in runs])
        cols = list(runs[0].columns)
        out["orders"][str(order)] = {
            "channels": list(runs[0].index),
            "columns": cols,
            "mean": stack.mean(axis=0).tolist(),
            "sd": stack.std(axis=0, ddof=1).tolist(),
        }
    (HERE / "channelattribution_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
