"""The clinic's Cliniko bookings address: only https Cliniko booking pages, rebuilt from their parts."""

from __future__ import annotations

import pytest

from oncord.bookings.urls import BookingsUrl, InvalidBookingsUrl, account_of, parse_bookings_url


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("https://sunnyside.au1.cliniko.com/bookings", "https://sunnyside.au1.cliniko.com/bookings"),
        ("  HTTPS://SunnySide.AU1.Cliniko.com/bookings/  ", "https://sunnyside.au1.cliniko.com/bookings"),
        ("https://acme.cliniko.com/bookings", "https://acme.cliniko.com/bookings"),
        ("https://acme.uk2.cliniko.com/bookings?practitioner_id=2&business_id=1",
         "https://acme.uk2.cliniko.com/bookings?business_id=1&practitioner_id=2"),
        ("https://acme.au4.cliniko.com/bookings?embedded=true", "https://acme.au4.cliniko.com/bookings"),
        ("https://acme.au4.cliniko.com/bookings#service", "https://acme.au4.cliniko.com/bookings#service"),
    ],
)
def test_valid_addresses_are_normalised(text: str, link: str) -> None:
    """Case, a trailing slash, parameter order and the embedded flag are normalised away."""
    assert parse_bookings_url(text).link_url == link


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Enter the bookings address"),
        ("sunnyside.au1.cliniko.com/bookings", "starting with https://"),
        ("http://sunnyside.au1.cliniko.com/bookings", "https://"),
        ("ftp://sunnyside.au1.cliniko.com/bookings", "ftp:"),
        ("https://sunnyside.au1.cliniko.co/bookings", "not a Cliniko bookings host"),
        ("https://cliniko.com/bookings", "not a Cliniko bookings host"),
        ("https://api.au1.cliniko.com/bookings", "Cliniko's own site"),
        ("https://au1.cliniko.com/bookings", "Cliniko's own site"),
        ("https://a.b.au1.cliniko.com/bookings", "not a Cliniko bookings host"),
        ("https://sunnyside.au1.cliniko.com/", "/bookings"),
        ("https://sunnyside.au1.cliniko.com/bookings?business_id=", "business_id must be"),
        ("https://sunnyside.au1.cliniko.com/bookings?business_id=1&business_id=2", "business_id twice"),
        ("https://sunnyside.au1.cliniko.com/bookings?embedded=1", "embedded must be true"),
        ("https://sunnyside.au1.cliniko.com/bookings#<x>", "does not belong"),
        ("https://sunnyside.au1.cliniko.com/bookings#a/b", "after #"),
        ("https://sunny side.au1.cliniko.com/bookings", "space"),
        ("https://" + "a" * 2000 + ".au1.cliniko.com/bookings", "far too long"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(text: str, expected: str) -> None:
    """Each refusal says what is wrong."""
    with pytest.raises(InvalidBookingsUrl) as refused:
        parse_bookings_url(text)
    assert expected in str(refused.value)


def test_embed_addresses_carry_no_fragment() -> None:
    """Cliniko's iframe address never has a # part."""
    with pytest.raises(InvalidBookingsUrl, match="# part"):
        parse_bookings_url("https://acme.au1.cliniko.com/bookings?embedded=true#x", purpose="embed")


def test_embed_url_always_asks_for_the_embedded_layout() -> None:
    """The iframe gets embedded=true first, then the preselections."""
    url = parse_bookings_url("https://acme.au1.cliniko.com/bookings?business_id=9#location")
    assert url.embed_url == "https://acme.au1.cliniko.com/bookings?embedded=true&business_id=9"


def test_legacy_and_sharded_au1_hosts_are_the_same_account() -> None:
    """An old au1 account answers at both hosts."""
    legacy = parse_bookings_url("https://acme.cliniko.com/bookings")
    sharded = parse_bookings_url("https://acme.au1.cliniko.com/bookings")
    assert legacy.account == sharded.account == ("acme", "au1")
    assert legacy.host == "acme.cliniko.com"


def test_parts_round_trip() -> None:
    """Stored parts rebuild the same address and are checked again."""
    url = parse_bookings_url("https://acme.ca1.cliniko.com/bookings?appointment_type_id=4#service")
    assert BookingsUrl.from_dict(url.to_dict()) == url
    with pytest.raises(InvalidBookingsUrl):
        BookingsUrl.from_dict({**url.to_dict(), "shard": "au1.evil.com/x"})
    with pytest.raises(InvalidBookingsUrl):
        BookingsUrl.from_dict("https://acme.ca1.cliniko.com/bookings")


def test_account_of_a_connection() -> None:
    """A connection's subdomain and shard name an account only when they are well formed."""
    assert account_of("Sunnyside", "AU2") == ("sunnyside", "au2")
    assert account_of(None, "au1") is None
    assert account_of("evil.com/", "au1") is None
