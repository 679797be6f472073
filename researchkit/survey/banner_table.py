"""Banner tables: the market-research crosstab of many questions by many breaks at once.

``banner(df, rows=[...], cols=[...], weight=...)`` puts every answer category of the *row*
questions (the "stubs") against the columns of every *banner* variable (Total, then e.g. age
groups, gender, regions), with

* column percentages (weighted when a weight is given), the unweighted base, the weighted
  base and the **effective base** :math:`n_\\text{eff} = (\\sum w)^2/\\sum w^2` per column;
* **nets** (e.g. top-2-box / bottom-2-box, added automatically for scales of 4+ points when a
  questionnaire is given; promoters / passives / detractors for NPS), or any nets you define;
* **multiple-response** questions (percentages of respondents, summing to more than 100%), as
  rows and as banner columns;
* **means rows** for scales and numeric questions, with the standard deviation;
* **significance letters**: every banner column has a letter; a letter in a cell says that the
  cell is significantly *higher* than the column with that letter, within the same banner
  variable. Proportions use the pooled two-proportion z-test and means Welch's t-test, both on
  effective bases (see :mod:`researchkit.survey.sigtests`); columns whose effective base is
  below ``min_base`` are not tested and are marked. Optional multiple-comparison adjustment
  (Bonferroni, Holm, Benjamini-Hochberg) over the pairs of each banner variable, per row.

The computation is vectorised: answers are integer-coded once, and each (question, banner
variable) pair is one ``np.bincount`` over the respondents; bases are shared between questions
with the same routing. Export with :meth:`BannerTable.to_excel` (formatted workbook, numbers
stay numbers) and :meth:`BannerTable.to_html`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result
from researchkit.survey.questionnaire import OPEN_TYPES, Questionnaire
from researchkit.survey.sigtests import CORRECTIONS, adjust_pvalues, mean_pairs, proportion_pairs

__all__ = ["BannerTable", "RowSpec", "banner", "column_letters"]


@dataclass
class RowSpec:
    """How one question appears as rows of a banner.

    Attributes
    ----------
    var : str
        A column, or a question id of the questionnaire (a multiple-choice question id uses
        its dummy columns ``<id>_<code>``; a grid id expands into one block per item).
    title : str, optional
        Block title (default: the question label).
    kind : {"auto", "single", "multiple", "numeric"}
    nets : mapping, optional
        ``{net label: [codes]}``, e.g. ``{"Top 2 box": [4, 5]}``; ``{}`` for none. Default:
        automatic nets for scales when a questionnaire is given.
    mean : bool, optional
        Show mean and SD rows (default: for scales and numeric questions).
    exclude : list
        Codes left out of the mean (e.g. a "don't know" code).
    categories : list, optional
        Which codes to show and in which order (default: all, in code order).
    labels : mapping, optional
        ``{code: label}`` (default: from the questionnaire or ``df.attrs["value_labels"]``).
    """

    var: str
    title: str | None = None
    kind: Literal["auto", "single", "multiple", "numeric"] = "auto"
    nets: Mapping[str, Sequence[Any]] | None = None
    mean: bool | None = None
    exclude: Sequence[Any] = ()
    categories: Sequence[Any] | None = None
    labels: Mapping[Any, str] | None = None
    columns: Sequence[str] | None = None  # dummy columns of a multiple-response question


def column_letters(k: int) -> list[str]:
    """Banner column letters A, B, ..., Z, AA, AB, ..."""
    out = []
    for i in range(k):
        s, x = "", i
        while True:
            s = chr(ord("A") + x % 26) + s
            x = x // 26 - 1
            if x < 0:
                break
        out.append(s)
    return out


# --- preparing variables ------------------------------------------------------------------------
def _encode_small_ints(arr: np.ndarray, order: Sequence[Any] | None
                       ) -> tuple[np.ndarray, list[Any]] | None:
    """Fast path for whole-number codes in a small non-negative range (the usual case)."""
    if arr.dtype.kind not in "iuf" or len(arr) == 0:
        return None
    if arr.dtype.kind == "f":
        valid = ~np.isnan(arr)
        if not valid.any():
            return None
        vals = arr[valid]
        if vals.min() < 0 or vals.max() > 100_000 or not np.all(vals == np.floor(vals)):
            return None
        ints = vals.astype(np.int64)
    else:
        valid = None
        if arr.min() < 0 or arr.max() > 100_000:
            return None
        ints = arr
    present = np.flatnonzero(np.bincount(ints))
    if order is None:
        cats: list[Any] = [int(c) for c in present]
    else:
        cats = list(order)
        nums = [c for c in cats if isinstance(c, int | np.integer) and not isinstance(c, bool)]
        if len(nums) != len(cats) or any(c < 0 or c > 100_000 for c in nums):
            return None
    small = np.int16 if len(cats) < 30000 else np.int64
    lut = np.full(int(present.max()) + 1 if len(present) else 1, -2, dtype=small)
    for i, c in enumerate(cats):
        if 0 <= int(c) < len(lut):
            lut[int(c)] = i
    mapped = lut[ints]
    if valid is None:
        codes = mapped
    else:
        codes = np.full(len(arr), -1, dtype=small)
        codes[valid] = mapped
    return codes, cats


def _encode(series: pd.Series, order: Sequence[Any] | None) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 = missing) and the category list (questionnaire or sorted order)."""
    fast = _encode_small_ints(series.to_numpy(), order)
    if fast is not None:
        codes, cats = fast
        if (codes == -2).any():
            extra = pd.unique(series[codes == -2])
            raise DataError("value not among the categories", column=str(series.name),
                            expected=f"one of {cats}", got=list(extra)[:5])
        return codes, cats
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniq = list(uniques)
    if order is None:
        try:
            cats = sorted(uniq)
        except TypeError:
            cats = sorted(uniq, key=str)
    else:
        cats = list(order)
    # map found values onto the category list; numeric 1 and 1.0 match
    index = {}
    for i, c in enumerate(cats):
        index[c] = i
        if isinstance(c, int | float | np.number) and float(c).is_integer():
            index[float(c)] = i
            index[int(c)] = i
    remap = np.full(len(uniq) + 1, -1, dtype=np.int64)
    for j, u in enumerate(uniq):
        key = u.item() if isinstance(u, np.generic) else u
        remap[j] = index.get(key, -2)
    if (remap[:-1] == -2).any():
        extra = [uniq[j] for j in np.flatnonzero(remap[:-1] == -2)]
        raise DataError("value not among the categories", column=str(series.name),
                        expected=f"one of {cats}", got=extra[:5])
    return remap[codes], cats  # codes == -1 maps to remap[-1] == -1


