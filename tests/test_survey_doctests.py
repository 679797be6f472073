"""The examples in the survey docstrings run and give the numbers they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import researchkit.survey

MODULES = sorted(f"researchkit.survey.{m.name}"
                 for m in pkgutil.iter_modules(researchkit.survey.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
