"""The questionnaire format (``surveys/*.yaml``): models, loading and validation.

A questionnaire is YAML with metadata, named scales, splits (wording variants), sections of
questions, and quotas::

    id: brand_tracker
    title: Brand health tracker
    language: en
    mode: online                       # personal | telephone | mail | online
    scales:
      agree5: {points: 5, labels: {1: Strongly disagree, 2: Disagree, 3: Neither,
                                   4: Agree, 5: Strongly agree}}
    splits:
      - {id: form, variants: [A, B]}   # the variable 'form' records the variant shown
    sections:
      - id: awareness
        title: Brand awareness
        questions:
          - {id: aware, type: multiple, text: Which of these brands have you heard of?,
             options: {1: Aurora, 2: Borealis, 99: None of these}, exclusive: [99]}
          - {id: consider, type: single, text: ..., show_if: "aware has 1",
             options: {1: Yes, 2: No}}
    quotas:
      - {id: region, variable: region, targets: {1: 0.5, 2: 0.5}, total: 1200}

Question types
--------------
``single``, ``multiple``, ``dichotomous`` (closed choices); ``likert`` (any number of points,
every point labelled), ``semantic_differential`` (bipolar, ``left``/``right`` poles),
``rating``, ``importance``, ``purchase_intention`` (scales); ``nps`` (0-10); ``numeric``;
``open`` and the projective open types ``word_association`` (one answer per stimulus word),
``sentence_completion`` and ``story_completion``; ``grid``: items sharing one scale
(``item_type`` says which scale type).

Variables
---------
Single-valued questions are one variable named like the question. A multiple-choice question is
one 0/1 variable per option, ``<id>_<code>`` (an SPSS "multiple dichotomy set"). A grid is one
variable per item (the item ids). Word association is one text variable per stimulus,
``<id>_<k>``. Every split adds a variable (its ``id``) recording the variant each respondent saw.

Validation (:func:`load_questionnaire`) reports *every* problem at once as one
:class:`~researchkit.errors.SpecError` naming the file, field path and line: duplicate ids,
routing that does not parse or refers to unknown or later questions (or to codes a question does
not have), empty or inconsistent scales, variants without a split, quotas on unknown variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from researchkit.config import ProblemList, YamlDocument, load_yaml, parse_yaml, validate_model
from researchkit.survey.routing import Condition, RoutingSyntaxError, parse_condition

__all__ = [
    "CHOICE_TYPES",
    "OPEN_TYPES",
    "QUESTION_TYPES",
    "SCALE_TYPES",
    "Question",
    "Questionnaire",
    "Quota",
    "Scale",
    "Section",
    "Split",
    "Variable",
    "load_questionnaire",
    "parse_questionnaire",
]

QuestionType = Literal[
    "single", "multiple", "dichotomous", "likert", "semantic_differential", "rating",
    "importance", "purchase_intention", "nps", "numeric", "open", "word_association",
    "sentence_completion", "story_completion", "grid",
]
QUESTION_TYPES: tuple[str, ...] = QuestionType.__args__  # type: ignore[attr-defined]
SCALE_TYPES = ("likert", "semantic_differential", "rating", "importance", "purchase_intention",
               "nps")
CHOICE_TYPES = ("single", "multiple", "dichotomous")
OPEN_TYPES = ("open", "word_association", "sentence_completion", "story_completion")

DEFAULT_SCALES: dict[str, dict[str, Any]] = {
    "nps": {"points": 11, "start": 0,
            "labels": {0: "Not at all likely", 10: "Extremely likely"}},
    "purchase_intention": {"points": 5, "labels": {
        1: "Definitely would not buy", 2: "Probably would not buy", 3: "Might or might not buy",
        4: "Probably would buy", 5: "Definitely would buy"}},
    "importance": {"points": 5, "labels": {
        1: "Not at all important", 2: "Slightly important", 3: "Moderately important",
        4: "Very important", 5: "Extremely important"}},
    "semantic_differential": {"points": 7},
}
DEFAULT_DICHOTOMY = {1: "Yes", 2: "No"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_yaml_booleans(value: Any) -> Any:
    """YAML reads unquoted Yes/No/On/Off as booleans: ask for quotes instead of guessing."""
    if isinstance(value, dict):
        bad = [k for k, v in value.items() if isinstance(v, bool)]
        if bad:
            raise ValueError(f"the label of code {bad[0]} was read by YAML as "
                             f"{value[bad[0]]!s}: put it in quotes (e.g. 'Yes', 'No')")
    return value


class Scale(_Model):
    """A response scale: ``points`` consecutive integer codes from ``start``, with labels.

    ``left``/``right`` are the poles of a semantic differential; ``labels`` may label every
    point (required for Likert) or only some (e.g. the ends of a rating scale).
    """

    points: int | None = None
    start: int = 1
    labels: dict[int, str] = Field(default_factory=dict)
    left: str | None = None
    right: str | None = None
    dont_know: int | None = None  # code of a "don't know" answer outside the scale

    _check_labels = field_validator("labels", mode="before")(_no_yaml_booleans)

    @property
    def codes(self) -> list[int]:
        return list(range(self.start, self.start + (self.points or 0)))

    @property
    def low(self) -> int:
        return self.start

    @property
    def high(self) -> int:
        return self.start + (self.points or 1) - 1


class Item(_Model):
    """One item of a grid (its ``id`` is its variable name)."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    left: str | None = None   # semantic-differential poles of this item
    right: str | None = None
    reverse: bool = False      # reverse-keyed item (for scale scores and reliability)


