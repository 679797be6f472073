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

:func:`normalize_email` and :func:`normalize_phone` define the rules, one value at a time.
:func:`normalize_emails` and :func:`normalize_phones` apply them to whole columns: values made of
printable ASCII (nearly all real identifiers) are normalised together with Arrow string kernels
(the same steps, vectorised), anything else with the scalar function; a randomised test checks
that both give the same answer for every value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from researchkit.channels._arrow import (
    STR,
    count_per_string,
    strings_with,
    text_array,
    utf8_bytes,
)
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

    Equal to :func:`normalize_email` on every value; plain printable-ASCII addresses (nearly
    all of them) are normalised together with Arrow string kernels, anything else one by one.

    Returns
    -------
    DataFrame
        Same index as ``values`` (a Series) with columns ``value`` (as given), ``normalized``
        (``None`` unless valid) and ``status`` (``"ok"``, ``"missing"`` or the reason).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _frame(series, _normalize_column(series, "email", provider_rules=provider_rules))


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

    Equal to :func:`normalize_phone` on every value (vectorised like :func:`normalize_emails`).

    Returns
    -------
    DataFrame
        Same index as ``values`` (a Series) with columns ``value``, ``normalized`` and
        ``status`` (``"ok"``, ``"missing"`` or the reason).
    """
    _country_rule(default_country)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return _frame(series, _normalize_column(series, "phone", default_country=default_country))


# ----------------------------------------------------------------------------------------------
# many values at once
# ----------------------------------------------------------------------------------------------
#: Values made only of printable ASCII (0x20-0x7e) take the vectorised path: for them
#: ``str.strip()`` only removes spaces, ``str.lower()`` is ASCII lower-casing, and Python's
#: ``re`` and Arrow's RE2 agree on the patterns above. Anything else goes through the scalar
#: functions.
_OK, _MISSING = 0, 1


@dataclass
class _Normalised:
    """Each row of a column of identifiers, normalised.

    ``normalized``: Arrow strings, null unless the status is ``"ok"``; ``status``: per row, an
    index into ``reasons`` (``reasons[0] == "ok"``, ``reasons[1] == "missing"``).
    """

    normalized: pa.Array
    status: np.ndarray
    reasons: list[str]

    @property
    def ok(self) -> np.ndarray:
        cached = self.__dict__.get("_ok")
        if cached is None or len(cached) != len(self.status):
            cached = self.__dict__["_ok"] = self.status == _OK
        return cached


def _np(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def _lstr(values) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def _null_str() -> pa.Scalar:
    return pa.scalar(None, pa.large_string())


def _join(left, right, sep: str = "") -> pa.Array:
    """Element-wise ``left + sep + right`` (either may be a Python string)."""
    def scalar(v):
        return pa.scalar(v, pa.large_string()) if isinstance(v, str) else v

    return pc.binary_join_element_wise(scalar(left), scalar(right), scalar(sep))


def _first_of(conds: list[np.ndarray], n: int) -> np.ndarray:
    """Index (1-based) of the first true condition per row, 0 where none is."""
    which = np.zeros(n, dtype=np.int32)
    for k in range(len(conds), 0, -1):
        which[conds[k - 1]] = k
    return which


def _email_batch(text: pa.Array, provider_rules: bool) -> tuple[pa.Array, np.ndarray, list]:
    """:func:`normalize_email` on printable-ASCII strings, with Arrow kernels."""
    text = pc.ascii_lower(pc.utf8_trim(text, " "))
    text = _masked(text, _np(pc.starts_with(text, "mailto:")),
                   lambda t: pc.utf8_slice_codeunits(t, 7))
    n = len(text)
    length = _np(pc.binary_length(text))
    n_at = _np(pc.count_substring(text, "@"))
    # local part and domain of the addresses with exactly one '@'
    parts = pc.split_pattern(text, "@", max_splits=1)
    flat = parts.values
    first = np.asarray(_np(parts.offsets), dtype=np.int64)
    last = np.maximum(first[1:] - 1, first[:-1])
    local = flat.take(pa.array(first[:-1])) if len(flat) else text
    domain = flat.take(pa.array(last)) if len(flat) else text
    local_len = _np(pc.binary_length(local))
    conds = [
        length == 0,
        n_at != 1,
        _np(pc.match_substring(text, " ")),
        local_len == 0,
        ~_np(pc.match_substring(domain, ".")),
        ~_np(pc.match_substring_regex(text, _EMAIL_RE.pattern)) | (local_len > 64)
        | (length > 254),
    ]
    reasons = ["ok", "missing", "malformed e-mail: needs exactly one '@'",
               "malformed e-mail: contains spaces", "malformed e-mail: empty local part",
               "malformed e-mail: domain has no top-level part",
               "malformed e-mail: invalid characters or structure"]
    if provider_rules:
        # the providers with rules (Gmail and Yandex among them): work on their rows only
        plus = _np(pc.is_in(domain, value_set=_lstr(sorted(_PLUS_TAG))))
        empty_after = np.zeros(n, dtype=bool)
        if plus.any():
            rows = pa.array(plus)
            sub_local, sub_domain = local.filter(rows), domain.filter(rows)
            cut = _np(pc.match_substring(sub_local, "+"))
            sub_local = _masked(sub_local, cut,
                                lambda t: pc.replace_substring_regex(t, r"\+.*", ""))
            empty_after[plus] = cut & (_np(pc.binary_length(sub_local)) == 0)
            gmail = _np(pc.is_in(sub_domain, value_set=_lstr(sorted(_GMAIL))))
            yandex = _np(pc.is_in(sub_domain, value_set=_lstr(sorted(_YANDEX))))
            sub_local = _masked(sub_local, gmail, lambda t: pc.replace_substring(t, ".", ""))
            sub_local = _masked(sub_local, yandex,
                                lambda t: pc.replace_substring(t, ".", "-"))
            sub_domain = pc.if_else(pa.array(gmail), pa.scalar("gmail.com", pa.large_string()),
                                    pc.if_else(pa.array(yandex),
                                               pa.scalar("yandex.ru", pa.large_string()),
                                               sub_domain))
            local = pc.replace_with_mask(local, rows, sub_local)
            domain = pc.replace_with_mask(domain, rows, sub_domain)
        conds.append(empty_after)
        reasons.append("malformed e-mail: empty local part before '+'")
    # status 1 ("missing") is the first condition, the reasons follow
    status = _first_of(conds, n)
    normalized = pc.if_else(pa.array(status == _OK), _join(local, domain, "@"), _null_str())
    return normalized, status, reasons


def _keep_digits(arr: pa.Array) -> pa.Array:
    """The ASCII digits of each string (no nulls), by filtering the UTF-8 bytes."""
    data, offsets = utf8_bytes(arr)
    digit = (data >= 48) & (data <= 57)
    new_offsets = np.concatenate([[0], np.cumsum(count_per_string(digit, offsets))])
    return pa.LargeStringArray.from_buffers(len(arr), pa.py_buffer(new_offsets),
                                            pa.py_buffer(data[digit].tobytes()))


def _printable(arr: pa.Array) -> np.ndarray:
    """Whether each string (no nulls) is printable ASCII only (bytes 0x20-0x7e)."""
    data, offsets = utf8_bytes(arr)
    return ~strings_with((data < 0x20) | (data > 0x7E), offsets)


def _masked(values: pa.Array, mask: np.ndarray, func) -> pa.Array:
    """``values`` with ``func`` applied to the entries where ``mask`` is true."""
    if not mask.any():
        return values
    keep = pa.array(mask)
    return pc.replace_with_mask(values, keep, func(values.filter(keep)))


def _phone_batch(text: pa.Array, rule: CountryRule) -> tuple[pa.Array, np.ndarray, list]:
    """:func:`normalize_phone` on printable-ASCII strings, with Arrow kernels."""
    text = pc.utf8_trim(text, " ")
    n = len(text)
    chars_ok = _np(pc.match_substring_regex(text, _PHONE_CHARS.pattern))
    digits = _keep_digits(text)
    nd = _np(pc.binary_length(digits))
    lengths = np.asarray(rule.lengths)

    def starts(prefix: str) -> np.ndarray:
        return _np(pc.starts_with(digits, prefix))

    # which reading of the number applies: digits to drop in front, country code to add
    decided = _np(pc.starts_with(text, "+"))
    drop = np.zeros(n, dtype=np.int64)
    add_code = np.zeros(n, dtype=bool)
    for prefix in rule.international:
        hit = ~decided & starts(prefix) & (nd - len(prefix) >= 8)
        drop[hit], decided = len(prefix), decided | hit
    for trunk in rule.trunk:
        hit = ~decided & starts(trunk) & np.isin(nd - len(trunk), lengths)
        drop[hit], add_code[hit], decided = len(trunk), True, decided | hit
    hit = ~decided & np.isin(nd, lengths)
    add_code[hit], decided = True, decided | hit
    hit = ~decided & starts(rule.code) & np.isin(nd - len(rule.code), lengths)
    decided = decided | hit
    hit = ~decided & (nd > 3)
    add_code[hit], decided = True, decided | hit
    e164 = digits
    for k in np.unique(drop[drop > 0]):
        e164 = pc.if_else(pa.array(drop == k), pc.utf8_slice_codeunits(digits, int(k)), e164)
    if add_code.any():
        e164 = pc.if_else(pa.array(add_code), _join(rule.code, e164), e164)
    # _international: country code, then the length of the national number
    total = _np(pc.binary_length(e164))
    calling = _lstr(sorted(_CALLING_CODES))
    known = list(_BY_CODE)
    code_len = np.zeros(n, dtype=np.int64)
    code_idx = np.full(n, -1, dtype=np.int64)
    for k in (3, 2, 1):  # the shortest code that is assigned wins
        head = pc.utf8_slice_codeunits(e164, 0, k)
        hit = _np(pc.is_in(head, value_set=calling)) & (total >= k)
        code_len[hit] = k
        idx = _np(pc.index_in(head, value_set=_lstr(known)).fill_null(-1))
        code_idx[hit] = idx[hit]
    national = total - code_len
    allowed = np.zeros((len(known) + 1, 20), dtype=bool)
    for i, code in enumerate(known):
        allowed[i, list(_BY_CODE[code])] = True
    ruled = code_idx >= 0
    bad_rule = ruled & ~allowed[code_idx, np.clip(national, 0, 19)]
    conds = [
        _np(pc.binary_length(text)) == 0,
        ~chars_ok,
        nd == 0,
        ~decided,
        _np(pc.starts_with(e164, "0")),
        code_len == 0,
        ~ruled & ((national < 4) | (total > 15)),
        total > 15,
    ]
    reasons = ["ok", "missing", "malformed phone: contains letters or symbols",
               "malformed phone: no digits", "malformed phone: too short",
               "malformed phone: country code cannot start with 0",
               "malformed phone: unknown country code",
               "malformed phone: wrong length for E.164",
               "malformed phone: longer than 15 digits"]
    # the wrong national length (after the unknown code, before the E.164 length) names the
    # country code and the lengths: one reason per distinct (code, length)
    status = _first_of(conds, n)
    rows = np.flatnonzero(bad_rule & ((status == _OK) | (status >= 7)))
    if len(rows):
        pairs, inverse = np.unique(np.stack([code_idx[rows], national[rows]]), axis=1,
                                   return_inverse=True)
        status[rows] = len(reasons) + inverse.ravel()
        reasons += [f"malformed phone: national number of +{known[c]} needs "
                    f"{'/'.join(map(str, _BY_CODE[known[c]]))} digits, got {m}"
                    for c, m in pairs.T.tolist()]
    normalized = pc.if_else(pa.array(status == _OK), _join("+", e164), _null_str())
    return normalized, status, reasons


def _plain_batch(text: pa.Array) -> tuple[pa.Array, np.ndarray, list]:
    """Generic identifiers: trimmed text; ``"123.0"`` (a float id) is ``"123"``; empty is
    missing. The same Arrow kernels pandas runs for ``.str.strip()``, ``.str.fullmatch()``
    and ``.str[:-2]`` on ``str`` columns."""
    text = pc.utf8_trim_whitespace(text)
    floaty = pc.match_substring_regex(text, r"^(-?\d+\.0$)")
    text = pc.if_else(floaty, pc.utf8_slice_codeunits(text, 0, -2), text)
    empty = _np(pc.binary_length(text)) == 0
    status = empty.astype(np.int32)  # 0 ok, 1 missing
    return pc.if_else(pa.array(empty), _null_str(), text), status, ["ok", "missing"]


def _scalar_plain(value: str) -> tuple[str | None, str]:  # pragma: no cover - never hard
    raise AssertionError("generic identifiers are all handled by _plain_batch")


def _plain_rowwise(values: pd.Series) -> _Normalised:
    """Generic identifiers in a column that is not text (numbers, mixed objects): the
    row-wise pandas code, so that ``123.0`` reads as ``"123"`` and ``-0.0`` as ``"-0"``."""
    obj = values.astype(object)
    missing = obj.isna().to_numpy()
    text = obj.where(~missing, "").astype(str).str.strip()
    floaty = text.str.fullmatch(r"-?\d+\.0").fillna(False).to_numpy()
    text = text.where(~floaty, text.str[:-2])
    empty = text.eq("").to_numpy() | missing
    arr = text_array(text) if len(text) else _lstr([])
    return _Normalised(normalized=pc.if_else(pa.array(empty), _null_str(), arr),
                       status=empty.astype(np.int32), reasons=["ok", "missing"])


def _normalize_column(values: pd.Series, kind: str, *, provider_rules: bool = True,
                      default_country: str = "RU") -> _Normalised:
    """Normalise a column of e-mails (``kind="email"``), phones (``"phone"``) or generic
    identifiers (anything else), row by row, exactly as the scalar functions would.

    Text columns go through the Arrow batch functions (values that are not printable ASCII
    through the scalar function, once per distinct value). Other columns (numbers, mixed
    objects) are factorised first, as the scalar path always did: values that compare equal
    (``1``, ``1.0``, ``True``) share the normalisation of the first one seen. Missing values
    (``None``, ``NaN``, ``pd.NA``...) get the status ``"missing"``.
    """
    if kind == "email":
        def scalar(v):
            return normalize_email(v, provider_rules=provider_rules)

        def batch(t):
            return _email_batch(t, provider_rules)
    elif kind == "phone":
        rule = _country_rule(default_country)

        def scalar(v):
            return normalize_phone(v, default_country=default_country)

        def batch(t):
            return _phone_batch(t, rule)
    else:
        scalar, batch = _scalar_plain, _plain_batch
    n = len(values)
    arr = text_array(values)
    if arr is None and kind not in ("email", "phone"):
        if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
            arr = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.large_string())
        else:
            return _plain_rowwise(values)
    if arr is None:
        return _from_uniques(values, scalar, batch=batch, phone=kind == "phone")
    valid = _np(arr.is_valid()) if arr.null_count else None
    texts = arr.filter(pa.array(valid)) if valid is not None else arr
    norm, status, reasons = _normalize_texts(texts, batch, scalar,
                                             check=kind in ("email", "phone"))
    if valid is not None:  # back to one entry per row, missing where the value was
        where = np.cumsum(valid) - 1
        norm = norm.take(pa.array(where, mask=~valid))
        full = np.full(n, _MISSING, dtype=np.int32)
        full[valid] = status
        status = full
    return _Normalised(normalized=norm, status=status, reasons=reasons)


def _add_reasons(reasons: list[str], new: list[str]) -> np.ndarray:
    """Indices of ``new`` in ``reasons`` (appending the ones not there yet)."""
    position = {r: i for i, r in enumerate(reasons)}
    for r in new:
        if r not in position:
            position[r] = len(reasons)
            reasons.append(r)
    return np.array([position[r] for r in new], dtype=np.int32)


def _normalize_texts(texts: pa.Array, batch, scalar, *, check: bool = True
                     ) -> tuple[pa.Array, np.ndarray, list[str]]:
    """Batch-normalise printable-ASCII strings; the others one by one (once per value)."""
    simple = _printable(texts) if check else None
    if simple is None or simple.all():
        return batch(texts)
    hard = np.flatnonzero(~simple)
    norm_s, status_s, reasons = batch(texts.filter(pa.array(simple)))
    found: dict[str, tuple[str | None, str]] = {}
    results = [found[v] if v in found else found.setdefault(v, scalar(v))
               for v in texts.take(pa.array(hard)).to_pylist()]
    status = np.empty(len(texts), dtype=np.int32)
    status[simple] = status_s
    status[hard] = _add_reasons(reasons, [r[1] for r in results])
    order = np.empty(len(texts), dtype=np.int64)
    order[np.flatnonzero(simple)] = np.arange(len(status_s))
    order[hard] = len(status_s) + np.arange(len(hard))
    norm = pa.concat_arrays([norm_s, _lstr([r[0] for r in results])]).take(pa.array(order))
    return norm, status, reasons


def _from_uniques(values: pd.Series, scalar, *, batch=None, phone: bool = False
                  ) -> _Normalised:
    """Columns that are not plain text: each distinct value (``pd.factorize``) once; text
    (and, for phones, integers as text) through ``batch``, other objects through ``scalar``."""
    obj = values.astype(object)
    codes, found = pd.factorize(obj, use_na_sentinel=True)
    found = np.asarray(found, dtype=object)
    u = len(found)
    norm_u: list = [None] * (u + 1)
    reasons = ["ok", "missing"]
    status_u = np.full(u + 1, _MISSING, dtype=np.int32)
    if batch is not None:
        as_text = [v if isinstance(v, str) else str(v) if phone and isinstance(
            v, int | np.integer) and not isinstance(v, bool) else None for v in found]
        pos = np.array([i for i, t in enumerate(as_text) if t is not None], dtype=np.int64)
    else:
        pos = np.empty(0, dtype=np.int64)
    rest = np.setdiff1d(np.arange(u), pos)
    if len(pos):
        norm_t, status_t, reasons = _normalize_texts(_lstr([as_text[i] for i in pos]), batch,
                                                     scalar)
        status_u[pos] = status_t
        for i, v in zip(pos.tolist(), norm_t.to_pylist(), strict=True):
            norm_u[i] = v
    if len(rest):
        results = [scalar(found[i]) for i in rest]
        status_u[rest] = _add_reasons(reasons, [r[1] for r in results])
        for i, r in zip(rest.tolist(), results, strict=True):
            norm_u[i] = r[0]
    idx = np.where(codes < 0, u, codes)
    return _Normalised(normalized=_lstr(norm_u).take(pa.array(idx)), status=status_u[idx],
                       reasons=reasons)


def _as_given(values: pd.Series):
    """The values as a column the way ``pd.DataFrame`` would infer them from objects."""
    if values.dtype == STR and values.notna().any():
        return values.array
    return values.astype(object).to_numpy()


def _row_columns(values: pd.Series, nz: _Normalised) -> dict[str, Any]:
    """``value``, ``normalized`` and ``status`` per row, with the dtypes a DataFrame built
    from Python objects would get (``str`` when there is any text, else ``object``)."""
    n = len(nz.status)
    if n == 0:
        empty = np.empty(0, dtype=object)
        return {"value": values.astype(object).to_numpy(), "normalized": empty,
                "status": empty}
    if nz.ok.any():
        normalized = pd.array(nz.normalized, dtype=STR)
    else:
        normalized = np.full(n, None, dtype=object)
    status = pd.array(_lstr(nz.reasons).take(pa.array(nz.status)), dtype=STR)
    return {"value": _as_given(values), "normalized": normalized, "status": status}


def _frame(series: pd.Series, nz: _Normalised) -> pd.DataFrame:
    return pd.DataFrame(_row_columns(series, nz), index=series.index)
