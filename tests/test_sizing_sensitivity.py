"""Tornado, variance shares, reconciliation and staleness."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

from researchkit.datasets import sizing_example_path
from researchkit.errors import ParameterError
from researchkit.sizing import (
    PERT,
    LogNormal,
    Normal,
    SizingSpecBuilder,
    Uniform,
    first_order_index,
    load_sizing_spec,
    reconcile,
    simulate,
    staleness,
    tornado,
    variance_shares,
)


def _linear_spec():
    return (SizingSpecBuilder("Linear", as_of="2026-01-01")
            .input("x1", Normal(10.0, 1.0), source="t", source_date="2025-06-01")
            .input("x2", Normal(5.0, 2.0), source="t", source_date="2020-01-01")
            .input("x3", Uniform(0.0, 6.0), source="t")
            .input("k", 2.0, source="t", source_date="2025-12-01")
            .top_down(tam="k * x1 + 3 * x2 - x3")
            .build())


def test_tornado_matches_hand_computation():
    spec = _linear_spec()
    t = tornado(spec, "top_down.tam.units")
    z = stats.norm.ppf(0.95)
    base = 2 * 10 + 3 * 5 - 3.0
    assert t.estimate == pytest.approx(base)
    rows = t.table.set_index("input")
    assert rows.loc["x1", "swing"] == pytest.approx(2 * 2 * z * 1.0)
    assert rows.loc["x2", "swing"] == pytest.approx(3 * 2 * z * 2.0)
    assert rows.loc["x3", "swing"] == pytest.approx(0.9 * 6.0)
    assert rows.loc["x3", "output_low"] == pytest.approx(base + 3.0 - 0.3)
    assert list(t.table["input"]) == ["x2", "x1", "x3"]
    assert t.table["swing_share"].sum() == pytest.approx(1.0)
    stated = tornado(spec, "top_down.tam.units", quantiles=None).table.set_index("input")
    assert stated.loc["x3", "swing"] == pytest.approx(6.0)
    assert stated.loc["x1", "swing"] == pytest.approx(2 * 2 * z)


def test_tornado_uses_only_inputs_the_output_depends_on():
    spec = load_sizing_spec(sizing_example_path())
    money = tornado(spec, "top_down.som.money").table
    units = tornado(spec, "top_down.som.units").table
    assert "basket_value" not in set(money["input"])
    assert "basket_value" in set(units["input"])
    assert "win_rate" not in set(money["input"])
    with pytest.raises(ParameterError):
        tornado(spec, "top_down.som.money", quantiles=(0.9, 0.1))
    with pytest.raises(ParameterError, match="unknown sizing output"):
        tornado(spec, "middle.som.money")


def test_first_order_indices_of_an_additive_model():
    # Y = 2 X1 + 3 X2 - X3, independent: S_i = a_i^2 Var(X_i) / Var(Y) (Saltelli et al. 2008)
    spec = _linear_spec()
    res = simulate(spec, 400_000, seed=3)
    vs = variance_shares(res, "top_down.tam.units", max_draws=None).table.set_index("input")
    var = {"x1": 4 * 1.0, "x2": 9 * 4.0, "x3": 36 / 12}
    total = sum(var.values())
    # tolerance: 100 equal-count bins lose ~0.2% of a normal input's variance inside the bins,
    # plus sampling error of about 0.002 at this n
    for name, v in var.items():
        assert vs.loc[name, "first_order"] == pytest.approx(v / total, abs=0.01)
    # squared rank correlations normalised: close to the same shares for a linear model
    assert vs["rank_share"].sum() == pytest.approx(1.0)
    assert vs.loc["x2", "rank_share"] == pytest.approx(var["x2"] / total, abs=0.02)


def test_first_order_indices_of_a_lognormal_product():
    # Y = X1 X2 X3 independent lognormal: E[Y | X_i] = X_i prod_{j != i} E[X_j], so
    # S_i = Var(X_i) prod_{j != i} E[X_j]^2 / Var(Y), Var(Y) = prod E[X_j^2] - prod E[X_j]^2.
    dists = {"a": LogNormal(0.0, 0.5), "b": LogNormal(1.0, 0.3), "c": LogNormal(-1.0, 0.2)}
    b = SizingSpecBuilder("Product")
    for name, d in dists.items():
        b.input(name, d, kind="rate", source="t")
    spec = b.top_down(tam="a * b * c").build()
    res = simulate(spec, 400_000, seed=6)
    vs = variance_shares(res, "top_down.tam.units", max_draws=None).table.set_index("input")
    m1 = {k: d.mean for k, d in dists.items()}
    m2 = {k: math.exp(2 * d.mu + 2 * d.sigma**2) for k, d in dists.items()}
    var_y = math.prod(m2.values()) - math.prod(m1.values()) ** 2
    # tolerance: Y is heavy-tailed, so Var(Y) and the binned Var(E[Y|X]) carry sampling error
    # of about 0.005 at this n (observed over seeds), plus the binning loss
    for name in dists:
        others = math.prod(m1[o] ** 2 for o in dists if o != name)
        expected = (m2[name] - m1[name] ** 2) * others / var_y
        assert vs.loc[name, "first_order"] == pytest.approx(expected, abs=0.015)


def test_first_order_index_of_noise_is_about_zero():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=100_000), rng.normal(size=100_000)
    assert abs(first_order_index(x, y)) < 0.002
    with pytest.raises(ParameterError):
        first_order_index(x, y, bins=1)


def test_variance_shares_on_the_example():
    spec = load_sizing_spec(sizing_example_path())
    res = simulate(spec, 50_000, seed=2)
    vs = variance_shares(res, "top_down.som.money")
    assert vs.table["input"].iloc[0] in {"online_share", "target_share"}
    assert "online_families" in set(vs.table["input"])  # correlated with online_share
    assert not vs.table.set_index("input").loc["online_families", "in_chain"]
    assert vs.warnings
    rank = variance_shares(res, "top_down.som.money", method="rank")
    assert rank.table["share"].equals(rank.table["rank_share"])
    with pytest.raises(ParameterError):
        variance_shares(res, "top_down.som.money", method="sobol_total")


def _two_chain_spec(bu_scale: float):
    return (SizingSpecBuilder("Two chains")
            .input("n", 1000.0, kind="count", source="t")
            .input("share", PERT(0.2, 0.3, 0.4), kind="share", source="t")
            .input("freq", Normal(10.0, 1.0), kind="rate", source="t")
            .input("scale", PERT(0.5 * bu_scale, bu_scale, 1.5 * bu_scale), kind="other",
                   source="t")
            .top_down(sam="n * share * freq")
            .bottom_up(sam="n * 0.3 * 10 * scale")
            .build())


def test_reconcile_flags_non_overlap_and_finds_the_driver():
    far = simulate(_two_chain_spec(3.0), 50_000, seed=1)
    rec = reconcile(far, level="sam", measure="units")
    assert rec.overlap is False and rec.details["overlap"] is False
    assert rec.warnings and "do not overlap" in rec.warnings[0]
    assert rec.estimate == pytest.approx(1 / 3, rel=0.05)
    assert rec.details["p_top_down_higher"] < 0.01
    top = rec.table.iloc[0]
    assert top["input"] == "scale" and top["chain"] == "bottom_up"
    assert rec.table.set_index("input").loc["scale", "variance_share"] > 0.5
    near = simulate(_two_chain_spec(1.0), 50_000, seed=1)
    rec2 = reconcile(near, level="sam", measure="units")
    assert rec2.overlap is True
    assert rec2.ci[0] < 1 < rec2.ci[1]
    # scale's range (0.5-1.5 x) crosses a ratio of 1: it alone can close the gap
    assert rec2.table.set_index("input").loc["scale", "closes_gap"]
    assert list(rec2.comparison["chain"]) == ["top_down", "bottom_up"]


def test_reconcile_errors():
    spec = _linear_spec()
    res = simulate(spec, 1000, seed=1)
    with pytest.raises(ParameterError, match="both a top_down and a bottom_up"):
        reconcile(res)
    res2 = simulate(_two_chain_spec(1.0), 1000, seed=1)
    with pytest.raises(ParameterError, match="price"):
        reconcile(res2, level="sam", measure="money")


def test_staleness_flags_old_and_undated_sources():
    spec = _linear_spec()
    st = staleness(spec)
    rows = st.table.set_index("input")
    assert rows.loc["x2", "status"] == "stale"
    assert rows.loc["x2", "age_days"] == (dt.date(2026, 1, 1) - dt.date(2020, 1, 1)).days
    assert rows.loc["x3", "status"] == "undated"
    assert rows.loc["x1", "status"] == "ok"
    assert st.estimate == 1 and st.details["n_undated"] == 1
    assert list(st.table["status"])[:2] == ["stale", "undated"]
    assert any("x2" in w for w in st.warnings)
    later = staleness(spec, as_of="2027-06-01", max_age_days=365)
    assert later.estimate == 3
    with pytest.raises(ParameterError):
        staleness(spec, as_of="June 2026")
    with pytest.raises(ParameterError):
        staleness(spec, max_age_days=0)


def test_example_staleness_uses_the_spec_date():
    spec = load_sizing_spec(sizing_example_path())
    st = staleness(spec)
    assert st.details["as_of"] == "2026-06-01"
    assert list(st.table.loc[st.table["status"] == "stale", "input"]) == ["grocery_spend"]
