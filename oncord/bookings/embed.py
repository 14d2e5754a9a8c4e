"""Cliniko's "Code to embed in your website": parsed, validated, and reduced to a few values.

Cliniko's code is an ``<iframe>`` on the clinic's bookings host plus an inline ``<script>`` that
resizes it. We keep neither as HTML: the iframe's address, height, id and payment permission
are extracted and checked, the script is only checked to be Cliniko's resize listener, and
anything else is refused with a message naming the problem. Pages render a fresh iframe from
the stored values, and the resize listener is our own static file, so the public page's
Content-Security-Policy needs no inline script.

Two independent parsers must agree: Python's ``html.parser`` (for precise messages) and nh3,
the ammonia sanitiser (html5ever, a browser-grade parser), run with an iframe-only allow-list.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import nh3

from oncord.bookings.urls import (
    Account,
    BookingsUrl,
    BookingsValidationError,
    InvalidBookingsUrl,
    parse_bookings_url,
)

MAX_CODE_LENGTH = 10_000
DEFAULT_HEIGHT = 1000
MIN_HEIGHT, MAX_HEIGHT = 200, 10_000
IFRAME_TITLE = "Online bookings"
COPY_AGAIN = "Copy the code again from Cliniko (Settings → Online bookings) and paste it unchanged."

IFRAME_ATTRIBUTES = frozenset(
    {"id", "src", "frameborder", "scrolling", "width", "height", "style", "allow", "title", "loading"}
)
SCRIPT_ATTRIBUTES = frozenset({"type"})

_ELEMENT_ID = re.compile(r"cliniko-[0-9]{1,12}", re.ASCII)
_WIDTH = re.compile(r"[0-9]{1,4}(?:%|px)?", re.ASCII)
_HEIGHT = re.compile(r"([0-9]{1,5})(?:px)?", re.ASCII)
_STYLE_PROPERTIES = {
    "pointer-events": re.compile(r"auto|none"),
    "border": re.compile(r"0|none|0px"),
    "width": re.compile(r"[0-9]{1,4}(?:%|px)"),
    "max-width": re.compile(r"[0-9]{1,4}(?:%|px)"),
    "height": re.compile(r"[0-9]{1,5}px"),
    "min-height": re.compile(r"[0-9]{1,5}px"),
    "display": re.compile(r"block"),
}

# The resize listener Cliniko ships, and the harmless variations sites make of it, use only these
# names and strings. Anything else (fetch, eval, location, cookies, other strings) is refused.
_SCRIPT_NAMES = frozenset(
    {
        "window", "addEventListener", "function", "handleIFrameMessage", "e", "event", "evt",
        "var", "let", "const", "clinikoBookings", "iframe", "height", "document", "getElementById",
        "typeof", "data", "if", "return", "search", "indexOf", "includes", "split", "Number",
        "parseInt", "style", "scrollIntoView", "true", "false", "isNaN",
    }
)
_SCRIPT_STRINGS = frozenset(
    {"message", "string", "cliniko-bookings-resize", "cliniko-bookings-page", ":", "px"}
)
_SCRIPT_TOKEN = re.compile(
    r"""(?P<space>\s+)
      |(?P<string>'[^'\\\n]*'|"[^"\\\n]*")
      |(?P<number>[0-9]+)
      |(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
      |(?P<punct>===|!==|==|!=|&&|\|\||>=|<=|[-+(){}\[\];,.:?!<>=])""",
    re.VERBOSE | re.ASCII,
)


class InvalidEmbed(BookingsValidationError):
    """Embed code refused; the message names the problem."""


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
        """The attributes of the iframe we render, in order; all values already validated."""
        attributes = [("id", self.element_id)] if self.element_id else []
        attributes += [("src", self.src), ("title", IFRAME_TITLE), ("width", "100%"),
                       ("height", str(self.height))]
        if self.allow_payment:
            attributes.append(("allow", "payment"))
        return attributes

    def canonical_code(self) -> str:
        """The embed code as we render it (shown in the editor); it parses back to this embed."""
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


@dataclass
class _Element:
    tag: str
    attributes: list[tuple[str, str | None]]
    text: list[str] = field(default_factory=list)
    closed: bool = False


class _Reader(HTMLParser):
    """Records the snippet's structure; refuses anything but elements, text and their ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[_Element] = []
        self.open: _Element | None = None
        self.stray_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("iframe", "script"):
            raise InvalidEmbed(f"The code contains a <{tag}> element. Only Cliniko's <iframe> and its "
                               f"<script> are allowed. {COPY_AGAIN}")
        if self.open is not None:
            raise InvalidEmbed(f"The code has a <{tag}> inside the <{self.open.tag}>; Cliniko's code never "
                               f"nests them. {COPY_AGAIN}")
        element = _Element(tag, attrs)
        self.elements.append(element)
        self.open = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        raise InvalidEmbed(f"The <{tag}> is written as self-closing (<{tag} … />), which HTML ignores. "
                           f"{COPY_AGAIN}")

    def handle_endtag(self, tag: str) -> None:
        if self.open is None or self.open.tag != tag:
            raise InvalidEmbed(f"The code has a stray </{tag}>. {COPY_AGAIN}")
        self.open.closed = True
        self.open = None

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.open.text.append(data)
        elif data.strip():
            self.stray_text.append(data.strip())

    def handle_comment(self, data: str) -> None:
        raise InvalidEmbed(f"The code contains an HTML comment (<!-- … -->). Remove it. {COPY_AGAIN}")

    def handle_decl(self, decl: str) -> None:
        raise InvalidEmbed(f"The code contains a declaration (<!{decl[:20]}…>). {COPY_AGAIN}")

    def unknown_decl(self, data: str) -> None:
        raise InvalidEmbed(f"The code contains a <![…]> section. {COPY_AGAIN}")

    def handle_pi(self, data: str) -> None:
        raise InvalidEmbed(f"The code contains a processing instruction (<?…>). {COPY_AGAIN}")


def parse_embed_code(code: str, *, allowed_accounts: frozenset[Account] | None = None) -> BookingEmbed:
    """Validate Cliniko's embed code and return what to keep of it, or raise InvalidEmbed.

    `allowed_accounts` is the allow-list of Cliniko accounts the clinic books with (from the
    bookings address setting and the connected account); None accepts any Cliniko account.
    """
    code = (code or "").strip()
    if not code:
        raise InvalidEmbed("Paste the code Cliniko gives under Settings → Online bookings → "
                           "“Code to embed in your website”.")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidEmbed(f"That is far longer than Cliniko's embed code. {COPY_AGAIN}")
    if "<" not in code:
        if code.lower().startswith(("http://", "https://")):
            raise InvalidEmbed("That is a web address, not embed code. Paste the whole “Code to embed in "
                               "your website” from Cliniko, or use a Button block to link to the address.")
        raise InvalidEmbed(f"That is not Cliniko's embed code (it has no <iframe>). {COPY_AGAIN}")
    bad = next((ch for ch in code if ord(ch) < 32 and ch not in "\t\n\r"), None)
    if bad is not None:
        raise InvalidEmbed(f"The code contains an invisible control character (U+{ord(bad):04X}). "
                           f"{COPY_AGAIN}")
    reader = _Reader()
    reader.feed(code)
    reader.close()
    if reader.stray_text and reader.stray_text[0].startswith("<"):
        raise InvalidEmbed(f"The code breaks off in the middle of a tag: part of it is missing. {COPY_AGAIN}")
    if reader.stray_text:
        raise InvalidEmbed("The code has text outside Cliniko's iframe and script: "
                           f"“{reader.stray_text[0][:40]}”. {COPY_AGAIN}")
    iframes = [e for e in reader.elements if e.tag == "iframe"]
    scripts = [e for e in reader.elements if e.tag == "script"]
    if not iframes:
        raise InvalidEmbed(f"The code has no <iframe>, so it is not Cliniko's booking widget. {COPY_AGAIN}")
    if len(iframes) > 1:
        raise InvalidEmbed("The code has more than one <iframe>. Use one booking widget block per widget.")
    if len(scripts) > 1:
        raise InvalidEmbed(f"The code has more than one <script>; Cliniko's has one. {COPY_AGAIN}")
    for element in reader.elements:
        if not element.closed:
            raise InvalidEmbed(f"The <{element.tag}> is not closed (no </{element.tag}>): part of the code "
                               f"is missing. {COPY_AGAIN}")
    iframe = iframes[0]
    if "".join(iframe.text).strip():
        raise InvalidEmbed(f"The <iframe> has content between its tags; Cliniko's has none. {COPY_AGAIN}")
    embed = _read_iframe(iframe.attributes, allowed_accounts)
    if scripts:
        _check_script(scripts[0], embed.element_id)
    _cross_check_with_nh3(code, embed)
    return embed


def _attributes(element: _Element, allowed: frozenset[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, value in element.attributes:
        if name.startswith("on"):
            raise InvalidEmbed(f"The <{element.tag}> has an event handler ({name}=…), which could run any "
                               f"script. Cliniko's code has none. {COPY_AGAIN}")
        if element.tag == "script" and name == "src":
            raise InvalidEmbed("The <script> loads a file from elsewhere (src=…); Cliniko's script is "
                               f"written out in full. {COPY_AGAIN}")
        if name not in allowed:
            raise InvalidEmbed(f"The <{element.tag}> has the attribute {name!r}, which Cliniko's code does "
                               f"not use. {COPY_AGAIN}")
        if name in seen:
            raise InvalidEmbed(f"The <{element.tag}> sets {name} twice. {COPY_AGAIN}")
        seen[name] = (value or "").strip()
    return seen


def _read_iframe(
    raw: list[tuple[str, str | None]], allowed_accounts: frozenset[Account] | None
) -> BookingEmbed:
    attributes = _attributes(_Element("iframe", raw), IFRAME_ATTRIBUTES)
    src = attributes.get("src")
    if not src:
        raise InvalidEmbed(f"The <iframe> has no src address. {COPY_AGAIN}")
    try:
        url = parse_bookings_url(src, purpose="embed", allowed_accounts=allowed_accounts)
    except InvalidBookingsUrl as exc:
        raise InvalidEmbed(f"The iframe's address is refused: {exc}") from exc
    element_id = attributes.get("id") or None
    if element_id is not None and not _ELEMENT_ID.fullmatch(element_id):
        raise InvalidEmbed(f"The iframe's id {element_id!r} is not Cliniko's (cliniko- and digits). "
                           f"{COPY_AGAIN}")
    height = DEFAULT_HEIGHT
    if "height" in attributes:
        match = _HEIGHT.fullmatch(attributes["height"])
        if match is None:
            raise InvalidEmbed(f"The iframe height {attributes['height']!r} is not a number of pixels.")
        height = min(max(int(match[1]), MIN_HEIGHT), MAX_HEIGHT)
    if "width" in attributes and not _WIDTH.fullmatch(attributes["width"]):
        raise InvalidEmbed(f"The iframe width {attributes['width']!r} is not a percentage or pixels.")
    _check_choice(attributes, "frameborder", {"0", "1", "no", "yes"})
    _check_choice(attributes, "scrolling", {"auto", "yes", "no"})
    _check_choice(attributes, "loading", {"lazy", "eager"})
    title = attributes.get("title", "")
    if any(ch in title for ch in "<>") or len(title) > 200:
        raise InvalidEmbed("The iframe title must be plain text.")
    allow_payment = False
    if "allow" in attributes:
        features = {f.strip() for f in re.split(r"[;\s]+", attributes["allow"]) if f.strip()}
        if not features <= {"payment"}:
            others = ", ".join(sorted(features - {"payment"}))
            raise InvalidEmbed(f"The iframe asks for browser permissions ({others}); Cliniko's widget only "
                               "needs payment.")
        allow_payment = "payment" in features
    if "style" in attributes:
        _check_style(attributes["style"])
    return BookingEmbed(url=url, height=height, element_id=element_id, allow_payment=allow_payment)


def _check_choice(attributes: dict[str, str], name: str, choices: set[str]) -> None:
    if name in attributes and attributes[name].lower() not in choices:
        allowed = ", ".join(sorted(choices))
        raise InvalidEmbed(f"The iframe's {name} {attributes[name]!r} is not one of {allowed}.")


def _check_style(style: str) -> None:
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        pattern = _STYLE_PROPERTIES.get(name)
        if not colon or pattern is None:
            raise InvalidEmbed(f"The iframe's style sets {name or declaration.strip()!r}; only simple sizing "
                               f"({', '.join(sorted(_STYLE_PROPERTIES))}) is allowed.")
        if not pattern.fullmatch(value):
            raise InvalidEmbed(f"The iframe's style gives {name} the value {value!r}, which is not allowed.")


def _check_script(script: _Element, element_id: str | None) -> None:
    attributes = _attributes(script, SCRIPT_ATTRIBUTES)
    if attributes.get("type", "text/javascript").lower() not in ("text/javascript", "application/javascript"):
        raise InvalidEmbed(f"The <script> has type {attributes['type']!r}; Cliniko's is text/javascript.")
    source = "".join(script.text)
    allowed_strings = _SCRIPT_STRINGS | ({element_id} if element_id else set())
    position, strings, names = 0, set(), set()
    while position < len(source):
        match = _SCRIPT_TOKEN.match(source, position)
        if match is None:
            near = source[position:position + 30].strip()
            raise InvalidEmbed(f"The <script> is not Cliniko's resize script: it contains "
                               f"{source[position]!r} (near “{near}”). {COPY_AGAIN}")
        position = match.end()
        if match["name"]:
            if match["name"] not in _SCRIPT_NAMES:
                raise InvalidEmbed(f"The <script> is not Cliniko's resize script: it uses {match['name']!r}. "
                                   f"{COPY_AGAIN}")
            names.add(match["name"])
        elif match["string"]:
            value = match["string"][1:-1]
            if value not in allowed_strings:
                raise InvalidEmbed(f"The <script> is not Cliniko's resize script: it contains the text "
                                   f"{value[:40]!r}. {COPY_AGAIN}")
            strings.add(value)
    if "cliniko-bookings-resize" not in strings or "addEventListener" not in names:
        raise InvalidEmbed(f"The <script> is not Cliniko's resize script. {COPY_AGAIN}")


def _cross_check_with_nh3(code: str, embed: BookingEmbed) -> None:
    """Let html5ever read the code too; if it sees a different iframe, the HTML is ambiguous."""
    expected_src = None

    def record_src(_tag: str, attribute: str, value: str) -> str:
        nonlocal expected_src
        if attribute == "src":
            expected_src = value
        return value

    cleaned = nh3.clean(
        code,
        tags={"iframe"},
        clean_content_tags={"script"},
        attributes={"iframe": set(IFRAME_ATTRIBUTES)},
        attribute_filter=record_src,
        url_schemes={"https"},
        strip_comments=True,
        link_rel=None,
    )
    reader = _Reader()
    try:
        reader.feed(cleaned)
        reader.close()
    except InvalidEmbed:
        reader.elements = []
    iframes = [e for e in reader.elements if e.tag == "iframe"]
    ambiguous = InvalidEmbed(f"The code is malformed HTML that browsers could read differently. {COPY_AGAIN}")
    if reader.stray_text or len(iframes) != 1 or expected_src is None:
        raise ambiguous
    try:
        seen = parse_bookings_url(expected_src, purpose="embed")
    except InvalidBookingsUrl as exc:
        raise ambiguous from exc
    if seen != embed.url:
        raise ambiguous
