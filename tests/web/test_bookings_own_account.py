"""Booking widgets may only book with the clinic's own Cliniko account, on apply and again on save."""

from __future__ import annotations

import json

import pytest

from oncord.models import Page
from tests.bookings.samples import DOCUMENTED_CODE, HOST, code_with, make_page
from tests.bookings.samples import IFRAME as OWN_IFRAME
from tests.factories import make_connection
from tests.web.conftest import post

OTHER_CODE = code_with(iframe=OWN_IFRAME.replace(HOST, "other-clinic.au2.cliniko.com"))


def _embed(subdomain: str, shard: str | None) -> dict:
    return {"id": "b00000001", "type": "embed",
            "embed": {"url": {"subdomain": subdomain, "shard": shard}, "height": 1000}}


@pytest.fixture
def connected(db_session, clock):
    """Connected to Cliniko as sunnyside on au1; no bookings address saved."""
    make_connection(db_session, clock, subdomain="sunnyside", shard="au1")
    db_session.commit()


def test_apply_refuses_a_widget_of_another_account_than_the_connected_one(staff_client, connected) -> None:
    """Known from the connection alone: another clinic's widget is refused, the clinic's own accepted."""
    other = post(staff_client, "/pages/blocks/apply",
                 {"kind": "embed", "block_id": "b12345678", "code": OTHER_CODE}, htmx=True)
    assert other.status_code == 422
    assert "your clinic books at sunnyside.au1.cliniko.com" in other.get_data(as_text=True)
    own = post(staff_client, "/pages/blocks/apply",
               {"kind": "embed", "block_id": "b12345678", "code": DOCUMENTED_CODE}, htmx=True)
    assert own.status_code == 200


@pytest.mark.parametrize(("subdomain", "shard", "allowed"), [
    ("sunnyside", "au1", True),
    ("sunnyside", None, True),  # the legacy host of the same au1 account
    ("other-clinic", "au2", False),
    ("sunnyside", "au2", False),  # same name on another shard is another account
    ("other-clinic", "au1", False),
])
def test_save_checks_the_account_of_every_widget_again(
    staff_client, connected, db_session, clock, subdomain, shard, allowed
) -> None:
    """A block sent straight to Save (as a tampered browser could) is checked against the account too."""
    page = make_page(db_session, clock, slug="book", published=False, blocks=[])
    db_session.commit()
    response = post(staff_client, f"/pages/{page.id}/edit",
                    {"title": "Book", "slug": "book", "revision": "1",
                     "block": [json.dumps(_embed(subdomain, shard))]}, htmx=True)
    db_session.expire_all()
    blocks = db_session.get(Page, page.id).blocks
    if allowed:
        assert response.status_code == 204  # htmx: redirected by HX-Redirect
        assert len(blocks) == 1
    else:
        assert response.status_code == 422
        assert "your clinic books at sunnyside.au1.cliniko.com" in response.get_data(as_text=True)
        assert blocks == []
