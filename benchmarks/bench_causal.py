"""Benchmark the causal designs against peers on the same simulated data.

* two-way fixed-effects DiD with region-clustered errors: researchkit (absorbed fixed effects)
  vs statsmodels OLS with dummies (small panel only: the dummy matrix grows with the number of
  stores) vs linearmodels ``PanelOLS`` (bench extra);
* Callaway & Sant'Anna ATT(g,t): researchkit vs the ``csdid`` port of R ``did`` (bench extra);
* synthetic-control weights: researchkit's active-set solver vs scipy SLSQP.

Prints a markdown table of wall time and peak traced memory (tracemalloc) per measurement, and
checks that the numbers agree. Timings on a shared machine are noisy.

Run: ``python benchmarks/bench_causal.py`` (``make bench`` installs the peers).
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import researchkit.datasets as ds
from researchkit.experiments.causal import CallawaySantAnna, did, simplex_weights

ROWS: list[dict[str, Any]] = []


def measure(task: str, tool: str, size: str, fn: Callable[[], Any]) -> Any:
    fn()  # warm-up (imports, caches)
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ROWS.append({"task": task, "tool": tool, "size": size, "seconds": seconds,
                 "peak_mb": peak / 2**20})
    return out


def twfe() -> None:
    import statsmodels.formula.api as smf

    small = ds.regional_sales_panel(n_regions=20, stores_per_region=5, n_weeks=52, seed=1).data
    big = ds.regional_sales_panel(n_regions=200, stores_per_region=10, n_weeks=52, seed=1).data
    for label, data in (("100 stores x 52 weeks", small), ("2000 stores x 52 weeks", big)):
        ours = measure("TWFE DiD, clustered", "researchkit", label, lambda d=data: did(
            d, "sales", "treated", "post", unit="store", time="week", cluster="region"))
        if len(data) < 10_000:
            codes = data["region"].astype("category").cat.codes
            ref = measure("TWFE DiD, clustered", "statsmodels (dummies)", label,
                          lambda d=data, c=codes: smf.ols(
                              "sales ~ C(store) + C(week) + campaign", d).fit(
                              cov_type="cluster", cov_kwds={"groups": c}, use_t=True))
            assert np.isclose(ours.estimate, ref.params["campaign"], rtol=1e-9)
            assert np.isclose(ours.details["se"], ref.bse["campaign"], rtol=1e-7)
        try:
            from linearmodels.panel import PanelOLS
        except ImportError:
            print("linearmodels not installed: skipped (pip install -e .[bench])")
            continue
        indexed = data.set_index(["store", "week"])

        def lm(d=indexed):
            return PanelOLS(d["sales"], d[["campaign"]], entity_effects=True,
                            time_effects=True).fit(cov_type="clustered",
                                                   clusters=d["region"].astype("category")
                                                   .cat.codes.to_frame("region"))

        ref = measure("TWFE DiD, clustered", "linearmodels PanelOLS", label, lm)
        assert np.isclose(ours.estimate, ref.params["campaign"], rtol=1e-8)
        # linearmodels' small-sample correction does not count the absorbed effects in K
        ratio = ours.details["se"] / ref.std_errors["campaign"]
        ROWS[-1]["note"] = f"SE ratio ours/peer {ratio:.4f}"


def callaway_santanna() -> None:
    sim = ds.regional_sales_panel(n_regions=100, stores_per_region=5, n_weeks=30,
                                  n_treated=60, staggered=True, cohorts=(10, 16, 22),
                                  effect_growth=0.05, seed=3)
    data = sim.data
    label = "500 stores x 30 weeks, 3 cohorts"
    ours = measure("Callaway-Sant'Anna ATT(g,t)", "researchkit", label,
                   lambda: CallawaySantAnna(data, "sales", "store", "week",
                                            treatment="campaign"))
    try:
        from csdid.att_gt import ATTgt
    except ImportError:
        print("csdid not installed: skipped (pip install -e .[bench])")
        return
    frame = data.assign(g=data["launch_week"], id=data["store"].astype("category").cat.codes)

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ATTgt(yname="sales", tname="week", idname="id", gname="g", data=frame,
                         control_group=["nevertreated"]).fit(est_method="dr")

    ref = measure("Callaway-Sant'Anna ATT(g,t)", "csdid", label, peer)
    peer_att = np.asarray(ref.results["att"], dtype=float)
    ours_att = ours.att_gt["att"].to_numpy()
    ok = len(peer_att) == len(ours_att) and np.allclose(peer_att, ours_att, rtol=1e-8)
    ROWS[-1]["note"] = f"ATT(g,t) agree: {ok} ({len(ours_att)} cells)"
    assert ok


def synthetic_control() -> None:
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 80)).cumsum(axis=0) + rng.normal(size=(60, 1))
    b = a[:, :5] @ np.full(5, 0.2) + rng.normal(0, 0.5, 60)
    label = "60 periods x 80 donors"
    w = measure("simplex weights", "researchkit (active set)", label,
                lambda: simplex_weights(b, a))

    def slsqp():
        j = a.shape[1]
        return minimize(lambda x: np.sum((b - a @ x) ** 2), np.full(j, 1 / j),
                        jac=lambda x: -2 * a.T @ (b - a @ x), method="SLSQP",
                        bounds=[(0, 1)] * j,
                        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                        options={"ftol": 1e-15, "maxiter": 2000}).x

    ref = measure("simplex weights", "scipy SLSQP", label, slsqp)
    f_ours, f_ref = np.sum((b - a @ w) ** 2), np.sum((b - a @ ref) ** 2)
    ROWS[-1]["note"] = f"objective ours {f_ours:.6f} vs SLSQP {f_ref:.6f}"
    assert f_ours <= f_ref + 1e-8


def main() -> None:
    twfe()
    callaway_santanna()
    synthetic_control()
    print("| task | tool | size | seconds | peak MB | note |")
    print("|---|---|---|---:|---:|---|")
    for r in ROWS:
        print(f"| {r['task']} | {r['tool']} | {r['size']} | {r['seconds']:.3f} | "
              f"{r['peak_mb']:.1f} | {r.get('note', '')} |")


if __name__ == "__main__":
    main()
