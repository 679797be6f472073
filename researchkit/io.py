"""Reading data tables and fingerprinting input files.

``read_table`` reads CSV, Parquet, Excel and SPSS ``.sav`` files into a pandas DataFrame. It only
ever opens files for reading: raw input files are never modified. Files read during a study run
are recorded (with their SHA-256) in the run's ``run.json``.

SPSS value labels are kept: the codes stay in the columns and the labels travel in
``df.attrs["value_labels"]`` (``{column: {code: label}}``) and ``df.attrs["column_labels"]``
(``{column: label}``), so nothing is lost and nothing is silently converted. Pass
``labels="apply"`` to get labelled categoricals instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from researchkit.errors import DataError, ParameterError
from researchkit.run_context import note_input

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SUPPORTED_FORMATS", "file_sha256", "read_table", "write_sav"]

SUPPORTED_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".sav": "spss",
    ".zsav": "spss",
}


def file_sha256(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, read in chunks (constant memory).

    Raises
    ------
    DataError
        If the file does not exist or cannot be read.
    """
    p = Path(path)
    digest = hashlib.sha256()
    try:
        with p.open("rb") as fh:
            while block := fh.read(chunk_size):
                digest.update(block)
    except FileNotFoundError:
        raise DataError("file not found", file=p) from None
    except IsADirectoryError:
        raise DataError("is a folder, expected a file", file=p) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", file=p) from None
    return digest.hexdigest()


def _format_of(p: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in set(SUPPORTED_FORMATS.values()):
            raise ParameterError(
                "unknown format", parameter="format",
                expected=f"one of {sorted(set(SUPPORTED_FORMATS.values()))}", got=fmt,
            )
        return fmt
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_FORMATS:
        raise DataError(
            f"unknown file format {suffix or '(no extension)'!r}", file=p,
            expected=f"one of {', '.join(sorted(SUPPORTED_FORMATS))}",
        )
    return SUPPORTED_FORMATS[suffix]


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    sheet: str | int | None = None,
    columns: list[str] | None = None,
    labels: Literal["keep", "apply"] = "keep",
    **options: Any,
) -> pd.DataFrame:
    """Read a data table from CSV, Parquet, Excel or SPSS ``.sav``.

    Parameters
    ----------
    path : str or Path
        The file. Its format comes from the extension unless ``format`` is given.
    format : {"csv", "parquet", "excel", "spss"}, optional
        Force a format.
    sheet : str or int, optional
        Excel sheet (default: the first).
    columns : list of str, optional
        Read only these columns; a column not in the file is a :class:`DataError`.
    labels : {"keep", "apply"}
        For SPSS files: ``"keep"`` keeps codes and stores the value labels in ``df.attrs``;
        ``"apply"`` turns labelled columns into categoricals of labels.
    **options
        Passed to the underlying reader (``pandas.read_csv``, ``pandas.read_excel``...).

    Returns
    -------
    pandas.DataFrame
        With ``df.attrs["source"]`` (the path) and ``df.attrs["sha256"]``; for SPSS also
        ``df.attrs["value_labels"]`` and ``df.attrs["column_labels"]``.

    Raises
    ------
    DataError
        Missing, unreadable, empty or malformed files, unknown formats, missing columns.
    """
    import pandas as pd

    p = Path(path)
    kind = _format_of(p, format)
    if not p.exists():
        raise DataError("file not found", file=p)
    if p.is_dir():
        raise DataError("is a folder, expected a data file", file=p)
    if p.stat().st_size == 0:
        raise DataError("the file is empty", file=p)
    if labels not in ("keep", "apply"):
        raise ParameterError("unknown option", parameter="labels",
                             expected="'keep' or 'apply'", got=labels)
    if sheet is not None and kind != "excel":
        raise ParameterError("only Excel files have sheets", parameter="sheet", got=sheet)
    if labels == "apply" and kind != "spss":
        raise ParameterError("value labels exist only in SPSS files", parameter="labels",
                             got=labels)

    attrs: dict[str, Any] = {}
    try:
        if kind == "csv":
            if p.suffix.lower() == ".tsv":
                options.setdefault("sep", "\t")
            df = pd.read_csv(p, usecols=columns, **options)
        elif kind == "parquet":
            df = pd.read_parquet(p, columns=columns, **options)
        elif kind == "excel":
            df = pd.read_excel(p, sheet_name=0 if sheet is None else sheet, usecols=columns,
                               **options)
        else:
            import pyreadstat

            df, meta = pyreadstat.read_sav(str(p), usecols=columns,
                                           apply_value_formats=labels == "apply", **options)
            attrs["value_labels"] = {
                col: {_code(k): v for k, v in meta.value_labels[lab].items()}
                for col, lab in meta.variable_to_label.items()
            }
            attrs["column_labels"] = {
                c: lab for c, lab in zip(meta.column_names, meta.column_labels, strict=True)
                if lab
            }
            attrs["measure"] = dict(meta.variable_measure)
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed CSV: {str(exc).strip()}", file=p) from None
    except pd.errors.EmptyDataError:
        raise DataError("the file has no columns", file=p) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not valid {options.get('encoding', 'UTF-8')} text at byte {exc.start}", file=p,
            hint="pass encoding=... (e.g. 'cp1251' or 'latin-1')",
        ) from None
    except ValueError as exc:
        # pandas: usecols not found, sheet not found; pyreadstat: columns not found
        msg = str(exc)
        if columns is not None and ("not in list" in msg or "Usecols" in msg
                                    or "not found" in msg or "do not match" in msg):
            raise DataError("requested columns are not in the file", file=p,
                            expected=f"columns {columns}") from None
        if kind == "excel" and "Worksheet" in msg:
            raise DataError(f"no such sheet: {msg}", file=p) from None
        raise DataError(f"cannot read {kind} file: {msg}", file=p) from None
    except (OSError, ImportError) as exc:
        raise DataError(f"cannot read {kind} file: {exc}", file=p) from None
    except Exception as exc:  # pyarrow / pyreadstat / openpyxl raise their own types
        raise DataError(f"cannot read {kind} file: {type(exc).__name__}: {exc}",
                        file=p) from None

    digest = file_sha256(p)
    df.attrs.update(attrs)
    df.attrs["source"] = str(p)
    df.attrs["sha256"] = digest
    note_input(p, digest)
    return df


