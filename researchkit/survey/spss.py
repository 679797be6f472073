"""Labelled SPSS export driven by the questionnaire's data map, and labelled import.

:func:`export_sav` writes the responses with every variable label and value label from
:func:`researchkit.survey.data_map` (via :func:`researchkit.io.write_sav`), so the file opens
in SPSS, PSPP, R (haven) or Stata with the questionnaire's wording. :func:`read_sav` reads a
``.sav`` back with its labels (in ``df.attrs``) through :func:`researchkit.io.read_table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from researchkit.errors import DataError
from researchkit.io import read_table, write_sav
from researchkit.survey.questionnaire import Questionnaire
from researchkit.survey.render import value_labels

__all__ = ["export_sav", "read_sav"]


def export_sav(df: pd.DataFrame, qn: Questionnaire, path: str | Path, *,
               extra_labels: Mapping[str, str] | None = None, overwrite: bool = False) -> Path:
    """Write responses to a labelled ``.sav`` (value and variable labels from the data map).

    Parameters
    ----------
    df : DataFrame
        Responses; columns not in the data map (weights, durations...) are written too, with
        the labels in ``extra_labels`` if given.
    qn : Questionnaire
    path : str or Path
        Target ``.sav`` file (never overwritten unless ``overwrite=True``).
    extra_labels : mapping, optional
        Variable labels for columns outside the questionnaire (e.g. ``{"weight": "Rim
        weight"}``).
    """
    vl, cl = value_labels(qn)
    cols = set(map(str, df.columns))
    vl = {k: v for k, v in vl.items() if k in cols}
    cl = {k: v for k, v in cl.items() if k in cols}
    for k, v in (extra_labels or {}).items():
        if k not in cols:
            raise DataError("label given for a column not in the data", column=k)
        cl[k] = v
    # object columns holding numbers (codes) are written as numbers; text stays text
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and c in vl:
            out[c] = pd.to_numeric(out[c], errors="coerce")
    return write_sav(out, path, value_labels=vl, column_labels=cl, overwrite=overwrite)


def read_sav(path: str | Path, **kwargs: object) -> pd.DataFrame:
    """Read a ``.sav`` with its value labels (see :func:`researchkit.io.read_table`)."""
    return read_table(path, format="spss", **kwargs)  # type: ignore[arg-type]
