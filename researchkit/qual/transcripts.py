"""Focus-group and interview transcripts into a segments table.

Formats
-------
* **plain text** (``.txt``, ``.md``): one turn per line, ``Speaker: utterance``, with an
  optional timestamp before the speaker (``[00:12:05] Anna: ...``, ``00:12:05 Anna: ...``,
  ``[00:12:05 - 00:12:31] Anna: ...``) or after it (``Anna (00:12:05): ...``). A line without a
  speaker label continues the turn above it (wrapped text, ``[laughter]``...).
* **WebVTT** (``.vtt``): cues with ``<v Speaker>`` voice tags or ``Speaker:`` prefixes;
  ``NOTE``, ``STYLE`` and ``REGION`` blocks are skipped, markup is removed.
* **SRT** (``.srt``): numbered cues, speaker from a ``Speaker:`` prefix.
* **Word** (``.docx``): paragraphs read like plain-text lines; two-column tables
  (speaker | text) and three-column tables (time | speaker | text) become turns too. Read with
  the standard library (``zipfile`` + XML), no extra dependency.

The result is a segments table with columns ``segment, document, turn, speaker, role, start,
end, text, line`` (``start``/``end`` in seconds, NaN when the file has no times; ``line`` is the
line, cue or paragraph the turn starts on; ``role`` is ``moderator`` or ``participant``).

Malformed lines (a timestamp without a speaker, impossible times, a line before the first turn,
a cue without timing, a speaker not in ``speakers=``...) are reported together with their line
numbers: ``errors="raise"`` (default) raises one :class:`~researchkit.errors.DataError` listing
them; ``errors="skip"`` leaves them out, warns, and lists them in ``df.attrs["problems"]``.
"""

from __future__ import annotations

import html
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from researchkit.errors import DataError, ParameterError
from researchkit.qual._checks import check_choice

__all__ = ["SEGMENT_COLUMNS", "parse_transcript", "read_transcript", "read_transcripts"]

SEGMENT_COLUMNS = ["segment", "document", "turn", "speaker", "role", "start", "end", "text",
                   "line"]

Format = Literal["text", "vtt", "srt", "docx"]
_EXT = {".txt": "text", ".text": "text", ".md": "text", ".vtt": "vtt", ".srt": "srt",
        ".docx": "docx"}

_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TS_RE = re.compile(rf"^{_TS}$")
_LEAD_TS = re.compile(
    rf"^\s*(?:[\[(](?P<a>{_TS})(?:\s*(?:-|–|—|-->)\s*(?P<b>{_TS}))?[\])]|(?P<c>{_TS})"
    rf"(?:\s*(?:-|–|—|-->)\s*(?P<d>{_TS}))?)\s*")
_ANY_LEAD_TS = re.compile(r"^\s*[\[(]?\s*\d{1,2}:\d{1,2}")
_SPEAKER = re.compile(r"^(?P<speaker>[^\s:\[\]][^:\[\]]{0,59}?)\s*:(?:\s+|$)(?P<text>.*)$")
_SPEAKER_TS = re.compile(
    rf"^(?P<speaker>[^\s:\[\]][^:\[\]]{{0,59}}?)\s*[\[(](?P<a>{_TS})"
    rf"(?:\s*(?:-|–|—)\s*(?P<b>{_TS}))?[\])]\s*:(?:\s+|$)(?P<text>.*)$")
_DEFAULT_MODERATOR = re.compile(r"^(moderator|interviewer|facilitator|mod)\.?(\s*\d+)?$",
                                re.IGNORECASE)
_MAX_SPEAKER_WORDS = 5


@dataclass
class _Turn:
    speaker: str | None
    text: str
    line: int
    start: float = np.nan
    end: float = np.nan


class _Problems:
    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.items: list[dict[str, object]] = []

    def add(self, line: int, text: str, problem: str) -> None:
        self.items.append({self.unit: line, "text": text[:120], "problem": problem})


