"""Model comparison, assisted conversions and path statistics."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from researchkit.channels import (
    assisted_conversions,
    build_journeys,
    compare_models,
    path_length_distribution,
    plot_model_comparison,
    time_to_conversion,
    top_paths,
)
from researchkit.errors import ParameterError

PATHS = pd.DataFrame({"path": ["search > email > search", "email", "social > search",
                               "display"],
                      "conversions": [2, 1, 1, 0], "nulls": [1, 3, 0, 5],
                      "value": [100.0, 20.0, 60.0, 0.0]})


def test_assisted_conversions_by_hand():
    t = assisted_conversions(PATHS)
    # search closes 2+1 and assists 2 (it appears before the last touch of path 1)
    assert t.loc["search"].tolist()[:4] == [3, 2, 3, 2]
    assert t.loc["email"].tolist()[:4] == [3, 1, 1, 2]
    assert t.loc["social"].tolist()[:4] == [1, 1, 0, 1]
    assert t.loc["display"].tolist()[:4] == [0, 0, 0, 0]
    assert t.loc["email", "assist_ratio"] == 2
    assert np.isnan(t.loc["social", "assist_ratio"])


def test_path_length_and_top_paths():
    pl = path_length_distribution(PATHS, max_length=3)
    assert pl.index.tolist() == ["1", "2", "3+"]
    assert pl["journeys"].tolist() == [9, 1, 3]
    assert pl["conversions"].tolist() == [1, 1, 2]
    assert pl["share_of_conversions"].sum() == pytest.approx(1)
    top = top_paths(PATHS, n=2)
    assert top["path"].tolist() == ["search > email > search", "email"]
    assert top["conversion_rate"].tolist() == pytest.approx([2 / 3, 1 / 4])
    with pytest.raises(ParameterError, match="by"):
        top_paths(PATHS, by="clicks")


def _journeys():
    rng = np.random.default_rng(1)
    n = 400
    touches = pd.DataFrame({
        "person_id": rng.integers(0, 80, n),
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 60, n),
                                                                   unit="D"),
        "channel": rng.choice(["search", "email", "direct", "store", "social"], n)})
    convs = pd.DataFrame({
        "person_id": rng.integers(0, 80, 50),
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 60, 50),
                                                                   unit="D"),
        "value": rng.gamma(2.0, 25.0, 50)})
    return build_journeys(touches, convs)


def test_compare_models_conserves_every_column_and_plots():
    j = _journeys()
    cmp = compare_models(j, ignore=["direct"])
    total = j.journeys["conversions"].sum()
    assert cmp.estimate == pytest.approx(total)
    assert cmp.table.sum(axis=0).to_numpy() == pytest.approx(np.full(cmp.table.shape[1], total))
    assert cmp.value_table.sum(axis=0).to_numpy() == pytest.approx(
        np.full(cmp.table.shape[1], j.journeys["value"].sum()))
    assert cmp.details["max_conservation_error"] < 1e-9
    assert list(cmp.table.columns) == ["first_touch", "last_touch", "last_non_direct",
                                       "linear", "position_based", "time_decay", "markov_1",
                                       "markov_2", "markov_3", "shapley"]
    fig = plot_model_comparison(cmp)
    assert len(fig.axes[0].patches) == cmp.table.size
    with pytest.raises(ParameterError, match="what"):
        plot_model_comparison(cmp, what="clicks")
    # a path table cannot run time decay: it is left out, not faked
    assert "time_decay" not in compare_models(j.path_table()).table.columns


def test_time_to_conversion():
    j = _journeys()
    t = time_to_conversion(j, bins=(0, 1, 7, np.inf))
    assert t.index.tolist() == ["0-1 d", "1-7 d", "7+ d"]
    assert t["conversions"].sum() == j.journeys["conversions"].sum()
    assert t["share"].sum() == pytest.approx(1)
    with pytest.raises(ParameterError, match="Journeys"):
        time_to_conversion(PATHS)
