"""Render a questionnaire for review and fieldwork (Markdown, HTML) and build its data map.

The **data map** lists every data variable with its question, label, type, SPSS measure and
codes; it drives labelled SPSS export (:func:`researchkit.survey.spss.export_sav`) and the
response validation.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from researchkit.survey.questionnaire import OPEN_TYPES, Question, Questionnaire

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["data_map", "to_html", "to_markdown", "value_labels"]

_TYPE_NAMES = {
    "single": "Single choice", "multiple": "Multiple choice", "dichotomous": "Yes / no",
    "likert": "Likert scale", "semantic_differential": "Semantic differential",
    "rating": "Rating scale", "importance": "Importance scale",
    "purchase_intention": "Purchase intention", "nps": "Net Promoter (0-10)",
    "numeric": "Numeric", "open": "Open", "word_association": "Word association",
    "sentence_completion": "Sentence completion", "story_completion": "Story completion",
    "grid": "Grid",
}


def data_map(qn: Questionnaire) -> pd.DataFrame:
    """The data map: one row per data variable.

    Columns: ``variable``, ``question``, ``section``, ``label``, ``type``, ``measure``
    (nominal / ordinal / scale), ``codes`` (``{code: label}``), ``routing`` (the question's
    ``show_if``), ``required``.
    """
    import pandas as pd

    section_of = {q.id: s.id for s in qn.sections for q in s.questions}
    rows = []
    for v in qn.variables():
        q = qn.owner_of(v.name) if v.question else None
        rows.append({
            "variable": v.name, "question": v.question, "section": section_of.get(v.question),
            "label": v.label, "type": v.kind, "measure": v.measure, "codes": dict(v.codes),
            "routing": q.show_if if q is not None else None,
            "required": bool(q.is_required) if q is not None and v.kind != "other" else False,
        })
    return pd.DataFrame(rows)


def value_labels(qn: Questionnaire) -> tuple[dict[str, dict], dict[str, str]]:
    """``(value_labels, column_labels)`` for :func:`researchkit.io.write_sav`."""
    vl = {v.name: dict(v.codes) for v in qn.variables() if v.codes}
    cl = {v.name: v.label for v in qn.variables()}
    return vl, cl


def _scale_text(q: Question) -> list[str]:
    sc = q.resolved_scale
    if sc is None:
        return []
    lines = []
    if sc.left and sc.right:
        lines.append(f"{sc.left} ← {' '.join(str(c) for c in sc.codes)} → {sc.right}")
    else:
        lines += [f"{c} = {sc.labels[c]}" if c in sc.labels else f"{c}" for c in sc.codes]
    if sc.dont_know is not None:
        lines.append(f"{sc.dont_know} = Don't know")
    return lines


def _question_lines(q: Question, number: str) -> list[str]:
    kind = _TYPE_NAMES[q.type]
    if q.type == "grid":
        kind += f" ({_TYPE_NAMES[q.scale_type or 'likert']})"
    out = [f"**{number}. `{q.id}`** *{kind}*" + ("" if q.is_required else " (optional)")]
    if q.show_if:
        out.append(f"> Ask if: `{q.show_if}`")
    if q.variants:
        out.append(f"> Split ballot `{q.split}`: the variant shown is recorded.")
        out += [f"- *Version {k}*: {v}" for k, v in q.variants.items()]
    else:
        out.append(str(q.text))
    if q.instruction:
        out.append(f"*Instruction: {q.instruction}*")
    if q.type in ("single", "multiple", "dichotomous"):
        for code, label in q.codes.items():
            mark = " *(exclusive)*" if code in q.exclusive else ""
            out.append(f"- [{code}] {label}{mark}")
        if q.other:
            out.append("- Other (please specify): ________")
        if q.type == "multiple":
            note = "Select all that apply"
            if q.max_choices:
                note = f"Select up to {q.max_choices}"
            out.append(f"*{note}.*")
    elif q.type == "grid":
        out.append("Scale: " + "; ".join(_scale_text(q)))
        for it in q.items or []:
            text = f"{it.left} … {it.right}" if it.left and it.right else it.text
            out.append(f"- `{it.id}` {text}" + (" *(reverse-keyed)*" if it.reverse else ""))
    elif q.type in ("likert", "rating", "importance", "purchase_intention", "nps",
                    "semantic_differential"):
        out += [f"- {line}" for line in _scale_text(q)]
    elif q.type == "numeric":
        bounds = []
        if q.min is not None:
            bounds.append(f"min {q.min:g}")
        if q.max is not None:
            bounds.append(f"max {q.max:g}")
        unit = f" {q.unit}" if q.unit else ""
        out.append(f"Number{unit}" + (f" ({', '.join(bounds)})" if bounds else "")
                   + (", whole numbers" if q.integer else ""))
    elif q.type == "word_association":
        out += [f"- {w}: ________" for w in q.stimuli or []]
    elif q.type == "sentence_completion":
        out.append(f"“{q.stem} ________”")
    elif q.type == "story_completion":
        out.append(f"“{q.story} ________”")
    elif q.type in OPEN_TYPES:
        out.append("________")
    return out


def to_markdown(qn: Questionnaire) -> str:
    """The questionnaire as Markdown (for review, or to paste into a fieldwork brief)."""
    lines = [f"# {qn.title}", ""]
    meta = [f"mode: {qn.mode}", f"language: {qn.language}"]
    if qn.version:
        meta.append(f"version: {qn.version}")
    lines += [" · ".join(meta), ""]
    if qn.description:
        lines += [qn.description, ""]
    if qn.intro:
        lines += [f"> {qn.intro}", ""]
    if qn.splits:
        for s in qn.splits:
            lines.append(f"*Split ballot `{s.id}`: variants {', '.join(s.variants)}, assigned at "
                         "random; the variant shown is recorded in the data.*")
        lines.append("")
    n = 0
    for si, section in enumerate(qn.sections, start=1):
        lines += [f"## {si}. {section.title}", ""]
        if section.intro:
            lines += [f"*{section.intro}*", ""]
        for q in section.questions:
            n += 1
            lines += [*_question_lines(q, f"Q{n}"), ""]
    if qn.quotas:
        lines += ["## Quotas", "", "| quota | variable | code | target |", "|---|---|---|---|"]
        for quota in qn.quotas:
            owner = qn.owner_of(quota.variable)
            codes = owner.codes if owner is not None else {}
            for code, target in quota.target_counts().items():
                lines.append(f"| {quota.label or quota.id} | `{quota.variable}` | "
                             f"{codes.get(code, code)} | {target:g} |")
        lines.append("")
    return "\n".join(lines)


def to_html(qn: Questionnaire) -> str:
    """The questionnaire as a standalone HTML page (printable fieldwork script)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(qn.title)}</title><style>",
        "body{font-family:Helvetica,Arial,sans-serif;max-width:820px;margin:2em auto;"
        "color:#222;line-height:1.4}h1{color:#0072B2}h2{border-bottom:2px solid #0072B2;"
        "padding-bottom:.2em;margin-top:1.6em}.q{margin:1em 0;padding:.6em .9em;"
        "border-left:4px solid #ddd}.id{font-family:monospace;color:#666}.type{color:#0072B2;"
        "font-size:.85em;text-transform:uppercase;letter-spacing:.04em}.route{color:#D55E00;"
        "font-size:.9em}.variant{background:#f6f6f6;padding:.2em .5em;margin:.2em 0}"
        "table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;"
        "padding:.2em .5em;font-size:.9em}th{background:#f0f4f8}.meta{color:#666}",
        "</style></head><body>",
        f"<h1>{esc(qn.title)}</h1>",
        f"<p class='meta'>Mode: {esc(qn.mode)} · language: {esc(qn.language)}"
        + (f" · version: {esc(qn.version)}" if qn.version else "") + "</p>",
    ]
    if qn.description:
        parts.append(f"<p>{esc(qn.description)}</p>")
    if qn.intro:
        parts.append(f"<blockquote>{esc(qn.intro)}</blockquote>")
    n = 0
    for si, section in enumerate(qn.sections, start=1):
        parts.append(f"<h2>{si}. {esc(section.title)}</h2>")
        if section.intro:
            parts.append(f"<p><em>{esc(section.intro)}</em></p>")
        for q in section.questions:
            n += 1
            parts.append(_question_html(q, n))
    parts.append("</body></html>")
    return "\n".join(parts)