@dataclass
class _Group:
    name: str
    title: str
    labels: list[str]
    arrays: list[np.ndarray]  # codes in [0, K] (K = outside the column); one per array
    sizes: list[int]          # K per array
    multi: bool = False


@dataclass
class _Row:
    spec: RowSpec
    title: str
    kind: str
    codes: np.ndarray | None = None         # single
    cats: list[Any] = field(default_factory=list)
    labels: dict[Any, str] = field(default_factory=dict)
    dummies: list[np.ndarray] = field(default_factory=list)  # multiple: 1 = selected
    answered: np.ndarray | None = None
    values: np.ndarray | None = None        # numeric
    nets: dict[str, list[Any]] = field(default_factory=dict)
    mean: bool = False
    exclude: list[Any] = field(default_factory=list)


def _auto_nets(qtype: str | None, codes: list[Any], scale_low: int | None) -> dict[str, list]:
    if qtype == "nps":
        return {"Promoters (9-10)": [9, 10], "Passives (7-8)": [7, 8],
                "Detractors (0-6)": list(range(0, 7))}
    if qtype in ("likert", "rating", "importance", "purchase_intention",
                 "semantic_differential") and len(codes) >= 4:
        ordered = sorted(c for c in codes if isinstance(c, int | np.integer))
        return {"Top 2 box": ordered[-2:], "Bottom 2 box": ordered[:2]}
    return {}


def _row_specs(rows: Sequence[Any], qn: Questionnaire | None) -> list[RowSpec]:
    out: list[RowSpec] = []
    for i, r in enumerate(rows):
        if isinstance(r, str):
            spec = RowSpec(r)
        elif isinstance(r, RowSpec):
            spec = r
        elif isinstance(r, Mapping):
            try:
                spec = RowSpec(**r)
            except TypeError as exc:
                raise ParameterError(f"bad row specification: {exc}", parameter=f"rows[{i}]",
                                     got=dict(r)) from None
        else:
            raise ParameterError("a row is a column name, a RowSpec or a dict",
                                 parameter=f"rows[{i}]", got=r)
        q = None
        if qn is not None:
            q = next((x for x in qn.questions() if x.id == spec.var), None)
        if q is not None and q.type == "grid":
            for it in q.items or []:
                out.append(RowSpec(it.id, title=f"{q.title}: {it.text}", kind=spec.kind,
                                   nets=spec.nets, mean=spec.mean, exclude=spec.exclude,
                                   categories=spec.categories, labels=spec.labels))
        else:
            out.append(spec)
    return out