def _seconds(ts: str | None) -> float:
    """``hh:mm:ss(.mmm)`` or ``mm:ss(.mmm)`` -> seconds; ValueError for impossible times."""
    if ts is None:
        return np.nan
    ts = ts.replace(",", ".")
    parts = ts.split(":")
    sec = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    if sec >= 60 or (len(parts) == 3 and minutes >= 60):
        raise ValueError(f"impossible time {ts!r}")
    return hours * 3600 + minutes * 60 + sec


def _split_speaker(body: str) -> tuple[str, str, str | None, str | None] | None:
    a = b = None
    m = _SPEAKER_TS.match(body)
    if m:
        a, b = m.group("a"), m.group("b")
    else:
        m = _SPEAKER.match(body)
    if not m:
        return None
    speaker = m.group("speaker").strip()
    text = m.group("text").strip()
    if not speaker or len(speaker.split()) > _MAX_SPEAKER_WORDS or speaker[-1] in ",;!?":
        return None
    return speaker, text, a, b


def _parse_lines(lines: Iterable[tuple[int, str]], problems: _Problems, *,
                 speakers: set[str] | None, continuation: bool, header_lines: int
                 ) -> list[_Turn]:
    turns: list[_Turn] = []
    unit = problems.unit
    for number, raw in lines:
        line = raw.strip()
        if not line or number <= header_lines:
            continue
        start = end = None
        body = line
        lead = _LEAD_TS.match(line)
        if lead and lead.end() > 0 and (lead.group("a") or lead.group("c")):
            start = lead.group("a") or lead.group("c")
            end = lead.group("b") or lead.group("d")
            body = line[lead.end():]
        found = _split_speaker(body)
        if found is None:
            if start is not None or (_ANY_LEAD_TS.match(line) and lead is None):
                problems.add(number, raw, "a timestamp without a 'Speaker: text' label")
                continue
            if not turns:
                problems.add(number, raw, "no 'Speaker: text' label and no earlier turn to "
                             "continue (pass header_lines=... to skip a title block)")
                continue
            if not continuation:
                problems.add(number, raw, "no 'Speaker: text' label")
                continue
            turns[-1].text = f"{turns[-1].text} {line}".strip()
            continue
        speaker, text, a2, b2 = found
        start = start or a2
        end = end or b2
        if speakers is not None and speaker.casefold() not in speakers:
            problems.add(number, raw, f"speaker {speaker!r} is not one of the expected speakers")
            continue
        try:
            t0, t1 = _seconds(start), _seconds(end)
        except ValueError as exc:
            problems.add(number, raw, str(exc))
            continue
        if np.isfinite(t0) and np.isfinite(t1) and t1 < t0:
            problems.add(number, raw, "the end time is before the start time")
            continue
        turns.append(_Turn(speaker, text, number, t0, t1))
    del unit
    return turns


def _strip_markup(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text)).strip()


_VTT_TIMING = re.compile(rf"^(?P<a>{_TS})\s+-->\s+(?P<b>{_TS})(?:\s+.*)?$")
_VOICE = re.compile(r"^<v(?:\.[^\s>]+)*\s+([^>]+)>")


