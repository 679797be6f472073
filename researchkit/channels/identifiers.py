"""Normalising customer identifiers before linking records: e-mail addresses and phone numbers.

Two records can only be linked through an identifier if both spell it the same way, so every
identifier is first brought to one canonical form:

* **e-mail**: trimmed and lower-cased (the domain is case-insensitive by RFC 5321 §2.4; the local
  part is case-sensitive in the RFC but no major mailbox provider treats it so), then, with
  ``provider_rules=True``, the documented aliases of large providers are folded:

  - Gmail (``gmail.com``, ``googlemail.com``): dots in the local part are ignored and
    ``+tag`` sub-addresses deliver to the same mailbox; ``googlemail.com`` is ``gmail.com``;
  - plus sub-addressing (``name+tag@``) on Outlook/Hotmail/Live, iCloud, Yandex, Fastmail and
    Proton: the ``+tag`` is dropped;
  - Yandex: ``ya.ru``, ``yandex.com/.by/.kz/.ua`` are aliases of ``yandex.ru`` and a dot in the
    login is the same as a hyphen.

  Nothing else is rewritten (no typo "correction" of domains: that would be guessing).
* **phone**: brought to E.164 (``+`` country code + national number, at most 15 digits; ITU-T
  Recommendation E.164). Numbers without ``+`` are read in ``default_country``: its trunk prefix
  (``8`` in Russia, ``0`` in most of Europe, ``1`` in North America) and its international
  prefix (``810``, ``00``, ``011``) are understood, and digits equal to the country code plus a
  national number of the right length are read as international without the ``+`` (common in
  CRM exports: ``79161234567``). Checks are on characters, country code and length of the
  national number; whether a number block is allocated is not checked.

Anything that cannot be read is reported with a reason, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from researchkit.errors import ParameterError

__all__ = [
    "COUNTRY_RULES",
    "normalize_email",
    "normalize_emails",
    "normalize_phone",
    "normalize_phones",
]

# ----------------------------------------------------------------------------------------------
# e-mail
# ----------------------------------------------------------------------------------------------
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL_RE = re.compile(rf"^(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+[a-z]{{2,63}})$")

_SPACE = re.compile(r"\s")
_GMAIL = {"gmail.com", "googlemail.com"}
_YANDEX = {"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua"}
_PLUS_TAG = _GMAIL | _YANDEX | {
    "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "fastmail.com", "fastmail.fm", "protonmail.com", "proton.me", "pm.me",
}


def normalize_email(value: object, *, provider_rules: bool = True) -> tuple[str | None, str]:
    """Canonical form of one e-mail address.

    Parameters
    ----------
    value : str or missing
        The address as entered.
    provider_rules : bool
        Fold the documented aliases of large providers (see the module notes).

    Returns
    -------
    (normalized, status)
        ``status`` is ``"ok"``, ``"missing"`` or the reason the address is malformed;
        ``normalized`` is ``None`` unless the status is ``"ok"``.

    Examples
    --------
    >>> normalize_email("  Ivan.Petrov+shop@GoogleMail.com ")
    ('ivanpetrov@gmail.com', 'ok')
    >>> normalize_email("ivan.petrov@mail")
    (None, 'malformed e-mail: domain has no top-level part')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None, "missing"
    if not isinstance(value, str):
        return None, f"malformed e-mail: not text ({type(value).__name__})"
    text = value.strip().lower()
    if text.startswith("mailto:"):
        text = text[7:]
    if not text:
        return None, "missing"
    if text.count("@") != 1:
        return None, "malformed e-mail: needs exactly one '@'"
    if _SPACE.search(text):
        return None, "malformed e-mail: contains spaces"
    local, domain = text.split("@")
    if not local:
        return None, "malformed e-mail: empty local part"
    if "." not in domain:
        return None, "malformed e-mail: domain has no top-level part"
    match = _EMAIL_RE.match(text)
    if match is None or len(local) > 64 or len(text) > 254:
        return None, "malformed e-mail: invalid characters or structure"
    if provider_rules:
        if domain in _PLUS_TAG and "+" in local:
            local = local.split("+", 1)[0]
            if not local:
                return None, "malformed e-mail: empty local part before '+'"
        if domain in _GMAIL:
            local, domain = local.replace(".", ""), "gmail.com"
        elif domain in _YANDEX:
            local, domain = local.replace(".", "-"), "yandex.ru"
    return f"{local}@{domain}", "ok"