def _prepare_row(df: pd.DataFrame, spec: RowSpec, qn: Questionnaire | None) -> _Row:
    q = None
    if qn is not None:
        q = qn.owner_of(spec.var)
        if q is not None and q.id != spec.var and q.type != "grid":
            q = None  # a single dummy column of a multiple question: treat as a column
    vlabels = df.attrs.get("value_labels", {})
    kind = spec.kind
    detected: tuple[np.ndarray, list[Any]] | None = None  # codes found while detecting kind
    if q is not None and q.type in OPEN_TYPES:
        raise ParameterError(f"{spec.var!r} is an open question: code its answers first",
                             parameter="rows", got=spec.var)
    if kind == "auto":
        if q is not None and q.type == "multiple" and q.id == spec.var:
            kind = "multiple"
        elif q is not None and q.type == "numeric":
            kind = "numeric"
        elif spec.columns:
            kind = "multiple"
        elif spec.var in df.columns:
            col = df[spec.var]
            kind = "single"
            if pd.api.types.is_numeric_dtype(col) and spec.var not in vlabels:
                detected = _encode_small_ints(col.to_numpy(), None)
                if detected is None or len(detected[1]) > 15:
                    kind = "numeric"
        else:
            raise DataError("row variable not in the data", column=spec.var,
                            expected="a column of the data or a question id")
    title = spec.title or (q.title if q is not None else
                           df.attrs.get("column_labels", {}).get(spec.var, spec.var))
    row = _Row(spec=spec, title=title, kind=kind, exclude=list(spec.exclude))
    if kind == "multiple":
        if spec.columns:
            cols = list(spec.columns)
            codes = cols
            labels = dict(spec.labels or {c: df.attrs.get("column_labels", {}).get(c, c)
                                          for c in cols})
        elif q is not None:
            opts = q.options or {}
            cols = [f"{q.id}_{c}" for c in opts]
            codes = list(opts)
            labels = dict(spec.labels or opts)
        else:
            raise ParameterError("a multiple-response row needs a questionnaire or `columns`",
                                 parameter="rows", got=spec.var)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError("multiple-response columns missing from the data",
                            column=missing[0], expected=f"columns {cols}")
        block = df[cols]
        answered = block.notna().any(axis=1).to_numpy()
        dummies = []
        for c in cols:
            v = pd.to_numeric(block[c], errors="coerce").to_numpy(dtype=float)
            bad = (v != 0) & (v != 1) & ~np.isnan(v)
            bad |= block[c].notna().to_numpy() & np.isnan(v)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError("multiple-response dummies must be 0/1", column=c,
                                row=df.index[i], got=block[c].iloc[i])
            dummies.append(v == 1)
        row.dummies, row.answered, row.cats, row.labels = dummies, answered, codes, labels
        if spec.categories is not None:
            keep = [codes.index(c) for c in spec.categories]
            row.dummies = [dummies[k] for k in keep]
            row.cats = [codes[k] for k in keep]
        row.nets = {k: list(v) for k, v in (spec.nets or {}).items()}
        row.mean = False
        return row
    if spec.var not in df.columns:
        raise DataError("row variable not in the data", column=spec.var)
    if kind == "numeric":
        v = pd.to_numeric(df[spec.var], errors="coerce")
        bad = df[spec.var].notna() & v.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError("non-numeric value in a numeric row", column=spec.var,
                            row=df.index[i], got=df[spec.var].iloc[i])
        if row.exclude:
            v = v.mask(v.isin(row.exclude))
        row.values = v.to_numpy(dtype=float)
        row.answered = ~np.isnan(row.values)
        row.mean = True if spec.mean is None else spec.mean
        return row
    # single
    qcodes: dict[Any, str] = {}
    qtype = None
    if q is not None:
        qcodes = q.codes
        qtype = q.scale_type if q.type == "grid" else q.type
        sc = q.resolved_scale
        if sc is not None and sc.dont_know is not None and sc.dont_know not in row.exclude:
            row.exclude.append(sc.dont_know)
    labels = dict(qcodes or vlabels.get(spec.var, {}))
    if spec.labels:
        labels.update(spec.labels)
    order = list(spec.categories) if spec.categories is not None else \
        (list(qcodes) if qcodes else None)
    if spec.categories is not None:
        series = df[spec.var].where(df[spec.var].isin(list(spec.categories)))
    else:
        series = df[spec.var]
    try:
        if detected is not None and order is None and spec.categories is None:
            codes, cats = detected  # already coded while detecting the kind
        else:
            codes, cats = _encode(series, order)
    except DataError as exc:
        if order is None or spec.categories is not None:
            raise
        raise DataError("codes not in the questionnaire", column=spec.var,
                        expected=f"one of {order}", got=exc.got,
                        hint="validate the responses against the questionnaire first") from None
    row.codes, row.cats = codes, cats
    row.labels = {c: str(labels.get(c, c)) for c in cats}
    row.answered = codes >= 0
    if spec.nets is None:
        row.nets = _auto_nets(qtype, cats, None) if q is not None else {}
    else:
        row.nets = {k: list(v) for k, v in spec.nets.items()}
    unknown = [c for vals in row.nets.values() for c in vals if c not in cats]
    if unknown and spec.nets is not None:
        raise ParameterError("net refers to codes the question does not have",
                             parameter="rows.nets", expected=f"codes among {cats}",
                             got=unknown[:5])
    numeric_cats = all(isinstance(c, int | float | np.number) and not isinstance(c, bool)
                       for c in cats)
    default_mean = numeric_cats and qtype in ("likert", "rating", "importance",
                                              "purchase_intention", "nps",
                                              "semantic_differential")
    row.mean = default_mean if spec.mean is None else bool(spec.mean)
    if row.mean and not numeric_cats:
        raise ParameterError("means need numeric codes", parameter="rows.mean", got=spec.var)
    return row


