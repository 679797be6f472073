"""Markov-chain attribution: exact removal effects.

References used here:
* closed-form removal effects of small absorbing chains, worked by hand with fractions
  (Kemeny & Snell 1976, th. 3.3.7: absorption probabilities B = (I - Q)^-1 R);
* ChannelAttribution 2.2.5 (Altomare & Loris; the reference implementation of Anderl et al.
  2016) on a fixed path table, numbers stored in tests/data/ (see
  tests/data/make_channelattribution_reference.py for how they were produced); it simulates,
  so agreement is checked within its simulation error;
* an independent, naive implementation of the order-k chain (dicts of windows, dense inverse);
* recovery of the known removal effects of the chain the simulator walks.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels import build_journeys, markov_attribution
from researchkit.errors import DataError, ParameterError

DATA = Path(__file__).resolve().parent / "data"


def test_removal_effects_by_hand_single_closing_state():
    paths = pd.DataFrame({"path": ["a > b", "b", "a > c > b", "c"],
                          "conversions": [10, 5, 3, 0], "nulls": [5, 10, 2, 8]})
    res = markov_attribution(paths)
    # start -> a 20/43, b 15/43, c 8/43; a -> b 3/4, c 1/4; c -> b 5/13; b -> conv 18/35
    reach_b = F(20, 43) * (F(3, 4) + F(1, 4) * F(5, 13)) + F(15, 43) + F(8, 43) * F(5, 13)
    assert reach_b == F(35, 43)
    re_a = 1 - (F(15, 43) + F(8, 43) * F(5, 13)) / reach_b
    re_c = 1 - (F(20, 43) * F(3, 4) + F(15, 43)) / reach_b
    expected = {"a": float(re_a), "b": 1.0, "c": float(re_c)}
    got = res.removal_effects.to_dict()
    for ch, v in expected.items():
        assert got[ch] == pytest.approx(v, abs=1e-12)
    total = sum(expected.values())
    for ch, v in expected.items():
        assert res.estimate[ch] == pytest.approx(18 * v / total, abs=1e-10)
    assert res.details["conversion_probability"] == pytest.approx(18 / 43)


def test_value_removal_effects_by_hand():
    paths = pd.DataFrame({"path": ["a", "b", "a > b"], "conversions": [1, 1, 1],
                          "nulls": [1, 1, 0], "value": [10.0, 30.0, 20.0]})
    t = markov_attribution(paths).table.set_index("channel")
    # visits a 3/5, b 3/5; P = 3/5, V = 12; without a: P = 4/15, V = 20/3; without b: 1/5, 2
    assert t.loc["a", "removal_effect"] == pytest.approx(5 / 9)
    assert t.loc["b", "removal_effect"] == pytest.approx(2 / 3)
    assert t.loc["a", "removal_effect_value"] == pytest.approx(4 / 9)
    assert t.loc["b", "removal_effect_value"] == pytest.approx(5 / 6)
    assert t["conversions"].tolist() == pytest.approx([15 / 11, 18 / 11])
    assert t["value"].tolist() == pytest.approx([480 / 23, 900 / 23])


def _naive_markov(paths: pd.DataFrame, order: int) -> dict[str, float]:
    """Independent order-k implementation: windows as tuples, dense fundamental matrix."""
    counts: dict[tuple, dict[tuple, float]] = {}

    def add(a, b, w):
        if w:
            counts.setdefault(a, {}).setdefault(b, 0.0)
            counts[a][b] += w

    for p, c, n in zip(paths["path"], paths["conversions"], paths["nulls"], strict=True):
        ch = [x.strip() for x in p.split(">")]
        if len(ch) < order:
            states = [tuple(ch)]
        else:
            states = [tuple(ch[i - order + 1:i + 1]) for i in range(order - 1, len(ch))]
        seq = [states[0]] + [s for prev, s in itertools.pairwise(states)
                             if s != prev]
        prev = ("(start)",)
        for s in seq:
            add(prev, s, c + n)
            prev = s
        add(prev, ("(conversion)",), c)
        add(prev, ("(null)",), n)
    transient = [("(start)",), *sorted({s for s in counts if s != ("(start)",)})]
    idx = {s: i for i, s in enumerate(transient)}
    m = len(transient)
    Q = np.zeros((m, m))
    r = np.zeros(m)
    for a, row in counts.items():
        tot = sum(row.values())
        for b, w in row.items():
            if b == ("(conversion)",):
                r[idx[a]] = w / tot
            elif b != ("(null)",):
                Q[idx[a], idx[b]] = w / tot
    channels = sorted({x for s in transient[1:] for x in s})

    def p_conv(removed):
        keep = np.array([removed is None or removed not in s for s in transient], dtype=float)
        Qc, rc = Q * keep[:, None], r * keep
        e0 = np.zeros(m)
        e0[0] = 1.0
        return np.linalg.solve((np.eye(m) - Qc).T, e0) @ rc

    full = p_conv(None)
    return {c: 1 - p_conv(c) / full for c in channels}


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_naive_implementation_for_every_order(order):
    five = {k: v for k, v in ds.OMNICHANNEL_CHANNELS.items()
            if k in ("search", "email", "display", "store", "call_centre")}
    table = ds.simulate_channel_paths(1500, seed=order, channels=five).data
    got = markov_attribution(table, order=order).removal_effects
    expected = _naive_markov(table, order)
    for ch, v in expected.items():
        assert got[ch] == pytest.approx(v, abs=1e-10), ch


@pytest.mark.parametrize("order", [1, 2, 3])
def test_agrees_with_channelattribution_within_its_simulation_error(order):
    ref = json.loads((DATA / "channelattribution_reference.json").read_text())
    block = ref["orders"][str(order)]
    n_seeds = len(ref["seeds"])
    mean = pd.DataFrame(block["mean"], index=block["channels"], columns=block["columns"])
    sd = pd.DataFrame(block["sd"], index=block["channels"], columns=block["columns"])
    table = pd.read_csv(DATA / "attribution_reference_paths.csv")
    ours = markov_attribution(table, order=order).table.set_index("channel").loc[mean.index]
    ours = ours.rename(columns={
        "conversions": "total_conversions", "value": "total_conversion_value",
        "removal_effect": "removal_effects_conversion",
        "removal_effect_value": "removal_effects_conversion_value"})[mean.columns]
    # ChannelAttribution's numbers are simulation estimates of what we compute exactly: our
    # value must lie within 4 standard errors of its mean over independent seeds (over the
    # 40 comparisons per order, a false alarm has probability < 0.003)
    z = (ours - mean) / (sd / np.sqrt(n_seeds))
    assert (z.abs() < 4).all().all(), z.round(2)
    # and within 2.5 single-run standard deviations, i.e. where one of its runs lands
    assert ((ours - mean).abs() < 2.5 * sd).all().all()


def test_recovers_the_known_removal_effects_of_the_generating_chain():
    sim = ds.simulate_channel_paths(200_000, seed=42)
    got = markov_attribution(sim.data).removal_effects
    truth = pd.Series(sim.truth["removal_effects"])
    # sampling SD of each removal effect at 200,000 journeys is about 0.002 (5 seeds)
    assert (got - truth.reindex(got.index)).abs().max() < 0.008
    assert markov_attribution(sim.data).details["conversion_probability"] == pytest.approx(
        sim.truth["conversion_probability"], abs=0.005)


def test_input_forms_give_identical_numbers():
    table = ds.simulate_channel_paths(2000, seed=9).data
    a = markov_attribution(table, order=2).table
    # one row per journey, paths as lists
    rows = []
    for p, c, n, v in table[["path", "conversions", "nulls", "value"]].itertuples(index=False):
        chans = p.split(" > ")
        rows += [(chans, 1, v / c if c else 0.0)] * int(c) + [(chans, 0, 0.0)] * int(n)
    per_journey = pd.DataFrame(rows, columns=["path", "conversions", "value"])
    b = markov_attribution(per_journey, order=2).table
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10, atol=1e-9)
    # separators without spaces, other column names
    c = markov_attribution(table.assign(p=table["path"].str.replace(" > ", ">"))
                           .rename(columns={"conversions": "conv", "nulls": "nul"}),
                           order=2, path="p", conversions="conv", nulls="nul").table
    pd.testing.assert_frame_equal(a, c)


def test_journeys_object_is_read_as_its_path_table():
    touches = pd.DataFrame({"person_id": [1, 1, 2, 3, 3], "channel": ["a", "b", "b", "a", "c"],
                            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02",
                                                         "2026-01-01", "2026-01-01",
                                                         "2026-01-03"])})
    convs = pd.DataFrame({"person_id": [1, 3], "value": [5.0, 7.0],
                          "timestamp": pd.to_datetime(["2026-01-03", "2026-01-04"])})
    j = build_journeys(touches, convs)
    pd.testing.assert_frame_equal(markov_attribution(j).table,
                                  markov_attribution(j.path_table()).table)


@pytest.mark.parametrize("seed", range(5))
def test_conserves_conversions_and_value_and_is_deterministic(seed):
    rng = np.random.default_rng(seed)
    n = 200
    chans = np.array(list("abcdefg"))
    paths = [" > ".join(rng.choice(chans, size=rng.integers(1, 7))) for _ in range(n)]
    conv = rng.integers(0, 5, size=n)
    conv[0] = max(conv[0], 1)
    table = pd.DataFrame({"path": paths, "conversions": conv,
                          "nulls": rng.integers(0, 9, size=n),
                          "value": conv * rng.gamma(2.0, 20.0, size=n)})
    for order in (1, 2, 3, 4):
        res = markov_attribution(table, order=order)
        assert res.table["conversions"].sum() == pytest.approx(conv.sum())
        assert res.table["value"].sum() == pytest.approx(table["value"].sum())
        assert (res.table["removal_effect"].between(0, 1)).all()
        again = markov_attribution(table, order=order)
        pd.testing.assert_frame_equal(res.table, again.table, check_exact=True)


def test_transition_matrix_is_row_stochastic():
    res = markov_attribution(ds.simulate_channel_paths(2000, seed=1).data, order=1)
    P = res.transition_matrix()
    assert np.allclose(P.sum(axis=1), 1.0)
    assert P.loc["(conversion)", "(conversion)"] == 1.0
    assert res.transitions.groupby("from")["probability"].sum().round(12).eq(1).all()


def test_errors():
    table = pd.DataFrame({"path": ["a > b", "b"], "conversions": [1, 0], "nulls": [0, 2]})
    with pytest.raises(ParameterError, match="order"):
        markov_attribution(table, order=5)
    with pytest.raises(ParameterError, match="order"):
        markov_attribution(table, order=0)
    with pytest.raises(DataError, match="no conversions"):
        markov_attribution(table.assign(conversions=[0, 0]))
    with pytest.raises(DataError, match="row 2, column 'conversions'"):
        markov_attribution(table.assign(conversions=[1, -1]))
    with pytest.raises(DataError, match="column 'conv'"):
        markov_attribution(table, conversions="conv")
    with pytest.raises(DataError, match="column 'missing_nulls'"):
        markov_attribution(table, nulls="missing_nulls")
    with pytest.raises(DataError, match="row 2, column 'path'"):
        markov_attribution(table.assign(path=["a > b", "a >> b"]))
    with pytest.raises(DataError, match="row 2, column 'path'"):
        markov_attribution(table.assign(path=["a > b", 3]))
    with pytest.raises(ParameterError, match="journeys"):
        markov_attribution([1, 2, 3])
    with pytest.raises(DataError, match=r"row 2, column 'value'.*without conversions"):
        markov_attribution(table.assign(value=[10.0, 5.0]))


def test_rows_without_journeys_are_ignored():
    table = pd.DataFrame({"path": ["a > b", "b", "c > a"], "conversions": [3, 1, 0],
                          "nulls": [1, 2, 0]})
    for order in (1, 2):
        res = markov_attribution(table, order=order)
        assert res.estimate["c"] == 0.0
        ref = markov_attribution(table.iloc[:2], order=order).table
        pd.testing.assert_series_equal(
            res.table.set_index("channel").loc[["a", "b"], "conversions"],
            ref.set_index("channel")["conversions"])
