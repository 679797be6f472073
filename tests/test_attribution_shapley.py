"""Shapley attribution: exact values checked against the definition and by hand.

The reference is the Shapley value as the average marginal contribution over all orderings
of the players (Shapley 1953, axioms and formula (2)), computed here by brute force over
permutations, independently of the subset formula the package uses.
"""

from __future__ import annotations

from itertools import permutations
from math import factorial

import numpy as np
import pandas as pd
import pytest

from researchkit.channels import shapley_attribution, shapley_values
from researchkit.errors import DataError, ParameterError


def _brute_force(worth, n):
    phi = np.zeros(n)
    for order in permutations(range(n)):
        coalition = 0
        for player in order:
            phi[player] += worth(coalition | (1 << player)) - worth(coalition)
            coalition |= 1 << player
    return phi / factorial(n)


def test_glove_game():
    # Shapley (1953): one left glove (player 0), two right gloves; a pair is worth 1
    v = np.array([0, 0, 0, 1, 0, 1, 0, 1], dtype=float)
    assert shapley_values(v, 3).tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_random_games_match_permutation_definition():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5):
        v = rng.normal(size=2**n)
        v[0] = 0.0
        assert shapley_values(v, n) == pytest.approx(_brute_force(v.__getitem__, n))


PATHS = pd.DataFrame({"path": ["a > b", "a", "b > c > b", "c", "b"],
                      "conversions": [6, 3, 3, 0, 2], "nulls": [2, 1, 2, 4, 6],
                      "value": [60.0, 20.0, 45.0, 0.0, 10.0]})


def test_conversion_coalitions_by_hand():
    res = shapley_attribution(PATHS)
    # v(S) = conversions of paths whose channels lie in S; the game is a sum of unanimity
    # games on {a,b}: 6, {a}: 3, {b,c}: 3, {b}: 2, so each path's conversions are shared
    # equally by its distinct channels
    assert res.estimate == pytest.approx({"a": 3 + 3, "b": 3 + 1.5 + 2, "c": 1.5})
    t = res.table.set_index("channel")
    assert t["value"].tolist() == pytest.approx([30 + 20, 30 + 22.5 + 10, 22.5])
    assert t["conversions"].sum() == pytest.approx(14)


def test_conversion_rate_coalitions_match_brute_force():
    res = shapley_attribution(PATHS, coalition="conversion_rate")
    sets = {"a > b": 0b011, "a": 0b001, "b > c > b": 0b110, "c": 0b100, "b": 0b010}
    masks = PATHS["path"].map(sets).to_numpy()
    conv = PATHS["conversions"].to_numpy(dtype=float)
    n_j = conv + PATHS["nulls"].to_numpy()

    def rate(s):
        inside = (masks & ~s) == 0
        return conv[inside].sum() / n_j[inside].sum() if n_j[inside].sum() else 0.0

    raw = _brute_force(rate, 3)
    t = res.table.set_index("channel")
    assert t["shapley"].tolist() == pytest.approx(raw.tolist())
    assert t["conversions"].tolist() == pytest.approx((raw * n_j.sum()).tolist())
    assert t["conversions"].sum() == pytest.approx(conv.sum())


def test_negative_rate_credit_is_reported():
    paths = pd.DataFrame({"path": ["a", "a > b"], "conversions": [5, 1], "nulls": [5, 9]})
    res = shapley_attribution(paths, coalition="conversion_rate")
    assert res.estimate["b"] < 0
    assert any("negative" in w for w in res.warnings)


@pytest.mark.parametrize("seed", range(5))
def test_conserves_conversions_and_value(seed):
    rng = np.random.default_rng(seed)
    n = 150
    chans = np.array(list("abcdefgh"))
    paths = [" > ".join(rng.choice(chans, size=rng.integers(1, 6))) for _ in range(n)]
    conv = rng.integers(0, 4, size=n)
    table = pd.DataFrame({"path": paths, "conversions": conv, "nulls": rng.integers(1, 6, n),
                          "value": conv * rng.gamma(2, 10, n)})
    for coalition in ("conversions", "conversion_rate"):
        res = shapley_attribution(table, coalition=coalition)
        assert res.table["conversions"].sum() == pytest.approx(conv.sum())
        assert res.table["value"].sum() == pytest.approx(table["value"].sum())


def test_errors():
    many = pd.DataFrame({"path": [" > ".join(f"c{i}" for i in range(21))], "conversions": [1]})
    with pytest.raises(ParameterError, match="at most 20"):
        shapley_attribution(many)
    with pytest.raises(ParameterError, match="coalition"):
        shapley_attribution(PATHS, coalition="visits")
    with pytest.raises(DataError, match="no conversions"):
        shapley_attribution(PATHS.assign(conversions=0, value=0.0))
    with pytest.raises(DataError, match="non-converting"):
        shapley_attribution(PATHS.assign(nulls=0), coalition="conversion_rate")
    with pytest.raises(ParameterError, match="2\\*\\*n"):
        shapley_values(np.zeros(5), 2)
