"""Monte Carlo sizing against closed forms; Iman-Conover correlation; determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from researchkit.datasets import sizing_example_path
from researchkit.errors import ParameterError
from researchkit.sizing import (
    LogNormal,
    Normal,
    SizingSpecBuilder,
    iman_conover,
    load_sizing_spec,
    simulate,
    spearman_matrix,
)
from researchkit.sizing.correlation import _argsort, pearson_for_spearman

N = 400_000


def _quantile_se(q: float, n: int, density: float) -> float:
    """Standard error of a sample quantile: sqrt(q(1-q)/n) / f(x_q)."""
    return math.sqrt(q * (1 - q) / n) / density


def _lognormal_product_spec(rho: float | None = None):
    b = (SizingSpecBuilder("Lognormal product", unit="unit")
         .input("a", LogNormal(1.0, 0.3), kind="count", source="t")
         .input("b", LogNormal(-0.5, 0.5), kind="rate", source="t")
         .input("c", LogNormal(2.0, 0.2), kind="rate", source="t")
         .input("k", 3.0, kind="other", source="t"))
    if rho is not None:
        b.correlate("a", "b", rho)
    return b.top_down(tam="k * a * b * c").build()


def test_product_of_independent_lognormals_matches_closed_form():
    # ln(k a b c) ~ N(ln 3 + 1.0 - 0.5 + 2.0, 0.3^2 + 0.5^2 + 0.2^2): log-means and
    # log-variances add (products of independent lognormals are lognormal).
    spec = _lognormal_product_spec()
    y = simulate(spec, N, seed=11).output("top_down.tam.units")
    mu = math.log(3) + 1.0 - 0.5 + 2.0
    sigma = math.sqrt(0.3**2 + 0.5**2 + 0.2**2)
    ref = stats.lognorm(sigma, scale=math.exp(mu))
    sd_mean = ref.std() / math.sqrt(N)
    assert abs(y.mean() - ref.mean()) < 4 * sd_mean
    for q in (0.05, 0.5, 0.95):
        se = _quantile_se(q, N, ref.pdf(ref.ppf(q)))
        assert abs(np.quantile(y, q) - ref.ppf(q)) < 4 * se
    # log of the output: exactly normal with the summed moments
    logs = np.log(y)
    assert abs(logs.mean() - mu) < 4 * sigma / math.sqrt(N)
    assert abs(logs.std(ddof=1) - sigma) < 4 * sigma / math.sqrt(2 * N)


def test_product_of_rank_correlated_lognormals():
    # Iman-Conover with normal scores gives (asymptotically) a Gaussian copula with Pearson
    # correlation r = 2 sin(pi rho / 6) between the normal scores, i.e. between ln a and ln b,
    # so ln(product) has variance sum sigma^2 + 2 r sigma_a sigma_b.
    rho = 0.5
    spec = _lognormal_product_spec(rho)
    res = simulate(spec, N, seed=5)
    r = float(pearson_for_spearman(rho))
    sigma = math.sqrt(0.3**2 + 0.5**2 + 0.2**2 + 2 * r * 0.3 * 0.5)
    logs = np.log(res.output("top_down.tam.units"))
    assert abs(logs.std(ddof=1) - sigma) < 4 * sigma / math.sqrt(2 * N)
    achieved = stats.spearmanr(res.inputs["a"], res.inputs["b"])[0]
    # Fieller, Hartley & Pearson (1957): var(atanh r_s) ~ 1.06 / (n - 3)
    se = (1 - rho**2) * math.sqrt(1.06 / (N - 3))
    assert abs(achieved - rho) < 4 * se


def test_sum_of_normals_matches_closed_form():
    spec = (SizingSpecBuilder("Sum of normals")
            .input("x", Normal(100.0, 15.0), source="t")
            .input("y", Normal(50.0, 20.0), source="t")
            .input("z", Normal(-30.0, 5.0), source="t")
            .bottom_up(tam="x + 2 * y - z")
            .build())
    out = simulate(spec, N, seed=2).output("bottom_up.tam.units")
    mean = 100 + 2 * 50 + 30
    sd = math.sqrt(15**2 + (2 * 20) ** 2 + 5**2)
    assert abs(out.mean() - mean) < 4 * sd / math.sqrt(N)
    assert abs(out.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * N)
    for q in (0.05, 0.95):
        se = _quantile_se(q, N, stats.norm.pdf(stats.norm.ppf(q), scale=sd))
        assert abs(np.quantile(out, q) - stats.norm.ppf(q, mean, sd)) < 4 * se


def test_correlated_normals_sum_variance():
    # Spearman rho between normals -> Pearson r = 2 sin(pi rho/6) (bivariate normal copula);
    # Var(x + y) = sx^2 + sy^2 + 2 r sx sy.
    rho = -0.4
    spec = (SizingSpecBuilder("Correlated sum")
            .input("x", Normal(0.0, 3.0), source="t")
            .input("y", Normal(0.0, 4.0), source="t")
            .correlate("x", "y", rho)
            .top_down(tam="x + y").build())
    out = simulate(spec, N, seed=8).output("top_down.tam.units")
    r = float(pearson_for_spearman(rho))
    sd = math.sqrt(9 + 16 + 2 * r * 12)
    assert abs(out.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * N)


def test_iman_conover_preserves_marginals_exactly_and_hits_target():
    rng = np.random.default_rng(3)
    n = 200_000
    x = np.column_stack([rng.lognormal(0, 1, n), rng.uniform(0, 1, n), rng.beta(2, 5, n),
                         rng.normal(0, 1, n)])
    target = np.array([[1.0, 0.6, -0.3, 0.0],
                       [0.6, 1.0, 0.2, 0.4],
                       [-0.3, 0.2, 1.0, 0.1],
                       [0.0, 0.4, 0.1, 1.0]])
    for scores in ("normal", "van_der_waerden"):
        y = iman_conover(x, target, seed=4, scores=scores)
        np.testing.assert_array_equal(np.sort(y, axis=0), np.sort(x, axis=0))
        achieved = spearman_matrix(y)
        se = (1 - target**2) * math.sqrt(1.06 / (n - 3))
        assert np.all(np.abs(achieved - target) <= 4 * se + 1e-12), (scores, achieved)
        ref = stats.spearmanr(y).statistic
        np.testing.assert_allclose(achieved, ref, atol=1e-12)


def test_without_the_pearson_conversion_the_target_would_be_missed():
    # The conversion matters: normal scores with Pearson r have Spearman (6/pi) asin(r/2).
    rho = 0.7
    r = pearson_for_spearman(rho)
    assert (6 / math.pi) * math.asin(r / 2) == pytest.approx(rho)
    assert abs((6 / math.pi) * math.asin(rho / 2) - rho) > 0.01


def test_iman_conover_dataframe_and_errors():
    import pandas as pd

    df = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0)[::-1]})
    out = iman_conover(df, [[1, 0.5], [0.5, 1]], seed=1)
    assert list(out.columns) == ["a", "b"] and list(out.index) == list(df.index)
    with pytest.raises(ParameterError, match="does not fit"):
        iman_conover(df, np.eye(3))
    with pytest.raises(ParameterError, match="invalid target"):
        iman_conover(df, [[1, 2], [2, 1]])
    with pytest.raises(ParameterError, match="positive definite"):
        iman_conover(np.random.default_rng(0).normal(size=(100, 3)),
                     [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    with pytest.raises(ParameterError, match="NaN"):
        iman_conover(np.array([[1.0, np.nan], [2, 3], [3, 4]]), np.eye(2))


def test_fast_argsort_is_an_argsort():
    rng = np.random.default_rng(9)
    for x in (rng.normal(size=50_000), rng.lognormal(size=10_000) - 1.0,
              np.concatenate([rng.normal(size=9000), -rng.normal(size=9000)])):
        order = _argsort(x)
        np.testing.assert_array_equal(np.sort(order), np.arange(x.size))
        np.testing.assert_array_equal(x[order], np.sort(x))


def test_simulation_is_deterministic_and_seed_dependent():
    spec = load_sizing_spec(sizing_example_path())
    a = simulate(spec, 5000, seed=1)
    b = simulate(spec, 5000, seed=1)
    c = simulate(spec, 5000, seed=2)
    for key in spec.outputs():
        np.testing.assert_array_equal(a.outputs[key], b.outputs[key])
    assert not np.array_equal(a.outputs["top_down.som.money"], c.outputs["top_down.som.money"])
    assert a.to_dict() == b.to_dict()


def test_correlation_reorders_but_keeps_draws():
    spec = load_sizing_spec(sizing_example_path())
    with_corr = simulate(spec, 20_000, seed=3)
    without = simulate(spec, 20_000, seed=3, correlate=False)
    for name in spec.uncertain_inputs:
        np.testing.assert_array_equal(np.sort(with_corr.inputs[name]),
                                      np.sort(without.inputs[name]))
    for c in spec.correlations:
        achieved = stats.spearmanr(with_corr.inputs[c.a], with_corr.inputs[c.b])[0]
        assert abs(achieved - c.rho) < 4 * (1 - c.rho**2) * math.sqrt(1.06 / (20_000 - 3))


def test_result_summary_units_money_and_funnel():
    spec = load_sizing_spec(sizing_example_path())
    res = simulate(spec, 20_000, seed=4, percentiles=(10, 50, 90))
    table = res.table.set_index("output")
    assert list(table.columns) == ["chain", "level", "measure", "mean", "sd", "p10", "p50",
                                   "p90"]
    td_money = res.outputs["top_down.som.money"]
    np.testing.assert_allclose(res.outputs["top_down.som.units"],
                               td_money / res.inputs["basket_value"])
    np.testing.assert_allclose(res.outputs["bottom_up.som.money"],
                               res.outputs["bottom_up.som.units"] * res.inputs["basket_value"])
    assert table.loc["top_down.som.money", "p50"] == pytest.approx(np.median(td_money))
    funnel = res.funnel("top_down", "money")
    assert list(funnel["level"]) == ["TAM", "SAM", "SOM"]
    assert (funnel["low"] < funnel["median"]).all() and (funnel["median"] < funnel["high"]).all()
    assert res.estimate["top_down.som.money"] == pytest.approx(np.median(td_money))
    d = res.to_dict()
    assert "outputs" not in d and d["n"] == 20_000


def test_warnings_for_draws_outside_a_kind_and_level_order():
    spec = (SizingSpecBuilder("Warnings")
            .input("n_hh", 100.0, kind="count", source="t")
            # 0.04% below zero: allowed by the spec check, reported after sampling
            .input("rate", Normal(1.0, 0.3), kind="rate", source="t")
            .input("growth", Normal(1.0, 0.5), kind="other", source="t")
            .top_down(tam="n_hh * rate", sam="tam * growth")
            .build())
    res = simulate(spec, 100_000, seed=1)
    assert any("'rate'" in w and "outside the range" in w for w in res.warnings)
    assert any("SAM exceeds TAM" in w for w in res.warnings)


def test_bad_arguments():
    spec = load_sizing_spec(sizing_example_path())
    with pytest.raises(ParameterError):
        simulate(spec, 10)
    with pytest.raises(ParameterError):
        simulate(spec, 1000, percentiles=(0, 50))
    with pytest.raises(ParameterError):
        simulate(spec, 1000, seed=-1)
    res = simulate(spec, 1000)
    with pytest.raises(ParameterError, match="unknown sizing output"):
        res.output("top_down.xam.money")


def _block_spec(k: int, rho: float):
    from researchkit.sizing import PERT, Interval, Triangular, Uniform

    b = SizingSpecBuilder("Block", unit="unit")
    dists = [LogNormal(1.0, 0.2), PERT(0.2, 0.3, 0.45), Interval(10, 30), Normal(1.0, 0.05),
             Triangular(0.5, 0.6, 0.8), Uniform(0.3, 0.5),
             Interval(0.05, 0.15, shape="logitnormal")]
    names = [f"x{i}" for i in range(k)]
    for i, name in enumerate(names):
        b.input(name, dists[i % len(dists)], source="t")
    for i, a in enumerate(names):
        for c in names[i + 1:]:
            b.correlate(a, c, rho)
    return b.top_down(tam=" * ".join(names[:4]), sam="tam * " + " * ".join(names[4:])).build()


def test_equicorrelated_block_of_twenty_inputs_hits_every_target():
    # 20 inputs of seven different shapes, all 190 pairs at rho = 0.2 (the benchmark's case):
    # every achieved Spearman correlation within sampling error of the target. Bound: the
    # Fieller-Hartley-Pearson standard error, at z = 4.6 (a 1 in 1000 chance over all 190 pairs
    # together, Bonferroni).
    n, rho = 200_000, 0.2
    spec = _block_spec(20, rho)
    res = simulate(spec, n, seed=6)
    x = np.column_stack([res.inputs[name] for name in spec.uncertain_inputs])
    achieved = spearman_matrix(x)
    se = (1 - rho**2) * math.sqrt(1.06 / (n - 3))
    off = ~np.eye(20, dtype=bool)
    z = stats.norm.isf(0.001 / 2 / 190)
    assert np.all(np.abs(achieved[off] - rho) < z * se), np.abs(achieved[off] - rho).max() / se
    # and no systematic bias: the mean over the 190 pairs is within its own (looser) error
    assert abs(achieved[off].mean() - rho) < 4 * se
    # marginals exactly those drawn without the correlation
    plain = simulate(spec, n, seed=6, correlate=False)
    for name in spec.uncertain_inputs:
        np.testing.assert_array_equal(np.sort(res.inputs[name]), np.sort(plain.inputs[name]))


def test_numbers_do_not_depend_on_the_number_of_threads():
    spec = _block_spec(9, 0.3)
    runs = [simulate(spec, 150_000, seed=3, threads=t) for t in (1, 2, 3)]
    for other in runs[1:]:
        for name in spec.uncertain_inputs:
            np.testing.assert_array_equal(runs[0].inputs[name], other.inputs[name])
        for key in spec.outputs():
            np.testing.assert_array_equal(runs[0].outputs[key], other.outputs[key])
        assert runs[0].to_dict() == other.to_dict()
    x = np.random.default_rng(2).lognormal(size=(70_000, 3))
    target = [[1, 0.5, 0.2], [0.5, 1, -0.3], [0.2, -0.3, 1]]
    np.testing.assert_array_equal(iman_conover(x, target, seed=1, threads=1),
                                  iman_conover(x, target, seed=1, threads=2))
    with pytest.raises(ParameterError, match="threads"):
        simulate(spec, 1000, threads=0)


def test_scores_have_exactly_the_target_pearson_correlation():
    # Step 3 of Iman-Conover: after T = P F^-1 S the sample correlation of the (float32)
    # scores equals 2 sin(pi R / 6) up to float32 rounding, not just up to sampling error.
    from researchkit.sizing.correlation import _induce, _score_tasks
    from researchkit.sizing.parallel import Runner, spawn_generators

    rng = np.random.default_rng(5)
    target = np.array([[1.0, 0.7, -0.4], [0.7, 1.0, -0.1], [-0.4, -0.1, 1.0]])
    n = 150_001  # not a multiple of the block or chunk sizes
    s, tasks = _score_tasks(n, spawn_generators(rng, 3), "normal")
    sums = [task() for task in tasks]
    columns = [np.sort(rng.uniform(size=n)) for _ in range(3)]
    columns_copy = [c.copy() for c in columns]
    placed = _induce(columns, target, s, sums, Runner())
    np.testing.assert_allclose(np.corrcoef(s.astype(np.float64)), pearson_for_spearman(target),
                               atol=2e-6)
    # each placed column has the ranks of its score row: sorted by score, the placed values
    # rise wherever the score rises (equal float32 scores, about 0.2% of them here, are
    # ties in any order)
    for j in range(3):
        order = np.argsort(s[j], kind="stable")
        rises = np.diff(s[j][order]) > 0
        assert np.all(np.diff(placed[j][order])[rises] > 0)
        assert np.count_nonzero(~rises) < 0.01 * n
        np.testing.assert_array_equal(np.sort(placed[j]), np.sort(columns_copy[j]))


def test_rank_order_of_float32_scores_is_an_argsort_with_ties_by_index():
    from researchkit.sizing.correlation import _rank_order

    rng = np.random.default_rng(4)
    for t in (rng.normal(size=100_000).astype(np.float32),
              np.array([0.0, 2.0, 1.5, -1.5, 1e-38, -1e-38, -3.0, 3.0, 0.0, 1e-45, -1e-45],
                       dtype=np.float32),
              rng.integers(-3, 3, 50_000).astype(np.float32)):  # many ties
        order = _rank_order(t)
        assert order.dtype == np.int64
        # a permutation that sorts t; equal values in index order (ascending for values
        # >= 0, descending for negative ones): stable argsort of (t, +-index)
        np.testing.assert_array_equal(np.sort(order), np.arange(t.size))
        idx = np.arange(t.size)
        np.testing.assert_array_equal(order, np.lexsort((np.where(t < 0, -idx, idx), t)))
    # -0.0 sorts before +0.0; infinite values fall back to a stable argsort
    np.testing.assert_array_equal(_rank_order(np.array([0.0, -0.0], dtype=np.float32)), [1, 0])
    t = np.array([np.inf, 1.0, -np.inf, 1.0], dtype=np.float32)
    np.testing.assert_array_equal(_rank_order(t), np.argsort(t, kind="stable"))


@pytest.mark.parametrize("n", [1000, 1001, 4097, 250_000])
def test_fast_percentiles_equal_numpy_percentile(n):
    from researchkit.sizing.parallel import Buffers
    from researchkit.sizing.simulate import _describe, _percentiles

    rng = np.random.default_rng(n)
    levels = [0.1, 2.5, 5, 10, 25, 50, 75, 90, 95, 97.5, 99.9]
    for x in (rng.lognormal(size=n), np.sort(rng.normal(size=n))[::-1].copy(),
              rng.integers(0, 4, n).astype(float), np.full(n, 2.5)):
        np.testing.assert_array_equal(_percentiles(x, levels, finite=True),
                                      np.percentile(x, levels))
        mean, sd, pct, bad = _describe(x, levels, Buffers(n))
        assert (mean, bad) == (np.mean(x), 0)
        assert sd == pytest.approx(np.std(x, ddof=1), rel=1e-14)
        np.testing.assert_array_equal(pct, np.percentile(x, levels))
    y = rng.normal(size=n)
    y[:3] = [np.inf, np.nan, -np.inf]
    mean, sd, pct, bad = _describe(y, [5, 50], Buffers(n))
    assert bad == 3 and np.isnan(pct).all()
