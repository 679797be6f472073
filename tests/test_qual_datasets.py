"""The qualitative simulators: reproducible, and their known truth is recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets import simulate_focus_groups, simulate_open_ends
from researchkit.errors import ParameterError
from researchkit.qual import (
    code_by_group,
    code_frequencies,
    code_reliability,
    consensus,
    disagreements,
    join_participants,
    open_ends_to_segments,
)
from researchkit.qual.code_reliability import POOLED


def test_focus_groups_are_reproducible_and_well_formed():
    a = simulate_focus_groups(2, seed=5)
    b = simulate_focus_groups(2, seed=5)
    pd.testing.assert_frame_equal(a.data["codings"], b.data["codings"])
    assert a.data["transcripts"] == b.data["transcripts"]
    assert a.data["transcripts"] != simulate_focus_groups(2, seed=6).data["transcripts"]
    segs = a.data["segments"]
    for doc, sub in segs.groupby("document"):
        assert 80 * 60 <= sub["start"].max() <= 90 * 60, doc     # a ~90-minute discussion
    coded = set(a.data["codings"]["segment"])
    assert coded <= set(segs.loc[segs["role"] == "participant", "segment"])
    with pytest.raises(ParameterError, match="participants"):
        simulate_focus_groups(2, participants=(1, 30))
    with pytest.raises(ParameterError, match="kappa"):
        simulate_focus_groups(2, kappa=1.5)


@pytest.mark.parametrize("kappa", [0.8, 0.5])
def test_focus_group_coders_agree_at_the_known_level(kappa):
    sim = simulate_focus_groups(24, kappa=kappa, seed=11)
    segs = sim.data["segments"]
    turns = segs[segs["role"] == "participant"]
    r = code_reliability(sim.data["codings"], segments=turns, uncoded="include", n_boot=0)
    # ~2,600 turns × 11 codes: the pooled estimate's standard error is about 0.01
    assert r.estimate == pytest.approx(kappa, abs=0.035)
    t = r.table.set_index("code").drop(POOLED)
    expected = pd.Series(sim.truth["expected_percent_agreement"])
    np.testing.assert_allclose(t["percent_agreement"], expected[t.index], atol=0.02)
    # per-code kappas scatter around the truth (no code systematically off)
    assert abs(t["cohen_kappa"].mean() - kappa) < 0.03


def test_focus_group_truth_frequencies_and_adjudicated_consensus():
    sim = simulate_focus_groups(24, seed=12)
    segs = join_participants(sim.data["segments"], sim.data["participants"], label="name",
                             document="document")
    true = code_frequencies(sim.data["true_codings"], segs, by="customer_segment")
    for group, shares in sim.truth["expected_share_by_segment"].items():
        sub = true[true["customer_segment"] == group].set_index("code")
        n = sub["group_segments"].iloc[0]
        for code, p in shares.items():
            se = np.sqrt(p * (1 - p) / n)
            assert abs(sub.loc[code, "share_segments"] - p) < 4 * se + 1e-9, (group, code)
    turns = segs[segs["role"] == "participant"]
    dis = disagreements(sim.data["codings"], segments=turns)
    assert len(dis) == len(sim.data["adjudications"])
    merged = consensus(sim.data["codings"], adjudications=sim.data["adjudications"],
                       segments=turns)
    truth = set(zip(sim.data["true_codings"]["segment"], sim.data["true_codings"]["code"],
                    strict=True))
    got = set(zip(merged["segment"], merged["code"], strict=True))
    # errors remain only where both coders made the same mistake: P = (1-r)^2 p(1-p) per cell
    cells = len(turns) * 11
    assert len(truth ^ got) / cells < 0.01


def test_open_ends_reliability_and_closed_answer_associations():
    sim = simulate_open_ends(4000, seed=3)
    resp = sim.data["responses"]
    assert resp["why"].isna().mean() == pytest.approx(0.05, abs=0.015)
    segs = open_ends_to_segments(resp, text="why", id="respondent_id", document="why")
    assert len(segs) == sim.truth["n_answered"]
    r = code_reliability(sim.data["codings"], segments=segs,
                         assignments=sim.data["assignments"], uncoded="include", n_boot=0)
    assert r.details["n_pairable_units"] == sim.truth["n_double_coded"]
    assert r.estimate == pytest.approx(sim.truth["kappa"], abs=0.04)
    true = code_frequencies(sim.data["true_codings"], segs, by="satisfaction_group")
    for group, shares in sim.truth["expected_share_by_satisfaction"].items():
        sub = true[true["satisfaction_group"] == group].set_index("code")
        n = sub["group_segments"].iloc[0]
        for code, p in shares.items():
            assert abs(sub.loc[code, "share_segments"] - p) < 4 * np.sqrt(p * (1 - p) / n)
    cross = code_by_group(sim.data["codings"], segs, "satisfaction_group", coder="coder_a")
    t = cross.table.set_index("code")
    assert t.loc["support", "dissatisfied"] > t.loc["support", "satisfied"]
    assert t.loc["support", "p_adjusted"] < 0.001
    with pytest.raises(ParameterError, match="n"):
        simulate_open_ends(5)
