"""The page editor over HTTP: guards, insert, apply, save, Book Now in one click, preview."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from oncord.bookings.settings import update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from oncord.models import Page
from tests.bookings.samples import DOCUMENTED_CODE, SRC, make_page
from tests.web.conftest import HTMX, post

BLOCK_INPUT = re.compile(r"name=\"block\" form=\"page-form\" value='([^']*)'")


def _blocks_in(html: str) -> list[dict]:
    values = BLOCK_INPUT.findall(html)
    return [json.loads(value.replace("&#39;", "'").replace("&amp;", "&")) for value in values]


def _page(db_session, page_id: int) -> Page:
    db_session.expire_all()
    return db_session.get(Page, page_id)


def test_pages_need_a_login(client) -> None:
    """Anonymous visitors are sent to the login page."""
    response = client.get("/pages/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_staff_may_create_a_page_and_open_the_editor(staff_client, db_session) -> None:
    """A new page is a draft, its address made from the title, and opens in the editor."""
    response = post(staff_client, "/pages/new", {"title": "Our Services & Fees", "slug": ""})
    assert response.status_code == 303
    page = db_session.scalars(select(Page)).one()
    assert (page.slug, page.published, page.blocks) == ("our-services-fees", False, [])
    assert response.headers["Location"].endswith(f"/pages/{page.id}/edit")
    editor = staff_client.get(f"/pages/{page.id}/edit").get_data(as_text=True)
    assert 'id="blocks"' in editor and "sortable-1.15.7.min.js" in editor and "Insert" in editor


def test_addresses_of_oncord_screens_are_refused(staff_client) -> None:
    """A page can never take /login, /pages, /settings or another app route."""
    for slug in ("login", "pages", "contacts", "settings", "static", "healthz"):
        response = post(staff_client, "/pages/new", {"title": "Sneaky", "slug": slug}, htmx=True)
        assert response.status_code == 422, slug
        assert "used by Oncord itself" in response.get_data(as_text=True)
    response = post(staff_client, "/pages/new", {"title": "Bad", "slug": "Book Now!"}, htmx=True)
    assert response.status_code == 422
    assert "lower-case letters" in response.get_data(as_text=True)


def test_a_taken_address_is_refused(staff_client, db_session, clock) -> None:
    """Two pages cannot share an address."""
    make_page(db_session, clock, slug="book-now")
    db_session.commit()
    response = post(staff_client, "/pages/new", {"title": "Book now", "slug": "book-now"}, htmx=True)
    assert response.status_code == 422
    assert "Another page already uses /book-now" in response.get_data(as_text=True)


def test_insert_apply_and_save_an_embed(staff_client, db_session, clock) -> None:
    """Insert gives an empty widget, Apply validates Cliniko's code, Save stores only its values."""
    page = make_page(db_session, clock, slug="book", published=False, blocks=[])
    db_session.commit()

    inserted = staff_client.get("/pages/blocks/new?kind=embed", headers=HTMX)
    assert inserted.status_code == 200
    html = inserted.get_data(as_text=True)
    [block] = _blocks_in(html)
    assert block["type"] == "embed" and block["embed"] is None
    assert 'data-hx-swap-oob="innerHTML"' in html and "embed code" in html

    applied = post(staff_client, "/pages/blocks/apply",
                   {"kind": "embed", "block_id": block["id"], "code": DOCUMENTED_CODE}, htmx=True)
    assert applied.status_code == 200
    html = applied.get_data(as_text=True)
    assert "Applied to the preview" in html
    [block] = _blocks_in(html)
    assert block["embed"]["url"]["subdomain"] == "sunnyside"
    assert "<" not in json.dumps(block)  # values, never markup

    saved = post(staff_client, f"/pages/{page.id}/edit",
                 {"title": "Book online", "slug": "book", "published": "y", "revision": "1",
                  "block": [json.dumps(block)]}, htmx=True)
    assert saved.status_code == 204
    assert saved.headers["HX-Redirect"].endswith(f"/pages/{page.id}/edit")
    stored = _page(db_session, page.id)
    assert stored.published is True and stored.revision == 2
    assert stored.blocks == [block]


