"""Shared input checks of the causal designs (column-name arguments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.errors import ParameterError
from researchkit.experiments import causal as c
from researchkit.experiments.causal import checks
from researchkit.experiments.causal._data import column_list


def test_column_list_forms():
    assert column_list("age", "covariates") == ["age"]
    assert column_list(("age", "member"), "covariates") == ["age", "member"]
    assert column_list(pd.Index(["a"]), "controls") == ["a"]
    assert column_list(np.array(["a", "b"]), "controls") == ["a", "b"]
    assert column_list(None, "controls") == []
    with pytest.raises(ParameterError, match="no covariates") as err:
        column_list([], "covariates", required="the confounders")
    assert err.value.parameter == "covariates"
    with pytest.raises(ParameterError, match="column names"):
        column_list(5, "controls")


def test_designs_share_the_covariate_checks():
    o = ds.campaign_observational(n=200, seed=1).data
    for call in (lambda cov: c.PropensityScoreWeighting(o, "spend", "joined", cov),
                 lambda cov: c.PropensityScoreMatching(o, "spend", "joined", cov),
                 lambda cov: checks.balance_table(o, "joined", cov)):
        with pytest.raises(ParameterError, match="no covariates"):
            call([])
        with pytest.raises(ParameterError, match="column names"):
            call(3)
    # one name is accepted as a list of one
    assert c.PropensityScoreWeighting(o, "spend", "joined", "age").covariates == ["age"]
