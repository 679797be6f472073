"""Redaction of personal data before quotes leave the project.

:func:`redact` replaces

* e-mail addresses with ``[EMAIL]``;
* phone numbers in international and national formats (``+44 20 7946 0958``,
  ``+1 (555) 123-4567``, ``8 800 555-35-35``, ``0049 30 123456``...) with ``[PHONE]``: a run
  of 7-15 digits (the E.164 maximum) with spaces, dots, dashes, slashes or brackets between
  them, optionally led by ``+`` or ``00``; dates (``12.05.2024``, ``2024-05-12``) are not
  phone numbers;
* a given list of names, matched as whole words and case-insensitively (``Anna`` also in
  ``Anna's``, not in ``Annabel``), longest first, with ``[NAME]``.

Redaction is a safeguard, not a guarantee: read the quotes before they leave the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from researchkit.errors import ParameterError

__all__ = ["Redactor", "redact", "redact_series"]

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE = re.compile(
    r"(?<![\w+@/.-])"                 # not inside a word, number or address
    r"(?:\+|00)?"                     # international prefix
    r"(?:\(\d{1,5}\)|\d)"             # first digit or (area code)
    r"(?:[ .\-/]{0,2}(?:\(\d{1,5}\)|\d)){6,}"
    r"(?![\w@]|[.,-]\d)"
)
_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})$|^\d{4}[./-]\d{1,2}[./-]\d{1,2}$")
_YEARS = re.compile(r"^\d{4}\s*[-/–]\s*\d{4}$")


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if not 7 <= digits <= 15:
        return False
    bare = candidate.strip()
    return not (_DATE.match(bare) or _YEARS.match(bare))


@dataclass
class Redactor:
    """A compiled redaction rule set: call it on a text to get the redacted text.

    Parameters
    ----------
    names : iterable of str
        Names (people, places, companies...) to replace with ``name_tag``.
    emails, phones : bool
        Replace e-mail addresses / phone numbers.
    email_tag, phone_tag, name_tag : str
        Replacement tags.
    """

    names: Iterable[str] = ()
    emails: bool = True
    phones: bool = True
    email_tag: str = "[EMAIL]"
    phone_tag: str = "[PHONE]"
    name_tag: str = "[NAME]"
    _names_re: re.Pattern[str] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.names, str):
            raise ParameterError("names must be a list of names, not one string",
                                 parameter="names", got=self.names)
        cleaned = []
        for n in self.names:
            if not isinstance(n, str):
                raise ParameterError("names must be strings", parameter="names", got=n)
            n = " ".join(n.split())
            if n:
                cleaned.append(n)
        self.names = tuple(sorted(set(cleaned), key=lambda s: (-len(s), s.casefold())))
        if self.names:
            alts = "|".join(r"\s+".join(map(re.escape, n.split(" "))) for n in self.names)
            self._names_re = re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """The redacted text and the number of replacements of each kind."""
        counts = {"email": 0, "phone": 0, "name": 0}
        if not isinstance(text, str):
            return text, counts
        if self.emails:
            text, counts["email"] = EMAIL.subn(self.email_tag, text)
        if self.phones:
            def phone(m: re.Match[str]) -> str:
                if _is_phone(m.group(0)):
                    counts["phone"] += 1
                    return self.phone_tag
                return m.group(0)

            text = _PHONE.sub(phone, text)
        if self._names_re is not None:
            text, counts["name"] = self._names_re.subn(self.name_tag, text)
        return text, counts

    def __call__(self, text: str) -> str:
        return self.redact(text)[0]


def redact(text: str, *, names: Iterable[str] = (), emails: bool = True, phones: bool = True
           ) -> str:
    """Replace e-mails, phone numbers and the given names in a text with tags.

    Examples
    --------
    >>> redact("Anna: mail anna.k@example.com or call +44 20 7946 0958", names=["Anna"])
    '[NAME]: mail [EMAIL] or call [PHONE]'
    """
    return Redactor(names=names, emails=emails, phones=phones)(text)


def redact_series(texts: pd.Series, *, names: Iterable[str] = (), emails: bool = True,
                  phones: bool = True) -> pd.DataFrame:
    """Redact a column of texts.

    Returns
    -------
    DataFrame
        ``text`` (redacted) and ``n_email``, ``n_phone``, ``n_name`` replacement counts, with
        the index of ``texts``.
    """
    rd = Redactor(names=names, emails=emails, phones=phones)
    out = [rd.redact(t) for t in texts]
    return pd.DataFrame({
        "text": [t for t, _ in out],
        "n_email": [c["email"] for _, c in out],
        "n_phone": [c["phone"] for _, c in out],
        "n_name": [c["name"] for _, c in out],
    }, index=texts.index)
