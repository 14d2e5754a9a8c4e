"""The bookings address checks word for word, and the clinic settings they read (each gap found by
mutation testing, issue 18: staff act on these messages, so a garbled one is a broken promise)."""

from __future__ import annotations

import pytest

from oncord.bookings.settings import allowed_accounts, clinic_name, update_clinic_settings
from oncord.bookings.urls import (
    EXAMPLE_URL,
    MAX_URL_LENGTH,
    BookingsUrl,
    InvalidBookingsUrl,
    describe_accounts,
    parse_bookings_url,
)
from tests.factories import make_connection

OWN = "https://sunnyside.au1.cliniko.com/bookings"


@pytest.mark.parametrize(("text", "message"), [
    ("http://sunnyside.au1.cliniko.com/bookings",
     "The address must start with https:// (Cliniko only serves bookings over a secure connection)."),
    ("https://me@sunnyside.au1.cliniko.com/bookings",
     "The address contains a user name or password (an @ before the host). "
     f"A Cliniko bookings address looks like {EXAMPLE_URL}."),
    ("https://sunnyside.au1.cliniko.com:8443/bookings",
     "The address names a port or other extras after the host. "
     f"A Cliniko bookings address looks like {EXAMPLE_URL}."),
    ("https:///bookings",
     f"That address is not a Cliniko bookings host. The address must be on cliniko.com, like {EXAMPLE_URL}."),
    ("https://sunnyside.au1.cliniko.com",
     "The address must end in /bookings (it has no path). "
     "Open Online bookings in Cliniko's settings and copy the link shown there."),
    ("https://sunnyside.au1.cliniko.com/bookings?business_id=1&&practitioner_id=2",
     "The part after ? is not a valid query string."),
    ("https://sunnyside.au1.cliniko.com/bookings?nonsense",
     "The part after ? is not a valid query string."),
    ("https://sunnyside.au1.cliniko.com/bookings?colour=red",
     "The address has the parameter 'colour', which Cliniko's booking page does not use. "
     "Only business_id, practitioner_id, appointment_type_id are allowed."),
    ("https://sunnyside.au1.cliniko.com/bookings#a/b",
     "The part after # may only hold letters, digits, - and _ (e.g. #service)."),
    ("https://" + "a" * MAX_URL_LENGTH, "That address is far too long to be a Cliniko bookings address."),
])
def test_each_refusal_reads_exactly_so(text: str, message: str) -> None:
    with pytest.raises(InvalidBookingsUrl) as refused:
        parse_bookings_url(text)
    assert str(refused.value) == message


def test_an_embed_address_with_a_fragment_is_refused_so() -> None:
    with pytest.raises(InvalidBookingsUrl) as refused:
        parse_bookings_url(OWN + "?embedded=true#x", purpose="embed")
    assert str(refused.value) == "The embed address has a # part, which Cliniko's embed code never has."


def test_the_length_limit_is_inclusive() -> None:
    """An address of exactly the limit is judged on its merits, not as too long."""
    text = OWN + "?business_id=" + "1" * (MAX_URL_LENGTH - len(OWN) - len("?business_id="))
    assert len(text) == MAX_URL_LENGTH
    with pytest.raises(InvalidBookingsUrl, match="business_id must be a Cliniko id"):
        parse_bookings_url(text)


def test_a_link_may_carry_a_fragment_by_default() -> None:
    """Without a purpose the address is a link (an embed would refuse the # part)."""
    assert parse_bookings_url(OWN + "#service").link_url == OWN + "#service"


def test_another_accounts_address_names_the_clinics_own_hosts() -> None:
    accounts = frozenset({("sunnyside", "au1"), ("sunnyside", "uk2")})
    assert describe_accounts(accounts) == "sunnyside.au1.cliniko.com or sunnyside.uk2.cliniko.com"
    with pytest.raises(InvalidBookingsUrl) as refused:
        parse_bookings_url("https://other.au2.cliniko.com/bookings", allowed_accounts=accounts)
    assert str(refused.value) == (
        "This points at other.au2.cliniko.com, but your clinic books at sunnyside.au1.cliniko.com or "
        "sunnyside.uk2.cliniko.com. Copy the code from your own Cliniko account (or ask an admin to "
        "change the bookings address in Settings → Online bookings)."
    )


def test_the_clinic_name_falls_back_to_the_cliniko_account(db_session, clock) -> None:
    assert clinic_name(db_session) == ""
    connection = make_connection(db_session, clock)
    assert clinic_name(db_session) == "Sunnyside Physio"
    connection.account_name = None
    assert clinic_name(db_session) == ""
    update_clinic_settings(db_session, clinic_name="  Sunnyside Clinic ", bookings_url=None, clock=clock)
    assert clinic_name(db_session) == "Sunnyside Clinic"
    update_clinic_settings(db_session, clinic_name=None, bookings_url=None, clock=clock)
    assert clinic_name(db_session) == ""


def test_embeds_may_use_the_bookings_addresss_account_and_the_connected_one(db_session, clock) -> None:
    assert allowed_accounts(db_session) is None
    update_clinic_settings(db_session, clinic_name=None, clock=clock,
                           bookings_url=parse_bookings_url("https://acme.uk2.cliniko.com/bookings"))
    assert allowed_accounts(db_session) == {("acme", "uk2")}
    make_connection(db_session, clock, subdomain="sunnyside", shard="au1")
    assert allowed_accounts(db_session) == {("acme", "uk2"), ("sunnyside", "au1")}


def test_damaged_stored_parts_are_refused_so() -> None:
    """A widget's stored address that is not a mapping says what to do (shown to staff via the embed)."""
    with pytest.raises(InvalidBookingsUrl) as refused:
        BookingsUrl.from_dict("https://acme.ca1.cliniko.com/bookings")
    assert str(refused.value) == "The stored bookings address is damaged. Paste it again."


def test_parts_without_a_fragment_round_trip_without_one() -> None:
    url = parse_bookings_url("https://acme.ca1.cliniko.com/bookings?business_id=7")
    assert BookingsUrl.from_dict(url.to_dict()) == url
    assert BookingsUrl.from_dict(url.to_dict()).link_url == "https://acme.ca1.cliniko.com/bookings?business_id=7"
