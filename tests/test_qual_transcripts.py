"""Transcripts (plain text, WebVTT, SRT, .docx), screener joins and open-ended answers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from researchkit.datasets import simulate_focus_groups
from researchkit.errors import DataError, ParameterError
from researchkit.qual import (
    SEGMENT_COLUMNS,
    join_participants,
    open_ends_to_segments,
    parse_transcript,
    read_transcript,
    read_transcripts,
)

TEXT = """\
Focus group 3 - 12 May 2026
[00:00:05] Moderator: Welcome everyone. Let's start.
[00:00:12] Anna K.: Hi, I'm Anna.
I shop mostly online.
[laughter]
00:01:02 P2: I prefer stores: I like to touch things.
Boris (00:01:30): The app crashed again!
Olga [01:31 - 01:40]: ok
Participant 3 (Olga): fine
I'll tell you what the thing is here: the app is bad
"""


def test_plain_text_turns_times_roles_and_continuations():
    df = parse_transcript(TEXT, document="fg3", header_lines=1)
    assert list(df.columns) == SEGMENT_COLUMNS
    assert df["speaker"].tolist() == ["Moderator", "Anna K.", "P2", "Boris", "Olga",
                                      "Participant 3 (Olga)"]
    assert df["role"].tolist() == ["moderator"] + ["participant"] * 5
    assert df["start"].tolist()[:5] == [5.0, 12.0, 62.0, 90.0, 91.0]
    assert df.loc[4, "end"] == 100.0 and np.isnan(df.loc[0, "end"])
    assert df.loc[1, "text"] == "Hi, I'm Anna. I shop mostly online. [laughter]"
    assert df.loc[2, "text"] == "I prefer stores: I like to touch things."
    assert df.loc[5, "text"].endswith("the app is bad")  # long line with a colon: continuation
    assert df["segment"].tolist()[0] == "fg3:1" and df["line"].tolist() == [2, 3, 6, 7, 8, 9]


def test_malformed_lines_are_reported_with_line_numbers():
    text = "Title line\n[00:00:01] Mod: hi\n[00:75:00] Olga: impossible\n[00:02:00]\n" \
           "[00:03:00 - 00:02:00] Ivan: backwards\n"
    with pytest.raises(DataError) as err:
        parse_transcript(text, source="fg.txt")
    msg = str(err.value)
    assert msg.startswith("fg.txt: 4 malformed lines")
    for needle in ["line 1: no 'Speaker: text' label", "line 3: impossible time '00:75:00'",
                   "line 4: a timestamp without", "line 5: the end time is before"]:
        assert needle in msg
    with pytest.warns(UserWarning, match="left out 4 malformed lines"):
        df = parse_transcript(text, errors="skip")
    assert df["speaker"].tolist() == ["Mod"]
    assert [p["line"] for p in df.attrs["problems"]] == [1, 3, 4, 5]


def test_expected_speakers_and_no_continuations():
    text = "Moderator: hi\nAnna: yes\nAnne: typo in the name\nwrapped line\n"
    with pytest.raises(DataError, match="line 3: speaker 'Anne' is not one of the expected"):
        parse_transcript(text, speakers=["Moderator", "Anna"])
    with pytest.raises(DataError, match="line 4: no 'Speaker: text' label"):
        parse_transcript(text, continuation=False)
    df = parse_transcript(text, moderators=["anna"])
    assert df["role"].tolist() == ["participant", "moderator", "participant"]


VTT = """\
WEBVTT
Kind: captions

NOTE produced by the recorder

STYLE
::cue { color: white }

1
00:00:01.000 --> 00:00:04.000
<v Moderator>Hello <i>all</i> &amp; welcome</v>

00:00:04.500 --> 00:00:06.000 align:start
<v Moderator>Let's start.

00:00:06.000 --> 00:00:09.000
Anna: I use the app.

00:00:10.000 --> 00:00:09.000
Bad: cue