def _cues(lines: list[str], problems: _Problems, fmt: str) -> list[_Turn]:
    """Parse WebVTT or SRT cues into turns (one per cue)."""
    turns: list[_Turn] = []
    i = 0
    n = len(lines)
    if fmt == "vtt":
        first = lines[0].lstrip("\ufeff") if lines else ""
        if not first.startswith("WEBVTT"):
            problems.add(1, first, "a WebVTT file starts with 'WEBVTT'")
        else:
            i = 1
            while i < n and lines[i].strip():  # header block
                i += 1
    while i < n:
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            break
        block_start = i
        block = []
        while i < n and lines[i].strip():
            block.append(lines[i].rstrip())
            i += 1
        head = block[0].strip()
        if fmt == "vtt" and (head.startswith("NOTE") or head in ("STYLE", "REGION")
                             or head.startswith(("STYLE ", "REGION "))):
            continue
        timing_at = next((k for k, b in enumerate(block[:2]) if "-->" in b), None)
        if timing_at is None:
            problems.add(block_start + 1, head, "a cue without a 'start --> end' timing line")
            continue
        timing = block[timing_at].strip()
        m = _VTT_TIMING.match(timing)
        if not m:
            problems.add(block_start + timing_at + 1, timing, "malformed cue timing")
            continue
        try:
            t0, t1 = _seconds(m.group("a")), _seconds(m.group("b"))
        except ValueError as exc:
            problems.add(block_start + timing_at + 1, timing, str(exc))
            continue
        if t1 < t0:
            problems.add(block_start + timing_at + 1, timing,
                         "the end time is before the start time")
            continue
        payload = [b.strip() for b in block[timing_at + 1:]]
        if not payload:
            continue
        speaker = None
        text = " ".join(payload)
        voice = _VOICE.match(text)
        if voice:
            speaker = voice.group(1).strip()
        text = _strip_markup(text)
        if speaker is None:
            found = _split_speaker(text)
            if found is not None:
                speaker, text = found[0], found[1]
        turns.append(_Turn(speaker, text, block_start + 1, t0, t1))
    return turns


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_lines(path: Path) -> list[tuple[int, str]]:
    """Paragraphs (and table rows) of a .docx file, numbered from 1."""
    try:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("word/document.xml")
    except zipfile.BadZipFile:
        raise DataError("not a .docx file (a .docx is a zip archive)", file=path) from None
    except KeyError:
        raise DataError("not a Word document: word/document.xml is missing", file=path) from None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise DataError(f"malformed document.xml: {exc}", file=path) from None
    body = root.find(f"{_W}body")
    if body is None:
        raise DataError("the Word document has no body", file=path)

    def para_text(p: ET.Element) -> str:
        out = []
        for el in p.iter():
            tag = el.tag
            if tag == f"{_W}t" and el.text:
                out.append(el.text)
            elif tag == f"{_W}tab":
                out.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                out.append(" ")
        return "".join(out)

    lines: list[tuple[int, str]] = []
    number = 0
    for child in body:
        if child.tag == f"{_W}p":
            number += 1
            lines.append((number, para_text(child)))
        elif child.tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                number += 1
                cells = [" ".join(para_text(p) for p in tc.iter(f"{_W}p")).strip()
                         for tc in row.iter(f"{_W}tc")]
                if len(cells) == 2 and cells[0] and cells[1]:
                    lines.append((number, f"{cells[0]}: {cells[1]}"))
                elif len(cells) == 3 and _TS_RE.match(cells[0]) and cells[1]:
                    lines.append((number, f"[{cells[0]}] {cells[1]}: {cells[2]}"))
                else:
                    lines.append((number, " ".join(cells)))
    return lines


def _merge(turns: list[_Turn]) -> list[_Turn]:
    out: list[_Turn] = []
    for t in turns:
        if out and t.speaker is not None and out[-1].speaker == t.speaker:
            prev = out[-1]
            prev.text = f"{prev.text} {t.text}".strip()
            if np.isfinite(t.end):
                prev.end = t.end
            continue
        out.append(t)
    return out


def _to_frame(turns: list[_Turn], document: str, moderators: set[str] | None) -> pd.DataFrame:
    def role(speaker: str | None) -> str | None:
        if speaker is None:
            return None
        if moderators is not None:
            return "moderator" if speaker.casefold() in moderators else "participant"
        return "moderator" if _DEFAULT_MODERATOR.match(speaker) else "participant"

    df = pd.DataFrame({
        "segment": [f"{document}:{i + 1}" for i in range(len(turns))],
        "document": document,
        "turn": np.arange(1, len(turns) + 1),
        "speaker": [t.speaker for t in turns],
        "role": [role(t.speaker) for t in turns],
        "start": np.array([t.start for t in turns], dtype=float),
        "end": np.array([t.end for t in turns], dtype=float),
        "text": [t.text for t in turns],
        "line": [t.line for t in turns],
    }, columns=SEGMENT_COLUMNS)
    return df


