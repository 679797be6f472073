"""Benchmark: fixed-effects regression and the Markov bootstrap on large simulated panels.

Compares :func:`researchkit.panel.fixed_effects` (within estimator, respondent-clustered CR1
errors) with linearmodels' ``PanelOLS`` (entity effects, clustered, ``debiased=True,
group_debias=True``: the same small-sample correction) on the same data, and, on a panel small
enough for a dummy-variable regression, with statsmodels OLS + respondent dummies. Prints a
markdown table of wall time, peak traced memory (tracemalloc: numpy and Python allocations) and
the largest differences in coefficients and standard errors; exits non-zero if they disagree.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_panel_fixed_effects.py``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import researchkit.datasets as ds
from researchkit.panel import fixed_effects, markov_forecast

XS = ["ad_exposure", "promo"]


def measure(fn: Callable[[], Any], repeat: int = 3,
            warmup: bool = True) -> tuple[Any, float, float]:
    """Best wall time of ``repeat`` runs (s), and peak traced memory of one run (MiB)."""
    if warmup:
        fn()  # imports, caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, min(times), peak


def ours(df: pd.DataFrame, correction: str = "nested") -> pd.DataFrame:
    res = fixed_effects(df, "spend", XS, df_correction=correction)
    return res.coefficients.set_index("term").loc[XS, ["coef", "se"]]


def linearmodels_fe(df: pd.DataFrame) -> pd.DataFrame:
    from linearmodels import PanelOLS

    counts = df["respondent"].map(df["respondent"].value_counts())
    d = df.loc[counts > 1].set_index(["respondent", "wave"])
    res = PanelOLS(d["spend"], d[XS], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
        auto_df=False, count_effects=False)
    return pd.DataFrame({"coef": res.params[XS], "se": res.std_errors[XS]})


def statsmodels_lsdv(df: pd.DataFrame) -> pd.DataFrame:
    import statsmodels.api as sm

    counts = df["respondent"].map(df["respondent"].value_counts())
    d = df.loc[counts > 1]
    design = pd.concat([d[XS].astype(float),
                        pd.get_dummies(d["respondent"], dtype=float)], axis=1)
    res = sm.OLS(d["spend"], design).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["respondent"])[0]})
    return pd.DataFrame({"coef": res.params[XS], "se": res.bse[XS]})


def markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a markdown table (numbers with 3 significant digits)."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.3g}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main() -> int:
    rows = []
    ok = True
    for n in (1_000, 20_000, 100_000):
        df = ds.brand_panel(n=n, waves=6, seed=1).data
        ref_ours, t, mem = measure(lambda df=df: ours(df))
        rows.append({"task": "FE, clustered", "respondents": n, "rows": len(df),
                     "tool": "researchkit", "seconds": t, "peak MiB": mem,
                     "max |Δcoef|": 0.0, "max |ΔSE|": 0.0})
        lm, t, mem = measure(lambda df=df: linearmodels_fe(df))
        dcoef = float((lm["coef"] - ref_ours["coef"]).abs().max())
        dse = float((lm["se"] - ref_ours["se"]).abs().max())
        ok &= dcoef < 1e-8 and dse < 1e-8
        rows.append({"task": "FE, clustered", "respondents": n, "rows": len(df),
                     "tool": "linearmodels PanelOLS", "seconds": t, "peak MiB": mem,
                     "max |Δcoef|": dcoef, "max |ΔSE|": dse})
        if n <= 1_000:
            dummies = ours(df, "dummies")
            smr, t, mem = measure(lambda df=df: statsmodels_lsdv(df), repeat=1,
                                  warmup=False)
            dcoef = float((smr["coef"] - dummies["coef"]).abs().max())
            dse = float((smr["se"] - dummies["se"]).abs().max())
            ok &= dcoef < 1e-8 and dse < 1e-8
            rows.append({"task": "FE, clustered", "respondents": n, "rows": len(df),
                         "tool": "statsmodels OLS + dummies (vs ours, dummies correction)",
                         "seconds": t, "peak MiB": mem, "max |Δcoef|": dcoef,
                         "max |ΔSE|": dse})
    for n in (20_000, 100_000):
        df = ds.brand_panel(n=n, waves=6, seed=1).data
        _, t, mem = measure(lambda df=df: markov_forecast(df, "brand", n_boot=200, seed=1),
                            repeat=1)
        rows.append({"task": "Markov forecast, 200 bootstrap resamples", "respondents": n,
                     "rows": len(df), "tool": "researchkit", "seconds": t, "peak MiB": mem,
                     "max |Δcoef|": np.nan, "max |ΔSE|": np.nan})
    table = pd.DataFrame(rows)
    print(markdown(table))
    print("\nTimings on a shared machine are noisy; best of 3 runs (1 for the slow peers).")
    if not ok:
        print("ERROR: researchkit and the peers disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
