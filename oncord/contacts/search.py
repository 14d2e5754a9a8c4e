"""Turning what staff type in the search box into SQL that an index can answer.

Every contact has one search document: lower-case first name, last name, e-mail and the digits
of the phone number. Each typed word must appear somewhere in it. On PostgreSQL a trigram GIN
index (migration 0002) makes these substring matches fast; the expression here must stay
identical to the indexed one, so both use search_document(). Trigrams need three characters,
so shorter words match the start of a name instead (two small prefix indexes).
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, func, literal, or_

from oncord.models.contacts import Contact, search_document

MAX_WORDS = 6
MIN_SUBSTRING = 3
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]{3,}$")
# NUL and other control characters can be in no name or address, and a NUL in a query string
# makes SQLite (and psycopg) refuse the whole statement: they separate words instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phone_digits(text: str, region: str) -> str:
    """Digits of a typed number that appear in both 0412 345 678 and +61 412 345 678."""
    if text.startswith("+"):
        try:
            return str(phonenumbers.parse(text, None).national_number)
        except phonenumbers.NumberParseException:
            return re.sub(r"\D", "", text)
    return re.sub(r"\D", "", text).lstrip("0")


def search_terms(query: str, region: str = "AU") -> list[str]:
    """The words to look for: a phone-like query is one number, otherwise lower-case words."""
    query = _CONTROL.sub(" ", query).strip()
    if not query:
        return []
    if _PHONE_LIKE.match(query) and sum(c.isdigit() for c in query) >= 3:
        digits = _phone_digits(query, region)
        return [digits] if digits else []
    words = []
    for raw in query.lower().split():
        word = raw.strip(",;\"'")
        if word.isdigit():
            word = word.lstrip("0")
        elif _PHONE_PUNCTUATION.sub("", word) != word and _PHONE_LIKE.match(word):
            word = _PHONE_PUNCTUATION.sub("", word)
        if word and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def _pattern(text: str) -> Any:
    # Inlined (safely quoted) rather than bound: a prepared statement's generic plan cannot use an
    # index for "LIKE $1", and psycopg prepares a query after a few runs.
    return literal(text, literal_execute=True)


def search_condition(query: str, region: str = "AU") -> ColumnElement[bool] | None:
    """A WHERE clause matching contacts whose name, e-mail or phone contain every typed word.

    Words of three characters or more match anywhere (trigram index); one or two letters match
    the start of a first or last name; one or two digits are too short to mean anything.
    """
    document = search_document()
    parts = []
    for term in search_terms(query, region):
        escaped = _like_escape(term)
        if len(term) >= MIN_SUBSTRING:
            parts.append(document.like(_pattern(f"%{escaped}%"), escape="\\"))
        elif not term.isdigit():
            parts.append(
                or_(
                    func.lower(Contact.first_name).like(_pattern(f"{escaped}%"), escape="\\"),
                    func.lower(Contact.last_name).like(_pattern(f"{escaped}%"), escape="\\"),
                )
            )
    return and_(*parts) if parts else None
