"""Tracked Book Now links: one short signed link per message, and where it leads.

Every message's `book_now_url` merge value becomes ``{PUBLIC_BASE_URL}/b/{token}``: the token names
the message (a campaign recipient or an automation send) and carries a truncated HMAC, so nobody can
make a link for another message, and it is short because an SMS pays for every character. Following
it records the click (oncord.attribution.clicks) and redirects to the clinic's own bookings address
with UTM parameters; the destination is never taken from the link, so it cannot be an open redirect.

Nothing is stored when a message is built: the token is derived from the message's reference, so a
retried or re-rendered message gets the same link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PATH = "/b/"
_SALT = b"oncord.booking-link.v1"
_SIGNATURE_LENGTH = 8
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Message references (as the flows name their messages) -> token kind letter.
_KINDS = {"campaign-recipient": "c", "automation-send": "a"}
_REFERENCES = {letter: name for name, letter in _KINDS.items()}
_TOKEN = re.compile(r"([ca])([0-9A-Za-z]{1,12})([0-9A-Za-z]{8})", re.ASCII)
_SLUG = re.compile(r"[^a-z0-9]+")
# Enough for Cliniko's bookings page and analytics tools; names are cut, never refused.
MAX_SLUG = 60


@dataclass(frozen=True)
class MessageRef:
    """The message a link belongs to: a campaign recipient ("campaign-recipient") or an automation send."""

    kind: str
    id: int

    @property
    def is_campaign(self) -> bool:
        """Whether the message is a campaign's."""
        return self.kind == "campaign-recipient"


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _ALPHABET[rest] + digits
        if number == 0:
            return digits


def _from_base62(text: str) -> int:
    number = 0
    for ch in text:
        number = number * 62 + _ALPHABET.index(ch)
    return number


def _signature(secret_key: str, body: str) -> str:
    digest = hmac.new(secret_key.encode() + _SALT, body.encode(), hashlib.sha256).digest()
    return _base62(int.from_bytes(digest[:8], "big")).rjust(_SIGNATURE_LENGTH, "0")[-_SIGNATURE_LENGTH:]


def message_ref(reference: str) -> MessageRef | None:
    """The message a flow's reference names ("campaign-recipient:12"); None for previews and tests."""
    kind, _, number = reference.partition(":")
    if kind not in _KINDS or not number.isdigit() or len(number) > 18:
        return None
    return MessageRef(kind, int(number))


def make_token(secret_key: str, ref: MessageRef) -> str:
    """The message's short signed token."""
    body = _KINDS[ref.kind] + _base62(ref.id)
    return body + _signature(secret_key, body)


def read_token(secret_key: str, token: str) -> MessageRef | None:
    """The message a token names, or None when it is malformed or not signed by us."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        return None
    body = match[1] + match[2]
    if not hmac.compare_digest(_signature(secret_key, body), match[3]):
        return None
    return MessageRef(_REFERENCES[match[1]], _from_base62(match[2]))


def tracked_url(base_url: str, secret_key: str, ref: MessageRef) -> str:
    """The message's Book Now link on Oncord."""
    return f"{base_url.rstrip('/')}{PATH}{make_token(secret_key, ref)}"


def with_tracked_link(
    data: dict[str, Any], reference: str, *, base_url: str, secret_key: str
) -> dict[str, Any]:
    """The merge data with `book_now_url` made the message's tracked link, when there is a link to
    track and the reference names a real message (previews and test sends keep the plain address)."""
    ref = message_ref(reference)
    current = data.get("book_now_url")
    if ref is None or not isinstance(current, str) or not current:
        return data
    return {**data, "book_now_url": tracked_url(base_url, secret_key, ref)}


def slug(name: str) -> str:
    """A campaign's or journey's name as a UTM value (lower case, words joined by -)."""
    return _SLUG.sub("-", (name or "").lower()).strip("-")[:MAX_SLUG].strip("-") or "message"


def destination(bookings_url: str, *, medium: str, campaign: str, token: str) -> str:
    """The clinic's bookings address with the UTM parameters and the message's reference added
    (query before any #fragment; parameters already there are kept)."""
    parts = urlsplit(bookings_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    query += [("utm_source", "oncord"), ("utm_medium", medium), ("utm_campaign", slug(campaign)),
              ("utm_content", token)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