class Question(_Model):
    """One question; which fields apply depends on ``type`` (checked on loading)."""

    id: str = Field(min_length=1)
    type: QuestionType
    text: str | None = None
    variants: dict[str, str] | None = None   # wording variants (split ballot)
    split: str | None = None                  # the split that assigns the variant
    label: str | None = None                  # short label for tables and the data map
    instruction: str | None = None
    required: bool | None = None
    show_if: str | None = None
    options: dict[int, str] | None = None
    exclusive: list[int] = Field(default_factory=list)
    max_choices: int | None = None
    other: bool = False                       # an "other, please specify" text field
    scale: dict[str, Any] | str | None = None  # a scale, or the name of a shared scale
    item_type: Literal["likert", "semantic_differential", "rating", "importance",
                       "purchase_intention"] | None = None
    items: list[Item] | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: str | None = None
    stimuli: list[str] | None = None           # word association
    stem: str | None = None                    # sentence completion
    story: str | None = None                   # story completion

    # resolved after loading
    _scale: Scale | None = None

    _check_options = field_validator("options", mode="before")(_no_yaml_booleans)

    @property
    def is_required(self) -> bool:
        if self.required is not None:
            return self.required
        return self.type not in OPEN_TYPES

    @property
    def title(self) -> str:
        """The label for tables: ``label``, else the text (first variant's text)."""
        if self.label:
            return self.label
        if self.text:
            return self.text
        if self.variants:
            return next(iter(self.variants.values()))
        return self.id

    @property
    def resolved_scale(self) -> Scale | None:
        """The scale after named scales and type defaults are applied."""
        return self._scale

    @property
    def codes(self) -> dict[int, str]:
        """Codes and labels of a single-valued closed question or a scale."""
        if self.type in ("single", "multiple"):
            return dict(self.options or {})
        if self.type == "dichotomous":
            return dict(self.options or DEFAULT_DICHOTOMY)
        sc = self._scale
        if sc is None:
            return {}
        labels = {c: sc.labels.get(c, str(c)) for c in sc.codes}
        if sc.dont_know is not None:
            labels[sc.dont_know] = "Don't know"
        return labels

    @property
    def variables(self) -> list[str]:
        """Names of the data columns this question produces."""
        if self.type == "multiple":
            cols = [f"{self.id}_{c}" for c in (self.options or {})]
            return [*cols, f"{self.id}_other"] if self.other else cols
        if self.type == "grid":
            return [it.id for it in self.items or []]
        if self.type == "word_association":
            return [f"{self.id}_{k + 1}" for k in range(len(self.stimuli or []))]
        if self.other and self.type == "single":
            return [self.id, f"{self.id}_other"]
        return [self.id]

    @property
    def scale_type(self) -> str | None:
        """The scale type of a scale question or grid (``None`` for other types)."""
        if self.type == "grid":
            return self.item_type or "likert"
        return self.type if self.type in SCALE_TYPES else None


class Section(_Model):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    intro: str | None = None
    questions: list[Question] = Field(min_length=1)


class Split(_Model):
    """A split ballot: respondents are assigned one variant (recorded in variable ``id``)."""

    id: str = Field(min_length=1)
    variants: list[str] = Field(min_length=2)
    label: str | None = None
    weights: list[float] | None = None  # assignment probabilities (default equal)


