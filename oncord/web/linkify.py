"""Plain message text as HTML whose web addresses are links (the demo outbox shows what was sent)."""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

# An http(s) address up to the next space or bracket; trailing punctuation ends the sentence.
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_TRAILING = ".,;:!?"


def linkify(text: str | None) -> Markup:
    """Escape the text and make each http(s) address a link that opens in a new tab."""
    parts: list[str] = []
    last = 0
    source = text or ""
    for match in _URL.finditer(source):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        parts.append(str(escape(source[last:match.start()])))
        safe = escape(url)
        parts.append(f'<a href="{safe}" target="_blank" rel="noopener noreferrer">{safe}</a>')
        last = end
    parts.append(str(escape(source[last:])))
    return Markup("".join(parts))


def init_app(app: Flask) -> None:
    """Register the template filter."""
    app.add_template_filter(linkify)
