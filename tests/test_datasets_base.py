"""The simulator pattern: seeds, counts, bundled example files."""

from __future__ import annotations

import numpy as np
import pytest

from researchkit.datasets import Simulated, example_path, make_rng
from researchkit.datasets.base import check_positive_int
from researchkit.errors import DataError, ParameterError


def test_make_rng_is_deterministic():
    assert make_rng(5).random() == make_rng(5).random()
    gen = np.random.default_rng(1)
    assert make_rng(gen) is gen
    for bad in (-1, 1.5, "1", True):
        with pytest.raises(ParameterError, match="seed"):
            make_rng(bad)


def test_check_positive_int():
    assert check_positive_int(np.int64(3), "n") == 3
    with pytest.raises(ParameterError, match="parameter 'n'"):
        check_positive_int(0, "n")


def test_simulated_unpacks():
    data, truth = Simulated(data=[1], truth={"p": 0.5})
    assert data == [1] and truth == {"p": 0.5}


def test_unknown_example_lists_known():
    with pytest.raises(DataError, match="no bundled example"):
        example_path("nope.csv")
