"""Raking, post-stratification and weighting diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets.survey import simulate_brand_tracker
from researchkit.errors import DataError, ParameterError
from researchkit.survey import (
    effective_n,
    plot_weights,
    poststratify,
    rake,
    weight_diagnostics,
    weighted_proportions,
)

REF = json.loads((Path(__file__).parent / "data" / "survey_references.json").read_text())


def _ref_data():
    r = REF["raking"]
    df = pd.DataFrame(r["data"])
    targets = {k: {int(c): v for c, v in t.items()} for k, t in r["targets"].items()}
    return df, targets, r


def test_rake_equals_weightipy():
    # Reference weights from weightipy 0.4.2 (convcrit 1e-12), see tests/data/make_*.py
    df, targets, r = _ref_data()
    res = rake(df, targets, tol=1e-12)
    np.testing.assert_allclose(res.weights.to_numpy(), np.array(r["weights"]), rtol=1e-8)
    assert res.margins["difference"].abs().max() < 1e-12


def test_capped_rake_equals_weightipy():
    df, targets, r = _ref_data()
    res = rake(df, targets, cap=r["cap"], tol=1e-10)
    np.testing.assert_allclose(res.weights.to_numpy(), np.array(r["weights_capped"]),
                               rtol=1e-6)
    assert res.weights.max() / res.weights.mean() <= r["cap"] + 1e-9


def test_infeasible_cap_raises_where_weightipy_silently_misses_a_margin():
    df, targets, r = _ref_data()
    w = pd.Series(r["weights_capped_infeasible"])
    age = (w.groupby(df["age"]).sum() / w.sum()).to_numpy()
    assert np.abs(age - 0.25).max() > 1e-3  # the peer's weights do not meet the targets
    with pytest.raises(DataError, match="did not converge"):
        rake(df, targets, cap=r["cap_infeasible"])


def test_efficiency_matches_weightipy_and_kish_formula():
    df, targets, r = _ref_data()
    w = rake(df, targets).weights
    d = weight_diagnostics(w)
    assert d.details["efficiency"] * 100 == pytest.approx(r["efficiency_percent"], rel=1e-9)
    wv = w.to_numpy()
    assert d.estimate == pytest.approx(len(wv) * (wv**2).sum() / wv.sum() ** 2)
    assert d.estimate == pytest.approx(1 + wv.std() ** 2 / wv.mean() ** 2)
    assert effective_n(wv) == pytest.approx(len(wv) / d.estimate)


def test_rake_unit_level_path_with_varying_base_weights_and_caps():
    df, targets, _ = _ref_data()
    rng = np.random.default_rng(1)
    df = df.assign(d=rng.uniform(0.5, 2.0, len(df)))
    a = rake(df, targets, base_weight="d", cap=(0.2, 4.0), tol=1e-9)
    assert a.margins["difference"].abs().max() < 1e-9
    rel = a.weights / a.weights.mean()
    assert rel.min() >= 0.2 - 1e-9 and rel.max() <= 4.0 + 1e-9
    assert "respondent by respondent" in a.method


def test_base_weights_are_respected():
    # uncapped raking multiplies base weights by a factor that depends only on the cell
    df, targets, _ = _ref_data()
    rng = np.random.default_rng(2)
    df = df.assign(d=rng.uniform(0.5, 2.0, len(df)))
    res = rake(df, targets, base_weight="d", tol=1e-12)
    ratio = res.weights / df["d"]
    per_cell = ratio.groupby([df[c] for c in targets]).nunique()
    assert per_cell.max() == 1 or np.allclose(
        ratio.groupby([df[c] for c in targets]).std().fillna(0), 0, atol=1e-9)
    assert res.margins["difference"].abs().max() < 1e-10


def test_rake_order_invariant_and_total():
    df, targets, _ = _ref_data()
    a = rake(df, targets).weights
    b = rake(df, dict(reversed(list(targets.items())))).weights
    np.testing.assert_allclose(a, b, rtol=1e-7)
    c = rake(df, targets, total=1_000_000).weights
    assert c.sum() == pytest.approx(1_000_000)
    np.testing.assert_allclose(c / c.mean(), a / a.mean(), rtol=1e-9)


def test_weighting_recovers_population_truth():
    # six independent biased samples: the raked estimates average out to the population
    # truth (within 3 standard errors of the mean of six), the unweighted ones do not
    for var in ("aware_1", "aware_4", "category_user"):
        est, se2, unw, cover = [], [], [], 0
        for seed in range(1, 7):
            sim = simulate_brand_tracker(3000, seed=seed)
            df, truth = sim.data, sim.truth
            df = df.assign(w=rake(df, truth["targets"]).weights)
            row = weighted_proportions(df, var, "w").table.set_index("category").loc[1]
            est.append(row["proportion"])
            se2.append(row["se"] ** 2)
            unw.append(weighted_proportions(df, var).table.set_index("category")
                       ["proportion"][1])
            cover += row["ci_low"] <= truth["population"][var] <= row["ci_high"]
        true = truth["population"][var]
        assert abs(np.mean(est) - true) < 3 * np.sqrt(np.mean(se2) / 6), var
        assert abs(np.mean(unw) - true) > 5 * np.sqrt(np.mean(se2) / 6), var
        assert cover >= 4, var


def test_rake_errors():
    df = pd.DataFrame({"a": [1, 1, 2, 2], "b": ["x", "y", "x", "z"]})
    with pytest.raises(DataError, match="do not sum to 1"):
        rake(df, {"a": {1: 0.5, 2: 0.6}})
    with pytest.raises(DataError, match="target category absent from the data") as e:
        rake(df, {"a": {1: 0.4, 2: 0.4, 3: 0.2}})
    assert e.value.column == "a"
    with pytest.raises(DataError, match="data category absent from the targets") as e:
        rake(df, {"b": {"x": 0.5, "y": 0.5}})
    assert e.value.got == ["z"]
    with pytest.raises(DataError, match="not in the data"):
        rake(df, {"c": {1: 1.0}})
    with pytest.raises(DataError, match="missing values"):
        rake(df.assign(a=[1, None, 2, 2]), {"a": {1: 0.5, 2: 0.5}})
    with pytest.raises(DataError, match="base weights must be positive"):
        rake(df.assign(d=[1, 0, 1, 1]), {"a": {1: 0.5, 2: 0.5}}, base_weight="d")
    with pytest.raises(ParameterError):
        rake(df, {"a": {1: 0.5, 2: 0.5}}, cap=(2, 3))
    with pytest.raises(ParameterError):
        rake(df, {"a": {1: 0.5, 2: 0.5}}, max_iter=0)


def test_rake_non_convergence_is_a_clear_error():
    # caps too tight for the targets: the margins cannot be met
    df = pd.DataFrame({"a": [1] * 90 + [2] * 10})
    with pytest.raises(DataError, match="did not converge") as e:
        rake(df, {"a": {1: 0.5, 2: 0.5}}, cap=(0.5, 2.0))
    assert "caps" in str(e.value)


def test_poststratify_matches_cells_and_equals_raking_on_full_joint():
    df, _, _ = _ref_data()
    joint = df.groupby(["age", "sex"]).size()
    rng = np.random.default_rng(3)
    shares = pd.Series(rng.dirichlet(np.ones(len(joint))), index=joint.index)
    res = poststratify(df, ["age", "sex"], shares)
    w = res.weights
    got = w.groupby([df["age"], df["sex"]]).sum() / w.sum()
    np.testing.assert_allclose(got.to_numpy(), shares.to_numpy(), atol=1e-12)
    # raking on the single joint variable gives the same weights
    key = df["age"].astype(str) + "_" + df["sex"].astype(str)
    t = {f"{a}_{s}": v for (a, s), v in shares.items()}
    np.testing.assert_allclose(rake(df.assign(k=key), {"k": t}).weights, w, rtol=1e-10)


def test_poststratify_errors():
    df = pd.DataFrame({"a": [1, 1, 2], "b": [1, 2, 1]})
    with pytest.raises(DataError, match="no respondent"):
        poststratify(df, ["a", "b"], {(1, 1): 0.25, (1, 2): 0.25, (2, 1): 0.25, (2, 2): 0.25})
    with pytest.raises(DataError, match="no target"):
        poststratify(df, ["a", "b"], {(1, 1): 0.5, (1, 2): 0.5})
    with pytest.raises(DataError, match="sum to 1"):
        poststratify(df, "a", {1: 0.5, 2: 0.2})


def test_diagnostics_warn_and_plot(run_dir):
    w = np.r_[np.ones(90), np.full(10, 20.0)]
    d = weight_diagnostics(w)
    assert d.details["efficiency"] < 0.5 and d.warnings
    fig = plot_weights(w)
    assert fig.axes
    with pytest.raises(DataError):
        weight_diagnostics([1.0, -1.0])


def test_results_are_json_safe_without_per_respondent_arrays():
    df, targets, _ = _ref_data()
    res = rake(df, targets)
    d = res.to_dict()
    assert "weights" not in d and len(json.dumps(d)) < 20_000
    assert d["details"]["iterations"] == res.details["iterations"]