class Quota(_Model):
    """Fieldwork quota on one variable: target counts (or shares of ``total``) per code."""

    id: str = Field(min_length=1)
    variable: str = Field(min_length=1)
    targets: dict[int, float] = Field(min_length=1)
    total: int | None = Field(default=None, gt=0)
    label: str | None = None

    def target_counts(self) -> dict[int, float]:
        """Targets as counts (shares are multiplied by ``total``)."""
        if self.total is not None and abs(sum(self.targets.values()) - 1) < 1e-9:
            return {k: v * self.total for k, v in self.targets.items()}
        return dict(self.targets)


class Questionnaire(_Model):
    """A validated questionnaire (see the module docstring for the format)."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    language: str = "en"
    mode: Literal["personal", "telephone", "mail", "online"]
    version: str | None = None
    description: str | None = None
    intro: str | None = None
    respondent_id: str = "respondent_id"
    scales: dict[str, Scale] = Field(default_factory=dict)
    splits: list[Split] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
    quotas: list[Quota] = Field(default_factory=list)

    _path: str | None = None

    @property
    def path(self) -> str | None:
        return self._path

    def questions(self) -> Iterator[Question]:
        """Every question in order."""
        for section in self.sections:
            yield from section.questions

    def question(self, qid: str) -> Question:
        """The question with id ``qid`` (``KeyError``-free: raises ParameterError)."""
        from researchkit.errors import ParameterError

        for q in self.questions():
            if q.id == qid:
                return q
        raise ParameterError("no such question", parameter="question",
                             expected=f"one of {[q.id for q in self.questions()]}", got=qid)

    def owner_of(self, name: str) -> Question | None:
        """The question owning a variable or question id ``name``."""
        for q in self.questions():
            if q.id == name or name in q.variables:
                return q
        return None

    def variables(self) -> list[Variable]:
        """Every data variable, in questionnaire order (see :func:`data_map`)."""
        out: list[Variable] = [Variable(self.respondent_id, None, "Respondent id", "id", {},
                                        "nominal")]
        out += [Variable(s.id, None, s.label or f"Split ballot variant ({s.id})", "split",
                         {i + 1: v for i, v in enumerate(s.variants)}, "nominal")
                for s in self.splits]
        for q in self.questions():
            out.extend(_question_variables(q))
        return out

    def condition(self, q: Question) -> Condition | None:
        """The parsed ``show_if`` of a question (``None`` when always shown)."""
        return parse_condition(q.show_if) if q.show_if else None

    def columns_of(self, name: str) -> list[str]:
        """Data columns holding question or variable ``name``."""
        for q in self.questions():
            if q.id == name:
                return q.variables
        return [name]


@dataclass(frozen=True)
class Variable:
    """One data variable of a questionnaire (a row of the data map)."""

    name: str
    question: str | None
    label: str
    kind: str          # question type, or "id"/"split"/"other"/"dummy"
    codes: dict[Any, str]
    measure: str       # SPSS measure: nominal / ordinal / scale


def _question_variables(q: Question) -> list[Variable]:
    measure = {"single": "nominal", "dichotomous": "nominal", "numeric": "scale"}
    if q.type == "multiple":
        out = [Variable(f"{q.id}_{c}", q.id, f"{q.title}: {lab}", "dummy",
                        {0: "Not selected", 1: "Selected"}, "nominal")
               for c, lab in (q.options or {}).items()]
        if q.other:
            out.append(Variable(f"{q.id}_other", q.id, f"{q.title}: other (specify)", "other",
                                {}, "nominal"))
        return out
    if q.type == "grid":
        codes = q.codes
        out = []
        for it in q.items or []:
            text = it.text if not (it.left and it.right) else f"{it.left} – {it.right}"
            out.append(Variable(it.id, q.id, f"{q.title}: {text}", q.scale_type or "likert",
                                codes, "ordinal"))
        return out
    if q.type == "word_association":
        return [Variable(f"{q.id}_{k + 1}", q.id, f"{q.title}: {w}", q.type, {}, "nominal")
                for k, w in enumerate(q.stimuli or [])]
    if q.type in OPEN_TYPES:
        return [Variable(q.id, q.id, q.title, q.type, {}, "nominal")]
    main = Variable(q.id, q.id, q.title, q.type, q.codes,
                    measure.get(q.type, "ordinal"))
    if q.other and q.type == "single":
        return [main, Variable(f"{q.id}_other", q.id, f"{q.title}: other (specify)", "other",
                               {}, "nominal")]
    return [main]


# --- semantic checks ----------------------------------------------------------------------------
_FIELDS_BY_TYPE: dict[str, set[str]] = {
    "single": {"options", "other"},
    "multiple": {"options", "exclusive", "max_choices", "other"},
    "dichotomous": {"options"},
    "numeric": {"min", "max", "integer", "unit"},
    "open": set(),
    "word_association": {"stimuli"},
    "sentence_completion": {"stem"},
    "story_completion": {"story"},
    "grid": {"scale", "item_type", "items"},
    **{t: {"scale"} for t in SCALE_TYPES},
}
_TYPE_SPECIFIC = set().union(*_FIELDS_BY_TYPE.values())


def _resolve_scale(q: Question, qn: Questionnaire, where: tuple, problems: ProblemList) -> None:
    stype = q.scale_type
    if stype is None:
        return
    raw = q.scale
    if isinstance(raw, str):
        if raw not in qn.scales:
            problems.add((*where, "scale"), f"unknown scale {raw!r}; defined scales: "
                         f"{sorted(qn.scales) or 'none'}")
            return
        scale = qn.scales[raw].model_copy()
    elif raw is None:
        if stype not in DEFAULT_SCALES:
            problems.add((*where, "scale"),
                         f"a {stype} question needs a scale (points and labels)")
            return
        scale = Scale(**DEFAULT_SCALES[stype])
    else:
        try:
            given = Scale.model_validate(raw).model_dump(exclude_unset=True)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [p for p in err.get("loc", ()) if not str(p).startswith("function-")]
                problems.add((*where, "scale", *loc),
                             str(err.get("msg", "invalid value")).removeprefix("Value error, "))
            return
        base = DEFAULT_SCALES.get(stype, {})
        scale = Scale(**{**base, **given})
    if stype == "nps" and (scale.start != 0 or scale.points != 11):
        problems.add((*where, "scale"), "an NPS question is scored 0-10 (start 0, 11 points)")
    if scale.points is None or scale.points < 2:
        problems.add((*where, "scale", "points"),
                     f"a scale needs at least 2 points, got {scale.points}")
        q._scale = scale
        return
    outside = sorted(c for c in scale.labels if c not in scale.codes)
    if outside:
        problems.add((*where, "scale", "labels"),
                     f"labels for codes {outside} outside the scale {scale.low}-{scale.high}")
    if any(not str(v).strip() for v in scale.labels.values()):
        problems.add((*where, "scale", "labels"), "empty label")
    if stype == "likert":
        missing = [c for c in scale.codes if c not in scale.labels]
        if missing:
            problems.add((*where, "scale", "labels"),
                         f"a Likert scale labels every point; no label for {missing}")
    if stype == "semantic_differential":
        if q.type == "grid":
            bad = [i for i, it in enumerate(q.items or []) if not (it.left and it.right)]
            for i in bad:
                problems.add((*where, "items", i),
                             "a semantic-differential item needs 'left' and 'right' poles")
        elif not (scale.left and scale.right):
            problems.add((*where, "scale"),
                         "a semantic differential needs 'left' and 'right' poles")
    if scale.dont_know is not None and scale.dont_know in scale.codes:
        problems.add((*where, "scale", "dont_know"),
                     f"the don't-know code {scale.dont_know} is inside the scale")
    q._scale = scale


def _check_question(q: Question, qn: Questionnaire, where: tuple,
                    problems: ProblemList) -> None:
    set_fields = {f for f in q.model_fields_set if f in _TYPE_SPECIFIC}
    allowed = _FIELDS_BY_TYPE[q.type]
    for f in sorted(set_fields - allowed):
        problems.add((*where, f), f"field {f!r} does not apply to a {q.type} question")
    if not q.text and not q.variants:
        problems.add((*where, "text"), "a question needs 'text' (or wording 'variants')")
    if q.text and q.variants:
        problems.add((*where, "variants"), "give either 'text' or 'variants', not both")
    if q.type in ("single", "multiple"):
        if not q.options:
            problems.add((*where, "options"), f"a {q.type} question needs options")
        elif len(q.options) < 2 and q.type == "single":
            problems.add((*where, "options"), "a single-choice question needs 2+ options")
    if q.type == "dichotomous" and q.options is not None and len(q.options) != 2:
        problems.add((*where, "options"),
                     f"a dichotomous question has exactly 2 options, got {len(q.options)}")
    if q.options and any(not str(v).strip() for v in q.options.values()):
        problems.add((*where, "options"), "empty option label")
    if q.exclusive:
        unknown = [c for c in q.exclusive if c not in (q.options or {})]
        if unknown:
            problems.add((*where, "exclusive"), f"exclusive codes {unknown} are not options")
    if q.max_choices is not None and q.options and not 1 <= q.max_choices <= len(q.options):
        problems.add((*where, "max_choices"),
                     f"max_choices must be between 1 and {len(q.options)}")
    if q.type == "numeric" and q.min is not None and q.max is not None and q.min > q.max:
        problems.add((*where, "min"), f"min ({q.min}) is larger than max ({q.max})")
    if q.type == "grid":
        if not q.items:
            problems.add((*where, "items"), "a grid needs items")
        if q.item_type is None and q.scale is None:
            problems.add((*where, "scale"), "a grid needs a scale")
    if q.type == "word_association" and not q.stimuli:
        problems.add((*where, "stimuli"), "word association needs stimulus words")
    if q.type == "sentence_completion" and not q.stem:
        problems.add((*where, "stem"), "sentence completion needs the sentence 'stem'")
    if q.type == "story_completion" and not q.story:
        problems.add((*where, "story"), "story completion needs the start of the 'story'")
    _resolve_scale(q, qn, where, problems)
    # split ballots
    splits = {s.id: s for s in qn.splits}
    if q.variants is not None:
        if q.split is None:
            problems.add((*where, "variants"),
                         "wording variants need a 'split' saying which split assigns them")
        elif q.split not in splits:
            problems.add((*where, "split"),
                         f"unknown split {q.split!r}; defined splits: {sorted(splits) or 'none'}")
        else:
            want = splits[q.split].variants
            if sorted(q.variants) != sorted(want):
                problems.add((*where, "variants"),
                             f"variants {sorted(q.variants)} differ from the variants of split "
                             f"{q.split!r}: {want}")
    elif q.split is not None:
        problems.add((*where, "split"), "'split' is given but the question has no 'variants'")


def _check_routing(q: Question, where: tuple, earlier: dict[str, Question],
                   later: set[str], split_ids: set[str], problems: ProblemList) -> None:
    if not q.show_if:
        return
    try:
        cond = parse_condition(q.show_if)
    except RoutingSyntaxError as exc:
        problems.add((*where, "show_if"), f"routing does not parse: {exc}")
        return
    for name in cond.names:
        if name in split_ids or name in earlier:
            continue
        owner = next((e for e in earlier.values() if name in e.variables), None)
        if owner is not None:
            continue
        if name in later or name == q.id:
            problems.add((*where, "show_if"),
                         f"routing refers to {name!r}, which is asked at or after this question")
        else:
            problems.add((*where, "show_if"), f"routing refers to unknown question {name!r}")
    for name in cond.has_names():
        target = earlier.get(name)
        if target is not None and target.type != "multiple":
            problems.add((*where, "show_if"), f"'has'/'count' need a multiple-choice question; "
                         f"{name!r} is {target.type}")
    for name, code in cond.codes_used():
        target = earlier.get(name)
        if target is None or target.type in ("numeric", "grid", *OPEN_TYPES):
            continue
        if target.codes and code not in target.codes:
            problems.add((*where, "show_if"),
                         f"routing compares {name!r} with code {code!r}, which it does not have "
                         f"(codes: {sorted(target.codes)})")


def _semantic_checks(qn: Questionnaire, problems: ProblemList) -> None:
    seen: dict[str, str] = {}
    var_seen: dict[str, str] = {qn.respondent_id: "respondent_id"}
    for i, s in enumerate(qn.splits):
        if s.id in var_seen:
            problems.add(("splits", i, "id"), f"duplicate variable name {s.id!r}")
        var_seen[s.id] = f"splits[{i}]"
        if len(set(s.variants)) != len(s.variants):
            problems.add(("splits", i, "variants"), "duplicate variant names")
        if s.weights is not None and (len(s.weights) != len(s.variants)
                                      or abs(sum(s.weights) - 1) > 1e-9
                                      or min(s.weights) < 0):
            problems.add(("splits", i, "weights"),
                         "one non-negative probability per variant, summing to 1")
    used_splits = {q.split for q in qn.questions() if q.split}
    for i, s in enumerate(qn.splits):
        if s.id not in used_splits:
            problems.add(("splits", i), f"split {s.id!r} is not used by any question")
    for name, scale in qn.scales.items():
        if scale.points is None or scale.points < 2:
            problems.add(("scales", name, "points"), "a scale needs at least 2 points")
    section_ids: set[str] = set()
    all_ids = [q.id for q in qn.questions()]
    earlier: dict[str, Question] = {}
    split_ids = {s.id for s in qn.splits}
    position = 0
    for si, section in enumerate(qn.sections):
        if section.id in section_ids:
            problems.add(("sections", si, "id"), f"duplicate section id {section.id!r}")
        section_ids.add(section.id)
        for qi, q in enumerate(section.questions):
            where = ("sections", si, "questions", qi)
            if q.id in seen:
                problems.add((*where, "id"), f"duplicate question id {q.id!r} "
                             f"(also {seen[q.id]})")
            else:
                seen[q.id] = format_where(si, qi)
            _check_question(q, qn, where, problems)
            for var in q.variables:
                if var in var_seen and var_seen[var] != format_where(si, qi) and var != q.id:
                    problems.add((*where,), f"variable name {var!r} is used twice "
                                 f"(also {var_seen[var]})")
                var_seen.setdefault(var, format_where(si, qi))
            if q.type == "grid":
                ids = [it.id for it in q.items or []]
                dups = sorted({x for x in ids if ids.count(x) > 1})
                if dups:
                    problems.add((*where, "items"), f"duplicate item ids {dups}")
            position += 1
            later = set(all_ids[position - 1:])
            _check_routing(q, where, earlier, later, split_ids, problems)
            earlier.setdefault(q.id, q)
    all_vars = {v.name for v in qn.variables()}
    quota_ids: set[str] = set()
    for i, quota in enumerate(qn.quotas):
        if quota.id in quota_ids:
            problems.add(("quotas", i, "id"), f"duplicate quota id {quota.id!r}")
        quota_ids.add(quota.id)
        if quota.variable not in all_vars:
            problems.add(("quotas", i, "variable"), f"unknown variable {quota.variable!r}")
        else:
            owner = qn.owner_of(quota.variable)
            codes = owner.codes if owner is not None else \
                next(({i + 1: v for i, v in enumerate(s.variants)} for s in qn.splits
                      if s.id == quota.variable), {})
            bad = [c for c in quota.targets if codes and c not in codes]
            if bad:
                problems.add(("quotas", i, "targets"),
                             f"codes {bad} are not codes of {quota.variable!r}")
        if any(v < 0 for v in quota.targets.values()):
            problems.add(("quotas", i, "targets"), "targets cannot be negative")
        total = sum(quota.targets.values())
        if quota.total is None and total <= 1 + 1e-9:
            problems.add(("quotas", i, "total"),
                         "targets look like shares; give 'total' (the sample size)")
        if quota.total is not None and abs(total - 1) > 1e-6 and abs(total - quota.total) > 1e-6:
            problems.add(("quotas", i, "targets"),
                         f"targets sum to {total:g}: expected shares summing to 1 or counts "
                         f"summing to total={quota.total}")


def format_where(si: int, qi: int) -> str:
    return f"sections[{si}].questions[{qi}]"


def _finish(doc: YamlDocument) -> Questionnaire:
    problems = ProblemList(doc, what="questionnaire")
    if doc.data is not None and not isinstance(doc.data, dict):
        problems.add((), f"expected a mapping of questionnaire fields, got "
                     f"{type(doc.data).__name__}")
        problems.raise_if_any()
    qn = validate_model(Questionnaire, doc, what="questionnaire", problems=problems)
    qn._path = doc.source
    _semantic_checks(qn, problems)
    problems.raise_if_any()
    return qn


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire file.

    Parameters
    ----------
    path : str or Path
        A YAML questionnaire (see the module docstring), e.g. ``surveys/brand_tracker.yaml``.

    Returns
    -------
    Questionnaire

    Raises
    ------
    SpecError
        Listing every problem at once, each with the file, the field path and the line.

    Examples
    --------
    >>> qn = load_questionnaire("surveys/brand_tracker.yaml")  # doctest: +SKIP
    >>> [q.id for q in qn.questions()][:3]                      # doctest: +SKIP
    """
    return _finish(load_yaml(path))


def parse_questionnaire(text: str, *, source: str = "<questionnaire>") -> Questionnaire:
    """Validate a questionnaire given as YAML text."""
    return _finish(parse_yaml(text, source=source))