def _finish(turns: list[_Turn], problems: _Problems, *, document: str, source: str,
            errors: str, moderators: Sequence[str] | None, merge: bool) -> pd.DataFrame:
    if problems.items and errors == "raise":
        unit = problems.unit
        shown = "\n".join(f"  - {unit} {p[unit]}: {p['problem']}: {p['text']!r}"
                          for p in problems.items[:20])
        more = f"\n  ... and {len(problems.items) - 20} more" if len(problems.items) > 20 else ""
        raise DataError(f"{len(problems.items)} malformed {unit}s:\n{shown}{more}", file=source,
                        hint="fix them, or pass errors='skip' to leave them out")
    if problems.items:
        warnings.warn(f"{source}: left out {len(problems.items)} malformed {problems.unit}s "
                      f"(first: {problems.unit} {problems.items[0][problems.unit]}); see "
                      "df.attrs['problems']", stacklevel=3)
    if merge:
        turns = _merge(turns)
    mods = None if moderators is None else {m.casefold() for m in moderators}
    df = _to_frame(turns, document, mods)
    df.attrs["problems"] = problems.items
    df.attrs["source"] = source
    return df


def _check_args(errors: str, fmt: str | None) -> None:
    check_choice(errors, "errors", ("raise", "skip"))
    if fmt is not None:
        check_choice(fmt, "format", ("text", "vtt", "srt", "docx"), "transcript format")


