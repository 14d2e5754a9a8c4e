"""Cliniko's "Code to embed in your website": whatever was pasted, reduced to one booking widget.

Liberal in what is read, strict in what is rendered. Staff paste Cliniko's iframe with its
resize script, often changed on the way: wrapped in a ``<div>``, re-quoted, attributes
reordered, another resize script. We look for Cliniko's booking iframe anywhere in the paste
and keep only a few checked values (the bookings address on the clinic's own Cliniko account,
a height, Cliniko's element id, the payment permission); every script and wrapper is dropped,
because pages render a fresh iframe from those values and ship their own resize listener
(``static/cliniko-embed.js``), so the public page's Content-Security-Policy needs no inline
script. Pasted HTML is never stored or rendered, so a browser reading the paste differently
from ``html.parser`` cannot smuggle anything onto the page.

Refused: a paste with no such iframe (staff are told what to copy from Cliniko), an address
that is not the clinic's Cliniko bookings host (javascript:, data:, other hosts, another
clinic's account, see ``oncord.bookings.urls``), and an iframe that was tampered with to run
code (event handlers, srcdoc, two addresses): that code was not Cliniko's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from oncord.bookings.urls import (
    Account,
    BookingsUrl,
    BookingsValidationError,
    InvalidBookingsUrl,
    parse_bookings_url,
)

MAX_CODE_LENGTH = 20_000
DEFAULT_HEIGHT = 1000
MIN_HEIGHT, MAX_HEIGHT = 200, 10_000
IFRAME_TITLE = "Online bookings"
IFRAME_CLASS = "cliniko-bookings"
WHERE_TO_COPY = ("In Cliniko, open Settings → Online bookings and copy the whole “Code to embed in your "
                 "website”, then paste it here.")

_ELEMENT_ID = re.compile(r"cliniko-[0-9]{1,12}", re.ASCII)
_PIXELS = re.compile(r"\s*([0-9]{1,6})(?:\.[0-9]*)?\s*(?:px)?\s*", re.ASCII)
_STYLE_HEIGHT = re.compile(r"(?:^|;)\s*(?:min-)?height\s*:\s*([0-9]{1,6})(?:\.[0-9]*)?px", re.ASCII | re.I)
_PRESELECTS = (("business_id", "business"), ("practitioner_id", "practitioner"),
               ("appointment_type_id", "appointment type"))


class InvalidEmbed(BookingsValidationError):
    """Embed code refused; the message names the problem and what to do."""


@dataclass(frozen=True)
class BookingEmbed:
    """What is kept of Cliniko's embed code: everything needed to render it again."""

    url: BookingsUrl
    height: int = DEFAULT_HEIGHT
    element_id: str | None = None
    allow_payment: bool = False

    @property
    def src(self) -> str:
        """The iframe address (Cliniko's embedded layout)."""
        return self.url.embed_url

    @property
    def origin(self) -> str:
        """The bookings origin, for frame-src and the resize listener's origin check."""
        return self.url.origin

    def iframe_attributes(self) -> list[tuple[str, str]]:
        """The attributes of the iframe we render, in order; all values already validated.

        No width attribute: public.css makes the frame as wide as the page, which a fixed
        attribute from a pasted copy could not.
        """
        attributes = [("class", IFRAME_CLASS)]
        if self.element_id:
            attributes.append(("id", self.element_id))
        attributes += [("src", self.src), ("title", IFRAME_TITLE), ("height", str(self.height))]
        if self.allow_payment:
            attributes.append(("allow", "payment"))
        return attributes

    def canonical_code(self) -> str:
        """The one iframe pages render (and the editor shows); it reads back to this embed."""
        attributes = " ".join(f'{name}="{html.escape(value)}"' for name, value in self.iframe_attributes())
        return f"<iframe {attributes}></iframe>"

    def to_dict(self) -> dict[str, Any]:
        """The validated values, for a JSON column."""
        return {"url": self.url.to_dict(), "height": self.height, "element_id": self.element_id,
                "allow_payment": self.allow_payment}

    @classmethod
    def from_dict(cls, data: Any, *, allowed_accounts: frozenset[Account] | None = None) -> BookingEmbed:
        """Rebuild from stored or submitted values, checking each again."""
        if not isinstance(data, dict):
            raise InvalidEmbed("The booking widget's settings are damaged. Paste Cliniko's code again.")
        try:
            url = BookingsUrl.from_dict(data.get("url"))
            url = parse_bookings_url(url.embed_url, purpose="embed", allowed_accounts=allowed_accounts)
        except InvalidBookingsUrl as exc:
            raise InvalidEmbed(str(exc)) from exc
        height = data.get("height", DEFAULT_HEIGHT)
        element_id = data.get("element_id")
        if not isinstance(height, int) or isinstance(height, bool) or not MIN_HEIGHT <= height <= MAX_HEIGHT:
            raise InvalidEmbed(f"The widget height must be {MIN_HEIGHT}–{MAX_HEIGHT} pixels.")
        if element_id is not None and not (isinstance(element_id, str) and _ELEMENT_ID.fullmatch(element_id)):
            raise InvalidEmbed("The widget's id must look like cliniko-12345678.")
        return cls(url=url, height=height, element_id=element_id,
                   allow_payment=data.get("allow_payment") is True)


