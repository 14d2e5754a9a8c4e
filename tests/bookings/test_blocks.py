"""Page blocks: built only from validated values; links limited to safe kinds."""

from __future__ import annotations

import json

import pytest

from oncord.bookings.blocks import (
    ButtonBlock,
    EmbedBlock,
    HeadingBlock,
    InvalidBlock,
    TextBlock,
    block_from_dict,
    check_link,
    new_block,
    stored_blocks,
)
from oncord.bookings.embed import parse_embed_code
from oncord.bookings.urls import BookingsValidationError, parse_bookings_url
from tests.bookings.samples import DOCUMENTED_CODE


@pytest.mark.parametrize("url", ["https://www.example.com/contact?x=1#map", "/book-now", "/", "/about/team",
                                 "mailto:front.desk@clinic.example", "tel:+61390000000"])
def test_allowed_links(url: str) -> None:
    """https pages, the site's own pages, e-mail and phone links are fine."""
    assert check_link(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", "javascript:"),
        ("JaVaScRiPt:alert(1)", "javascript:"),
        ("data:text/html,<script>alert(1)</script>", "characters"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data:"),
        ("vbscript:msgbox", "vbscript:"),
        ("//evil.example.com", "one of your pages"),
        ("/Book Now", "characters"),
        ("http://www.example.com", "https://"),
        ("https://user@evil.example.com", "host name"),
        ("https://", "host name"),
        ("www.example.com", "Start the address"),
        ("", "Enter the address"),
    ],
)
def test_refused_links(url: str, expected: str) -> None:
    """Script, data and protocol-relative links are refused with a reason."""
    with pytest.raises(InvalidBlock) as refused:
        check_link(url)
    assert expected in str(refused.value)


def test_blocks_round_trip_through_json() -> None:
    """Each kind of block survives being stored and sent back by the editor."""
    embed = parse_embed_code(DOCUMENTED_CODE)
    blocks = [
        HeadingBlock(id="b00000001", text="Book online", level=3),
        TextBlock(id="b00000002", text="First paragraph.\nSecond line.\n\nNew paragraph."),
        ButtonBlock(id="b00000003", label="Call us", link="url", url="tel:+61390000000"),
        ButtonBlock(id="b00000004", label="Book now"),
        EmbedBlock(id="b00000005", embed=embed),
    ]
    for block in blocks:
        assert block_from_dict(json.dumps(block.to_dict())) == block
    assert blocks[1].paragraphs == [["First paragraph.", "Second line."], ["New paragraph."]]


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        {"type": "heading", "id": "b00000001"},
        {"type": "heading", "id": "x", "text": "Hi"},
        {"type": "html", "id": "b00000001", "html": "<script>alert(1)</script>"},
        {"type": "button", "id": "b00000001", "label": "Go", "link": "url", "url": "javascript:alert(1)"},
        {"type": "embed", "id": "b00000001", "embed": {"url": {"subdomain": "evil.com/"}, "height": 100}},
        {"type": "text", "id": "b00000001", "text": "x" * 5001},
    ],
)
def test_tampered_blocks_are_refused(data: object) -> None:
    """Whatever the browser sends is validated again; nothing unexpected is kept."""
    with pytest.raises(BookingsValidationError):
        block_from_dict(json.dumps(data) if not isinstance(data, str) else data)


def test_an_empty_booking_widget_is_allowed_while_editing_but_not_saved() -> None:
    """A freshly inserted widget has no code yet; Save asks for it."""
    block = new_block("embed")
    assert block_from_dict(block.to_dict(), complete=False) == block
    with pytest.raises(InvalidBlock, match="no Cliniko code yet"):
        block_from_dict(block.to_dict())


def test_button_goes_to_the_bookings_page_when_set() -> None:
    """A bookings button follows the clinic's address, and hides when there is none."""
    block = ButtonBlock(id="b00000001", label="Book now")
    assert block.href(parse_bookings_url("https://acme.au1.cliniko.com/bookings")) == \
        "https://acme.au1.cliniko.com/bookings"
    assert block.href(None) is None


def test_stored_blocks_skip_anything_that_no_longer_validates() -> None:
    """A damaged stored block is left out of the page rather than rendered."""
    good = HeadingBlock(id="b00000001", text="Hello").to_dict()
    assert stored_blocks([good, {"type": "html", "id": "b00000002"}, "junk"]) == [block_from_dict(good)]
    assert stored_blocks(None) == []
