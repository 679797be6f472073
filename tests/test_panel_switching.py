"""Brand switching, gains/losses, repeat buying and duplication: hand cases and recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.errors import DataError, ParameterError
from researchkit.panel import (
    duplication,
    gains_losses,
    net_change_by_wave,
    repeat_buying,
    switching_matrix,
)


def _hand() -> pd.DataFrame:
    seq = {"r1": ("A", "A", "B"), "r2": ("A", "B", "B"), "r3": ("B", "B", "B"),
           "r4": ("B", "A", None), "r5": (None, "A", "A")}
    w = {"r1": 1.0, "r2": 2.0, "r3": 1.0, "r4": 1.0, "r5": 3.0}
    rows = [(r, t + 1, b, w[r]) for r, bs in seq.items() for t, b in enumerate(bs)
            if b is not None]
    return pd.DataFrame(rows, columns=["respondent", "wave", "brand", "w"])


def test_weighted_pooled_matrix_by_hand():
    sm = switching_matrix(_hand(), "brand", weight="w")
    assert sm.counts.loc["A"].tolist() == [4.0, 3.0]
    assert sm.counts.loc["B"].tolist() == [1.0, 4.0]
    np.testing.assert_allclose(sm.matrix.to_numpy(), [[4 / 7, 3 / 7], [1 / 5, 4 / 5]])
    assert sm.estimate == pytest.approx(8 / 12)
    assert sm.n == 8 and sm.details["n_respondents"] == 5
    unweighted = switching_matrix(_hand(), "brand")
    assert unweighted.counts.loc["A"].tolist() == [2.0, 2.0]
    one = switching_matrix(_hand(), "brand", from_wave=1, to_wave=3)
    assert one.counts.to_numpy().sum() == 3  # r1, r2, r3 answered waves 1 and 3


def test_weight_of_the_earlier_wave_is_used():
    df = pd.DataFrame({"respondent": [1, 1, 1, 2, 2, 2], "wave": [1, 2, 3] * 2,
                       "brand": ["A", "B", "B", "A", "A", "A"],
                       "w": [1.0, 9.0, 9.0, 1.0, 1.0, 1.0]})
    c = switching_matrix(df, "brand", weight="w").counts
    # 1->2: A->B (w 1), A->A (w 1); 2->3: B->B (w 9), A->A (w 1)
    assert c.loc["A", "B"] == 1 and c.loc["A", "A"] == 2 and c.loc["B", "B"] == 9


def test_gains_losses_by_hand():
    res = gains_losses(_hand(), "brand", weight="w")  # last two waves: 2 -> 3
    t = res.table.set_index("brand")
    assert t.loc["A", "share_from"] == pytest.approx(4 / 7)
    assert t.loc["A", "share_to"] == pytest.approx(3 / 7)
    assert t.loc["A", "retained"] == pytest.approx(3 / 7)
    assert t.loc["A", "lost"] == pytest.approx(1 / 7)
    assert t.loc["A", "gained"] == pytest.approx(0)
    assert t.loc["B", "gained"] == pytest.approx(1 / 7)
    assert t.loc["A", "net_switching"] == pytest.approx(-1 / 7)
    assert t.loc["A", "repeat_rate"] == pytest.approx(3 / 4)
    assert t.loc["B", "repeat_rate"] == pytest.approx(1.0)
    assert t.loc["A", "all_share_from"] == pytest.approx(5 / 8)  # r4 (A, w1) left
    assert t.loc["A", "total_change"] == pytest.approx(3 / 7 - 5 / 8)
    assert t.loc["A", "composition"] == pytest.approx(3 / 7 - 5 / 8 + 1 / 7)
    assert res.net_flows.loc["A", "B"] == pytest.approx(-1 / 7)
    assert res.estimate == pytest.approx(1 / 7)
    with pytest.raises(ParameterError, match="both"):
        gains_losses(_hand(), "brand", to_wave=3)


def test_switching_recovers_the_simulated_matrix():
    sim = ds.brand_panel(n=4000, waves=6, seed=11)
    P = sim.truth["switching"]
    for weight in (None, "weight"):
        est = switching_matrix(sim.data, "brand", weight=weight).matrix
        n_from = switching_matrix(sim.data, "brand").counts.sum(axis=1)
        se = np.sqrt(P.to_numpy() * (1 - P.to_numpy()) / n_from.to_numpy()[:, None])
        # every cell within 4 binomial standard errors (weights inflate it a little)
        assert np.all(np.abs(est.to_numpy() - P.to_numpy()) < 4 * se * 1.1)


def test_flow_identities_on_simulated_data():
    sim = ds.brand_panel(n=1500, waves=4, seed=2)
    res = gains_losses(sim.data, "brand", weight="weight", from_wave=2, to_wave=3)
    t = res.table.set_index("brand")
    N = res.net_flows
    np.testing.assert_allclose(N.to_numpy(), -N.to_numpy().T)
    np.testing.assert_allclose(N.sum(axis=1).to_numpy(), t["net_switching"].to_numpy())
    np.testing.assert_allclose(t["gained"] - t["lost"], t["net_switching"])
    np.testing.assert_allclose(t["share_to"] - t["share_from"], t["net_switching"])
    assert t["net_switching"].sum() == pytest.approx(0, abs=1e-12)
    assert res.flows.to_numpy().sum() == pytest.approx(1)
    assert t["all_share_to"].sum() == pytest.approx(1)
    stacked = net_change_by_wave(sim.data, "brand", weight="weight")
    assert stacked[["from_wave", "to_wave"]].drop_duplicates().values.tolist() == [
        [1, 2], [2, 3], [3, 4]]
    mid = stacked.query("from_wave == 2").set_index("brand")
    np.testing.assert_allclose(mid["net_switching"], t["net_switching"])


def test_repeat_buying_by_hand():
    t = repeat_buying(_hand(), "brand").table.set_index("brand")
    # balanced: r1 (A A B), r2 (A B B), r3 (B B B)
    assert t.loc["A", "penetration"] == pytest.approx(2 / 3)
    assert t.loc["B", "penetration"] == pytest.approx(1)
    assert t.loc["A", "share_of_choices"] == pytest.approx(3 / 9)
    assert t.loc["A", "frequency"] == pytest.approx(1.5)
    assert t.loc["B", "frequency"] == pytest.approx(2)
    assert t.loc["A", "scr"] == pytest.approx(0.5)
    assert t.loc["B", "scr"] == pytest.approx(6 / 9)
    assert t.loc["A", "sole_loyal"] == 0 and t.loc["B", "sole_loyal"] == pytest.approx(1 / 3)
    # repeat rate from every consecutive pair, unweighted: A 2/4, B 3/4
    assert t.loc["A", "repeat_rate"] == pytest.approx(0.5)
    assert t.loc["B", "repeat_rate"] == pytest.approx(0.75)
    everyone = repeat_buying(_hand(), "brand", balanced=False).table.set_index("brand")
    assert everyone.loc["A", "penetration"] == pytest.approx(4 / 5)


def test_repeat_rate_recovers_diagonal():
    sim = ds.brand_panel(n=4000, waves=6, seed=5)
    t = repeat_buying(sim.data, "brand").table.set_index("brand")
    np.testing.assert_allclose(t["repeat_rate"], np.diag(sim.truth["switching"]), atol=0.03)


def test_duplication_by_hand():
    seq = {"r1": "ABC", "r2": "AAB", "r3": "CCC", "r4": "BCB"}
    df = pd.DataFrame([(r, t + 1, b) for r, s in seq.items() for t, b in enumerate(s)],
                      columns=["respondent", "wave", "brand"])
    res = duplication(df, "brand")
    M = res.matrix
    assert M.loc["A", "B"] == pytest.approx(1) and M.loc["A", "C"] == pytest.approx(0.5)
    assert M.loc["B", "A"] == pytest.approx(2 / 3) and M.loc["C", "A"] == pytest.approx(1 / 3)
    assert np.isnan(M.loc["A", "A"])
    D = (1 + 0.5 + 2 / 3 + 2 / 3 + 1 / 3 + 2 / 3) / (1.5 + 1.25 + 1.25)
    assert res.estimate == pytest.approx(D)
    assert res.expected.loc["A", "B"] == pytest.approx(D * 0.75)
    assert res.deviation.loc["C", "A"] == pytest.approx(1 / 3 - D * 0.5)
    assert len(res.table) == 6


def test_switching_errors():
    df = _hand()
    with pytest.raises(DataError, match="column not found"):
        switching_matrix(df, "brnd")
    with pytest.raises(DataError, match="outside the given states"):
        switching_matrix(df, "brand", states=["A"])
    bad = df.assign(w=-1.0)
    with pytest.raises(DataError, match="non-negative"):
        switching_matrix(bad, "brand", weight="w")
    with pytest.raises(DataError, match="no respondent answered both"):
        switching_matrix(df.loc[df["respondent"] == "r5"].assign(brand=[None, "A"]), "brand")
    with pytest.raises(DataError, match="every wave"):
        repeat_buying(df.loc[df["respondent"].isin(["r4", "r5"])], "brand")


def test_wave_labels_keep_the_time_of_day_when_waves_share_a_date():
    # Midnight timestamps print as dates, others as full date-times, so two waves on one day
    # keep distinct labels (the same rule as validate_panel's messages).
    from researchkit.panel import brand_shares

    stamps = pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-02 00:00"])
    d = _hand().assign(wave=lambda x: stamps[x["wave"] - 1])
    shares = brand_shares(d, "brand")
    assert list(shares.index) == ["2024-01-01T09:00:00", "2024-01-01T18:00:00", "2024-01-02"]
    sm = switching_matrix(d, "brand", from_wave=stamps[1], to_wave=stamps[2])
    assert "2024-01-01T18:00:00 → 2024-01-02" in sm.name
    assert sm.details["pairs"] == [{"from_wave": "2024-01-01T18:00:00",
                                    "to_wave": "2024-01-02", "n": 4}]
