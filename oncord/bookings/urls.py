"""The clinic's Cliniko online bookings address: parsed, checked against Cliniko's hosts, rebuilt.

Cliniko serves a clinic's booking page at ``https://{subdomain}.{shard}.cliniko.com/bookings`` (old
au1 accounts also at ``https://{subdomain}.cliniko.com/bookings``), optionally preselecting a
business, practitioner or appointment type by numeric id. Nothing else is accepted, and the
address is always rebuilt from the validated parts, never echoed back as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

MAX_URL_LENGTH = 2000
PRESELECT_PARAMS = ("business_id", "practitioner_id", "appointment_type_id")
EXAMPLE_URL = "https://your-clinic.au1.cliniko.com/bookings"

_HOST = re.compile(
    r"(?P<subdomain>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?P<shard>[a-z]{2}\d{1,2}))?\.cliniko\.com",
    re.ASCII,
)
_SHARD = re.compile(r"[a-z]{2}\d{1,2}", re.ASCII)
# Cliniko's own hosts, not clinics' booking pages.
_NOT_CLINICS = frozenset({"www", "api", "app", "help", "status", "blog", "links"})
# RFC 3986 characters; anything else (spaces, quotes, angle brackets, backslashes) is refused.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*", re.ASCII)
_ID = re.compile(r"[0-9]{1,20}", re.ASCII)
_FRAGMENT = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)

Purpose = Literal["link", "embed"]


class BookingsValidationError(ValueError):
    """Refused input; the message says what is wrong and what to do instead."""


class InvalidBookingsUrl(BookingsValidationError):
    """Not a Cliniko online bookings address."""


Account = tuple[str, str]
"""A Cliniko account as (subdomain, shard); legacy addresses count as shard au1."""


@dataclass(frozen=True)
class BookingsUrl:
    """A validated Cliniko bookings address, stored as its parts."""

    subdomain: str
    shard: str | None = None  # None: the legacy au1 form without a shard in the host
    business_id: str | None = None
    practitioner_id: str | None = None
    appointment_type_id: str | None = None
    fragment: str | None = None

    @property
    def host(self) -> str:
        """The bookings host, e.g. acme.au2.cliniko.com."""
        if self.shard is None:
            return f"{self.subdomain}.cliniko.com"
        return f"{self.subdomain}.{self.shard}.cliniko.com"

    @property
    def origin(self) -> str:
        """The host as a CSP source and postMessage origin."""
        return f"https://{self.host}"

    @property
    def account(self) -> Account:
        """The Cliniko account this address belongs to."""
        return (self.subdomain, self.shard or "au1")

    def _query(self) -> list[tuple[str, str]]:
        return [(name, value) for name in PRESELECT_PARAMS if (value := getattr(self, name))]

    @property
    def link_url(self) -> str:
        """The page visitors open in a tab (no embedded flag)."""
        query = urlencode(self._query())
        return (f"{self.origin}/bookings" + (f"?{query}" if query else "")
                + (f"#{self.fragment}" if self.fragment else ""))

    @property
    def embed_url(self) -> str:
        """The address the booking iframe loads (Cliniko's embedded layout)."""
        return f"{self.origin}/bookings?" + urlencode([("embedded", "true"), *self._query()])

    def to_dict(self) -> dict[str, Any]:
        """The parts, for a JSON column."""
        return {
            "subdomain": self.subdomain,
            "shard": self.shard,
            **{name: getattr(self, name) for name in PRESELECT_PARAMS},
            "fragment": self.fragment,
        }

    @classmethod
    def from_dict(cls, data: Any) -> BookingsUrl:
        """Rebuild from stored parts, re-checking each (stored data is never trusted blindly)."""
        if not isinstance(data, dict):
            raise InvalidBookingsUrl("The stored bookings address is damaged. Paste it again.")
        subdomain, shard = data.get("subdomain"), data.get("shard")
        host = f"{subdomain}.{shard}.cliniko.com" if shard else f"{subdomain}.cliniko.com"
        query = [(name, data[name]) for name in PRESELECT_PARAMS if data.get(name)]
        fragment = data.get("fragment")
        url = f"https://{host}/bookings" + (f"?{urlencode(query)}" if query else "")
        return parse_bookings_url(url + (f"#{fragment}" if fragment else ""))


def account_of(subdomain: str | None, shard: str | None) -> Account | None:
    """The account key of a connected Cliniko account, if its subdomain and shard are usable."""
    if not subdomain or not shard:
        return None
    subdomain, shard = subdomain.lower(), shard.lower()
    if not _SHARD.fullmatch(shard) or not _HOST.fullmatch(f"{subdomain}.{shard}.cliniko.com"):
        return None
    return (subdomain, shard)


def describe_accounts(accounts: frozenset[Account]) -> str:
    """The hosts of some accounts, for messages."""
    return " or ".join(sorted(f"{sub}.{shard}.cliniko.com" for sub, shard in accounts))


def parse_bookings_url(
    text: str,
    *,
    purpose: Purpose = "link",
    allowed_accounts: frozenset[Account] | None = None,
) -> BookingsUrl:
    """Validate a Cliniko bookings address and return its parts, or raise InvalidBookingsUrl.

    `allowed_accounts`, when given, is the allow-list: the address must belong to one of them.
    An embed address may carry ``embedded=true`` and no fragment; a link may carry a fragment
    such as ``#service``.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidBookingsUrl(f"Enter the bookings address, like {EXAMPLE_URL}.")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidBookingsUrl("That address is far too long to be a Cliniko bookings address.")
    if not _URL_CHARS.fullmatch(text):
        bad = next(ch for ch in text if not _URL_CHARS.fullmatch(ch))
        raise InvalidBookingsUrl(
            f"The address contains {_show_char(bad)}, which does not belong in a web address. "
            f"Copy it again from Cliniko; it looks like {EXAMPLE_URL}."
        )
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme != "https":
        if scheme == "http":
            raise InvalidBookingsUrl("The address must start with https:// (Cliniko only serves bookings "
                                     "over a secure connection).")
        if scheme:
            raise InvalidBookingsUrl(f"The address uses {scheme}:, not https. Only an https:// "
                                     f"Cliniko address is allowed, like {EXAMPLE_URL}.")
        raise InvalidBookingsUrl(f"Enter the full address starting with https://, like {EXAMPLE_URL}.")
    host = (parts.hostname or "").lower()
    if "@" in parts.netloc:
        raise InvalidBookingsUrl("The address contains a user name or password (an @ before the host). "
                                 f"A Cliniko bookings address looks like {EXAMPLE_URL}.")
    if parts.netloc.lower() != host:
        raise InvalidBookingsUrl("The address names a port or other extras after the host. "
                                 f"A Cliniko bookings address looks like {EXAMPLE_URL}.")
    match = _HOST.fullmatch(host)
    if match is None:
        raise InvalidBookingsUrl(f"{host or 'That address'} is not a Cliniko bookings host. The address "
                                 f"must be on cliniko.com, like {EXAMPLE_URL}.")
    subdomain, shard = match["subdomain"], match["shard"]
    if subdomain in _NOT_CLINICS or (shard is None and _SHARD.fullmatch(subdomain)):
        raise InvalidBookingsUrl(f"{host} is Cliniko's own site, not a clinic's booking page. "
                                 f"Use your clinic's address, like {EXAMPLE_URL}.")
    if parts.path not in ("/bookings", "/bookings/"):
        raise InvalidBookingsUrl(f"The address must end in /bookings (it has {parts.path or 'no path'}). "
                                 f"Open Online bookings in Cliniko's settings and copy the link shown there.")
    values = _query_values(parts.query)
    fragment = parts.fragment or None
    if "#" in text and purpose == "embed":
        raise InvalidBookingsUrl("The embed address has a # part, which Cliniko's embed code never has.")
    if fragment is not None and not _FRAGMENT.fullmatch(fragment):
        raise InvalidBookingsUrl("The part after # may only hold letters, digits, - and _ (e.g. #service).")
    url = BookingsUrl(subdomain=subdomain, shard=shard, fragment=fragment, **values)
    if allowed_accounts is not None and url.account not in allowed_accounts:
        raise InvalidBookingsUrl(
            f"This points at {url.host}, but your clinic books at {describe_accounts(allowed_accounts)}. "
            "Copy the code from your own Cliniko account (or ask an admin to change the bookings "
            "address in Settings → Online bookings)."
        )
    return url


def _query_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    if not query:
        return values
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InvalidBookingsUrl("The part after ? is not a valid query string.") from exc
    for name, value in pairs:
        if name in values:
            raise InvalidBookingsUrl(f"The address sets {name} twice.")
        if name == "embedded":
            if value != "true":
                raise InvalidBookingsUrl(f"embedded must be true (it is {value!r}).")
            values[name] = value
            continue
        if name not in PRESELECT_PARAMS:
            raise InvalidBookingsUrl(
                f"The address has the parameter {name!r}, which Cliniko's booking page does not use. "
                f"Only {', '.join(PRESELECT_PARAMS)} are allowed."
            )
        if not _ID.fullmatch(value):
            raise InvalidBookingsUrl(f"{name} must be a Cliniko id made of digits (it is {value!r}).")
        values[name] = value
    values.pop("embedded", None)
    return values


def _show_char(ch: str) -> str:
    if ch.isspace() or not ch.isprintable():
        return f"a space or control character (U+{ord(ch):04X})"
    return f"the character {ch!r}"
