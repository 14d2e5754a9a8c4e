"""Designed e-mails: the clinic's logo and colour, body blocks, escaping, and one bad block line."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO

from PIL import Image

from oncord.bookings.settings import update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from oncord.clinic_profile import read_logo, store_logo
from oncord.messaging.design import store_brand_colour
from tests.campaigns.helpers import make_campaign, recipients
from tests.factories import make_contact
from tests.fixtures.messaging import PUBLIC_URL
from tests.web.conftest import post

BOOKINGS = "https://sunnyside.au1.cliniko.com/bookings"
BODY = """Hi {{ first_name }},

Our hydrotherapy pool reopens on Monday.
[button: Book your session]
---
[image: https://cdn.sunnyside.example/pool.jpg | The new hydrotherapy pool]
See you soon."""


class _Tags(HTMLParser):
    """Every <a> and <img> with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[dict, str]] = []
        self.images: list[dict] = []
        self._open: dict | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open, self._text = dict(attrs), ""
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.links.append((self._open, self._text.strip()))
            self._open = None


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def _design(session, clock, colour: str = "#ffcc00") -> str:
    """A logo, a brand colour and a bookings address; the logo's digest."""
    data = BytesIO()
    Image.new("RGB", (120, 40), (20, 90, 120)).save(data, "PNG")
    logo = read_logo(data.getvalue())
    store_logo(session, logo, clock=clock)
    update_clinic_settings(session, clinic_name="Sunnyside Physio", bookings_url=parse_bookings_url(BOOKINGS),
                           clock=clock)
    store_brand_colour(session, colour, clock=clock)
    return logo.digest


def _subscriber(session, clock, first_name: str, **fields):
    return make_contact(session, clock, first_name=first_name, last_name="Lee",
                        email=f"{first_name.lower()}@example.com", email_marketing_status="subscribed",
                        **fields)


def _opens_bookings(app, href: str) -> bool:
    """The button is the message's tracked link, and following it lands on the clinic's bookings page."""
    answer = app.test_client().get(href.removeprefix(PUBLIC_URL))
    return answer.status_code in (302, 303) and answer.headers["Location"].startswith(BOOKINGS + "?")