def _question_html(q: Question, n: int) -> str:
    esc = html.escape
    kind = _TYPE_NAMES[q.type]
    if q.type == "grid":
        kind += f" · {_TYPE_NAMES[q.scale_type or 'likert']}"
    out = [f"<div class='q'><div><b>Q{n}.</b> <span class='id'>{esc(q.id)}</span> "
           f"<span class='type'>{esc(kind)}</span>"
           + ("" if q.is_required else " <em>(optional)</em>") + "</div>"]
    if q.show_if:
        out.append(f"<div class='route'>Ask if: <code>{esc(q.show_if)}</code></div>")
    if q.variants:
        out.append(f"<div class='route'>Split ballot <code>{esc(str(q.split))}</code></div>")
        out += [f"<div class='variant'><b>Version {esc(k)}:</b> {esc(v)}</div>"
                for k, v in q.variants.items()]
    else:
        out.append(f"<p>{esc(str(q.text))}</p>")
    if q.instruction:
        out.append(f"<p><em>{esc(q.instruction)}</em></p>")
    if q.type in ("single", "multiple", "dichotomous"):
        box = "☐" if q.type == "multiple" else "○"
        items = "".join(f"<li>{box} {esc(lab)} <span class='id'>[{c}]</span></li>"
                        for c, lab in q.codes.items())
        if q.other:
            items += f"<li>{box} Other (please specify): ________</li>"
        out.append(f"<ul style='list-style:none;padding-left:.5em'>{items}</ul>")
    elif q.type == "grid":
        sc = q.resolved_scale
        codes = sc.codes if sc else []
        head = "".join(f"<th>{esc(sc.labels.get(c, str(c)))}</th>" for c in codes) if sc else ""
        rows = ""
        for it in q.items or []:
            text = f"{it.left} … {it.right}" if it.left and it.right else it.text
            rows += (f"<tr><td>{esc(text)} <span class='id'>{esc(it.id)}</span></td>"
                     + "<td style='text-align:center'>○</td>" * len(codes) + "</tr>")
        out.append(f"<table><tr><th></th>{head}</tr>{rows}</table>")
    elif q.type in ("likert", "rating", "importance", "purchase_intention", "nps",
                    "semantic_differential"):
        sc = q.resolved_scale
        if sc is not None and sc.left and sc.right:
            cells = "".join(f"<td>○ {c}</td>" for c in sc.codes)
            out.append(f"<table><tr><td>{esc(sc.left)}</td>{cells}<td>{esc(sc.right)}</td>"
                       "</tr></table>")
        else:
            out.append("<ul style='list-style:none;padding-left:.5em'>" + "".join(
                f"<li>○ {esc(line)}</li>" for line in _scale_text(q)) + "</ul>")
    elif q.type == "numeric":
        out.append(f"<p>________ {esc(q.unit or '')}</p>")
    elif q.type == "word_association":
        out.append("<ul>" + "".join(f"<li>{esc(w)}: ________</li>" for w in q.stimuli or [])
                   + "</ul>")
    elif q.type == "sentence_completion":
        out.append(f"<p>“{esc(str(q.stem))} ________”</p>")
    elif q.type == "story_completion":
        out.append(f"<p>“{esc(str(q.story))} ________”</p>")
    else:
        out.append("<p>________________________________</p>")
    out.append("</div>")
    return "".join(out)
