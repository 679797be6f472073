"""Surveys: from questionnaire to weighted, tested tables.

Questionnaire
    :func:`load_questionnaire` (YAML, validated, every problem listed), :func:`to_markdown`,
    :func:`to_html`, :func:`data_map`; routing conditions in a small safe language
    (:func:`parse_condition`).
Sampling
    :func:`sample_size`, :func:`sample_size_mean`, :func:`krejcie_morgan`, :func:`allocate`,
    :func:`simple_random_sample`, :func:`systematic_sample`, :func:`stratified_sample`,
    :func:`cluster_sample`, :func:`quota_status`, :class:`QuotaTracker`.
Cleaning
    :func:`validate_responses`, :func:`quality_flags`, :func:`clean`.
Weighting
    :func:`rake`, :func:`poststratify`, :func:`weight_diagnostics`, :func:`plot_weights`.
Estimates and tables
    :func:`weighted_proportions`, :func:`weighted_mean`, :func:`banner`, :func:`chi_square`,
    :func:`cronbach_alpha`, :func:`nps`, :func:`top_box`, :func:`efa`.
SPSS
    :func:`export_sav`, :func:`read_sav`.
"""

from __future__ import annotations

from researchkit.survey.allocation import allocate
from researchkit.survey.banner_table import BannerTable, RowSpec, banner
from researchkit.survey.charts import plot_estimates
from researchkit.survey.chisq import chi_square
from researchkit.survey.diagnostics import effective_n, plot_weights, weight_diagnostics
from researchkit.survey.draws import (
    cluster_sample,
    simple_random_sample,
    stratified_sample,
    systematic_sample,
)
from researchkit.survey.estimates import weighted_mean, weighted_proportions
from researchkit.survey.factor import EFAResult, efa
from researchkit.survey.poststratification import poststratify
from researchkit.survey.quality import (
    CleanResult,
    clean,
    flag_duplicates,
    flag_speeders,
    flag_straightliners,
    quality_flags,
)
from researchkit.survey.questionnaire import (
    Question,
    Questionnaire,
    load_questionnaire,
    parse_questionnaire,
)
from researchkit.survey.quotas import QuotaTracker, quota_status
from researchkit.survey.raking import WeightingResult, rake
from researchkit.survey.reliability import cronbach_alpha
from researchkit.survey.render import data_map, to_html, to_markdown
from researchkit.survey.routing import Condition, parse_condition
from researchkit.survey.sample_sizes import (
    krejcie_morgan,
    sample_size,
    sample_size_mean,
    sample_size_table,
)
from researchkit.survey.scores import nps, top_box
from researchkit.survey.spss import export_sav, read_sav
from researchkit.survey.validate import validate_responses

__all__ = [
    "BannerTable",
    "CleanResult",
    "Condition",
    "EFAResult",
    "Question",
    "Questionnaire",
    "QuotaTracker",
    "RowSpec",
    "WeightingResult",
    "allocate",
    "banner",
    "chi_square",
    "clean",
    "cluster_sample",
    "cronbach_alpha",
    "data_map",
    "efa",
    "effective_n",
    "export_sav",
    "flag_duplicates",
    "flag_speeders",
    "flag_straightliners",
    "krejcie_morgan",
    "load_questionnaire",
    "nps",
    "parse_condition",
    "parse_questionnaire",
    "plot_estimates",
    "plot_weights",
    "poststratify",
    "quality_flags",
    "quota_status",
    "rake",
    "read_sav",
    "sample_size",
    "sample_size_mean",
    "sample_size_table",
    "simple_random_sample",
    "stratified_sample",
    "systematic_sample",
    "to_html",
    "to_markdown",
    "top_box",
    "validate_responses",
    "weight_diagnostics",
    "weighted_mean",
    "weighted_proportions",
]
