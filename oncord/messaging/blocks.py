"""The blocks staff write in an e-mail body: text, a Book Now button, an image and a divider.

Authoring stays plain text so the text part of every e-mail says the same as its HTML part:

    [button: Book now]                      a button to the message's Book Now link
    [image: https://… | what it shows]      an image (https only), with its alt text
    ---                                     a divider (a line of three or more dashes)

The body is rendered first (merge fields filled in) and split into blocks afterwards, so a
button label or alt text may use merge fields. Each merge value arrives wrapped in two private
characters (`mark`), so a line a value begins, or a line inside a multi-line value, is never a
block: a patient named "[image: …]" stays text. A line that starts like a block (`[word:`) but is
not a known, complete one is a BlockProblem: that one message fails with words staff can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from oncord.messaging.errors import MessageProblem

OPEN, CLOSE = "\ue000", "\ue001"
MAX_IMAGE_URL = 2000

# What the editors' merge-field help lists (name -> what it does).
BLOCK_SYNTAX: dict[str, str] = {
    "[button: Book now]": "A button to the Book Now link (the label is yours)",
    "[image: https://… | what it shows]": "An image from an https address, with a description for "
                                          "people who cannot see it",
    "---": "A divider line",
}

_BLOCKISH = re.compile(r"\[\s*[A-Za-z][A-Za-z ]*\s*:")
_BLOCK = re.compile(r"\[\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*\]", re.DOTALL)
_DIVIDER = re.compile(r"-{3,}")
_IMAGE_URL = re.compile(r"https://[^\s\"'<>\\]+", re.ASCII)


class BlockProblem(MessageProblem):
    """A block line that cannot be made into a block; the message says how to write it."""


@dataclass(frozen=True)
class TextBlock:
    """Paragraphs of text (blank lines separate them)."""

    text: str


@dataclass(frozen=True)
class ButtonBlock:
    """A button to the message's Book Now link."""

    label: str
    url: str


@dataclass(frozen=True)
class ImageBlock:
    """An image from an https address with its alt text."""

    url: str
    alt: str


@dataclass(frozen=True)
class DividerBlock:
    """A horizontal rule."""


Block = TextBlock | ButtonBlock | ImageBlock | DividerBlock


def mark(value: Any) -> str:
    """A merge value as it is written into a body that will be split into blocks (Jinja's finalize)."""
    text = "" if value is None else str(value)  # an Unavailable value raises its MessageProblem here
    return OPEN + text.replace(OPEN, "").replace(CLOSE, "") + CLOSE


def unmark(text: str) -> str:
    """The text without the merge-value markers."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def _lines_outside_values(marked: str) -> list[tuple[str, bool]]:
    # Each line with whether it starts outside every merge value (only then may it be a block).
    result = []
    inside = False
    for line in marked.split("\n"):
        result.append((line, not inside))
        for char in line:
            if char == OPEN:
                inside = True
            elif char == CLOSE:
                inside = False
    return result


def _line_number(number: int) -> str:
    return f"Line {number} of the e-mail"


def _button(content: str, number: int, book_now_url: Any) -> ButtonBlock:
    label = " ".join(content.split())
    if not label or "|" in label:
        raise BlockProblem(f"{_line_number(number)}: write a button as [button: Book now], with the "
                           "label after the colon; it always opens the Book Now link.")
    url = str(book_now_url or "")  # an Unavailable link raises its own problem
    if not url.startswith(("https://", "http://")):
        raise BlockProblem(f"{_line_number(number)}: the Book Now button has no link to open. Set the "
                           "bookings address in Settings → Online bookings, or remove the button.")
    return ButtonBlock(label=label, url=url)


def _image(content: str, number: int) -> ImageBlock:
    url, bar, alt = content.partition("|")
    url, alt = url.strip(), " ".join(alt.split())
    if not bar or not alt:
        raise BlockProblem(f"{_line_number(number)}: an image needs a description after a bar, "
                           "e.g. [image: https://… | Our new treatment room].")
    if len(url) > MAX_IMAGE_URL or not _IMAGE_URL.fullmatch(url):
        raise BlockProblem(f"{_line_number(number)}: an image's address must start with https:// and "
                           "have no spaces, e.g. [image: https://… | Our new treatment room].")
    return ImageBlock(url=url, alt=alt)


def parse_blocks(marked: str, book_now_url: Any) -> list[Block]:
    """Split a rendered, marked body into blocks; a malformed block line raises BlockProblem."""
    blocks: list[Block] = []
    text: list[str] = []

    def flush() -> None:
        joined = unmark("\n".join(text)).strip("\n")
        if joined.strip():
            blocks.append(TextBlock(joined))
        text.clear()

    for number, (line, outside) in enumerate(_lines_outside_values(marked), start=1):
        stripped = line.strip()
        if outside and _DIVIDER.fullmatch(stripped):
            flush()
            blocks.append(DividerBlock())
            continue
        if not (outside and _BLOCKISH.match(stripped)):
            text.append(line)
            continue
        found = _BLOCK.fullmatch(unmark(stripped))
        if found is None:
            raise BlockProblem(f"{_line_number(number)} starts like a block but does not end with ]. "
                               "Blocks are [button: …], [image: … | …] and ---.")
        kind, content = found.group(1).lower(), found.group(2)
        flush()
        if kind == "button":
            blocks.append(_button(content, number, book_now_url))
        elif kind == "image":
            blocks.append(_image(content, number))
        else:
            raise BlockProblem(f"{_line_number(number)}: [{kind[:20]}: …] is not a block. Blocks are "
                               "[button: …], [image: … | …] and ---; to write text in square brackets, "
                               "do not start the line with [word:.")
    flush()
    return blocks


def blocks_text(blocks: list[Block]) -> str:
    """The body as the e-mail's plain-text part says it."""
    parts = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append(block.text.strip("\n"))
        elif isinstance(block, ButtonBlock):
            parts.append(f"{block.label}: {block.url}")
        elif isinstance(block, ImageBlock):
            parts.append(block.alt)
        else:
            parts.append("-" * 40)
    return "\n\n".join(parts).strip()