def _prepare_group(df: pd.DataFrame, name: str, qn: Questionnaire | None) -> _Group:
    q = qn.owner_of(name) if qn is not None else None
    if q is not None and q.id == name and q.type == "multiple":
        cols = [f"{q.id}_{c}" for c in q.options or {}]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError("banner columns missing from the data", column=missing[0])
        arrays = [np.where(pd.to_numeric(df[c], errors="coerce").to_numpy() == 1, 0, 1)
                  for c in cols]
        return _Group(name, q.title, [str(v) for v in (q.options or {}).values()], arrays,
                      [1] * len(cols), multi=True)
    if name not in df.columns:
        raise DataError("banner variable not in the data", column=name,
                        expected="a column of the data or a question id")
    if q is not None and q.id == name and q.type in ("numeric", *OPEN_TYPES):
        raise ParameterError("a banner variable must be categorical (band numeric answers "
                             "first)", parameter="cols", got=name)
    qcodes = q.codes if q is not None and q.id == name else {}
    split = next((sp for sp in questionnaire_splits(qn) if sp.id == name), None)
    if split is not None:
        qcodes = {i + 1: f"Version {v}" for i, v in enumerate(split.variants)}
    vlabels = df.attrs.get("value_labels", {}).get(name, {})
    codes, cats = _encode(df[name], list(qcodes) if qcodes else None)
    if len(cats) > 40:
        raise ParameterError(f"banner variable {name!r} has {len(cats)} categories",
                             parameter="cols", expected="at most 40 (band it first)")
    labels = [str((qcodes or vlabels).get(c, c)) for c in cats]
    K = len(cats)
    title = q.title if q is not None and q.id == name else \
        (split.label or name) if split is not None else \
        df.attrs.get("column_labels", {}).get(name, name)
    return _Group(name, title, labels, [np.where(codes < 0, K, codes)], [K])


def questionnaire_splits(qn: Questionnaire | None) -> list[Any]:
    """The split ballots of a questionnaire (none without one)."""
    return list(qn.splits) if qn is not None else []


# --- the table ------------------------------------------------------------------------------------
@dataclass(eq=False)
class BannerTable(Result):
    """A computed banner: tidy cells plus formatting and export.

    Attributes
    ----------
    cells : DataFrame
        One row per (row item, banner column): ``block, title, item, kind, code, label,
        group, column, letter, value, sig, low_base`` where ``kind`` is one of
        ``base``, ``base_weighted``, ``base_effective``, ``category``, ``net``, ``mean``,
        ``sd``; ``value`` is a share (0-1) for categories and nets; ``sig`` holds the letters.
    columns : DataFrame
        The banner columns: ``group, group_title, column, letter``.
    """

    cells: pd.DataFrame | None = None
    columns: pd.DataFrame | None = None
    weighted: bool = False
    decimals: int = 0
    footnote: str = ""
    title: str = "Banner table"

    def to_frame(self, *, letters: bool = True) -> pd.DataFrame:
        """The banner as a wide table of formatted strings (rows × banner columns)."""
        from researchkit.survey.banner_export import wide_frame

        return wide_frame(self, letters=letters)

    def to_html(self, path: str | None = None) -> str:
        """Standalone, styled HTML (written to ``path`` when given)."""
        from researchkit.survey.banner_export import to_html

        return to_html(self, path)

    def to_excel(self, path: str, *, sheet: str = "Banner", overwrite: bool = False) -> str:
        """A formatted Excel workbook (percent cells stay numbers; letters via number format)."""
        from researchkit.survey.banner_export import to_excel

        return to_excel(self, path, sheet=sheet, overwrite=overwrite)

    def _repr_html_(self) -> str:
        from researchkit.survey.banner_export import to_html

        return to_html(self, None, standalone=False)


