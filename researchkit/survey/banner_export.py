"""Formatting and export of banner tables: wide text frame, styled HTML, formatted Excel.

The layout follows what research agencies deliver: banner variables as column groups with a
letter under every column, one block per question with its bases (unweighted, and weighted and
effective when weighted), the answer rows in column percent with significance letters, nets in
bold, then mean and standard deviation; low bases marked with ``*``; the test and correction
stated in a footnote. In Excel percentages and means stay numbers: the letters are part of each
cell's number format, so the workbook can still be charted and summed.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from researchkit.errors import DataError, ParameterError

if TYPE_CHECKING:
    from researchkit.survey.banner_table import BannerTable

__all__ = ["to_excel", "to_html", "wide_frame"]

_BASE_KINDS = ("base", "base_weighted", "base_effective")


def _text(kind: str, value: float, sig: str, low: bool, decimals: int) -> str:
    if value != value:  # NaN
        return "–"
    if kind in _BASE_KINDS:
        return f"{value:,.0f}"
    if kind in ("category", "net"):
        s = f"{value * 100:.{decimals}f}%"
    else:
        s = f"{value:.2f}"
    if sig:
        s += f" {sig}"
    if low and kind not in ("sd",):
        s += "*"
    return s


def _blocks(t: BannerTable) -> list[tuple[str, pd.DataFrame]]:
    cells = t.cells
    assert cells is not None
    return [(str(g["title"].iloc[0]), g) for _, g in cells.groupby("block", sort=True)]


def _column_keys(t: BannerTable) -> list[tuple[str, str]]:
    assert t.columns is not None
    return list(zip(t.columns["group"], t.columns["column"], strict=True))


def wide_frame(t: BannerTable, *, letters: bool = True) -> pd.DataFrame:
    """Rows (question, item) × columns (banner variable, column (letter)) of formatted text."""
    assert t.cells is not None and t.columns is not None
    cells = t.cells.copy()
    cells["text"] = [
        _text(k, v, s if letters else "", lo, t.decimals)
        for k, v, s, lo in zip(cells["kind"], cells["value"], cells["sig"], cells["low_base"],
                               strict=True)]
    cells["col"] = list(zip(cells["group"], cells["column"], strict=True))
    wide = cells.pivot_table(index=["block", "item", "title", "label"], columns="col",
                             values="text", aggfunc="first", sort=True)
    wide = wide.reindex(columns=_column_keys(t))
    wide.index = wide.index.droplevel([0, 1])
    titles = dict(zip(t.columns["group"], t.columns["group_title"], strict=True))
    wide.columns = pd.MultiIndex.from_tuples(
        [(titles[g], f"{c} ({letter})" if letter else c)
         for (g, c), letter in zip(wide.columns, t.columns["letter"], strict=True)],
        names=["banner", "column"])
    wide.index.names = ["question", ""]
    return wide


_CSS = """
.rk-banner{border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:12px}
.rk-banner th,.rk-banner td{padding:3px 8px;border:0}
.rk-banner thead th{background:#0072B2;color:#fff;text-align:center;font-weight:600}
.rk-banner thead tr.rk-letters th{background:#e8f1f8;color:#0072B2;font-weight:600}
.rk-banner thead tr.rk-cols th{background:#3a8fc7}
.rk-banner td{text-align:right;white-space:nowrap}
.rk-banner td.rk-label{text-align:left;white-space:normal;min-width:14em}
.rk-banner tr.rk-title td{background:#f3f3f3;font-weight:700;text-align:left;
  border-top:2px solid #0072B2;padding-top:6px}
.rk-banner tr.rk-base td{color:#666;font-style:italic;font-size:11px}
.rk-banner tr.rk-net td{font-weight:700}
.rk-banner tr.rk-mean td{color:#0b4f7c;border-top:1px dotted #bbb}
.rk-banner tr.rk-sd td{color:#777;font-size:11px}
.rk-banner td.rk-total{background:#fafafa;border-right:1px solid #ccc}
.rk-banner td.rk-gstart{border-left:1px solid #ddd}
.rk-banner .rk-sig{color:#D55E00;font-weight:700;font-size:10px;margin-left:2px}
.rk-banner .rk-low{color:#999}
.rk-note{font-family:Helvetica,Arial,sans-serif;font-size:11px;color:#555;max-width:70em}
"""


def to_html(t: BannerTable, path: str | Path | None = None, *, standalone: bool = True) -> str:
    """Styled HTML of the banner; written to ``path`` (refusing to overwrite) when given."""
    assert t.cells is not None and t.columns is not None
    esc = html.escape
    cols = t.columns
    keys = _column_keys(t)
    gstart = {i for i in range(len(cols)) if i == 0 or cols["group"].iat[i]
              != cols["group"].iat[i - 1]}
    head1 = "<th></th>"
    for _, sub in cols.groupby("group", sort=False):
        head1 += f"<th colspan='{len(sub)}'>{esc(str(sub['group_title'].iat[0]))}</th>"
    head2 = "<th></th>" + "".join(f"<th>{esc(str(c))}</th>" for c in cols["column"])
    head3 = "<th></th>" + "".join(f"<th>{esc(L) if L else ''}</th>" for L in cols["letter"])
    body = []
    for title, block in _blocks(t):
        body.append(f"<tr class='rk-title'><td colspan='{len(cols) + 1}'>{esc(title)}</td></tr>")
        for (_, label, kind), item in block.groupby(["item", "label", "kind"], sort=True):
            by = {(g, c): r for g, c, r in zip(item["group"], item["column"],
                                                item.to_dict("records"), strict=True)}
            cls = {"base": "rk-base", "base_weighted": "rk-base", "base_effective": "rk-base",
                   "net": "rk-net", "mean": "rk-mean", "sd": "rk-sd"}.get(kind, "")
            tds = [f"<td class='rk-label'>{esc(str(label))}</td>"]
            for i, key in enumerate(keys):
                r = by.get(key)
                klass = []
                if key[0] == "__total__":
                    klass.append("rk-total")
                if i in gstart:
                    klass.append("rk-gstart")
                if r is None:
                    tds.append(f"<td class='{' '.join(klass)}'></td>")
                    continue
                text = _text(kind, r["value"], "", False, t.decimals)
                sig = f"<span class='rk-sig'>{esc(r['sig'])}</span>" if r["sig"] else ""
                low = "<span class='rk-low'>*</span>" if r["low_base"] and \
                    kind not in ("sd", *_BASE_KINDS) else ""
                tds.append(f"<td class='{' '.join(klass)}'>{esc(text)}{sig}{low}</td>")
            body.append(f"<tr class='{cls}'>{''.join(tds)}</tr>")
    note = esc(t.footnote) + (" * Base too small to test." if t.warnings else "")
    table = (f"<table class='rk-banner'><thead><tr>{head1}</tr><tr class='rk-cols'>{head2}"
             f"</tr><tr class='rk-letters'>{head3}</tr></thead><tbody>{''.join(body)}"
             f"</tbody></table><p class='rk-note'>{note}</p>")
    if not standalone:
        return f"<style>{_CSS}</style><h4>{esc(t.title)}</h4>{table}"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(t.title)}</title>"
            f"<style>{_CSS}</style></head><body><h2 style='font-family:Helvetica,Arial,"
            f"sans-serif;color:#0072B2'>{esc(t.title)}</h2>{table}</body></html>")
    if path is not None:
        p = Path(path)
        if p.exists():
            raise DataError("file exists; refusing to overwrite it", file=p)
        p.write_text(page, encoding="utf-8")
    return page


def to_excel(t: BannerTable, path: str | Path, *, sheet: str = "Banner",
             overwrite: bool = False) -> str:
    """Write the banner to a formatted ``.xlsx`` workbook and return its path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    assert t.cells is not None and t.columns is not None
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise ParameterError("Excel files must end in .xlsx", parameter="path", got=str(p))
    if p.exists() and not overwrite:
        raise DataError("file exists; refusing to overwrite it", file=p,
                        hint="choose a new name or pass overwrite=True")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    blue = "0072B2"
    head_fill = PatternFill("solid", fgColor=blue)
    sub_fill = PatternFill("solid", fgColor="3A8FC7")
    letter_fill = PatternFill("solid", fgColor="E8F1F8")
    title_fill = PatternFill("solid", fgColor="F3F3F3")
    total_fill = PatternFill("solid", fgColor="FAFAFA")
    white = Font(color="FFFFFF", bold=True)
    thin = Side(style="thin", color="BBBBBB")
    cols = t.columns
    keys = _column_keys(t)
    ws.cell(1, 1, t.title).font = Font(bold=True, size=14, color=blue)
    r0 = 3
    # header rows: banner variable (merged), column, letter
    c = 2
    for _, sub in cols.groupby("group", sort=False):
        cell = ws.cell(r0, c, str(sub["group_title"].iat[0]))
        cell.fill, cell.font = head_fill, white
        cell.alignment = Alignment(horizontal="center")
        if len(sub) > 1:
            ws.merge_cells(start_row=r0, start_column=c, end_row=r0,
                           end_column=c + len(sub) - 1)
        for k in range(len(sub)):
            ws.cell(r0, c + k).fill = head_fill
        c += len(sub)
    for j, (col, letter) in enumerate(zip(cols["column"], cols["letter"], strict=True)):
        h = ws.cell(r0 + 1, 2 + j, str(col))
        h.fill, h.font = sub_fill, white
        h.alignment = Alignment(horizontal="center", wrap_text=True)
        lc = ws.cell(r0 + 2, 2 + j, f"({letter})" if letter else "")
        lc.fill, lc.font = letter_fill, Font(bold=True, color=blue)
        lc.alignment = Alignment(horizontal="center")
    for rr in (r0, r0 + 1, r0 + 2):
        ws.cell(rr, 1).fill = head_fill if rr < r0 + 2 else letter_fill
    row = r0 + 3
    pct = "0" + ("." + "0" * t.decimals if t.decimals else "") + "%"
    for title, block in _blocks(t):
        tc = ws.cell(row, 1, title)
        tc.font, tc.fill = Font(bold=True), title_fill
        tc.alignment = Alignment(wrap_text=True)
        for j in range(len(keys)):
            ws.cell(row, 2 + j).fill = title_fill
            ws.cell(row, 2 + j).border = Border(top=Side(style="medium", color=blue))
        ws.cell(row, 1).border = Border(top=Side(style="medium", color=blue))
        row += 1
        for (_, label, kind), item in block.groupby(["item", "label", "kind"], sort=True):
            by = {(g, cc): r for g, cc, r in zip(item["group"], item["column"],
                                                  item.to_dict("records"), strict=True)}
            lab = ws.cell(row, 1, str(label))
            if kind in _BASE_KINDS:
                lab.font = Font(italic=True, color="666666", size=9)
            elif kind == "net":
                lab.font = Font(bold=True)
            elif kind in ("mean", "sd"):
                lab.font = Font(color="0B4F7C", italic=kind == "sd")
            for j, key in enumerate(keys):
                rec = by.get(key)
                if rec is None:
                    continue
                value = rec["value"]
                cell = ws.cell(row, 2 + j, None if value != value else value)
                sig = rec["sig"]
                star = "*" if rec["low_base"] and kind not in ("sd", *_BASE_KINDS) else ""
                suffix = (f' {sig}' if sig else "") + star
                if kind in _BASE_KINDS:
                    cell.number_format = "#,##0"
                    cell.font = Font(italic=True, color="666666", size=9)
                elif kind in ("category", "net"):
                    cell.number_format = pct + (f'"{suffix}"' if suffix else "")
                    if kind == "net":
                        cell.font = Font(bold=True)
                else:
                    cell.number_format = "0.00" + (f'"{suffix}"' if suffix else "")
                    cell.font = Font(color="0B4F7C")
                cell.alignment = Alignment(horizontal="right")
                if key[0] == "__total__":
                    cell.fill = total_fill
                    cell.border = Border(right=thin)
            row += 1
    row += 1
    note = ws.cell(row, 1, t.footnote + (" * Base too small to test." if t.warnings else ""))
    note.font = Font(italic=True, size=9, color="555555")
    ws.merge_cells(start_row=row, start_column=1, end_row=row,
                   end_column=max(2, len(keys) + 1))
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[row].height = 60
    ws.column_dimensions["A"].width = 46
    for j in range(len(keys)):
        ws.column_dimensions[get_column_letter(2 + j)].width = 12
    ws.freeze_panes = ws.cell(r0 + 3, 2)
    ws.sheet_view.showGridLines = False
    wb.save(p)
    return str(p)