def test_apply_refuses_hostile_code_and_says_why(staff_client) -> None:
    """A handler in the pasted code comes back on the form (422), naming the problem."""
    code = DOCUMENTED_CODE.replace("<iframe ", "<iframe onload='alert(1)' ")
    response = post(staff_client, "/pages/blocks/apply",
                    {"kind": "embed", "block_id": "b12345678", "code": code}, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "event handler (onload=…)" in body
    assert "data-hx-swap-oob" not in body  # the block's preview is left as it was


def test_apply_refuses_another_clinics_widget(staff_client, db_session, clock) -> None:
    """With the clinic's bookings address set, a widget for another Cliniko account is refused."""
    update_clinic_settings(db_session, clinic_name=None, clock=clock,
                           bookings_url=parse_bookings_url("https://other-clinic.au2.cliniko.com/bookings"))
    db_session.commit()
    response = post(staff_client, "/pages/blocks/apply",
                    {"kind": "embed", "block_id": "b12345678", "code": DOCUMENTED_CODE}, htmx=True)
    assert response.status_code == 422
    assert "your clinic books at other-clinic.au2.cliniko.com" in response.get_data(as_text=True)


def test_apply_other_blocks(staff_client) -> None:
    """Heading, text and button settings are validated and previewed."""
    ok = post(staff_client, "/pages/blocks/apply",
              {"kind": "heading", "block_id": "b00000001", "text": "Welcome", "level": "3"}, htmx=True)
    assert ok.status_code == 200 and "<h3 class=\"site-heading\">Welcome</h3>" in ok.get_data(as_text=True)
    bad = post(staff_client, "/pages/blocks/apply",
               {"kind": "button", "block_id": "b00000002", "label": "Click", "link": "url",
                "url": "javascript:alert(1)"}, htmx=True)
    assert bad.status_code == 422 and "javascript: are not allowed" in bad.get_data(as_text=True)
    no_address = post(staff_client, "/pages/blocks/apply",
                      {"kind": "button", "block_id": "b00000003", "label": "Book", "link": "bookings"},
                      htmx=True)
    assert no_address.status_code == 422 and "not set yet" in no_address.get_data(as_text=True)
    text = post(staff_client, "/pages/blocks/apply",
                {"kind": "text", "block_id": "b00000004", "text": "<b>Hi</b>\n\nthere"}, htmx=True)
    assert "&lt;b&gt;Hi&lt;/b&gt;" in text.get_data(as_text=True)


def test_edit_opens_a_blocks_settings(staff_client) -> None:
    """Edit sends the block and gets its settings form; a saved widget shows its canonical code."""
    from oncord.bookings.blocks import EmbedBlock
    from oncord.bookings.embed import parse_embed_code

    block = EmbedBlock(id="b0000abcd", embed=parse_embed_code(DOCUMENTED_CODE))
    response = post(staff_client, "/pages/blocks/settings", {"block": json.dumps(block.to_dict())}, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "sunnyside.au1.cliniko.com" in body and "&lt;iframe" in body
    junk = post(staff_client, "/pages/blocks/settings", {"block": "{}"}, htmx=True)
    assert junk.status_code == 400


def test_save_checks_every_block_again(staff_client, db_session, clock) -> None:
    """An empty widget, or one tampered with in the browser, stops the save with a clear message."""
    page = make_page(db_session, clock, slug="book", published=False, blocks=[])
    db_session.commit()
    def save(revision: str, block: dict):
        return post(staff_client, f"/pages/{page.id}/edit",
                    {"title": "Book", "slug": "book", "revision": revision, "block": [json.dumps(block)]},
                    htmx=True)

    response = save("1", {"id": "b00000001", "type": "embed", "embed": None})
    assert response.status_code == 422
    assert "Block 1 (Cliniko booking widget): The booking widget has no Cliniko code yet" in \
        response.get_data(as_text=True)

    off_cliniko = {"id": "b00000001", "type": "embed",
                   "embed": {"url": {"subdomain": "evil.com/x", "shard": "au1"}, "height": 1000}}
    response = save("1", off_cliniko)
    assert response.status_code == 422 and "not a Cliniko bookings host" in response.get_data(as_text=True)
    response = save("1", {"id": "b00000002", "type": "html", "html": "<script>alert(1)</script>"})
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in json.dumps(_page(db_session, page.id).blocks)


def test_a_second_editor_cannot_overwrite_silently(staff_client, db_session, clock) -> None:
    """Saving from a stale editor is refused and says to reload."""
    page = make_page(db_session, clock, slug="book")
    db_session.commit()
    data = {"title": "Book", "slug": "book", "revision": "1", "block": [json.dumps(page.blocks[0])]}
    assert post(staff_client, f"/pages/{page.id}/edit", data, htmx=True).status_code == 204
    again = post(staff_client, f"/pages/{page.id}/edit", data, htmx=True)
    assert again.status_code == 422
    assert "Someone else saved this page" in again.get_data(as_text=True)


def test_book_now_page_in_one_click_uses_the_bookings_address(staff_client, db_session, clock) -> None:
    """With the address set, the Book Now page comes with the widget filled in; a second gets -2."""
    update_clinic_settings(db_session, clinic_name=None, clock=clock,
                           bookings_url=parse_bookings_url("https://sunnyside.au1.cliniko.com/bookings?business_id=7"))
    db_session.commit()
    assert "Create a Book Now page" in staff_client.get("/pages/").get_data(as_text=True)
    response = post(staff_client, "/pages/book-now")
    assert response.status_code == 303
    page = db_session.scalars(select(Page)).one()
    assert (page.slug, page.published) == ("book-now", False)
    embed = [b for b in page.blocks if b["type"] == "embed"][0]["embed"]
    assert embed["url"]["subdomain"] == "sunnyside" and embed["url"]["business_id"] == "7"
    assert "Create a Book Now page" not in staff_client.get("/pages/").get_data(as_text=True)
    post(staff_client, "/pages/book-now")
    assert {p.slug for p in db_session.scalars(select(Page))} == {"book-now", "book-now-2"}


def test_book_now_page_without_an_address_asks_for_the_code(staff_client, db_session) -> None:
    """Without the address the widget is empty and the editor says what to paste."""
    post(staff_client, "/pages/book-now")
    page = db_session.scalars(select(Page)).one()
    assert [b["embed"] for b in page.blocks if b["type"] == "embed"] == [None]
    editor = staff_client.get(f"/pages/{page.id}/edit").get_data(as_text=True)
    assert "paste Cliniko&#39;s embed code" in editor or "paste Cliniko's embed code" in editor


def test_staff_preview_a_draft_with_the_public_policy(staff_client, db_session, clock) -> None:
    """A draft is previewable by staff, framed only from its bookings host, never cached."""
    page = make_page(db_session, clock, slug="book", published=False)
    db_session.commit()
    response = staff_client.get(f"/pages/{page.id}/preview")
    assert response.status_code == 200
    assert f'src="{SRC}"' in response.get_data(as_text=True)
    assert "frame-src https://sunnyside.au1.cliniko.com;" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Preview of a draft" in response.get_data(as_text=True)


def test_delete_a_page(staff_client, db_session, clock) -> None:
    """Deleting removes the page and its address."""
    page = make_page(db_session, clock, slug="old")
    db_session.commit()
    assert staff_client.get("/old").status_code == 200
    assert post(staff_client, f"/pages/{page.id}/delete").status_code == 303
    assert staff_client.get("/old").status_code == 404