00:00:11.000 --> 00:00:12.500
<v.loud Boris>Me too
"""


def test_webvtt():
    with pytest.raises(DataError, match="line 19: the end time is before the start time"):
        parse_transcript(VTT, format="vtt")
    with pytest.warns(UserWarning):
        df = parse_transcript(VTT, format="vtt", errors="skip")
    assert df["speaker"].tolist() == ["Moderator", "Anna", "Boris"]
    assert df.loc[0, "text"] == "Hello all & welcome Let's start."   # consecutive cues merged
    assert (df.loc[0, "start"], df.loc[0, "end"]) == (1.0, 6.0)
    unmerged = parse_transcript(VTT.replace("00:00:10.000 --> 00:00:09.000", "00:00:09.000 --> "
                                            "00:00:10.000"), format="vtt", merge=False)
    assert len(unmerged) == 5
    with pytest.raises(DataError, match="line 1: a WebVTT file starts with 'WEBVTT'"):
        parse_transcript("00:00:01.000 --> 00:00:02.000\nhi\n", format="vtt")


SRT = """\
1
00:00:01,000 --> 00:00:04,000
Moderator: Hello

2
00:00:04,000 --> 00:00:06,500
Anna: <i>Hi</i>
there

3
00:00:07,000 -> 00:00:08,000
Anna: broken arrow