@dataclass(frozen=True)
class EmbedReading:
    """The booking widget found in a paste, and one sentence telling staff what was kept."""

    embed: BookingEmbed
    kept: str

    @property
    def iframe(self) -> str:
        """The canonical iframe that replaces whatever was pasted."""
        return self.embed.canonical_code()


class _Finder(HTMLParser):
    """Collects every iframe's attributes and the names of the other elements (to be dropped).

    Script and style contents are text to html.parser, so an iframe written inside a script is
    not an iframe, just as in a browser.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.iframes: list[list[tuple[str, str | None]]] = []
        self.others: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(attrs)
        elif tag not in self.others:
            self.others.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


class _NotTheWidget(Exception):
    """An iframe that is not Cliniko's booking widget (the paste may still hold the real one)."""


def read_embed_code(pasted: str, *, allowed_accounts: frozenset[Account] | None = None) -> EmbedReading:
    """Find Cliniko's booking iframe in what staff pasted and reduce it to the canonical widget.

    `allowed_accounts` is the allow-list of Cliniko accounts the clinic books with (from the
    bookings address setting and the connected account); None accepts any Cliniko account.
    Raises InvalidEmbed when there is no such iframe, or when one was altered to run code.
    """
    code = (pasted or "").strip()
    if not code:
        raise InvalidEmbed(f"Nothing was pasted. {WHERE_TO_COPY}")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidEmbed(f"That is far longer than Cliniko's embed code. {WHERE_TO_COPY}")
    finder = _find(code)
    if not finder.iframes and "&lt;iframe" in code.lower():
        # Copied from a page that shows the code as text (a help article, an e-mail).
        finder = _find(html.unescape(code))
    widgets: list[BookingEmbed] = []
    refusals: list[str] = []
    for attributes in finder.iframes:
        try:
            widget = _read_iframe(attributes, allowed_accounts)
        except _NotTheWidget as exc:
            refusals.append(str(exc))
            continue
        if widget not in widgets:
            widgets.append(widget)
    if len(widgets) > 1:
        hosts = ", ".join(widget.src for widget in widgets)
        raise InvalidEmbed(f"The code holds {len(widgets)} different booking widgets ({hosts}). Use one "
                           "booking widget block for each, and paste each widget's code into its own block.")
    if not widgets:
        if refusals:
            raise InvalidEmbed(f"{refusals[0]} {WHERE_TO_COPY}")
        if code.lower().startswith(("http://", "https://")):
            raise InvalidEmbed(f"That is a web address, not the embed code. {WHERE_TO_COPY} (To link to your "
                               "bookings page instead, use a Button block.)")
        raise InvalidEmbed(f"There is no Cliniko booking iframe in what was pasted. {WHERE_TO_COPY}")
    widget = widgets[0]
    return EmbedReading(embed=widget, kept=_kept_sentence(widget, finder.others, len(refusals)))


