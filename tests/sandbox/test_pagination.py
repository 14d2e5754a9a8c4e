"""Pages, links and ordering, as Cliniko's list endpoints do them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest


def test_default_page_is_50_and_links_walk_every_record_once(api):
    """Default per_page is 50; following links.next visits each record once, in created order."""
    first = api.get("/individual_appointments").json()
    total = first["total_entries"]
    assert len(first["individual_appointments"]) == 50 < total
    walked = api.all("/individual_appointments")
    ids = [a["id"] for a in walked]
    assert len(ids) == len(set(ids)) == total
    created = [(a["created_at"], int(a["id"])) for a in walked]
    assert created == sorted(created)


def test_links_are_absolute_keep_the_query_and_are_left_out_when_not_needed(api, sandbox):
    """self/next/previous keep filters and per_page; first page has no previous, last no next."""
    params = {"per_page": 7, "q[]": ["archived_at:*", "cancelled_at:*"], "sort": "starts_at"}
    first = api.get("/individual_appointments", params).json()
    total = first["total_entries"]
    last_page = -(-total // 7)
    assert set(first["links"]) == {"self", "next"}
    middle = api.get("/individual_appointments", {**params, "page": 2}).json()
    assert set(middle["links"]) == {"self", "next", "previous"}
    last = api.get("/individual_appointments", {**params, "page": last_page}).json()
    assert set(last["links"]) == {"self", "previous"}
    assert len(last["individual_appointments"]) == total - 7 * (last_page - 1)
    for url in (first["links"]["next"], middle["links"]["previous"], last["links"]["self"]):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == sandbox.root_url
        assert parts.path == "/v1/individual_appointments"
        query = parse_qs(parts.query)
        assert query["per_page"] == ["7"] and query["sort"] == ["starts_at"]
        assert query["q[]"] == ["archived_at:*", "cancelled_at:*"]
    assert parse_qs(urlsplit(first["links"]["next"]).query)["page"] == ["2"]
    assert api.session.get(first["links"]["next"]).json() == middle


def test_page_past_the_end_is_empty(api):
    """A page beyond the last is an empty list with the same total and no next link."""
    body = api.get("/patients", {"page": 99}).json()
    assert body["patients"] == [] and body["total_entries"] == 30 - _archived(api)
    assert "next" not in body["links"] and "previous" in body["links"]


def _archived(api):
    return len(api.all("/patients", ["archived_at:?"]))


@pytest.mark.parametrize("params", [
    {"per_page": 0}, {"per_page": 101}, {"per_page": "ten"}, {"page": 0}, {"page": -1},
    {"page": "x"}, {"per_page": "1e3"}, {"sort": "first_name"}, {"sort": "updated_at:sideways"},
    {"order": "up"},
])
def test_bad_paging_or_sort_is_400(api, params):
    """Out-of-range or non-numeric paging, or an unknown sort, is 400 with a message."""
    response = api.get("/patients", params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_per_page_100_is_allowed(api):
    """The documented maximum page size is accepted."""
    body = api.get("/individual_appointments", {"per_page": 100}).json()
    assert len(body["individual_appointments"]) == 100


def test_sort_by_updated_at_and_starts_at_descending(api):
    """`sort=field:desc` orders by that field; the deprecated `order=desc` flips the default."""
    q = ["archived_at:*", "cancelled_at:*"]
    by_updated = api.all("/individual_appointments", q, sort="updated_at:desc")
    assert [a["updated_at"] for a in by_updated] == sorted(
        (a["updated_at"] for a in by_updated), reverse=True)
    by_start = api.all("/individual_appointments", q, sort="starts_at")
    assert [a["starts_at"] for a in by_start] == sorted(a["starts_at"] for a in by_start)
    newest_first = api.all("/patients", order="desc")
    assert [p["id"] for p in newest_first] == [p["id"] for p in api.all("/patients")][::-1]
    two_keys = api.all("/individual_appointments", q, sort="starts_at:desc,created_at")
    keys = [(a["starts_at"], a["created_at"]) for a in two_keys]
    assert keys == sorted(keys, key=lambda k: (_neg(k[0]), k[1]))


def _neg(timestamp: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in timestamp)
