"""The blocks a website page is built from: heading, text, button and the Cliniko booking widget.

A block is stored as a small JSON object of validated values and rebuilt (and re-checked) from
that JSON whenever it comes back from the editor, so nothing the browser sends is trusted.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from oncord.bookings.embed import BookingEmbed
from oncord.bookings.urls import Account, BookingsUrl, BookingsValidationError

MAX_HEADING, MAX_TEXT, MAX_LABEL, MAX_LINK = 200, 5000, 80, 500
MAX_BLOCKS = 50

BLOCK_LABELS = {
    "heading": "Heading",
    "text": "Text",
    "button": "Button",
    "embed": "Cliniko booking widget",
}
HEADING_LEVELS = {2: "Large", 3: "Medium"}
LINK_KINDS = {"bookings": "Your Cliniko online bookings page", "url": "Another address"}

_BLOCK_ID = re.compile(r"b[0-9a-f]{8}", re.ASCII)
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*", re.ASCII)
_LOCAL_PATH = re.compile(r"/(?:[a-z0-9-]+(?:/[a-z0-9-]+)*)?/?(?:#[A-Za-z0-9_-]+)?", re.ASCII)
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.ASCII)
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{3,30}", re.ASCII)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}", re.ASCII)


class InvalidBlock(BookingsValidationError):
    """A block's settings were refused; the message says which and why."""


def new_block_id() -> str:
    """A short random id that names a block in the editor (b + 8 hex digits)."""
    return "b" + secrets.token_hex(4)


def clean_text(value: Any, *, label: str, limit: int, multiline: bool = False) -> str:
    """Plain text: trimmed, line endings normalised, no control characters, within the limit."""
    if not isinstance(value, str):
        raise InvalidBlock(f"{label} is missing.")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    allowed = "\n\t" if multiline else "\t"
    if any(ord(ch) < 32 and ch not in allowed for ch in text):
        raise InvalidBlock(f"{label} contains invisible control characters. Type it again.")
    if not text:
        raise InvalidBlock(f"{label} is empty. Write something, or remove the block.")
    if len(text) > limit:
        raise InvalidBlock(f"{label} is {len(text)} characters long; keep it to {limit}.")
    return text


def check_link(value: Any) -> str:
    """A link a button may point at: https, a page of this site (/slug), mailto: or tel:."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidBlock("Enter the address the button opens, e.g. https://www.example.com or /book-now.")
    url = value.strip()
    if len(url) > MAX_LINK:
        raise InvalidBlock(f"The address is longer than {MAX_LINK} characters.")
    if not _URL_CHARS.fullmatch(url):
        raise InvalidBlock("The address contains spaces or characters that don't belong in a web address.")
    if url.startswith("/"):
        if not _LOCAL_PATH.fullmatch(url):
            raise InvalidBlock("A link to one of your pages looks like /book-now (lower-case letters, digits "
                               "and hyphens).")
        return url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        host = parts.hostname or ""
        if "@" in parts.netloc or not _HOSTNAME.fullmatch(host):
            raise InvalidBlock("That https address has no proper host name (like www.example.com).")
        return url
    if scheme == "mailto" and _EMAIL.fullmatch(url[len("mailto:"):]):
        return url
    if scheme == "tel" and _PHONE.fullmatch(url[len("tel:"):]):
        return url
    if scheme == "http":
        raise InvalidBlock("Use the https:// address of the page; plain http links are not allowed.")
    if scheme:
        raise InvalidBlock(f"Links starting with {scheme}: are not allowed. Use https://…, /a-page, "
                           "mailto:… or tel:….")
    raise InvalidBlock("Start the address with https:// (another site) or / (one of your pages).")


@dataclass(frozen=True)
class HeadingBlock:
    """A section heading."""

    id: str
    text: str
    level: int = 2
    type: ClassVar[str] = "heading"

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"id": self.id, "type": self.type, "text": self.text, "level": self.level}


@dataclass(frozen=True)
class TextBlock:
    """Plain text; blank lines separate paragraphs."""

    id: str
    text: str
    type: ClassVar[str] = "text"

    @property
    def paragraphs(self) -> list[list[str]]:
        """Paragraphs as lists of lines."""
        return [para.split("\n") for para in re.split(r"\n\s*\n", self.text) if para.strip()]

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"id": self.id, "type": self.type, "text": self.text}


@dataclass(frozen=True)
class ButtonBlock:
    """A button linking to the clinic's bookings page or another address."""

    id: str
    label: str
    link: str = "bookings"
    url: str | None = None
    type: ClassVar[str] = "button"

    def href(self, bookings: BookingsUrl | None) -> str | None:
        """Where the button goes, or None when it links to a bookings page that is not set."""
        if self.link == "bookings":
            return bookings.link_url if bookings else None
        return self.url

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"id": self.id, "type": self.type, "label": self.label, "link": self.link, "url": self.url}


