"""Log lines without patient data: e-mail addresses, phone numbers, names, search terms and tokens.

Installed as the process's log record factory (`install`, called by create_app and by
gunicorn.conf.py), so every record, whichever logger or handler it goes to (the app's, RQ's,
gunicorn's error and access logs), is redacted once, when it is made: its message and its
exception text. Patterns catch what has a shape (addresses, numbers, query values, tokens);
names have none, so code handling one person names their values with `personal(...)` around the
log call. Ids (short numbers, Cliniko's 64-bit ids) are kept: they are how support finds a row.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number starts with + or 0 (a national prefix); ids never do.
_PHONE = re.compile(r"(?<![\w.:])(?:\+|\(?0)[\d ()\-.]{7,20}\d")
# Query values that are not plain numbers: searches are patient names, cursors stay.
_QUERY_VALUE = re.compile(r"([?&][\w\[\].-]+=)(?!\d*(?:[&\s\"'#]|$))[^&\s\"'#]+")
# The unsubscribe page's and the Book Now link's paths carry their tokens (the latter names a message).
_UNSUBSCRIBE = re.compile(r"(/[ub]/)[^/\s\"'?#]+")
# Signed tokens and secrets: long runs of URL-safe characters holding digits and letters both.
_TOKEN = re.compile(
    r"(?<![\w/.-])(?=[\w.-]*\d)(?=[\w.-]*[A-Za-z])(?:[\w-]{12,}(?:\.[\w-]{6,})+|[\w-]{24,})(?!\w)"
)

_personal: ContextVar[tuple[str, ...]] = ContextVar("oncord_personal_values", default=())
_installed = False


@contextlib.contextmanager
def personal(*values: str | None) -> Iterator[None]:
    """Within this block, log records also hide these values (a person's names, address, number)."""
    words = {w for value in values if value for w in [value, *value.split()] if len(w.strip()) >= 2}
    token = _personal.set(_personal.get() + tuple(sorted(words, key=len, reverse=True)))
    try:
        yield
    finally:
        _personal.reset(token)


# Attributes that hold a person's data on a contact or a message (and its e-mail or SMS part).
_PERSONAL_FIELDS = ("first_name", "last_name", "preferred_first_name", "email", "phone", "to", "to_name",
                    "to_address")


def personal_of(*records: Any) -> contextlib.AbstractContextManager[None]:
    """`personal` with the names, addresses and numbers found on contacts or messages."""
    values: list[str] = []
    for record in records:
        for part in (record, getattr(record, "email", None), getattr(record, "sms", None)):
            if part is None or isinstance(part, str):
                continue
            values += [v for name in _PERSONAL_FIELDS if isinstance(v := getattr(part, name, None), str)]
    return personal(*values)


def _phone(match: re.Match[str]) -> str:
    # Eight digits at least: shorter runs are durations, decimals and versions.
    return "[phone]" if sum(c.isdigit() for c in match.group()) >= 8 else match.group()


def redact(text: str) -> str:
    """The text with personal data replaced by [email], [phone], [name], [redacted] and [token]."""
    text = _EMAIL.sub("[email]", text)
    text = _UNSUBSCRIBE.sub(r"\1[token]", text)
    text = _QUERY_VALUE.sub(r"\1[redacted]", text)
    text = _TOKEN.sub("[token]", text)
    text = _PHONE.sub(_phone, text)
    for value in _personal.get():
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return text


def _redacted_record(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # noqa: BLE001 - a line that cannot be redacted is still logged, as a notice
            record.msg, record.args = "(log line withheld: it could not be redacted)", None
            record.exc_info, record.exc_text = None, None
        return record

    setattr(make, "oncord_redacting", True)  # noqa: B010 - marks the factory as installed
    return make


def install() -> None:
    """Make every log record in this process redacted (idempotent)."""
    global _installed
    if _installed or getattr(logging.getLogRecordFactory(), "oncord_redacting", False):
        return
    logging.setLogRecordFactory(_redacted_record(logging.getLogRecordFactory()))
    _installed = True