class _Tabulator:
    """Weighted crosstabs of one row code against every banner column, in few passes.

    The banner variables' codes are combined into joint codes ("blocks" of variables whose
    joint number of levels stays small), so one ``np.bincount`` over the respondents serves
    every banner variable of a block; each variable's table is then a sum over the other
    axes of the (small) joint table. This cuts the passes over the data several-fold.
    """

    def __init__(self, groups: list[_Group], n: int, limit: int = 16384) -> None:
        # the Total column is the sum of any block's table: it needs no axis of its own
        self.total = [gi for gi, g in enumerate(groups) if g.name == "__total__"]
        atoms = [(gi, ai, arr, K) for gi, g in enumerate(groups)
                 for ai, (arr, K) in enumerate(zip(g.arrays, g.sizes, strict=True))
                 if gi not in self.total]
        if not atoms:
            self.total = []
            atoms = [(gi, ai, arr, K) for gi, g in enumerate(groups)
                     for ai, (arr, K) in enumerate(zip(g.arrays, g.sizes, strict=True))]
        blocks: list[list[tuple[int, int, np.ndarray, int]]] = []
        cur: list[tuple[int, int, np.ndarray, int]] = []
        prod = 1
        for atom in atoms:
            levels = atom[3] + 1
            if cur and prod * levels > limit:
                blocks.append(cur)
                cur, prod = [], 1
            cur.append(atom)
            prod *= levels
        if cur:
            blocks.append(cur)
        self.groups = groups
        self.blocks = []
        for block in blocks:
            dims = [a[3] + 1 for a in block]
            joint = np.zeros(n, dtype=np.int64)
            for _, _, arr, K in block:
                joint *= K + 1
                joint += arr
            self.blocks.append((block, dims, joint, int(np.prod(dims))))
        self._scaled: dict[tuple[int, int], np.ndarray] = {}
        self._key = np.empty(n, dtype=np.int64)

    def sums(self, r: np.ndarray, Kr: int, w: np.ndarray | None) -> list[np.ndarray]:
        """Per banner variable, the (Kr × columns) sums of ``w`` (counts if None) by row code
        ``r`` ∈ [0, Kr] (level Kr is ignored)."""
        return self.sums_many(r, Kr, [w])[0]

    def sums_many(self, r: np.ndarray, Kr: int, weights: list[np.ndarray | None]
                  ) -> list[list[np.ndarray]]:
        """:meth:`sums` for several weight vectors, building each block's key once."""
        res: list[dict[int, dict[int, np.ndarray]]] = [
            {gi: {} for gi in range(len(self.groups))} for _ in weights]
        for bi, (block, dims, joint, J) in enumerate(self.blocks):
            scaled = self._scaled.get((bi, Kr))
            if scaled is None:
                scaled = joint * (Kr + 1)
                self._scaled[(bi, Kr)] = scaled
            key = np.add(scaled, r, out=self._key)  # reused buffer: no page faults
            for out, w in zip(res, weights, strict=True):
                T = np.bincount(key, weights=w, minlength=(Kr + 1) * J)
                T = T.reshape(J, Kr + 1)[:, :Kr].T
                if bi == 0:
                    for gi in self.total:
                        out[gi][0] = T.sum(axis=1)[:, None]
                T = T.reshape(Kr, *dims)
                for pos, (gi, ai, _, K) in enumerate(block):
                    axes = tuple(1 + k for k in range(len(dims)) if k != pos)
                    m = T.sum(axis=axes) if axes else T
                    out[gi][ai] = m[:, :K]
        return [[np.concatenate([out[gi][ai] for ai in range(len(g.arrays))], axis=1)
                 .astype(float) for gi, g in enumerate(self.groups)] for out in res]


