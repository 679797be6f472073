"""The study file: a research plan plus the notebooks that carry it out.

A study file is YAML. It follows the classic stages of marketing research (Kotler; Malhotra,
*Marketing Research: An Applied Orientation*, ch. 2-3): the decision the research informs, the
objectives and hypotheses, the design classified on three axes (goal: exploratory / descriptive /
causal; setting: desk / field; nature: qualitative / quantitative), the methods and contact mode,
the data sources (desk sources with the date they describe), the sampling plan, the instruments,
and finally the notebooks to run with their parameters.

Relative paths inside a study file are relative to the study file's folder.

Examples
--------
A minimal study::

    title: Brand health wave 3
    objectives: [Measure awareness and consideration of our brand among adults 18-65]
    design: {goal: descriptive, setting: field, nature: quantitative}
    sampling: {population: Adults 18-65 in the region, method: stratified, size: 1200}
    notebooks:
      - notebook: research_plan
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator

from researchkit.config import ProblemList, YamlDocument, load_yaml, parse_yaml, validate_model

__all__ = [
    "DataSource",
    "Design",
    "Hypothesis",
    "Instrument",
    "Method",
    "NotebookEntry",
    "SamplingPlan",
    "Study",
    "load_study",
    "parse_study",
]

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Goal = Literal["exploratory", "descriptive", "causal"]
Setting = Literal["desk", "field"]
Nature = Literal["qualitative", "quantitative"]
MethodKind = Literal[
    "observation",
    "survey",
    "omnibus",
    "panel",
    "experiment",
    "quasi_experiment",
    "focus_group",
    "in_depth_interview",
    "desk_research",
    "analytics",
]
ContactMode = Literal["personal", "telephone", "mail", "online"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Design(_Model):
    """The study design on the three classic axes; a study may combine settings and natures."""

    goal: Goal
    setting: Annotated[list[Setting], BeforeValidator(_as_list), Field(min_length=1)]
    nature: Annotated[list[Nature], BeforeValidator(_as_list), Field(min_length=1)]


class Hypothesis(_Model):
    """A hypothesis; causal hypotheses name their cause and their effect."""

    id: str | None = None
    statement: str = Field(min_length=1)
    type: Literal["descriptive", "associative", "causal"] = "descriptive"
    cause: str | None = None
    effect: str | None = None
    test: str | None = None


class ObservationDesign(_Model):
    """How an observation is carried out (the four classic dichotomies)."""

    direct: bool = True
    open: bool = True
    structured: bool = True
    mechanical: bool = False


class Method(_Model):
    """A data-collection method."""

    kind: MethodKind
    contact: ContactMode | None = None
    interview: Literal["individual", "group"] | None = None
    participants: int | None = Field(default=None, gt=0)
    duration_minutes: int | None = Field(default=None, gt=0)
    observation: ObservationDesign | None = None
    description: str = ""


class DataSource(_Model):
    """A data source; secondary (desk) sources carry the date of the data they describe."""

    name: str = Field(min_length=1)
    kind: Literal["primary", "secondary"]
    date: dt.date | None = None
    publisher: str | None = None
    url: str | None = None
    path: str | None = None
    notes: str = ""


class SamplingPlan(_Model):
    """Who is asked, how they are chosen and how many."""

    population: str = Field(min_length=1)
    frame: str | None = None
    unit: str | None = None
    method: Literal[
        "simple_random", "systematic", "stratified", "cluster", "multistage", "quota",
        "convenience", "census",
    ]
    size: int | None = Field(default=None, gt=0)
    margin_of_error: float | None = Field(default=None, gt=0, lt=1)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    population_size: int | None = Field(default=None, gt=0)
    strata: list[str] = Field(default_factory=list)
    quotas: dict[str, Any] | None = None
    notes: str = ""


class Instrument(_Model):
    """A research instrument (questionnaire, discussion guide, screener, codebook...)."""

    name: str = Field(min_length=1)
    kind: Literal[
        "questionnaire", "discussion_guide", "screener", "codebook", "observation_form",
        "sizing_spec", "other",
    ]
    path: str | None = None


class NotebookEntry(_Model):
    """One notebook to run, with its parameters."""

    notebook: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (a folder name)")
        return value

    @property
    def run_name(self) -> str:
        """Folder name of this notebook's run: ``name``, else the notebook's file stem."""
        return self.name or Path(self.notebook).stem


class Checks(_Model):
    """Limits used by the plan consistency checks."""

    max_source_age_days: int = Field(default=730, gt=0)


class Study(_Model):
    """A research plan and the notebooks to run."""

    title: str = Field(min_length=1)
    id: str | None = None
    date: dt.date | None = None
    authors: list[str] = Field(default_factory=list)
    decision: str | None = None
    objectives: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    design: Design
    methods: list[Method] = Field(default_factory=list)
    data_sources: list[DataSource] = Field(default_factory=list)
    sampling: SamplingPlan | None = None
    instruments: list[Instrument] = Field(default_factory=list)
    checks: Checks = Field(default_factory=Checks)
    seed: int | None = Field(default=None, ge=0)
    notebooks: list[NotebookEntry] = Field(min_length=1)

    _path: Path | None = PrivateAttr(default=None)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (a folder name)")
        return value

    @property
    def path(self) -> Path | None:
        """The study file, when loaded from one."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the study are relative to."""
        return self._path.parent if self._path is not None else Path.cwd()

    @property
    def slug(self) -> str:
        """Folder name of the study's runs: ``id``, else derived from the file name/title."""
        if self.id:
            return self.id
        stem = self._path.stem if self._path is not None else self.title
        slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-")
        return slug or "study"

    def resolve(self, path: str | Path) -> Path:
        """A path from the study file, made absolute against the study's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()


def _semantic_checks(study: Study, problems: ProblemList) -> None:
    seen: dict[str, int] = {}
    for i, entry in enumerate(study.notebooks):
        name = entry.run_name
        if name in seen:
            problems.add(
                ("notebooks", i, "name"),
                f"run name {name!r} is already used by notebooks[{seen[name]}]; give each "
                "entry of the same notebook its own 'name'",
            )
        else:
            seen[name] = i
    ids: dict[str, int] = {}
    for i, hyp in enumerate(study.hypotheses):
        if hyp.id is None:
            continue
        if hyp.id in ids:
            problems.add(("hypotheses", i, "id"),
                         f"duplicate hypothesis id {hyp.id!r} (also hypotheses[{ids[hyp.id]}])")
        ids[hyp.id] = i


def _finish(doc: YamlDocument, path: Path | None) -> Study:
    problems = ProblemList(doc, what="study")
    if doc.data is not None and not isinstance(doc.data, dict):
        problems.add((), f"expected a mapping of study fields, got {type(doc.data).__name__}")
        problems.raise_if_any()
    study = validate_model(Study, doc, what="study", problems=problems)
    study._path = path
    _semantic_checks(study, problems)
    problems.raise_if_any()
    return study


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Study

    Raises
    ------
    SpecError
        Malformed YAML (with its line), or every field problem at once, each with its field
        path and line (missing fields, unknown fields, wrong values, duplicate run names).
    """
    p = Path(path).resolve()
    doc = load_yaml(path)
    return _finish(doc, p)


def parse_study(text: str, *, base_dir: str | Path | None = None) -> Study:
    """Validate a study given as YAML text (relative paths resolve against ``base_dir``)."""
    doc = parse_yaml(text, source="<study>")
    fake = Path(base_dir or Path.cwd()).resolve() / "study.yaml"
    return _finish(doc, fake)
