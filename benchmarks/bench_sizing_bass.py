"""Benchmark: Bass model fits and forecasts.

* ``fit_bass`` (bounded NLS with analytic Jacobian and a grid start) against
  ``scipy.optimize.curve_fit`` (unbounded Levenberg-Marquardt, numerical Jacobian) on the same
  simulated histories: time per fit and agreement of p, q, m;
* ``fit_bass_ols`` against ``statsmodels`` OLS of the same regression;
* ``forecast_bass`` parametric bootstrap: time per replicate.

Run: ``python benchmarks/bench_sizing_bass.py``. Timings from a shared machine are noisy.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    import statsmodels.api as sm
    from scipy.optimize import curve_fit

    from researchkit.datasets import simulate_adoption
    from researchkit.sizing import fit_bass, fit_bass_ols, forecast_bass

    histories = [simulate_adoption(p=0.02 + 0.001 * i, q=0.35 + 0.01 * i, m=100_000,
                                   periods=15, noise=0.04, seed=i).data for i in range(40)]
    fit_bass(histories[0], "adopters", "year")  # warm-up (imports)

    def cdf(t, p, q):  # written out independently of researchkit
        e = np.exp(-(p + q) * t)
        return (1 - e) / (1 + (q / p) * e)

    def model(t, p, q, m):
        return m * (cdf(t, p, q) - cdf(t - 1, p, q))

    t = np.arange(1, 16, dtype=float)
    ours, peer, worst = [], [], 0.0
    for h in histories:
        c0 = time.perf_counter()
        fit = fit_bass(h, "adopters", "year")
        ours.append(time.perf_counter() - c0)
        c0 = time.perf_counter()
        popt, _ = curve_fit(model, t, h["adopters"].to_numpy(), p0=[0.02, 0.35, 100_000],
                            maxfev=20_000)
        peer.append(time.perf_counter() - c0)
        worst = max(worst, float(np.max(np.abs(np.array([fit.p, fit.q, fit.m]) / popt - 1))))
    ols_t, sm_t, ols_diff = [], [], 0.0
    for h in histories:
        c0 = time.perf_counter()
        o = fit_bass_ols(h, "adopters", "year")
        ols_t.append(time.perf_counter() - c0)
        y = h["adopters"].to_numpy()
        cum = np.concatenate([[0.0], np.cumsum(y)[:-1]])
        c0 = time.perf_counter()
        ref = sm.OLS(y, np.column_stack([np.ones_like(cum), cum, cum**2])).fit()
        sm_t.append(time.perf_counter() - c0)
        mine = np.array([o.details["a"], o.details["b"], o.details["c"]])
        ols_diff = max(ols_diff, float(np.max(np.abs(mine / ref.params - 1))))
    fit = fit_bass(histories[0], "adopters", "year")
    c0 = time.perf_counter()
    forecast_bass(fit, 5, n_boot=500, seed=1)
    boot = time.perf_counter() - c0
    print("## Bass diffusion: 40 simulated 15-period histories\n")
    print("| task | researchkit (ms) | peer | peer (ms) | largest relative difference |")
    print("|---|---:|---|---:|---:|")
    print(f"| NLS fit | {1000 * np.median(ours):.1f} | scipy curve_fit | "
          f"{1000 * np.median(peer):.1f} | {worst:.2e} |")
    print(f"| OLS fit (Bass 1969) | {1000 * np.median(ols_t):.1f} | statsmodels OLS | "
          f"{1000 * np.median(sm_t):.1f} | {ols_diff:.2e} |")
    print(f"| bootstrap forecast, 500 refits | {1000 * boot:.0f} | - | - | - |")
    ok = worst < 1e-4 and ols_diff < 1e-6
    print(f"\nNumbers agree: {'yes' if ok else 'NO'} (median times; shared machine, noisy)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
