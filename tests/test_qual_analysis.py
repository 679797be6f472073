"""Frequencies, crosstabs against closed answers, co-occurrence, quotes and redaction."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from researchkit.errors import DataError, ParameterError
from researchkit.qual import (
    Redactor,
    check_codings,
    code_by_group,
    code_frequencies,
    code_reliability,
    consensus,
    cooccurrence,
    cooccurrence_heatmap,
    extract_quotes,
    parse_codebook,
    plot_code_frequencies,
    plot_code_reliability,
    presence,
    redact,
    redact_series,
)

BOOK = parse_codebook("""\
title: T
codes:
  - {id: offer, label: Offer, definition: groups, codable: false}
  - {id: price, parent: offer, label: Price, definition: prices}
  - {id: loyalty, parent: offer, label: Loyalty, definition: points}
  - {id: support, label: Support, definition: call centre}
""")
SEGS = pd.DataFrame({
    "segment": [f"d{d}:{t}" for d in (1, 2) for t in range(1, 5)],
    "document": ["d1"] * 4 + ["d2"] * 4,
    "speaker": ["Moderator", "Anna", "Boris", "Anna", "Moderator", "Olga", "Ivan", "Olga"],
    "role": ["moderator", "participant", "participant", "participant"] * 2,
    "participant": [None, "P1", "P2", "P1", None, "P3", "P4", "P3"],
    "group": [None, "young", "old", "young", None, "old", "old", "old"],
    "text": ["Welcome Anna", "Prices are high, call me on +44 20 7946 0958",
             "Points expire. Anna agrees.", "The hotline kept me on hold",
             "Hi", "Too expensive; write to olga@example.com", "I like the points",
             "Support was fine"],
})
CODES = pd.DataFrame({"segment": ["d1:2", "d1:3", "d1:4", "d1:4", "d2:2", "d2:3", "d2:3",
                                  "d2:4"],
                      "code": ["price", "loyalty", "support", "price", "price", "loyalty",
                               "price", "support"],
                      "coder": "lead"})


def test_code_frequencies_overall_and_by_group():
    f = code_frequencies(CODES, SEGS, codebook=BOOK).set_index("code")
    assert f.loc["price", "n_segments"] == 4 and f.loc["price", "share_segments"] == 4 / 6
    assert f.loc["price", "n_participants"] == 3 and f.loc["price", "share_participants"] == 3 / 4
    assert f.loc["support", "n_documents"] == 2 and f.loc["loyalty", "label"] == "Loyalty"
    assert list(f.index) == ["price", "loyalty", "support"]          # codebook order
    g = code_frequencies(CODES, SEGS, by="group", codebook=BOOK)
    old = g[g["group"] == "old"].set_index("code")
    assert old.loc["price", "n_segments"] == 2 and old.loc["price", "group_segments"] == 4
    assert old.loc["support", "share_participants"] == 1 / 3
    r = code_frequencies(CODES, SEGS, codebook=BOOK, rollup=True).set_index("code")
    assert r.loc["offer", "n_segments"] == 5          # segments with price or loyalty
    d = code_frequencies(CODES, SEGS, by="document").set_index(["document", "code"])
    assert d.loc[("d1", "price"), "share_segments"] == pytest.approx(2 / 3)
    with pytest.raises(ParameterError, match="no such segment column"):
        code_frequencies(CODES, SEGS, by="region")
    with pytest.raises(ParameterError, match="rollup needs the codebook"):
        code_frequencies(CODES, SEGS, rollup=True)
    two = pd.concat([CODES, CODES.assign(coder="other")])
    with pytest.raises(ParameterError, match="several coders"):
        code_frequencies(two, SEGS)
    assert code_frequencies(two, SEGS, coder="other")["n_segments"].sum() == 8


def test_code_by_group_matches_scipy():
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(3)
    n = 300
    group = rng.choice(["a", "b", "c"], n)
    p = np.where(group == "a", 0.5, 0.2)
    has = rng.random(n) < p
    segs = pd.DataFrame({"segment": [f"r{i}" for i in range(n)], "text": "x",
                         "role": "respondent", "document": "q", "speaker": "",
                         "participant": [f"R{i}" for i in range(n)], "grp": group})
    codings = pd.DataFrame({"segment": segs["segment"][has], "code": "price", "coder": "c"})
    other = rng.random(n) < 0.3
    codings = pd.concat([codings, pd.DataFrame({"segment": segs["segment"][other],
                                                "code": "support", "coder": "c"})])
    res = code_by_group(codings, segs, "grp")
    row = res.table.set_index("code").loc["price"]
    chi2, pv, _, _ = chi2_contingency(pd.crosstab(has, group).to_numpy(), correction=False)
    assert row["chi2"] == pytest.approx(chi2) and row["p_value"] == pytest.approx(pv)
    assert row["a"] == pytest.approx(has[group == "a"].mean())
    from statsmodels.stats.multitest import multipletests

    adj = multipletests(res.table["p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(res.table["p_adjusted"], adj)
    assert res.details["counts"] == {k: int((group == k).sum()) for k in ("a", "b", "c")}
    assert "Benjamini" in res.reference and "chi-square" in res.method


def test_code_by_group_participant_level():
    res = code_by_group(CODES, SEGS, "group", codebook=BOOK)
    t = res.table.set_index("code")
    assert t.loc["price", "young"] == 1.0 and t.loc["price", "old"] == pytest.approx(2 / 3)
    assert res.n == 4
    segs = SEGS.copy()
    segs.loc[3, "group"] = "old"
    with pytest.raises(DataError, match="several values"):
        code_by_group(CODES, segs, "group")


def test_cooccurrence():
    c = cooccurrence(CODES, SEGS)
    assert c.loc["price", "support"] == 1 and c.loc["price", "loyalty"] == 1
    assert c.loc["price", "price"] == 4 and (c.to_numpy() == c.to_numpy().T).all()
    j = cooccurrence(CODES, SEGS, measure="jaccard")
    assert j.loc["price", "loyalty"] == pytest.approx(1 / (4 + 2 - 1))
    cond = cooccurrence(CODES, SEGS, measure="conditional")
    assert cond.loc["loyalty", "price"] == 0.5 and cond.loc["price", "loyalty"] == 0.25
    per_person = cooccurrence(CODES, SEGS, unit="participant")
    assert per_person.loc["price", "support"] == 2 and per_person.attrs["n_units"] == 4
    labelled = cooccurrence(CODES, SEGS, codebook=BOOK)
    assert list(labelled.index) == ["Price", "Loyalty", "Support"]
    fig = cooccurrence_heatmap(labelled)
    assert fig.axes
    plt.close(fig)
    with pytest.raises(ParameterError, match="measure"):
        cooccurrence(CODES, SEGS, measure="lift")


def test_quotes_are_redacted_and_keep_attributes():
    q = extract_quotes(CODES, SEGS, ["price", "support"], codebook=BOOK)
    assert q["code"].tolist() == ["price", "price", "price", "price", "support", "support"]
    first = q.iloc[0]
    assert first["quote"] == "Prices are high, call me on [PHONE]"
    assert first["participant"] == "P1" and first["group"] == "young"
    assert "speaker" not in q.columns
    olga = q[q["segment"] == "d2:2"].iloc[0]
    assert olga["quote"] == "Too expensive; write to [EMAIL]" and olga["n_redacted"] == 1
    names = extract_quotes(CODES, SEGS, "loyalty")
    assert names.iloc[0]["quote"] == "Points expire. [NAME] agrees."
    raw = extract_quotes(CODES, SEGS, "loyalty", redact=False)
    assert raw.iloc[0]["quote"] == "Points expire. Anna agrees." and "speaker" in raw.columns
    longest = extract_quotes(CODES, SEGS, "price", order="length", max_quotes=1)
    assert longest.iloc[0]["segment"] == "d1:2"
    rnd1 = extract_quotes(CODES, SEGS, "price", order="random", seed=1)
    rnd2 = extract_quotes(CODES, SEGS, "price", order="random", seed=1)
    assert rnd1["segment"].tolist() == rnd2["segment"].tolist()
    parent = extract_quotes(CODES, SEGS, "offer", codebook=BOOK, include_children=True)
    assert len(parent) == 5 and set(parent["code"]) == {"offer"}
    with pytest.raises(DataError, match="never applied"):
        extract_quotes(CODES, SEGS, "privacy")


PHONES = ["+44 20 7946 0958", "+1 (555) 123-4567", "(555) 123-4567", "555-123-4567",
          "+7 (495) 123-45-67", "8 800 555 35 35", "+33 1 23 45 67 89", "020 7946 0958",
          "+49 30 123456", "0049 30 123456", "+7 916 123 45 67", "555.123.4567",
          "89161234567", "+44 7700 900123", "+7-916-123-45-67", "07700 900 123"]
NOT_PHONES = ["in 2023 I", "on 12.05.2024 I", "on 2024-05-12", "at 10:30", "order 12345",
              "£1,299.99", "3-4 times", "1999-2005", "costs 12 500 rub", "version 1.2.3",
              "room 101"]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_international_formats(phone):
    assert redact(f"Call me on {phone}, thanks.") == "Call me on [PHONE], thanks."
    assert redact(f"Call {phone}.") == "Call [PHONE]."


@pytest.mark.parametrize("text", NOT_PHONES)
def test_numbers_that_are_not_phones(text):
    assert redact(text) == text


def test_emails_and_names():
    text = ("Anna's friend Annabel and ANNA K. said hi; anna.k+shop@mail.co.uk wrote. "
            "Olga-Maria too, and O'Neil")
    out = redact(text, names=["Anna", "Anna K.", "Olga-Maria", "O'Neil", "  "])
    assert out == ("[NAME]'s friend Annabel and [NAME] said hi; [EMAIL] wrote. [NAME] too, "
                   "and [NAME]")
    assert redact("Mail: first.last@sub.example.org!") == "Mail: [EMAIL]!"
    rd = Redactor(names=["Ivan"], phones=False, name_tag="<N>")
    assert rd("Ivan: 555-123-4567") == "<N>: 555-123-4567"
    table = redact_series(pd.Series(["a@b.com or c@d.org", None]), names=["x"])
    assert table["n_email"].tolist() == [2, 0] and pd.isna(table["text"].iloc[1])
    with pytest.raises(ParameterError, match="list of names"):
        redact("x", names="Anna")


def test_plots_return_figures():
    f = code_frequencies(CODES, SEGS, by="group", codebook=BOOK)
    fig = plot_code_frequencies(f, by="group")
    assert fig.axes[0].get_xlabel() == "share participants"
    plt.close(fig)
    r = code_reliability(pd.concat([CODES, CODES.assign(coder="b")]), n_boot=0)
    fig = plot_code_reliability(r)
    assert len(fig.axes[0].get_yticklabels()) == 4
    plt.close(fig)


@pytest.mark.parametrize("call,parameter,message,expected", [
    (lambda: cooccurrence(CODES, SEGS, measure="lift"), "measure", "unknown measure",
     "'count', 'jaccard' or 'conditional'"),
    (lambda: cooccurrence(CODES, SEGS, unit="wave"), "unit", "unknown unit",
     "'segment', 'participant' or 'document'"),
    (lambda: code_by_group(CODES, SEGS, by="role", unit="wave"), "unit", "unknown unit",
     "'participant' or 'segment'"),
    (lambda: extract_quotes(CODES, SEGS, "price", order="best"), "order", "unknown order",
     "'document', 'length' or 'random'"),
    (lambda: consensus(CODES, rule="vote"), "rule", "unknown consensus rule",
     "'majority', 'unanimous' or 'any'"),
    (lambda: consensus(CODES, unresolved="ask"), "unresolved", "unknown option",
     "'error', 'drop' or 'keep'"),
    (lambda: check_codings(CODES, duplicates="keep"), "duplicates", "unknown option",
     "'error' or 'drop'"),
    (lambda: presence(CODES, uncoded="zero"), "uncoded", "unknown option",
     "'exclude' or 'include'"),
])
def test_unknown_options_name_the_parameter_and_the_choices(call, parameter, message, expected):
    with pytest.raises(ParameterError) as err:
        call()
    assert err.value.message == message and err.value.parameter == parameter
    assert err.value.expected == expected