def _code(value: Any) -> Any:
    """SPSS codes are floats in pyreadstat; keep whole numbers as int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def write_sav(
    df: pd.DataFrame,
    path: str | Path,
    *,
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    column_labels: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a labelled SPSS ``.sav`` file.

    Parameters
    ----------
    df : DataFrame
        Codes (numbers or strings), not labels.
    path : str or Path
        Target file; an existing file is never replaced unless ``overwrite=True``.
    value_labels : mapping, optional
        ``{column: {code: label}}``; defaults to ``df.attrs["value_labels"]``.
    column_labels : mapping, optional
        ``{column: label}``; defaults to ``df.attrs["column_labels"]``.
    overwrite : bool
        Allow replacing an existing file.

    Returns
    -------
    Path
        The written file.
    """
    import pyreadstat

    p = Path(path)
    if p.suffix.lower() != ".sav":
        raise ParameterError("SPSS files must end in .sav", parameter="path", got=str(p))
    if p.exists() and not overwrite:
        raise DataError("file exists; refusing to overwrite it", file=p,
                        hint="choose a new name or pass overwrite=True")
    vl = dict(value_labels if value_labels is not None else df.attrs.get("value_labels", {}))
    cl = dict(column_labels if column_labels is not None else df.attrs.get("column_labels", {}))
    unknown = sorted((set(vl) | set(cl)) - set(map(str, df.columns)))
    if unknown:
        raise ParameterError("labels given for columns not in the table",
                             parameter="value_labels/column_labels", got=unknown)
    clean = df.copy()
    clean.attrs = {}
    pyreadstat.write_sav(
        clean, str(p),
        column_labels=[cl.get(str(c)) for c in clean.columns] if cl else None,
        variable_value_labels={k: dict(v) for k, v in vl.items()} or None,
    )
    return p