def normalize_emails(values: Iterable[object] | pd.Series, *,
                     provider_rules: bool = True) -> pd.DataFrame:
    """Normalise many e-mail addresses (each distinct spelling is processed once).

    Returns
    -------
    DataFrame
        Same index as ``values`` (a Series) with columns ``value`` (as given), ``normalized``
        (``None`` unless valid) and ``status`` (``"ok"``, ``"missing"`` or the reason).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _normalize_many(series, lambda v: normalize_email(v, provider_rules=provider_rules))


# ----------------------------------------------------------------------------------------------
# phone
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountryRule:
    """How national phone numbers of one country are written.

    Attributes
    ----------
    code : str
        Country calling code (ITU-T E.164 assignment), without ``+``.
    trunk : tuple of str
        National trunk prefixes dialled before a national number (``"8"`` in Russia).
    international : tuple of str
        Prefixes dialled before a country code when calling abroad (``"810"``, ``"00"``).
    lengths : tuple of int
        Allowed lengths of the national significant number.
    """

    code: str
    trunk: tuple[str, ...]
    international: tuple[str, ...]
    lengths: tuple[int, ...]


#: Numbering rules of the countries a default country can be (ITU-T E.164 national numbering
#: plans as published by each regulator: lengths of the national significant number).
COUNTRY_RULES: dict[str, CountryRule] = {
    "RU": CountryRule("7", ("8",), ("810", "00"), (10,)),
    "KZ": CountryRule("7", ("8",), ("810", "00"), (10,)),
    "BY": CountryRule("375", ("80", "8"), ("810",), (9,)),
    "UA": CountryRule("380", ("0",), ("00",), (9,)),
    "US": CountryRule("1", ("1",), ("011",), (10,)),
    "CA": CountryRule("1", ("1",), ("011",), (10,)),
    "GB": CountryRule("44", ("0",), ("00",), (9, 10)),
    "DE": CountryRule("49", ("0",), ("00",), tuple(range(6, 12))),
    "FR": CountryRule("33", ("0",), ("00",), (9,)),
    "ES": CountryRule("34", (), ("00",), (9,)),
    "PL": CountryRule("48", (), ("00",), (9,)),
    "NL": CountryRule("31", ("0",), ("00",), (9,)),
    "TR": CountryRule("90", ("0",), ("00",), (10,)),
    "IN": CountryRule("91", ("0",), ("00",), (10,)),
}
_BY_CODE: dict[str, tuple[int, ...]] = {}
for _rule in COUNTRY_RULES.values():
    _BY_CODE[_rule.code] = tuple(sorted(set(_BY_CODE.get(_rule.code, ())) | set(_rule.lengths)))

#: Assigned country calling codes (ITU-T E.164 list, as shipped in libphonenumber metadata).
_CALLING_CODES = frozenset(str(c) for c in (
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233,
    234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251,
    252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290,
    291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373,
    374, 375, 376, 377, 378, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501,
    502, 503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599,
    670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689,
    690, 691, 692, 800, 808, 850, 852, 853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888,
    960, 961, 962, 963, 964, 965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 979,
    992, 993, 994, 995, 996, 998,
))
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./\-]+$")


def _country_rule(default_country: str) -> CountryRule:
    rule = COUNTRY_RULES.get(str(default_country).upper())
    if rule is None:
        raise ParameterError("unknown default country for phone numbers",
                             parameter="default_country",
                             expected=f"one of {sorted(COUNTRY_RULES)}", got=default_country)
    return rule


def _international(digits: str) -> tuple[str | None, str]:
    """E.164 from the digits after '+' (country code included)."""
    if digits.startswith("0"):
        return None, "malformed phone: country code cannot start with 0"
    code = next((digits[:k] for k in (1, 2, 3) if digits[:k] in _CALLING_CODES), None)
    if code is None:
        return None, "malformed phone: unknown country code"
    national = digits[len(code):]
    lengths = _BY_CODE.get(code)
    if lengths is not None:
        if len(national) not in lengths:
            return None, (f"malformed phone: national number of +{code} needs "
                          f"{'/'.join(map(str, lengths))} digits, got {len(national)}")
    elif not 4 <= len(national) or len(digits) > 15:
        return None, "malformed phone: wrong length for E.164"
    if len(digits) > 15:
        return None, "malformed phone: longer than 15 digits"
    return "+" + digits, "ok"


def normalize_phone(value: object, *, default_country: str = "RU") -> tuple[str | None, str]:
    """E.164 form of one phone number.

    Parameters
    ----------
    value : str, int or missing
        The number as entered (spaces, dashes, dots, slashes and brackets are allowed).
    default_country : str
        ISO 3166 code of the country whose national format numbers without ``+`` are in
        (one of :data:`COUNTRY_RULES`).

    Returns
    -------
    (normalized, status)
        ``status`` is ``"ok"``, ``"missing"`` or the reason the number is malformed.

    Examples
    --------
    >>> normalize_phone("8 (916) 123-45-67")
    ('+79161234567', 'ok')
    >>> normalize_phone("(212) 555-0100", default_country="US")
    ('+12125550100', 'ok')
    >>> normalize_phone("916-12")
    (None, 'malformed phone: national number of +7 needs 10 digits, got 5')
    """
    rule = _country_rule(default_country)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None, "missing"
    if isinstance(value, bool) or not isinstance(value, str | int | np.integer):
        return None, f"malformed phone: not text ({type(value).__name__})"
    text = str(value).strip()
    if not text:
        return None, "missing"
    if not _PHONE_CHARS.match(text):
        return None, "malformed phone: contains letters or symbols"
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        return None, "malformed phone: no digits"
    if text.startswith("+"):
        return _international(digits)
    for prefix in rule.international:
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 8:
            return _international(digits[len(prefix):])
    # national significant numbers never start with the trunk prefix, so try it first
    for trunk in rule.trunk:
        if digits.startswith(trunk) and len(digits) - len(trunk) in rule.lengths:
            return _international(rule.code + digits[len(trunk):])
    if len(digits) in rule.lengths:
        return _international(rule.code + digits)
    if digits.startswith(rule.code) and len(digits) - len(rule.code) in rule.lengths:
        return _international(digits)
    return _international(rule.code + digits) if len(digits) > 3 else (
        None, "malformed phone: too short")


def normalize_phones(values: Iterable[object] | pd.Series, *,
                     default_country: str = "RU") -> pd.DataFrame:
    """Normalise many phone numbers to E.164 (each distinct spelling is processed once).

    Returns
    -------
    DataFrame
        Same index as ``values`` (a Series) with columns ``value``, ``normalized`` and
        ``status`` (``"ok"``, ``"missing"`` or the reason).
    """
    _country_rule(default_country)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _normalize_many(series, lambda v: normalize_phone(v, default_country=default_country))


def _normalize_many(series: pd.Series, func) -> pd.DataFrame:
    obj = series.astype(object)
    codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    results = [func(u) for u in uniques]
    norm = np.array([r[0] for r in results] + [None], dtype=object)
    status = np.array([r[1] for r in results] + ["missing"], dtype=object)
    idx = np.where(codes < 0, len(results), codes)
    return pd.DataFrame({"value": obj.to_numpy(), "normalized": norm[idx],
                         "status": status[idx]}, index=series.index)
