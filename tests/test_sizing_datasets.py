"""Sizing example data: simulated adoption histories and the shipped spec."""

from __future__ import annotations

import numpy as np
import pytest

import researchkit.datasets as ds
from researchkit.errors import ParameterError
from researchkit.sizing import bass_adoptions


def test_simulate_adoption_truth_and_reproducibility():
    data, truth = ds.simulate_adoption(p=0.02, q=0.5, m=10_000, periods=12, noise=0.0,
                                       start=2015, seed=1)
    assert list(data.columns) == ["year", "adopters", "cumulative"]
    assert list(data["year"]) == list(range(2015, 2027))
    np.testing.assert_allclose(data["adopters"], bass_adoptions(12, 0.02, 0.5, 10_000))
    np.testing.assert_allclose(truth["expected"], data["adopters"])
    a = ds.simulate_adoption(seed=5).data
    b = ds.simulate_adoption(seed=5).data
    assert a.equals(b)
    noisy = ds.simulate_adoption(noise=0.05, seed=2)
    resid = noisy.data["adopters"] - np.array(noisy.truth["expected"])
    assert 0 < resid.std() < 3 * noisy.truth["noise_sd"]
    assert "p = 0.03" in noisy.description


def test_simulate_adoption_checks_its_arguments():
    with pytest.raises(ParameterError):
        ds.simulate_adoption(p=0)
    with pytest.raises(ParameterError):
        ds.simulate_adoption(noise=-1)
    with pytest.raises(ParameterError):
        ds.simulate_adoption(periods=1)


def test_example_files_are_listed():
    names = ds.list_examples()
    assert "sizing_online_grocery.yaml" in names and "bass_analogs.csv" in names
    assert ds.sizing_example_path().name == "sizing_online_grocery.yaml"