def banner(
    df: pd.DataFrame, rows: Sequence[str | RowSpec | Mapping[str, Any]],
    cols: Sequence[str], weight: str | None = None, *,
    questionnaire: Questionnaire | None = None, total: bool = True,
    sig_levels: Sequence[float] = (0.05,), correction: str | None = None,
    min_base: float = 30, decimals: int = 0, title: str = "Banner table",
) -> BannerTable:
    """Build a banner table (see the module docstring for what it contains).

    Parameters
    ----------
    df : DataFrame
        Responses (codes, dummy 0/1 columns for multiple-response questions).
    rows : list
        Row questions: column names / question ids, :class:`RowSpec` or dicts of its fields.
    cols : list of str
        Banner variables (categorical columns or question ids; a multiple-choice question
        gives overlapping columns).
    weight : str, optional
        Weight column.
    questionnaire : Questionnaire, optional
        For labels, question types, automatic nets, don't-know exclusions, grid expansion.
    total : bool
        Add a Total column.
    sig_levels : sequence of float
        Significance levels; the first (strictest) gives UPPER-case letters, a second one
        lower-case letters (e.g. ``(0.05, 0.10)``). ``()`` for no tests.
    correction : {None, "bonferroni", "holm", "bh"}
        Multiple-comparison adjustment over the pairs of each banner variable, per row.
    min_base : float
        Columns with an effective base below this are not tested (and flagged).
    decimals : int
        Decimals of percentages in the formatted outputs.

    Returns
    -------
    BannerTable

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"q": [1, 2, 1, 2, 1, 1], "sex": [1, 1, 1, 2, 2, 2]})
    >>> t = banner(d, rows=["q"], cols=["sex"], sig_levels=())
    >>> t.cells.query("kind == 'category' and code == 1")["value"].round(3).tolist()
    [0.667, 0.667, 0.667]
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError("df must be a DataFrame", parameter="df", got=type(df).__name__)
    if isinstance(rows, str) or isinstance(cols, str):
        raise ParameterError("rows and cols are lists", parameter="rows/cols",
                             expected="e.g. rows=['q1'], cols=['age_group']")
    if not rows:
        raise ParameterError("no rows", parameter="rows", expected="at least one question")
    if correction not in CORRECTIONS:
        raise ParameterError("unknown correction", parameter="correction",
                             expected="None, 'bonferroni', 'holm' or 'bh'", got=correction)
    levels = sorted(float(x) for x in sig_levels)
    if len(levels) > 2 or any(not 0 < x < 1 for x in levels):
        raise ParameterError("one or two significance levels in (0, 1)",
                             parameter="sig_levels", got=list(sig_levels))
    n = len(df)
    w = None
    if weight is not None:
        from researchkit.survey.estimates import prepare_weights

        w = prepare_weights(df, weight)
    w2 = None if w is None else w * w

    groups: list[_Group] = []
    if total:
        groups.append(_Group("__total__", "Total", ["Total"], [np.zeros(n, dtype=np.int64)],
                             [1]))
    groups += [_prepare_group(df, c, questionnaire) for c in cols]
    letters = column_letters(sum(len(g.labels) for g in groups if g.name != "__total__"))
    colrows, li = [], 0
    for g in groups:
        for lab in g.labels:
            letter = "" if g.name == "__total__" else letters[li]
            li += 0 if g.name == "__total__" else 1
            colrows.append({"group": g.name, "group_title": g.title, "column": lab,
                            "letter": letter})
    columns = pd.DataFrame(colrows)

    specs = _row_specs(rows, questionnaire)
    prepared = [_prepare_row(df, s, questionnaire) for s in specs]
    tab = _Tabulator(groups, n)
    base_cache: dict[str, dict[str, list[np.ndarray]]] = {}

    def bases(answered: np.ndarray, need_sw: bool
              ) -> tuple[list[np.ndarray], list[np.ndarray] | None, list[np.ndarray]]:
        """Unweighted counts, weighted sums (if needed) and sums of squared weights of the
        respondents who answered, per banner column; shared by rows with the same routing."""
        digest = hashlib.blake2b(np.packbits(answered).tobytes(), digest_size=16).hexdigest()
        entry = base_cache.setdefault(digest, {})
        missing = [k for k in ("cnt", "sw2", "sw") if k not in entry
                   and (k != "sw" or need_sw)]
        if missing:
            a = (~answered).astype(np.int8)
            if w is None:
                cnt = [x[0] for x in tab.sums(a, 1, None)]
                entry.update(cnt=cnt, sw=cnt, sw2=cnt)
            else:
                weights = {"cnt": None, "sw": w, "sw2": w2}
                got = tab.sums_many(a, 1, [weights[k] for k in missing])
                for k, res in zip(missing, got, strict=True):
                    entry[k] = [x[0] for x in res]
        return entry["cnt"], entry.get("sw") if need_sw else None, entry["sw2"]

    records: list[dict[str, Any]] = []
    tests_done = 0
    low_cols: set[tuple[str, str]] = set()
    col_offsets = np.cumsum([0] + [len(g.labels) for g in groups])
    group_cols = [columns.iloc[col_offsets[gi]:col_offsets[gi + 1]].to_dict("records")
                  for gi in range(len(groups))]

    for bi, row in enumerate(prepared):
        assert row.answered is not None
        cnt_all, sw_all, sw2_all = bases(row.answered, need_sw=row.kind != "single")
        if row.kind == "single":
            assert row.codes is not None
            Kr = len(row.cats)
            r = np.where(row.codes < 0, Kr, row.codes)
            keep = np.array([c not in row.exclude for c in row.cats])
            if row.mean and not keep.all():
                sums_all, sums2_all = tab.sums_many(r, Kr, [w, w2])
            else:
                sums_all, sums2_all = tab.sums(r, Kr, w), None
            sw_all = [x.sum(axis=0) for x in sums_all]  # every answer falls in one cell
        elif row.kind == "multiple":
            sels = [*row.dummies, *[np.any([row.dummies[row.cats.index(m)] for m in members],
                                           axis=0) for members in row.nets.values()]]
            parts_all = [tab.sums((~(sel & row.answered)).astype(np.int8), 1, w)
                         for sel in sels]
        else:
            assert row.values is not None
            x = np.where(row.answered, row.values, 0.0)
            a = (~row.answered).astype(np.int8)
            sx_all, sxx_all = tab.sums_many(a, 1, [x if w is None else w * x,
                                                   x * x if w is None else w * x * x])
        for gi, g in enumerate(groups):
            cnt, sw, sw2 = cnt_all[gi], sw_all[gi], sw2_all[gi]
            with np.errstate(divide="ignore", invalid="ignore"):
                neff = np.where(sw2 > 0, sw**2 / np.where(sw2 > 0, sw2, 1), 0.0)
            colrecs = group_cols[gi]
            testable = neff >= min_base
            for j, c in enumerate(colrecs):
                if not testable[j]:
                    low_cols.add((c["group"], c["column"]))
                common = {"block": bi, "title": row.title, "group": g.name,
                          "column": c["column"], "letter": c["letter"],
                          "low_base": bool(not testable[j])}
                records.append({**common, "item": 0, "kind": "base", "code": None,
                                "label": "Base (unweighted)", "value": float(cnt[j]),
                                "sig": ""})
                if w is not None:
                    records.append({**common, "item": 1, "kind": "base_weighted",
                                    "code": None, "label": "Base (weighted)",
                                    "value": float(sw[j]), "sig": ""})
                    records.append({**common, "item": 2, "kind": "base_effective",
                                    "code": None, "label": "Effective base",
                                    "value": float(neff[j]), "sig": ""})
            # cell sums: (items × columns)
            item_rows: list[tuple[str, Any, str, np.ndarray]] = []
            if row.kind == "single":
                sums = sums_all[gi]
                for k, code in enumerate(row.cats):
                    item_rows.append(("category", code, row.labels[code], sums[k]))
                for label, members in row.nets.items():
                    idx = [row.cats.index(m) for m in members if m in row.cats]
                    item_rows.append(("net", tuple(members), label, sums[idx].sum(axis=0)))
                if row.mean:
                    vals = np.array([float(c) for c in row.cats])
                    W = sums[keep].sum(axis=0)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        mean = (vals[keep, None] * sums[keep]).sum(axis=0) / W
                        ex2 = (vals[keep, None] ** 2 * sums[keep]).sum(axis=0) / W
                    if keep.all():
                        mneff = neff
                    else:
                        assert sums2_all is not None
                        s2 = sums2_all[gi][keep].sum(axis=0)
                        with np.errstate(divide="ignore", invalid="ignore"):
                            mneff = np.where(s2 > 0, W**2 / np.where(s2 > 0, s2, 1), 0.0)
                    item_rows.append(("mean", None, "Mean", np.vstack([mean, ex2, mneff])))
            elif row.kind == "multiple":
                parts = [p[gi][0] for p in parts_all]
                for k, code in enumerate(row.cats):
                    item_rows.append(("category", code, str(row.labels.get(code, code)),
                                      parts[k]))
                for i, label in enumerate(row.nets):
                    item_rows.append(("net", tuple(row.nets[label]), label,
                                      parts[len(row.cats) + i]))
            else:  # numeric
                sx, sxx = sx_all[gi][0], sxx_all[gi][0]
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean, ex2 = sx / sw, sxx / sw
                item_rows.append(("mean", None, "Mean", np.vstack([mean, ex2, neff])))
            # shares and tests
            do_tests = bool(levels) and g.name != "__total__" and len(colrecs) > 1
            share_items = [s for kind, _, _, s in item_rows if kind != "mean"]
            with np.errstate(divide="ignore", invalid="ignore"):
                shares = np.where(sw > 0, np.vstack(share_items) / np.where(sw > 0, sw, 1),
                                  np.nan) if share_items else np.empty((0, len(colrecs)))
            pv_shares = proportion_pairs(shares, neff)[1] if do_tests and share_items \
                else None
            lets = np.array([c["letter"] for c in colrecs], dtype=object)
            si = 0
            for ii, (kind, code, label, s) in enumerate(item_rows):
                if kind == "mean":
                    mean, ex2, mneff = s
                    with np.errstate(divide="ignore", invalid="ignore"):
                        var = np.maximum(ex2 - mean**2, 0) * mneff / (mneff - 1)
                    values = mean
                    if levels and g.name != "__total__":
                        _, pv = mean_pairs(mean, var, mneff)
                    else:
                        pv = None
                    test_ok = mneff >= min_base
                else:
                    values = shares[si]
                    pv = pv_shares[si] if pv_shares is not None else None
                    si += 1
                    test_ok = testable
                sig = [""] * len(values)
                if pv is not None and do_tests:
                    ok2 = test_ok[:, None] & test_ok[None, :]
                    np.fill_diagonal(ok2, False)
                    pv = adjust_pvalues(pv, ok2, correction)
                    tests_done += int(ok2.sum() // 2)
                    higher = ok2 & (values[:, None] > values[None, :])
                    upper = higher & (pv < levels[0])
                    lower = higher & ~upper & (pv < levels[1]) if len(levels) > 1 \
                        else np.zeros_like(upper)
                    for i in np.flatnonzero((upper | lower).any(axis=1)):
                        sig[i] = "".join(lets[j] if upper[i, j] else lets[j].lower()
                                         for j in np.flatnonzero(upper[i] | lower[i]))
                for j, c in enumerate(colrecs):
                    common = {"block": bi, "title": row.title, "group": g.name,
                              "column": c["column"], "letter": c["letter"],
                              "low_base": bool(not test_ok[j])}
                    records.append({**common, "item": 10 + ii, "kind": kind, "code": code,
                                    "label": label, "value": float(values[j]), "sig": sig[j]})
                    if kind == "mean":
                        records.append({**common, "item": 10 + ii + 0.5, "kind": "sd",
                                        "code": None, "label": "Standard deviation",
                                        "value": float(np.sqrt(var[j])), "sig": ""})
    cells = pd.DataFrame(records)
    order = {name: i for i, name in enumerate(g.name for g in groups)}
    cells["_g"] = cells["group"].map(order)
    cells = cells.sort_values(["block", "item", "_g"], kind="stable").drop(columns="_g")
    cells = cells.reset_index(drop=True)

    test_text = "no significance tests"
    if levels:
        lv = f"{1 - levels[0]:.0%} (UPPER case)"
        if len(levels) > 1:
            lv += f" and {1 - levels[1]:.0%} (lower case)"
        corr = {None: "no adjustment for multiple comparisons",
                "none": "no adjustment for multiple comparisons",
                "bonferroni": "Bonferroni-adjusted", "holm": "Holm-adjusted",
                "bh": "Benjamini-Hochberg (FDR) adjusted",
                "fdr_bh": "Benjamini-Hochberg (FDR) adjusted"}[correction]
        test_text = (f"letters mark a column significantly higher than the lettered column of "
                     f"the same banner variable at {lv}: pooled two-proportion z-test for "
                     f"percentages, Welch t-test for means, "
                     f"{'on effective bases (Kish)' if w is not None else 'on the bases'}; "
                     f"{corr}; columns with a base under {min_base:g} are not tested")
    multi = [g.title for g in groups if g.multi]
    overlap = (f" Columns of {', '.join(multi)} overlap (multiple response): their tests "
               "treat the columns as independent samples.") if multi else ""
    weighted_text = f"Weighted by '{weight}'" if w is not None else "Unweighted"
    method = (f"{weighted_text} column percentages of respondents answering each question; "
              f"{test_text}.{overlap}")
    warnings = []
    if low_cols:
        warnings.append(f"{len(low_cols)} banner column(s) have a base under {min_base:g} for "
                        "some questions and were not tested (marked *)")
    return BannerTable(
        name=title, estimate=None, method=method, n=n, table=cells,
        details={"rows": len(prepared), "banner_columns": len(columns),
                 "pairwise_tests": tests_done, "weighted": w is not None,
                 "correction": correction, "sig_levels": levels, "min_base": min_base},
        warnings=warnings,
        reference="Agresti (2013) Categorical Data Analysis §3.1; Welch (1947) Biometrika 34; "
                  "Kish (1965) Survey Sampling §11.7.",
        cells=cells, columns=columns, weighted=w is not None, decimals=decimals,
        footnote=method, title=title,
    )
