"""Qualitative coding: codebooks, transcripts, coding, inter-coder reliability, analysis.

* **Codebooks** (:mod:`.codebook`, :mod:`.refi`): hierarchical codes in YAML, validated with
  errors naming the file, field and line; REFI-QDA ``.qdc`` import/export (NVivo, ATLAS.ti,
  MAXQDA, QualCoder).
* **Segments** (:mod:`.transcripts`, :mod:`.segments`): transcripts (plain text, WebVTT, SRT,
  .docx) and open-ended answers into one segments table; screener attributes joined.
* **Coding data** (:mod:`.coding`, :mod:`.suggest`): a tidy ``segment, code, coder, source``
  table read from / written to CSV or Parquet; keyword/regex suggestions that are never
  counted as a coder.
* **Reliability** (:mod:`.agreement`, :mod:`.krippendorff`, :mod:`.code_reliability`):
  percent agreement, Cohen's (weighted) kappa, Fleiss' kappa, Krippendorff's alpha at every
  level of measurement with missing codings, bootstrap intervals, per-code reliability;
  disagreements and consensus (:mod:`.adjudication`).
* **Analysis** (:mod:`.frequencies`, :mod:`.cooccurrence`, :mod:`.quotes`,
  :mod:`.redaction`): code frequencies by document, participant and group, crosstabs against
  closed answers, co-occurrence with heatmap, redacted quotes.
"""

from researchkit.qual.adjudication import consensus, disagreements
from researchkit.qual.agreement import (
    cohen_kappa,
    fleiss_kappa,
    pairwise_agreement,
    percent_agreement,
)
from researchkit.qual.code_reliability import code_reliability, plot_code_reliability
from researchkit.qual.codebook import Code, Codebook, load_codebook, parse_codebook
from researchkit.qual.coding import (
    CODING_COLUMNS,
    check_codings,
    human_codings,
    presence,
    read_codings,
    select_coder,
    write_codings,
)
from researchkit.qual.cooccurrence import cooccurrence, cooccurrence_heatmap
from researchkit.qual.frequencies import code_by_group, code_frequencies, plot_code_frequencies
from researchkit.qual.krippendorff import alpha_from_matrix, krippendorff_alpha
from researchkit.qual.quotes import extract_quotes
from researchkit.qual.redaction import Redactor, redact, redact_series
from researchkit.qual.refi import read_qdc, write_qdc
from researchkit.qual.segments import check_segments, join_participants, open_ends_to_segments
from researchkit.qual.suggest import suggest_codes, suggestion_accuracy
from researchkit.qual.transcripts import (
    SEGMENT_COLUMNS,
    parse_transcript,
    read_transcript,
    read_transcripts,
)

__all__ = [
    "CODING_COLUMNS",
    "SEGMENT_COLUMNS",
    "Code",
    "Codebook",
    "Redactor",
    "alpha_from_matrix",
    "check_codings",
    "check_segments",
    "code_by_group",
    "code_frequencies",
    "code_reliability",
    "cohen_kappa",
    "consensus",
    "cooccurrence",
    "cooccurrence_heatmap",
    "disagreements",
    "extract_quotes",
    "fleiss_kappa",
    "human_codings",
    "join_participants",
    "krippendorff_alpha",
    "load_codebook",
    "open_ends_to_segments",
    "pairwise_agreement",
    "parse_codebook",
    "parse_transcript",
    "percent_agreement",
    "plot_code_frequencies",
    "plot_code_reliability",
    "presence",
    "read_codings",
    "read_qdc",
    "read_transcript",
    "read_transcripts",
    "redact",
    "redact_series",
    "select_coder",
    "suggest_codes",
    "suggestion_accuracy",
    "write_codings",
    "write_qdc",
]