def test_designed_email_over_smtp_has_logo_blocks_button_and_a_faithful_text_part(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """The HTML part shows the logo (a working absolute link), the button to the Book Now link in the
    brand colour, the image with its alt text and the divider; the text part says the same."""
    digest = _design(db_session, clock)
    _subscriber(db_session, clock, "Ada")
    campaign = make_campaign(db_session, clock, email_body=BODY)
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    (message,) = smtp_sink.received
    html = message.html()
    tags = _tags(html)
    logo = f"{PUBLIC_URL}/clinic-logo?v={digest[:16]}"
    shown_logo = next(i for i in tags.images if i["src"] == logo)
    assert shown_logo["alt"] == "Sunnyside Physio"
    served = messaging_app.test_client().get(logo.removeprefix(PUBLIC_URL))
    assert served.status_code == 200 and served.mimetype == "image/png"
    (button,) = [attrs for attrs, text in tags.links if text == "Book your session"]
    assert _opens_bookings(messaging_app, button["href"])
    # Yellow takes dark text: the button stays readable whatever colour the clinic picks.
    assert "background:#ffcc00" in button["style"] and "color:#111827" in button["style"]
    pool = next(i for i in tags.images if i["src"] == "https://cdn.sunnyside.example/pool.jpg")
    assert pool["alt"] == "The new hydrotherapy pool"
    assert "border-top:solid 1px #d9dee3" in html  # the divider
    assert "[button" not in html and "[image" not in html and "\n---\n" not in html
    assert "Our hydrotherapy pool reopens on Monday." in html and "Hi Ada," in html

    text = message.text().replace("\r\n", "\n").replace(button["href"], "LINK")
    assert text.startswith("Hi Ada,\n\nOur hydrotherapy pool reopens on Monday.\n\n"
                           "Book your session: LINK\n\n" + "-" * 40 + "\n\n"
                           "The new hydrotherapy pool\n\nSee you soon.\n\n--\nSunnyside Physio\n")
    assert "[button" not in text and "[image" not in text


def test_hostile_merge_values_stay_text_and_never_become_blocks(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """A contact named "<b>Bo</b>", or named like a block line, is shown as text in both parts."""
    _design(db_session, clock)
    make_contact(db_session, clock, first_name="<b>Bo</b>",
                 last_name="[image: https://evil.example/x.png | x]",
                 email="bo@example.com", email_marketing_status="subscribed")
    body = "{{ first_name }}\n{{ last_name }}\n[button: Book, {{ first_name }}]\n{{ first_name }} ---"
    campaign = make_campaign(db_session, clock, email_body=body, email_subject="Hi {{ first_name }}")
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    (message,) = smtp_sink.received
    html = message.html()
    assert "<b>Bo</b>" not in html and "&lt;b&gt;Bo&lt;/b&gt;" in html
    assert not any("evil.example" in i["src"] for i in _tags(html).images)
    assert "[image: " in html  # the name is text (its address linked, as any address in text is)
    ((href, button),) = [(attrs["href"], text) for attrs, text in _tags(html).links
                         if attrs.get("href", "").startswith(f"{PUBLIC_URL}/b/")]
    assert button == "Book, <b>Bo</b>"  # the parser unescapes: the label arrived escaped
    assert _opens_bookings(messaging_app, href)
    assert "<title>Hi &lt;b&gt;Bo&lt;/b&gt;</title>" in html
    text = message.text().replace("\r\n", "\n").replace(href, "LINK")
    assert text.startswith("<b>Bo</b>\n[image: https://evil.example/x.png | x]\n\n"
                           "Book, <b>Bo</b>: LINK\n\n<b>Bo</b> ---")


def test_a_bad_block_line_fails_only_that_message(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """A block line that is unknown for one contact fails that contact's message with the reason;
    the others are sent."""
    _design(db_session, clock)
    ada, bo = _subscriber(db_session, clock, "Ada"), _subscriber(db_session, clock, "Bo")
    body = "Hi {{ first_name }}\n{% if first_name == 'Bo' %}[buton: Book now]{% endif %}"
    campaign = make_campaign(db_session, clock, email_body=body)
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    assert [m.rcpt_tos for m in smtp_sink.received] == [("ada@example.com",)]
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert rows[ada.id].state == "sent"
    assert rows[bo.id].state == "failed"
    assert "[buton: …] is not a block" in (rows[bo.id].error or "")


def test_the_editor_refuses_a_malformed_block_line(staff, db_session, clock) -> None:
    """Saving an e-mail whose image has no alt text is refused, saying how to write it."""
    response = post(staff, "/campaigns/new", {
        "name": "Pool", "channel": "email", "email_subject": "Pool", "sms_body": "x",
        "email_body": "Hi\n[image: https://cdn.sunnyside.example/pool.jpg]", "preview_contact": "0",
    }, htmx=True)
    assert response.status_code == 422
    assert "an image needs a description" in response.text


def test_the_preview_frames_show_exactly_the_html_that_is_sent(
    messaging_app, staff, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """The editor's desktop and phone previews load the same HTML the contact then receives (only the
    unsubscribe token and the Book Now link differ: a preview belongs to no message yet, so it links
    straight to the bookings page where the message has its tracked link)."""
    _design(db_session, clock)
    _subscriber(db_session, clock, "Ada")
    db_session.commit()
    shown = post(staff, "/campaigns/preview", {
        "name": "Pool", "channel": "email", "email_subject": "Pool news, {{ first_name }}",
        "email_body": BODY, "sms_body": "x", "preview_contact": "0",
    }, htmx=True)
    frames = re.findall(
        r'<iframe src="([^"]+)" title="The e-mail at (desktop|phone) width" sandbox width="(\d+)"',
        shown.text)
    assert [(kind, width) for _, kind, width in frames] == [("desktop", "600"), ("phone", "390")]
    page = staff.get(frames[0][0])
    assert page.status_code == 200 and "sandbox" in page.headers["Content-Security-Policy"]
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert messaging_app.test_client().get(frames[0][0]).status_code != 200  # staff only

    campaign = make_campaign(db_session, clock, email_subject="Pool news, {{ first_name }}", email_body=BODY)
    db_session.commit()
    start_campaign(campaign.id)
    work_queue()
    (message,) = smtp_sink.received

    def unsubscribe_token(html: str) -> str:
        html = re.sub(re.escape(PUBLIC_URL) + r"/b/[A-Za-z0-9_\-]+", "BOOK-NOW", html)
        return re.sub(r"/u/[A-Za-z0-9_.\-]+", "/u/TOKEN", html.replace(BOOKINGS, "BOOK-NOW"))

    sent = message.html().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    assert unsubscribe_token(page.get_data(as_text=True)) == unsubscribe_token(sent)
