"""Consistency checks of a research plan, and the plan as a readable research brief.

The checks encode textbook rules of research design (Malhotra, *Marketing Research: An Applied
Orientation*, 7th ed., ch. 3; Kotler & Armstrong, *Principles of Marketing*, ch. 4):

* a **causal** study needs a cause-and-effect hypothesis (naming cause and effect) and an
  experimental or quasi-experimental method;
* a **descriptive** study needs a descriptive method (survey, observation, panel, desk data);
* an **exploratory** study relies on qualitative or secondary work; experiments alone do not
  explore;
* a **quantitative** study needs a sampling plan with a method and a size or target margin;
  non-probability samples (quota, convenience) do not support sampling-error statements;
* a **qualitative**-only study gives motives and reactions, not statistical tests;
* **desk** research needs dated secondary sources; undated sources, and sources older than the
  study's ``checks.max_source_age_days``, are flagged (secondary data go stale);
* **field** research needs a primary collection method;
* surveys record a contact mode (personal / telephone / mail / online) and a questionnaire;
  focus groups have 6-12 screened participants and last about 90 minutes.

Findings have a severity: ``error`` (the plan cannot support its goal), ``warning`` (likely a
mistake or a weakness to state in the report) or ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from researchkit.run_context import current_study_file
from researchkit.runner.study import Study, load_study

__all__ = ["Finding", "check_plan", "design_figure", "research_brief", "study_to_review"]

#: The study the research_plan notebook reviews outside a study run.
EXAMPLE_STUDY = "descriptive_survey"

DESCRIPTIVE_METHODS = {"survey", "omnibus", "observation", "panel", "desk_research", "analytics"}
CAUSAL_METHODS = {"experiment", "quasi_experiment"}
QUALITATIVE_METHODS = {"focus_group", "in_depth_interview", "observation", "desk_research"}
FIELD_METHODS = {"survey", "omnibus", "observation", "panel", "experiment", "quasi_experiment",
                 "focus_group", "in_depth_interview"}
PROBABILITY_SAMPLES = {"simple_random", "systematic", "stratified", "cluster", "multistage",
                       "census"}


@dataclass(frozen=True)
class Finding:
    """One result of the plan consistency check."""

    severity: str  # "error" | "warning" | "info"
    field: str
    message: str

    def as_row(self) -> dict[str, str]:
        return {"severity": self.severity, "field": self.field, "message": self.message}


def check_plan(
    study: Study, *, as_of: date | None = None, max_source_age_days: int | None = None,
) -> list[Finding]:
    """Check a study plan for internal consistency.

    Parameters
    ----------
    study : Study
    as_of : date, optional
        Date against which source ages are computed: default the study's ``date``, else today.
    max_source_age_days : int, optional
        Override of ``study.checks.max_source_age_days``.

    Returns
    -------
    list of Finding
        Sorted by severity (errors first), then in plan order.
    """
    findings: list[Finding] = []

    def add(severity: str, field: str, message: str) -> None:
        findings.append(Finding(severity, field, message))

    goal = study.design.goal
    settings = set(study.design.setting)
    natures = set(study.design.nature)
    kinds = {m.kind for m in study.methods}
    today = as_of or study.date or date.today()
    limit = max_source_age_days or study.checks.max_source_age_days

    if not study.methods:
        add("error", "methods", "no data-collection method is stated")
    if not study.hypotheses and goal != "exploratory":
        add("warning", "hypotheses",
            f"a {goal} study should state hypotheses to test; only exploratory studies "
            "may start without them")

    # goal ------------------------------------------------------------------------------
    if goal == "causal":
        causal = [h for h in study.hypotheses if h.type == "causal"]
        if not causal:
            add("error", "hypotheses",
                "a causal study needs a cause-and-effect hypothesis (type: causal)")
        for i, h in enumerate(study.hypotheses):
            if h.type == "causal" and not (h.cause and h.effect):
                add("error", f"hypotheses[{i}]",
                    "a causal hypothesis must name its cause and its effect")
        if not kinds & CAUSAL_METHODS:
            add("error", "methods",
                "a causal study needs an experiment or a quasi-experiment; surveys and "
                "observation show association, not cause")
    elif goal == "descriptive":
        if kinds and not kinds & DESCRIPTIVE_METHODS:
            add("warning", "methods",
                "a descriptive study usually relies on surveys, observation, panels or desk "
                "data; none is listed")
    elif goal == "exploratory":
        if kinds and kinds <= CAUSAL_METHODS:
            add("warning", "methods",
                "exploratory research defines the problem with secondary data, cases, focus "
                "groups or interviews; experiments alone test, they do not explore")
    for i, h in enumerate(study.hypotheses):
        if h.type == "causal" and goal != "causal":
            add("warning", f"hypotheses[{i}]",
                f"a causal hypothesis in a {goal} study cannot be confirmed without an "
                "experimental design; report it as an association")

    # nature ----------------------------------------------------------------------------
    if "quantitative" in natures:
        s = study.sampling
        if s is None:
            add("error", "sampling", "a quantitative study needs a sampling plan")
        else:
            if s.size is None and s.margin_of_error is None and s.method != "census":
                add("error", "sampling",
                    "state the sample size or the target margin of error")
            if s.method not in PROBABILITY_SAMPLES:
                add("warning", "sampling.method",
                    f"a {s.method} sample is not a probability sample: margins of error and "
                    "significance tests assume random selection; state this in the report")
            if s.method == "stratified" and not s.strata:
                add("warning", "sampling.strata", "a stratified sample should name its strata")
            if s.method == "quota" and not s.quotas:
                add("warning", "sampling.quotas", "a quota sample should state its quotas")
            if s.frame is None and s.method in PROBABILITY_SAMPLES - {"census"}:
                add("info", "sampling.frame",
                    "name the sampling frame (the list the sample is drawn from)")
    if natures == {"qualitative"}:
        for i, h in enumerate(study.hypotheses):
            if h.type in ("causal", "associative"):
                add("warning", f"hypotheses[{i}]",
                    "qualitative results show motives and reactions; they are not for "
                    "statistical tests: plan a quantitative follow-up to test this")
        if kinds and not kinds & QUALITATIVE_METHODS:
            add("warning", "methods",
                "a qualitative study usually uses focus groups, in-depth interviews, "
                "observation or desk research")

    # setting ---------------------------------------------------------------------------
    secondary = [(i, d) for i, d in enumerate(study.data_sources) if d.kind == "secondary"]
    if "desk" in settings and not secondary:
        add("error", "data_sources", "desk research needs at least one secondary source")
    for i, src in secondary:
        if src.date is None:
            add("warning", f"data_sources[{i}].date",
                f"secondary source {src.name!r} has no date; desk data go stale, record the "
                "date the data describe")
        else:
            age = (today - src.date).days
            if age > limit:
                add("warning", f"data_sources[{i}].date",
                    f"secondary source {src.name!r} is {age} days old (limit {limit} days "
                    f"as of {today.isoformat()})")
            elif age < 0:
                add("warning", f"data_sources[{i}].date",
                    f"secondary source {src.name!r} is dated in the future ({src.date})")
    if "field" in settings and not kinds & FIELD_METHODS:
        add("error", "methods",
            "field research needs a primary collection method (survey, observation, "
            "experiment, focus group, interview or panel)")
    if "desk" not in settings and kinds == {"desk_research"}:
        add("warning", "design.setting", "desk research only, but the setting is not 'desk'")

    # methods ---------------------------------------------------------------------------
    instrument_kinds = {inst.kind for inst in study.instruments}
    for i, m in enumerate(study.methods):
        if m.kind in ("survey", "omnibus"):
            if m.contact is None:
                add("warning", f"methods[{i}].contact",
                    "state the contact mode: personal, telephone, mail or online")
            if "questionnaire" not in instrument_kinds:
                add("warning", "instruments", "a survey needs a questionnaire instrument")
        if m.kind == "focus_group":
            if m.participants is not None and not 6 <= m.participants <= 12:
                add("warning", f"methods[{i}].participants",
                    f"a focus group has 6-12 screened participants, not {m.participants}")
            if m.duration_minutes is not None and not 60 <= m.duration_minutes <= 150:
                add("info", f"methods[{i}].duration_minutes",
                    f"focus groups usually last about 90 minutes, not {m.duration_minutes}")
            if "discussion_guide" not in instrument_kinds:
                add("warning", "instruments",
                    "a focus group needs a discussion guide for the moderator")
            if "screener" not in instrument_kinds:
                add("info", "instruments", "screen focus-group participants with a screener")
    for i, inst in enumerate(study.instruments):
        if inst.path and not study.resolve(inst.path).exists():
            add("error", f"instruments[{i}].path", f"file not found: {inst.path}")
    for i, src in enumerate(study.data_sources):
        if src.path and not study.resolve(src.path).exists():
            add("error", f"data_sources[{i}].path", f"file not found: {src.path}")

    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "- (none stated)"


def research_brief(study: Study) -> str:
    """The research plan as a Markdown brief for management and fieldwork."""
    d = study.design
    lines = [f"# {study.title}", ""]
    meta = []
    if study.date:
        meta.append(f"Plan date: {study.date.isoformat()}")
    if study.authors:
        meta.append("Authors: " + ", ".join(study.authors))
    if meta:
        lines += [" · ".join(meta), ""]
    if study.decision:
        lines += ["## Decision this research informs", "", study.decision, ""]
    lines += ["## Objectives", "", _bullets(list(study.objectives)), ""]
    lines += ["## Hypotheses", ""]
    if study.hypotheses:
        for i, h in enumerate(study.hypotheses):
            label = h.id or f"H{i + 1}"
            text = f"- **{label}** ({h.type}): {h.statement}"
            if h.cause or h.effect:
                text += f" *Cause:* {h.cause or '?'}; *effect:* {h.effect or '?'}."
            if h.test:
                text += f" *Test:* {h.test}"
            lines.append(text)
    else:
        lines.append("- (none stated)")
    lines += ["", "## Design", "",
              "| Axis | Classification |", "|---|---|",
              f"| Goal | {d.goal} |",
              f"| Setting | {', '.join(d.setting)} |",
              f"| Nature | {', '.join(d.nature)} |", ""]
    lines += ["## Methods", ""]
    if study.methods:
        for m in study.methods:
            text = f"- **{m.kind.replace('_', ' ')}**"
            extras = []
            if m.contact:
                extras.append(f"contact: {m.contact}")
            if m.interview:
                extras.append(f"{m.interview} interview")
            if m.participants:
                extras.append(f"{m.participants} participants")
            if m.duration_minutes:
                extras.append(f"{m.duration_minutes} min")
            if m.observation:
                o = m.observation
                extras.append(", ".join([
                    "direct" if o.direct else "indirect", "open" if o.open else "covert",
                    "structured" if o.structured else "unstructured",
                    "mechanical" if o.mechanical else "human"]))
            if extras:
                text += f" ({'; '.join(extras)})"
            if m.description:
                text += f": {m.description}"
            lines.append(text)
    else:
        lines.append("- (none stated)")
    lines += ["", "## Data sources", ""]
    if study.data_sources:
        lines += ["| Source | Kind | Date | Publisher |", "|---|---|---|---|"]
        for s in study.data_sources:
            lines.append(f"| {s.name} | {s.kind} | {s.date or '—'} | {s.publisher or '—'} |")
    else:
        lines.append("- (none stated)")
    lines += ["", "## Sampling plan", ""]
    s = study.sampling
    if s is None:
        lines.append("- (none stated)")
    else:
        rows = [("Population", s.population), ("Sampling frame", s.frame),
                ("Sampling unit", s.unit), ("Method", s.method.replace("_", " ")),
                ("Sample size", f"{s.size:,}" if s.size else None),
                ("Target margin of error",
                 f"±{s.margin_of_error:.1%} at {s.confidence:.0%} confidence"
                 if s.margin_of_error else None),
                ("Population size", f"{s.population_size:,}" if s.population_size else None),
                ("Strata", ", ".join(s.strata) if s.strata else None),
                ("Quotas", ", ".join(f"{k}: {v}" for k, v in s.quotas.items())
                 if s.quotas else None), ("Notes", s.notes or None)]
        lines += ["| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows if v]
    lines += ["", "## Instruments", ""]
    if study.instruments:
        for inst in study.instruments:
            where = f" (`{Path(inst.path).name}`)" if inst.path else ""
            lines.append(f"- {inst.name}: {inst.kind.replace('_', ' ')}{where}")
    else:
        lines.append("- (none stated)")
    lines += ["", "## Analysis plan (notebooks)", ""]
    for e in study.notebooks:
        desc = f": {e.description}" if e.description else ""
        lines.append(f"- `{e.run_name}` runs `{e.notebook}`{desc}")
    return "\n".join(lines) + "\n"


def study_to_review(path: str = "") -> Study:
    """The study a plan review is about.

    ``path`` if given; else the study the runner is executing (``researchkit run``); else the
    bundled example (``templates/studies/descriptive_survey.yaml``).
    """
    if path:
        return load_study(path)
    current = current_study_file()
    if current is not None:
        return load_study(current)
    from researchkit.runner.templates import studies_dir

    return load_study(studies_dir() / f"{EXAMPLE_STUDY}.yaml")


_AXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Goal", ("exploratory", "descriptive", "causal")),
    ("Setting", ("desk", "field")),
    ("Nature", ("qualitative", "quantitative")),
)


def design_figure(study: Study) -> Any:
    """A one-glance picture of the design on its three axes (chosen options filled)."""
    from researchkit.plots import PALETTE, new_figure

    chosen = {"Goal": {study.design.goal}, "Setting": set(study.design.setting),
              "Nature": set(study.design.nature)}
    fig, ax = new_figure(height=2.4)
    for row, (axis, options) in enumerate(_AXES):
        y = len(_AXES) - 1 - row
        ax.text(-0.1, y, axis, ha="right", va="center", fontweight="bold")
        width = 3.0 / len(options)
        for j, option in enumerate(options):
            on = option in chosen[axis]
            ax.add_patch(_box(j * width + 0.05, y - 0.35, width - 0.1, 0.7,
                              PALETTE[0] if on else "#ffffff", PALETTE[0]))
            ax.text(j * width + width / 2, y, option, ha="center", va="center",
                    color="white" if on else "#333333", fontweight="bold" if on else "normal")
    ax.set_xlim(-0.9, 3.05)
    ax.set_ylim(-0.5, len(_AXES) - 0.5)
    ax.axis("off")
    ax.set_title("Research design")
    return fig


def _box(x: float, y: float, w: float, h: float, face: str, edge: str) -> Any:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", facecolor=face,
                          edgecolor=edge, linewidth=1.5)