def parse_embed_code(code: str, *, allowed_accounts: frozenset[Account] | None = None) -> BookingEmbed:
    """The booking widget in pasted code (read_embed_code without the sentence for staff)."""
    return read_embed_code(code, allowed_accounts=allowed_accounts).embed


def _find(code: str) -> _Finder:
    finder = _Finder()
    finder.feed(code)
    finder.close()
    return finder


def _read_iframe(
    attributes: list[tuple[str, str | None]], allowed_accounts: frozenset[Account] | None
) -> BookingEmbed:
    """One iframe's widget values; raises _NotTheWidget, or InvalidEmbed for code made to run."""
    values: dict[str, str] = {}
    for name, value in attributes:
        if name.startswith("on"):
            raise InvalidEmbed(f"The iframe has an event handler ({name}=…), which could run any script. "
                               f"Cliniko's code has none, so this was changed after it left Cliniko. "
                               f"{WHERE_TO_COPY}")
        if name == "srcdoc":
            raise InvalidEmbed("The iframe carries a page of its own (srcdoc=…) instead of loading Cliniko's "
                               f"booking page. {WHERE_TO_COPY}")
        if name in values and name == "src":
            raise InvalidEmbed(f"The iframe sets its address (src) twice, so browsers may load either. "
                               f"{WHERE_TO_COPY}")
        values.setdefault(name, (value or "").strip())
    src = values.get("src")
    if not src:
        raise _NotTheWidget("The iframe has no address (src), so it is not Cliniko's booking widget.")
    try:
        url = parse_bookings_url(src, purpose="embed", allowed_accounts=allowed_accounts)
    except InvalidBookingsUrl as exc:
        raise _NotTheWidget(f"The iframe's address is refused: {exc}") from exc
    element_id = values.get("id") or None
    features = {f.strip().lower() for f in re.split(r"[;\s]+", values.get("allow", "")) if f.strip()}
    return BookingEmbed(url=url, height=_height(values), allow_payment="payment" in features,
                        element_id=element_id if element_id and _ELEMENT_ID.fullmatch(element_id) else None)


def _height(values: dict[str, str]) -> int:
    """The starting height in pixels: the height attribute, else the style's, else Cliniko's 1000."""
    match = _PIXELS.fullmatch(values.get("height", ""))
    if match is None:
        match = _STYLE_HEIGHT.search(values.get("style", ""))
    if match is None:
        return DEFAULT_HEIGHT
    return min(max(int(match[1]), MIN_HEIGHT), MAX_HEIGHT)


def _kept_sentence(widget: BookingEmbed, others: list[str], other_iframes: int) -> str:
    """One sentence: which widget was kept, and what was left out of the paste."""
    details = [f"{label} {value}" for name, label in _PRESELECTS if (value := getattr(widget.url, name))]
    if widget.allow_payment:
        details.append("online payments allowed")
    kept = f"Kept Cliniko's booking widget for {widget.url.host}"
    if details:
        kept += f" ({', '.join(details)})"
    dropped = [f"<{tag}>" for tag in sorted(others, key=lambda tag: (tag != "script", tag))]
    if other_iframes:
        dropped.append("1 other iframe" if other_iframes == 1 else f"{other_iframes} other iframes")
    if not dropped:
        return kept + "."
    listed = dropped[0] if len(dropped) == 1 else ", ".join(dropped[:-1]) + " and " + dropped[-1]
    reason = "; this page resizes the widget itself" if "script" in others else ""
    return f"{kept} and left out the {listed}{reason}."
