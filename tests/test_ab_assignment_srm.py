"""Hash assignment, balance check, SRM check and multiple-comparison corrections."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from researchkit.errors import DataError, ParameterError
from researchkit.experiments import (
    SampleRatioMismatchWarning,
    adjust_pvalues,
    assign,
    balance_check,
    hash_unit,
    srm_check,
)


def test_hash_is_sha256_of_salt_and_id():
    digest = hashlib.sha256(b"exp-7:user-42").digest()
    assert hash_unit("user-42", "exp-7") == int.from_bytes(digest[:8], "big") / 2**64


def test_assignment_is_deterministic_and_salted():
    ids = [f"u{i}" for i in range(2000)]
    a1 = assign(ids, salt="exp-1")
    assert a1.tolist() == assign(list(reversed(ids)), salt="exp-1").tolist()[::-1]
    a2 = assign(ids, salt="exp-2")
    # independent experiments: the 2x2 table of arms is consistent with independence
    table = pd.crosstab(a1.to_numpy(), a2.to_numpy())
    assert stats.chi2_contingency(table).pvalue > 0.001
    assert assign([12, 12.0, "12", np.int64(12)], salt="s").nunique() == 1


def test_assignment_follows_the_weights():
    ids = np.arange(60_000)
    arms = assign(ids, salt="weights", arms=["a", "b", "c"], weights=[0.5, 0.3, 0.2])
    counts = arms.value_counts().reindex(["a", "b", "c"]).to_numpy()
    chi = stats.chisquare(counts, 60_000 * np.array([0.5, 0.3, 0.2]))
    assert chi.pvalue > 0.001
    series = pd.Series(ids, index=ids * 10)
    assert (assign(series, salt="weights").index == series.index).all()


def test_assignment_errors():
    with pytest.raises(ParameterError, match="salt"):
        assign([1, 2], salt="")
    with pytest.raises(ParameterError, match="weight"):
        assign([1, 2], salt="s", weights=[1, -1])
    with pytest.raises(ParameterError, match="two distinct arms"):
        assign([1, 2], salt="s", arms=["a", "a"])
    with pytest.raises(DataError, match="missing"):
        assign([1, None], salt="s")


def test_balance_check_flags_imbalance():
    rng = np.random.default_rng(1)
    n = 4000
    df = pd.DataFrame({"arm": assign(np.arange(n), salt="bal").to_numpy(),
                       "pre": rng.gamma(2, 5, n)})
    ok = balance_check(df, covariates=["pre"])
    assert not ok.details["srm_mismatch"] and ok.details["n_imbalanced"] == 0
    df.loc[df.arm == "treatment", "pre"] += 3
    bad = balance_check(df, covariates=["pre"])
    assert bad.details["n_imbalanced"] == 1 and any("imbalanced" in w for w in bad.warnings)
    row = bad.table.iloc[0]
    t, c = df.pre[df.arm == "treatment"], df.pre[df.arm == "control"]
    smd = (t.mean() - c.mean()) / np.sqrt((t.var() + c.var()) / 2)
    assert row["smd"] == pytest.approx(smd, rel=1e-12)
    assert row["p_value"] == pytest.approx(stats.ttest_ind(t, c, equal_var=False).pvalue)


def test_srm_matches_scipy_chisquare():
    counts = {"control": 50_000, "treatment": 49_200}
    res = srm_check(counts, warn=False)
    ref = stats.chisquare([50_000, 49_200])
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    three = srm_check({"a": 1000, "b": 2100, "c": 900}, {"a": 1, "b": 2, "c": 1}, warn=False)
    ref3 = stats.chisquare([1000, 2100, 900], [1000, 2000, 1000])
    assert three.p_value == pytest.approx(ref3.pvalue, rel=1e-10)
    assert three.df == 2


def test_srm_is_loud():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = srm_check({"control": 50_000, "treatment": 48_900})
    assert res.mismatch and res.warnings[0].startswith("SAMPLE RATIO MISMATCH")
    assert any(issubclass(w.category, SampleRatioMismatchWarning) for w in caught)
    assert not srm_check({"control": 50_000, "treatment": 49_900}, warn=False).mismatch


def test_srm_errors():
    with pytest.raises(ParameterError, match="two arms"):
        srm_check({"a": 10})
    with pytest.raises(ParameterError, match="every arm"):
        srm_check({"a": 10, "b": 12}, {"a": 0.5, "c": 0.5})
    with pytest.raises(ParameterError, match="integers"):
        srm_check({"a": 10.5, "b": 12})


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh"])
def test_adjust_pvalues_is_multipletests(method):
    p = [0.001, 0.02, 0.04, 0.3, 0.012]
    adj, rej = adjust_pvalues(p, method)
    ref = multipletests(p, alpha=0.05, method=method)
    assert adj == pytest.approx(ref[1].tolist())
    assert rej == ref[0].tolist()


def test_adjust_pvalues_handles_nan_and_aliases():
    adj, _ = adjust_pvalues([0.01, float("nan"), 0.04], "bh")
    # BH over the two non-missing p-values: 0.01 * 2 / 1 and 0.04 * 2 / 2
    assert np.isnan(adj[1]) and adj[0] == pytest.approx(0.02) and adj[2] == pytest.approx(0.04)
    with pytest.raises(ParameterError, match="correction"):
        adjust_pvalues([0.1], "tukey")
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        adjust_pvalues([1.5], "holm")