def parse_transcript(
    text: str,
    *,
    document: str = "transcript",
    format: Literal["text", "vtt", "srt"] = "text",
    errors: Literal["raise", "skip"] = "raise",
    speakers: Sequence[str] | None = None,
    moderators: Sequence[str] | None = None,
    header_lines: int = 0,
    continuation: bool = True,
    merge: bool | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Parse a transcript given as text into a segments table.

    Parameters
    ----------
    text : str
    document : str
        Document id (the ``document`` column; segment ids are ``<document>:<turn>``).
    format : {"text", "vtt", "srt"}
    errors : {"raise", "skip"}
        What to do with malformed lines (see the module docstring).
    speakers : sequence of str, optional
        The expected speaker labels (case-insensitive); any other label is malformed.
    moderators : sequence of str, optional
        Labels of moderators/interviewers (default: Moderator, Interviewer, Facilitator,
        Mod, optionally numbered).
    header_lines : int
        Skip this many lines at the top (a title block) in plain text.
    continuation : bool
        Plain text: a line without a speaker label continues the previous turn (else it is
        malformed).
    merge : bool, optional
        Join consecutive turns of the same speaker into one (default: yes for subtitles, whose
        cues split sentences; no for plain text).
    source : str, optional
        Name used in messages (default: the document id).

    Returns
    -------
    DataFrame
        Columns ``segment, document, turn, speaker, role, start, end, text, line``.
    """
    _check_args(errors, format)
    if format == "docx":
        raise ParameterError("a .docx transcript is a file: use read_transcript(path)",
                             parameter="format", got=format)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    src = source or document
    spk = None if speakers is None else {s.casefold() for s in speakers}
    if format == "text":
        problems = _Problems("line")
        turns = _parse_lines(enumerate(lines, start=1), problems, speakers=spk,
                             continuation=continuation, header_lines=header_lines)
    else:
        problems = _Problems("line")
        turns = _cues(lines, problems, format)
        if spk is not None:
            kept = []
            for t in turns:
                if t.speaker is not None and t.speaker.casefold() not in spk:
                    problems.add(t.line, t.text, f"speaker {t.speaker!r} is not one of the "
                                 "expected speakers")
                else:
                    kept.append(t)
            turns = kept
    do_merge = (format != "text") if merge is None else merge
    return _finish(turns, problems, document=document, source=src, errors=errors,
                   moderators=moderators, merge=do_merge)


def read_transcript(
    path: str | Path,
    *,
    document: str | None = None,
    format: Format | None = None,
    encoding: str = "utf-8",
    errors: Literal["raise", "skip"] = "raise",
    speakers: Sequence[str] | None = None,
    moderators: Sequence[str] | None = None,
    header_lines: int = 0,
    continuation: bool = True,
    merge: bool | None = None,
) -> pd.DataFrame:
    """Read a transcript file (plain text, WebVTT, SRT or .docx) into a segments table.

    Parameters
    ----------
    path : str or Path
        The file; the format comes from the extension (``.txt .md .vtt .srt .docx``) unless
        ``format`` is given. The file is only read, never changed.
    document : str, optional
        Document id (default: the file name without extension).
    encoding : str
        Text encoding of text formats (a byte-order mark is ignored).
    errors, speakers, moderators, header_lines, continuation, merge
        As in :func:`parse_transcript`. For .docx, problems are reported by paragraph.

    Returns
    -------
    DataFrame
        Columns ``segment, document, turn, speaker, role, start, end, text, line``.
    """
    p = Path(path)
    _check_args(errors, format)
    fmt = format or _EXT.get(p.suffix.lower())
    if fmt is None:
        raise DataError(f"unknown transcript format {p.suffix or '(no extension)'!r}", file=p,
                        expected=f"one of {sorted(_EXT)} or format=...")
    if not p.is_file():
        raise DataError("file not found" if not p.exists() else "not a file", file=p)
    doc = document or p.stem
    if fmt == "docx":
        spk = None if speakers is None else {s.casefold() for s in speakers}
        problems = _Problems("paragraph")
        turns = _parse_lines(_docx_lines(p), problems, speakers=spk, continuation=continuation,
                             header_lines=header_lines)
        return _finish(turns, problems, document=doc, source=str(p), errors=errors,
                       moderators=moderators, merge=bool(merge))
    try:
        text = p.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid {encoding} text at byte {exc.start}", file=p,
                        hint="pass encoding=... (e.g. 'cp1251' or 'latin-1')") from None
    except LookupError:
        raise ParameterError("unknown encoding", parameter="encoding", got=encoding) from None
    text = text.lstrip("\ufeff")
    return parse_transcript(text, document=doc, format=fmt, errors=errors, speakers=speakers,
                            moderators=moderators, header_lines=header_lines,
                            continuation=continuation, merge=merge, source=str(p))


def read_transcripts(
    paths: str | Path | Sequence[str | Path], *, pattern: str = "*", **options: object,
) -> pd.DataFrame:
    """Read several transcripts (a folder or a list of files) into one segments table.

    Parameters
    ----------
    paths : folder, file or list of files
        A folder is searched (not recursively) for files matching ``pattern`` with a
        transcript extension, in name order.
    pattern : str
        Glob pattern inside a folder.
    **options
        Passed to :func:`read_transcript`.
    """
    if isinstance(paths, str | Path) and Path(paths).is_dir():
        files = sorted(f for f in Path(paths).glob(pattern)
                       if f.is_file() and f.suffix.lower() in _EXT)
        if not files:
            raise DataError("no transcript files in this folder", file=paths,
                            expected=f"files ending in {sorted(_EXT)}")
    elif isinstance(paths, str | Path):
        files = [Path(paths)]
    else:
        files = [Path(f) for f in paths]
    frames = [read_transcript(f, **options) for f in files]  # type: ignore[arg-type]
    docs = [f["document"].iloc[0] for f in frames if len(f)]
    dup = sorted({d for d in docs if docs.count(d) > 1})
    if dup:
        raise DataError("two files give the same document id", expected="unique file names",
                        got=dup)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=SEGMENT_COLUMNS)
    out.attrs["problems"] = [dict(p, file=f.attrs.get("source"))
                             for f in frames for p in f.attrs.get("problems", [])]
    return out
