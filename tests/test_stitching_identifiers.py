"""E-mail and phone normalisation (identity stitching inputs).

Phone numbers are checked against Google's libphonenumber (Python port ``phonenumbers``), an
independent implementation of the national numbering plans.
"""

from __future__ import annotations

import pandas as pd
import pytest

from researchkit.channels.identifiers import (
    normalize_email,
    normalize_emails,
    normalize_phone,
    normalize_phones,
)
from researchkit.errors import ParameterError


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Ivan.Petrov@Mail.RU ", "ivan.petrov@mail.ru"),
    ("Ivan.Petrov+shop@gmail.com", "ivanpetrov@gmail.com"),
    ("i.v.a.n.petrov@googlemail.com", "ivanpetrov@gmail.com"),
    ("anna+promo@outlook.com", "anna@outlook.com"),
    ("anna.k@ya.ru", "anna-k@yandex.ru"),
    ("anna-k+x@yandex.by", "anna-k@yandex.ru"),
    ("mailto:olga@bk.ru", "olga@bk.ru"),
    # plus addressing is not folded for providers that do not document it
    ("olga+1@mail.ru", "olga+1@mail.ru"),
])
def test_email_normalisation(raw, expected):
    assert normalize_email(raw) == (expected, "ok")


def test_email_provider_rules_can_be_switched_off():
    assert normalize_email("Ivan.Petrov+x@gmail.com", provider_rules=False) == (
        "ivan.petrov+x@gmail.com", "ok")


@pytest.mark.parametrize(("raw", "reason"), [
    ("ivan.petrov at mail.ru", "exactly one '@'"),
    ("ivan@@mail.ru", "exactly one '@'"),
    ("ivan@mail", "no top-level part"),
    ("@mail.ru", "empty local part"),
    ("iv an@mail.ru", "spaces"),
    ("ivan..p@mail.ru", "invalid characters"),
    ("ivan@-mail.ru", "invalid characters"),
    ("+tag@gmail.com", "empty local part"),
])
def test_malformed_emails_are_reported_not_repaired(raw, reason):
    norm, status = normalize_email(raw)
    assert norm is None and reason in status


def test_missing_emails_and_vectorised_form():
    out = normalize_emails(pd.Series(["A@B.ru", None, "", "bad", "A@B.ru"], index=list("vwxyz")))
    assert list(out.index) == list("vwxyz")
    assert out["normalized"].isna().tolist() == [False, True, True, True, False]
    assert out.loc[["v", "z"], "normalized"].tolist() == ["a@b.ru", "a@b.ru"]
    assert out["status"].tolist()[:3] == ["ok", "missing", "missing"]
    assert out.loc["y", "status"].startswith("malformed")


PHONES = [
    ("8 (916) 123-45-67", "RU"), ("+7 916 123 45 67", "RU"), ("79161234567", "RU"),
    ("9161234567", "RU"), ("8-495-123-45-67", "RU"), ("810 44 20 7946 0018", "RU"),
    ("+44 20 7946 0018", "RU"), ("020 7946 0018", "GB"), ("(212) 555-0134", "US"),
    ("1-212-555-0134", "US"), ("011 49 30 1234567", "US"), ("030 1234567", "DE"),
    ("+49 30 1234567", "GB"), ("06 12 34 56 78", "FR"), ("+33 6 12 34 56 78", "RU"),
    ("8 029 123-45-67", "BY"), ("+375 29 123 45 67", "RU"), ("0671234567", "UA"),
    ("612 345 678", "ES"), ("+48 512 345 678", "RU"), ("8 701 123 4567", "KZ"),
]


@pytest.mark.parametrize(("raw", "country"), PHONES)
def test_phones_match_libphonenumber(raw, country):
    phonenumbers = pytest.importorskip("phonenumbers")
    parsed = phonenumbers.parse(raw if not raw.startswith(("810", "011")) else
                                "+" + raw.replace(" ", "")[3:], country)
    expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(raw, default_country=country) == (expected, "ok")


@pytest.mark.parametrize(("raw", "reason"), [
    ("916-12", "needs 10 digits"),
    ("8 916 123 45 678", "needs 10 digits"),
    ("+7 916 123", "needs 10 digits"),
    ("+0 123 456 789", "cannot start with 0"),
    ("+999 123 456 789", "unknown country code"),
    ("call me: 916 1234567", "letters or symbols"),
    ("12", "too short"),
    ("+1234567890123456", "needs 10 digits"),
    ("+234 1234567890123456", "wrong length"),
])
def test_malformed_phones_are_reported(raw, reason):
    norm, status = normalize_phone(raw)
    assert norm is None and reason in status, status


def test_phone_from_integer_and_missing():
    assert normalize_phone(79161234567) == ("+79161234567", "ok")
    assert normalize_phone(None) == (None, "missing")
    assert normalize_phone("  ") == (None, "missing")
    out = normalize_phones(["8 916 123-45-67", float("nan"), "x"])
    assert out["status"].tolist()[:2] == ["ok", "missing"]


def test_unknown_default_country_is_a_parameter_error():
    with pytest.raises(ParameterError, match="default_country"):
        normalize_phone("123", default_country="XX")
    with pytest.raises(ParameterError, match="default_country"):
        normalize_phones(["123"], default_country="Narnia")