4
Anna: no timing at all
"""


def test_srt():
    with pytest.raises(DataError) as err:
        parse_transcript(SRT, format="srt")
    assert "line 10: a cue without a 'start --> end' timing line" in str(err.value)
    assert "line 14: a cue without" in str(err.value)
    with pytest.warns(UserWarning):
        df = parse_transcript(SRT, format="srt", errors="skip")
    assert df["text"].tolist() == ["Hello", "Hi there"]
    assert df["end"].tolist() == [4.0, 6.5]


def _docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def par(t: str) -> str:
        head, _, tail = t.partition("\t")
        runs = f"<w:r><w:t xml:space='preserve'>{head}</w:t></w:r>"
        if tail:
            runs += f"<w:r><w:tab/><w:t>{tail}</w:t></w:r>"
        return f"<w:p>{runs}</w:p>"

    body = "".join(par(p) for p in paragraphs)
    if table:
        rows = "".join("<w:tr>" + "".join(f"<w:tc>{par(c)}</w:tc>" for c in row) + "</w:tr>"
                       for row in table)
        body += f"<w:tbl>{rows}</w:tbl>"
    xml = f"<?xml version='1.0' encoding='UTF-8'?><w:document xmlns:w='{w}'><w:body>{body}" \
          "</w:body></w:document>"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)
    return path


def test_docx_paragraphs_and_tables(tmp_path):
    path = _docx(tmp_path / "fg1.docx",
                 ["Focus group 1", "[00:00:01] Moderator: Hello", "[00:00:09] Anna: Hi",
                  "more from Anna", ""],
                 table=[["Boris", "From the table"], ["00:01:10", "Olga", "Timed row"]])
    df = read_transcript(path, header_lines=1)
    assert df["document"].unique().tolist() == ["fg1"]
    assert df["speaker"].tolist() == ["Moderator", "Anna", "Boris", "Olga"]
    assert df.loc[1, "text"] == "Hi more from Anna" and df.loc[3, "start"] == 70.0
    bad = _docx(tmp_path / "bad.docx", ["no speaker here", "Anna: fine"])
    with pytest.raises(DataError, match="paragraph 1: no 'Speaker: text' label"):
        read_transcript(bad)
    notzip = tmp_path / "x.docx"
    notzip.write_text("hello")
    with pytest.raises(DataError, match=r"not a \.docx file"):
        read_transcript(notzip)


def test_read_files_and_folders(tmp_path):
    (tmp_path / "a.txt").write_text("Moderator: hi\nAnna: hello\n", encoding="utf-8")
    (tmp_path / "b.vtt").write_text("\ufeffWEBVTT\n\n00:00:01.000 --> 00:00:02.000\n"
                                    "<v Ivan>yes\n", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("x\n")
    both = read_transcripts(tmp_path)
    assert both["document"].tolist() == ["a", "a", "b"]
    (tmp_path / "c.txt").write_bytes("Анна: привет".encode("cp1251"))
    with pytest.raises(DataError, match="not valid utf-8 text"):
        read_transcript(tmp_path / "c.txt")
    assert read_transcript(tmp_path / "c.txt", encoding="cp1251")["speaker"][0] == "Анна"
    with pytest.raises(DataError, match="unknown transcript format"):
        read_transcript(tmp_path / "notes.csv")
    with pytest.raises(DataError, match="file not found"):
        read_transcript(tmp_path / "missing.txt")
    with pytest.raises(ParameterError, match="errors") as err:
        read_transcript(tmp_path / "a.txt", errors="ignore")
    assert err.value.expected == "'raise' or 'skip'"
    with pytest.raises(ParameterError, match="unknown transcript format") as err:
        parse_transcript("Anna: hi", format="html")  # type: ignore[arg-type]
    assert err.value.parameter == "format"
    assert err.value.expected == "'text', 'vtt', 'srt' or 'docx'"


def test_join_participants():
    segs = parse_transcript("Moderator: hi\nAnna: a\nBoris: b\n", document="fg1")
    segs2 = parse_transcript("Moderator: hi\nAnna: c\n", document="fg2")
    all_segs = pd.concat([segs, segs2], ignore_index=True)
    screener = pd.DataFrame({"participant": ["P1", "P2", "P3"], "document": ["fg1", "fg1", "fg2"],
                             "name": ["Anna", "Boris", "anna"], "age": [30, 40, 50]})
    out = join_participants(all_segs, screener, label="name", document="document")
    assert out["participant"].tolist()[1:3] == ["P1", "P2"] and out.loc[4, "participant"] == "P3"
    assert np.isnan(out.loc[0, "age"]) and out.loc[4, "age"] == 50
    with pytest.raises(DataError, match="share a speaker label"):
        join_participants(all_segs, screener.drop(columns="document"), label="name")
    short = screener.iloc[:2]
    with pytest.raises(DataError, match="1 speakers have no row") as err:
        join_participants(all_segs, short, label="name", document="document")
    assert "fg2/Anna" in str(err.value)
    with pytest.warns(UserWarning):
        kept = join_participants(all_segs, short, label="name", document="document",
                                 unmatched="keep")
    assert kept["participant"].isna().sum() == 3
    with pytest.raises(DataError, match="unique"):
        join_participants(all_segs, pd.concat([screener, screener.head(1)]), label="name",
                          document="document")


def test_open_ends_to_segments():
    data = pd.DataFrame({"id": [1, 2, 3, 4], "why": ["Good app", None, "  ", "Rude staff"],
                         "sat": [5, 3, 2, 1]})
    segs = open_ends_to_segments(data, text="why", id="id", document="q7")
    assert segs["segment"].tolist() == ["q7:1", "q7:4"] and segs.attrs["n_empty"] == 2
    assert segs["line"].tolist() == [1, 4] and segs["sat"].tolist() == [5, 1]
    assert (segs["role"] == "respondent").all()
    assert len(open_ends_to_segments(data, text="why", id="id", drop_empty=False)) == 4
    with pytest.raises(DataError, match="respondent ids repeat"):
        open_ends_to_segments(pd.concat([data, data]), text="why", id="id")
    with pytest.raises(DataError, match="must be text"):
        open_ends_to_segments(data.assign(why=[1, 2, 3, 4]), text="why", id="id")
    with pytest.raises(DataError, match="lacks required columns"):
        open_ends_to_segments(data, text="answer", id="id")


def test_simulated_transcripts_parse_back_to_the_segments():
    sim = simulate_focus_groups(2, seed=3)
    parsed = pd.concat([parse_transcript(t, document=d, header_lines=1)
                        for d, t in sim.data["transcripts"].items()], ignore_index=True)
    expected = sim.data["segments"].drop(columns="section")
    pd.testing.assert_frame_equal(parsed, expected, check_dtype=False)
    screener = sim.data["participants"]
    joined = join_participants(parsed, screener, label="name", document="document")
    assert joined.loc[joined["role"] == "participant", "participant"].notna().all()
    assert screener.groupby("document").size().between(6, 12).all()
