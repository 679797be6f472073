"""Vectorised identifier normalisation equals the scalar functions, value by value.

``normalize_emails`` / ``normalize_phones`` normalise printable-ASCII values with Arrow string
kernels and everything else with the scalar ``normalize_email`` / ``normalize_phone``. Here both
run on large random and adversarial samples (Unicode, control characters, provider aliases,
trunk and international prefixes of every supported country, numbers, missing values) and must
agree exactly, and the DataFrames must equal the reference implementation's (same dtypes).
"""

from __future__ import annotations

import _attribution_reference as ref
import numpy as np
import pandas as pd
import pytest

from researchkit.channels.identifiers import (
    COUNTRY_RULES,
    normalize_email,
    normalize_emails,
    normalize_phone,
    normalize_phones,
)

_ODD = ["é", "İ", "ß", "\u00a0", "\u2028", "\t", "\n", "\x1c", "\x00", "Ａ", "٣", "'"]


def assert_exact(left, right, **kwargs) -> None:
    pd.testing.assert_frame_equal(left, right, check_exact=True, **kwargs)


def _random_emails(n: int, seed: int) -> list[object]:
    rng = np.random.default_rng(seed)
    letters = [*list("abcXYZ019.+-_!#'`{}~|"), " ", "@", ".."]
    domains = ["gmail.com", "GoogleMail.com", "ya.ru", "yandex.by", "yandex.ru", "outlook.com",
               "mail.ru", "icloud.com", "pm.me", "x", "-bad.ru", "a.b.c.d.museum", "b..ru",
               "gmail.com.", "ma il.ru", "bk.r", "x" * 70 + ".com", "d.co" + "m" * 70]
    out: list[object] = []
    for _ in range(n):
        k = rng.integers(0, 12)
        local = "".join(rng.choice(letters, size=rng.integers(0, 9)))
        if k == 0:
            local = "a" * int(rng.integers(60, 70))
        if k == 1:
            local += rng.choice(_ODD)
        value = f"{local}@{rng.choice(domains)}"
        if k == 2:
            value = value.upper()
        if k == 3:
            value = "  " + value + rng.choice([" ", "  ", "\t", ""])
        if k == 4:
            value = rng.choice(["mailto:", "MAILTO:", "mailto: "]) + value
        if k == 5:
            value = rng.choice(["", " ", "mailto:", "@", "a@", "@b.ru", "a@@b.ru", "+@gmail.com",
                                "+x@outlook.com", "a.b+c+d@gmail.com", ".a@gmail.com"])
        if k == 6:
            value = value.replace("@", rng.choice(["", "@@", " at "]))
        if k == 7:
            value = local + "@" + "y" * 250 + ".ru"
        out.append(value)
    return out


def _random_phones(n: int, seed: int) -> list[object]:
    rng = np.random.default_rng(seed)
    heads = ["", "+", "8", "810", "00", "011", "0", "1", "7", "+7", "+0", "+375", "80", "+1",
             "+44", "+49", "+999", "+234", "375", "380", "44", "49", "33", "91", "90"]
    seps = ["", " ", "-", "(", ")", ".", "/", "  "]
    out: list[object] = []
    for _ in range(n):
        k = rng.integers(0, 14)
        digits = "".join(rng.choice(list("0123456789"), size=rng.integers(0, 17)))
        body = ""
        for ch in digits:
            body += ch + (rng.choice(seps) if rng.random() < 0.3 else "")
        value: object = rng.choice(heads) + rng.choice(seps) + body
        if k == 0:
            value = f" {value} "
        if k == 1:
            value = str(value) + rng.choice([*_ODD, "x", "ext. 5", "#"])
        if k == 2:
            value = int(digits) if digits else 0
        if k == 3:
            value = rng.choice(["", "  ", "+", "()", "-", "+-", "12", "123", "1234"])
        if k == 4:
            value = "9" + "".join(rng.choice(list("0123456789"), size=9))
        if k == 5:
            value = "8" + "9" + "".join(rng.choice(list("0123456789"), size=9))
        out.append(value)
    return out


def _check(frame: pd.DataFrame, values: list[object], scalar) -> None:
    expected = [scalar(v) for v in values]
    got = list(zip(frame["normalized"].astype(object).where(frame["normalized"].notna(), None),
                   frame["status"], strict=True))
    mismatches = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True)
                  if not pd.isna(v) and g != e]
    assert mismatches[:5] == []


@pytest.mark.parametrize("provider_rules", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_emails_equal_the_scalar_function(provider_rules, seed):
    values = _random_emails(6000, seed)
    as_str = pd.Series(values, dtype="str")
    frame = normalize_emails(as_str, provider_rules=provider_rules)
    _check(frame, values, lambda v: normalize_email(v, provider_rules=provider_rules))
    assert_exact(frame, ref.normalize_emails(as_str,
                                                              provider_rules=provider_rules))
    mixed = [*values[:500], None, float("nan"), 5, 3.5, True, pd.NA, b"x@y.ru"]
    obj = pd.Series(mixed, dtype=object)
    assert_exact(normalize_emails(obj, provider_rules=provider_rules),
                                  ref.normalize_emails(obj, provider_rules=provider_rules))


@pytest.mark.parametrize("country", sorted(COUNTRY_RULES))
def test_vectorised_phones_equal_the_scalar_function(country):
    values = _random_phones(2500, seed=sorted(COUNTRY_RULES).index(country))
    text = [v if isinstance(v, str) else str(v) for v in values]
    as_str = pd.Series(text, dtype="str")
    frame = normalize_phones(as_str, default_country=country)
    _check(frame, text, lambda v: normalize_phone(v, default_country=country))
    assert_exact(frame, ref.normalize_phones(as_str, default_country=country))
    mixed = pd.Series([*values, None, float("nan"), 79161234567.0, True, np.int64(89161234567),
                       -79161234567], dtype=object)
    assert_exact(normalize_phones(mixed, default_country=country),
                                  ref.normalize_phones(mixed, default_country=country))


def test_vectorised_forms_of_odd_columns_match_the_reference():
    cases = [pd.Series([], dtype="str"), pd.Series([None, None], dtype="str"),
             pd.Series([np.nan, np.nan]), pd.Series(["x", "y"], dtype="str"),
             pd.Series([79161234567, 89161234567, 79161234567]),
             pd.Series(["a@b.ru", None], dtype="string"),
             pd.Series(["8 916 123-45-67", None], dtype=object, index=[5, 3])]
    for values in cases:
        assert_exact(normalize_phones(values), ref.normalize_phones(values))
        assert_exact(normalize_emails(values), ref.normalize_emails(values))
