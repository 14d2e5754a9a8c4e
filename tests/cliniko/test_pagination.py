"""The list envelope and the defensive handling of links.next."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from oncord.cliniko.errors import MalformedResponse
from oncord.cliniko.pagination import collection_key_for_path, next_page_url, read_page
from tests.cliniko.conftest import example


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/patients", "patients"),
        ("/individual_appointments", "individual_appointments"),
        ("/practitioners/inactive", "practitioners"),
        ("/businesses/514810976554457178/practitioners", "practitioners"),
        ("/patients/archived", "patients"),
        ("/v1/appointment_types?page=2", "appointment_types"),
    ],
)
def test_collection_key_from_path(path, key):
    """The envelope key is the resource name in the path."""
    assert collection_key_for_path(path) == key


@pytest.mark.parametrize(
    ("name", "key", "total", "has_next"),
    [
        ("patients_list.json", "patients", 1, False),
        ("individual_appointments_list.json", "individual_appointments", 952, True),
        ("appointment_types_list.json", "appointment_types", 1, False),
        ("practitioners_inactive_list.json", "practitioners", 1, False),
        ("users_list.json", "users", 1, False),
        ("bookings_list.json", "bookings", 3, False),
        # The docs misspell the count as total_entires; it is still read.
        ("businesses_list.json", "businesses", 1, False),
        # The docs show an id string as the count; it is reported as unknown, not trusted.
        ("practitioners_list.json", "practitioners", None, False),
    ],
)
def test_documented_envelopes(name, key, total, has_next):
    """Every documented list envelope reads, including the docs' own mistakes."""
    page = read_page(example(name), expected_key=key, url="https://x/v1/" + key, page_number=1)
    assert len(page.items) >= 1
    assert page.total_entries == total
    assert (page.next_url is not None) == has_next


def test_key_read_from_envelope_when_path_does_not_say():
    """With no expected key, the single list in the envelope is used."""
    page = read_page(example("patients_list.json"), expected_key=None, url="https://x/", page_number=1)
    assert page.items[0]["first_name"] == "Peter"
    page = read_page(example("patients_list.json"), expected_key="people", url="https://x/",
                     page_number=1)
    assert len(page.items) == 1


@pytest.mark.parametrize(
    "envelope",
    [[], {"links": {}}, {"patients": {"not": "a list"}}, {"patients": [], "links": {"next": 5}},
     {"a": [], "b": []}],
)
def test_malformed_envelopes(envelope):
    """Anything not shaped like a list envelope raises MalformedResponse."""
    with pytest.raises(MalformedResponse):
        read_page(envelope, expected_key="patients", url="https://x/v1/patients", page_number=1)


def test_next_link_rehomed_and_repaired():
    """links.next keeps its path and query but our host; dropped per_page and filters return."""
    url = next_page_url(
        "https://api.cliniko.com/v1/patients?page=2",
        base_url="http://127.0.0.1:5000/v1",
        required_params=[("per_page", "100"), ("q[]", "archived_at:*"), ("sort", "created_at")],
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:5000", "/v1/patients")
    assert parse_qsl(parts.query) == [
        ("page", "2"), ("per_page", "100"), ("q[]", "archived_at:*"), ("sort", "created_at"),
    ]
    assert "q%5B%5D=" in parts.query


def test_next_link_values_are_kept_when_present():
    """A link that already has per_page and the filters is not duplicated into."""
    url = next_page_url(
        "https://api.au2.cliniko.com/v1/patients?page=3&per_page=50&q%5B%5D=archived_at%3A%2A",
        base_url="https://api.au2.cliniko.com/v1",
        required_params=[("per_page", "100"), ("q[]", "archived_at:*")],
    )
    assert parse_qsl(urlsplit(url).query) == [
        ("page", "3"), ("per_page", "50"), ("q[]", "archived_at:*"),
    ]


def test_next_link_with_odd_scheme_is_refused():
    """Only http(s) links are followed."""
    with pytest.raises(MalformedResponse):
        next_page_url("file:///etc/passwd", base_url="https://api.au1.cliniko.com/v1",
                      required_params=[])
