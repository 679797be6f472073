"""Published Bass p/q values of product categories, for forecasts without an adoption history.

The table ships as ``researchkit/datasets/data/bass_analogs.csv``; every row names its source.
Before launch there is no history to fit, so the usual practice is to borrow p and q from
analogous categories ("forecasting by analogy", Bass 1969 §6; Lilien, Rangaswamy & Van den Bulte
2000) and take m from the sizing model.

Sources of the shipped rows
---------------------------
* Sultan, F., Farley, J. U. & Lehmann, D. R. (1990). A meta-analysis of applications of diffusion
  models. *Journal of Marketing Research* 27(1), 70-77: mean p = 0.03 and mean q = 0.38.
* Christophe Van den Bulte's compilation of published estimates (average per product), as
  tabulated in DecisionPro's "Bass Forecasting Tutorial - Appendix: p, q parameters".
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from researchkit.datasets.base import example_path
from researchkit.errors import ParameterError

__all__ = ["analog_parameters", "bass_analogs"]

ANALOGS_FILE = "bass_analogs.csv"


def bass_analogs() -> pd.DataFrame:
    """The shipped table of published Bass p/q values, one row per product, with sources.

    Columns: ``category``, ``group``, ``product``, ``p``, ``q``, ``source``, ``url``.
    """
    return pd.read_csv(example_path(ANALOGS_FILE))


def analog_parameters(products: str | Sequence[str],
                      table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of the analog table for the named products (exact, case-insensitive names).

    Parameters
    ----------
    products : str or list of str
        Product names as in the ``product`` column (e.g. ``"Cable TV"``).
    table : DataFrame, optional
        Another analog table with ``product``, ``p`` and ``q`` columns; default the shipped one.

    Returns
    -------
    DataFrame
        The matching rows, in the order asked for.

    Raises
    ------
    ParameterError
        A product that is not in the table (the message lists what is).
    """
    names = [products] if isinstance(products, str) else list(products)
    if not names:
        raise ParameterError("no analog products given", parameter="products",
                             expected="one or more product names")
    data = bass_analogs() if table is None else table
    missing_cols = [c for c in ("product", "p", "q") if c not in data.columns]
    if missing_cols:
        raise ParameterError("analog table lacks columns", parameter="table",
                             expected="columns product, p, q", got=missing_cols)
    keys = data["product"].astype(str).str.casefold()
    rows = []
    for name in names:
        hit = data[keys == str(name).casefold()]
        if hit.empty:
            raise ParameterError(f"unknown analog product {name!r}", parameter="products",
                                 expected=f"one of {sorted(data['product'].astype(str))}")
        rows.append(hit.iloc[[0]])
    return pd.concat(rows, ignore_index=True)