@dataclass(frozen=True)
class EmbedBlock:
    """Cliniko's booking widget; `embed` is None until staff paste Cliniko's code."""

    id: str
    embed: BookingEmbed | None = None
    type: ClassVar[str] = "embed"

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the validated values, never HTML."""
        return {"id": self.id, "type": self.type, "embed": self.embed.to_dict() if self.embed else None}


Block = HeadingBlock | TextBlock | ButtonBlock | EmbedBlock


def new_block(kind: str) -> Block:
    """A block of a kind with starter content, as Insert adds it."""
    block_id = new_block_id()
    if kind == "heading":
        return HeadingBlock(id=block_id, text="New heading")
    if kind == "text":
        return TextBlock(id=block_id, text="Write your text here.")
    if kind == "button":
        return ButtonBlock(id=block_id, label="Book now", link="bookings")
    if kind == "embed":
        return EmbedBlock(id=block_id)
    raise InvalidBlock(f"There is no {kind!r} block. Choose heading, text, button or booking widget.")


def block_from_dict(
    data: Any, *, allowed_accounts: frozenset[Account] | None = None, complete: bool = True
) -> Block:
    """Rebuild a block from its stored or submitted JSON, validating every value again.

    With `complete`, a booking widget without Cliniko's code is refused (saving); without it,
    such a block is allowed (still being edited).
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than Python's stack
            raise InvalidBlock("A block could not be read. Reload the editor and try again.") from exc
    if not isinstance(data, dict):
        raise InvalidBlock("A block could not be read. Reload the editor and try again.")
    kind, block_id = data.get("type"), check_block_id(data.get("id"))
    if kind == "heading":
        text = clean_text(data.get("text"), label="The heading", limit=MAX_HEADING)
        return HeadingBlock(id=block_id, text=text, level=_level(data.get("level")))
    if kind == "text":
        return TextBlock(id=block_id, text=clean_text(data.get("text"), label="The text", limit=MAX_TEXT,
                                                      multiline=True))
    if kind == "button":
        return _button(block_id, data.get("label"), data.get("link"), data.get("url"))
    if kind == "embed":
        if data.get("embed") is None:
            if complete:
                raise InvalidBlock("The booking widget has no Cliniko code yet. Select it, choose Edit and "
                                   "paste Cliniko's embed code, or remove the block.")
            return EmbedBlock(id=block_id)
        embed = BookingEmbed.from_dict(data["embed"], allowed_accounts=allowed_accounts)
        return EmbedBlock(id=block_id, embed=embed)
    raise InvalidBlock("A block of an unknown kind was sent. Reload the editor and try again.")


def stored_blocks(data: Any) -> list[Block]:
    """The blocks of a saved page; anything that no longer validates is left out, not rendered."""
    blocks: list[Block] = []
    for item in data if isinstance(data, list) else []:
        try:
            blocks.append(block_from_dict(item, complete=False))
        except BookingsValidationError:
            continue
    return blocks


def check_block_id(block_id: Any) -> str:
    """Refuse a block id the editor did not make; return the (valid) id."""
    if not isinstance(block_id, str) or not _BLOCK_ID.fullmatch(block_id):
        raise InvalidBlock("A block has no valid id. Reload the editor and try again.")
    return block_id


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 2
    return level if level in HEADING_LEVELS else 2


def _button(block_id: str, label: Any, link: Any, url: Any) -> ButtonBlock:
    label = clean_text(label, label="The button text", limit=MAX_LABEL)
    if link not in LINK_KINDS:
        raise InvalidBlock("Choose where the button goes.")
    if link == "bookings":
        return ButtonBlock(id=block_id, label=label, link="bookings")
    return ButtonBlock(id=block_id, label=label, link="url", url=check_link(url))
