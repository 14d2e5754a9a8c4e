"""Public pages at /<slug>: anonymous, cached, and framing only the clinic's Cliniko bookings host."""

from __future__ import annotations

import json
import re

from oncord.bookings.blocks import ButtonBlock, EmbedBlock, HeadingBlock, TextBlock
from oncord.bookings.embed import parse_embed_code
from oncord.bookings.settings import update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from oncord.models import Page
from oncord.web.public import page_cache
from tests.bookings.samples import DOCUMENTED_CODE, SRC, make_page
from tests.factories import make_connection
from tests.web.conftest import post


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_a_published_page_shows_the_booking_iframe_to_anyone(client, db_session, clock) -> None:
    """An anonymous visitor gets the page with the clinic's name and Cliniko's iframe, rebuilt."""
    make_connection(db_session, clock)  # account name "Sunnyside Physio"
    make_page(db_session, clock)
    db_session.commit()
    response = client.get("/book-now")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Book now · Sunnyside Physio</title>" in html
    iframe = re.search(r"<iframe [^>]*>", html).group(0)
    assert f'src="{SRC}"' in iframe and 'class="cliniko-bookings"' in iframe
    assert 'id="cliniko-62506279"' in iframe
    assert "frameborder" not in iframe and "style=" not in iframe
    # The only script is our own static resize listener; Cliniko's inline script is not copied.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/cliniko-embed.js">']
    assert "addEventListener" not in html


def test_public_csp_frames_only_the_bookings_host_and_no_inline_script(client, db_session, clock) -> None:
    """frame-src names the Cliniko host alone; script-src is 'self' with no unsafe-inline."""
    make_page(db_session, clock)
    db_session.commit()
    response = client.get("/book-now")
    directives = _directives(response)
    assert directives["frame-src"] == "https://sunnyside.au1.cliniko.com"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert "payment=()" in response.headers["Permissions-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_payment_is_delegated_only_to_cliniko_when_the_widget_asks(client, db_session, clock) -> None:
    """allow="payment" in the code lets Cliniko's frame, and nothing else, take payments."""
    code = DOCUMENTED_CODE.replace("<iframe ", "<iframe allow='payment' ")
    make_page(db_session, clock, blocks=[EmbedBlock(id="b00000001", embed=parse_embed_code(code))])
    db_session.commit()
    response = client.get("/book-now")
    assert 'payment=("https://sunnyside.au1.cliniko.com")' in response.headers["Permissions-Policy"]
    assert 'allow="payment"' in response.get_data(as_text=True)


def test_a_page_without_a_widget_frames_nothing(client, db_session, clock) -> None:
    """No embed: frame-src 'none' and no script at all."""
    make_page(db_session, clock, slug="about", blocks=[HeadingBlock(id="b00000001", text="About us"),
                                                      TextBlock(id="b00000002", text="<b>We</b> help.")])
    db_session.commit()
    response = client.get("/about")
    assert _directives(response)["frame-src"] == "'none'"
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "&lt;b&gt;We&lt;/b&gt; help." in html


def test_book_now_buttons_follow_the_bookings_address(client, db_session, clock) -> None:
    """A bookings button links to the clinic's address, and is hidden when none is set."""
    make_page(db_session, clock, slug="home", blocks=[ButtonBlock(id="b00000001", label="Book Now")])
    db_session.commit()
    assert "Book Now</a>" not in client.get("/home").get_data(as_text=True)
    update_clinic_settings(db_session, clinic_name="Sunnyside", clock=clock,
                           bookings_url=parse_bookings_url("https://sunnyside.au1.cliniko.com/bookings"))
    db_session.commit()
    with client.application.app_context():
        page_cache().invalidate()
    html = client.get("/home").get_data(as_text=True)
    assert '<a class="site-button" href="https://sunnyside.au1.cliniko.com/bookings">Book Now</a>' in html


def test_drafts_and_unknown_addresses_are_404_for_visitors(client, db_session, clock) -> None:
    """Unpublished pages do not exist for the public; the 404 page has no staff links."""
    make_page(db_session, clock, slug="draft", published=False)
    db_session.commit()
    for path in ("/draft", "/nothing-here", "/Not_A_Slug", "/robots.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        assert "Page not found" in html and "/contacts" not in html and "Log in" not in html


def test_app_routes_are_never_shadowed(client, db_session, clock) -> None:
    """Even a page stored with an app's address cannot take over that screen."""
    make_page(db_session, clock, slug="login")
    db_session.commit()
    response = client.get("/login")
    assert response.status_code == 200 and 'name="password"' in response.get_data(as_text=True)
    contacts = client.get("/contacts")
    assert contacts.status_code in (301, 302, 308) and "contacts" in contacts.headers["Location"]
    assert client.get("/healthz").status_code == 200


def test_public_pages_are_cached_and_the_cache_is_dropped_on_save(staff_client, client, db_session, clock,
                                                                  redis_conn) -> None:
    """A second visit is served from Redis; saving in the editor shows the change at once."""
    page = make_page(db_session, clock, slug="team", blocks=[HeadingBlock(id="b00000001", text="Old")])
    db_session.commit()
    visitor = client.application.test_client()
    assert "Old" in visitor.get("/team").get_data(as_text=True)
    # Changed behind the app's back: the cached copy is still served.
    db_session.get(Page, page.id).blocks = [HeadingBlock(id="b00000001", text="Sneaky").to_dict()]
    db_session.commit()
    assert "Old" in visitor.get("/team").get_data(as_text=True)
    assert any(key.startswith(b"oncord:public-pages:page:") for key in redis_conn.keys())
    # Saved through the editor: the cache is dropped.
    new = HeadingBlock(id="b00000001", text="New").to_dict()
    response = post(staff_client, f"/pages/{page.id}/edit",
                    {"title": "Team", "slug": "team", "published": "y", "revision": "1",
                     "block": [json.dumps(new)]}, htmx=True)
    assert response.status_code == 204
    assert "New" in visitor.get("/team").get_data(as_text=True)
    # Unpublishing takes the page down at once too.
    post(staff_client, f"/pages/{page.id}/edit",
         {"title": "Team", "slug": "team", "revision": "2", "block": [json.dumps(new)]}, htmx=True)
    assert visitor.get("/team").status_code == 404


def test_http_caching_headers(client, staff_client, db_session, clock) -> None:
    """Visitors get a short public cache and an ETag (304 on revalidation); staff browsers get private."""
    make_page(db_session, clock)
    db_session.commit()
    visitor = client.application.test_client()
    first = visitor.get("/book-now")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = visitor.get("/book-now", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "Content-Security-Policy" in again.headers
    assert staff_client.get("/book-now").headers["Cache-Control"] == "private, no-cache"


def test_a_page_still_works_when_redis_is_down(client, db_session, clock, monkeypatch) -> None:
    """The cache is an optimisation: without Redis the page is rendered each time."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    make_page(db_session, clock)
    db_session.commit()

    def broken(*_args, **_kwargs):
        raise RedisConnectionError("down")

    with client.application.app_context():
        redis = page_cache().redis
    monkeypatch.setattr(redis, "mget", broken)
    monkeypatch.setattr(redis, "set", broken)
    assert client.get("/book-now").status_code == 200
    assert client.get("/book-now").status_code == 200


def test_every_app_prefix_is_reserved(app) -> None:
    """Each first path segment of another route is a slug no page may take."""
    from oncord.web.public import reserved_slugs_for

    reserved = reserved_slugs_for(app)
    for rule in app.url_map.iter_rules():
        first = rule.rule.lstrip("/").split("/", 1)[0]
        if first and "<" not in first:
            assert first in reserved, rule.rule
