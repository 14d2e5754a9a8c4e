"""Bookings attributed to messages: the tracked Book Now link, the click, and the rule at sync."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from oncord import context
from oncord.campaigns.compose import sms_count
from oncord.messaging.booking_links import make_token, message_ref, read_token
from oncord.models import BookingAttribution, BookingClick, Contact
from tests.campaigns.helpers import make_campaign, recipients
from tests.fixtures.messaging import PUBLIC_URL

LINK = re.compile(re.escape(PUBLIC_URL) + r"/b/[0-9A-Za-z]+")


def _contact(session, patient_id: str) -> Contact:
    session.expire_all()
    return session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()


def _book(sandbox, patient_id: str, clock, *, online: bool = True) -> str:
    """Book in the sandbox over HTTP, as the patient on the online booking page (or staff)."""
    starts = (clock.now() + timedelta(days=3)).isoformat()
    response = requests.post(f"{sandbox.control_url}/individual_appointments",
                             json={"patient_id": patient_id, "starts_at": starts, "online": online},
                             timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _links(smtp_sink) -> dict[str, str]:
    """Recipient address -> the Book Now link in the e-mail received."""
    found = {}
    for message in smtp_sink.received:
        links = set(LINK.findall(message.text()))
        assert len(links) == 1, links
        found[message.rcpt_tos[0]] = links.pop()
    return found


def _attributions(session) -> dict[int, BookingAttribution]:
    session.expire_all()
    return {a.contact_id: a for a in session.scalars(select(BookingAttribution))}


def _send(db_session, clock, start_campaign, work_queue, **fields):
    campaign = make_campaign(db_session, clock, **fields)
    db_session.commit()
    start_campaign(campaign.id)
    work_queue()
    return campaign


def test_a_booking_after_a_clicked_link_is_attributed_to_the_campaign(
    connected, sandbox, make_patient, pull, db_session, clock, smtp_sink, client, start_campaign, work_queue
) -> None:
    """Delivered, clicked, booked online in Cliniko within the window: attributed to that campaign."""
    olivia = make_patient("Olivia")
    pull()
    campaign = _send(db_session, clock, start_campaign, work_queue)
    link = _links(smtp_sink)[_contact(db_session, olivia).email]
    assert "cliniko.com" not in smtp_sink.received[0].text()  # the message carries only the tracked link

    clock.advance(hours=2)
    response = client.get(urlsplit(link).path)
    assert response.status_code == 302
    clock.advance(hours=1)
    appointment = _book(sandbox, olivia, clock)
    clock.advance(minutes=5)
    pull()

    credited = _attributions(db_session)[_contact(db_session, olivia).id]
    assert (credited.kind, credited.campaign_id, credited.automation_id) == ("clicked", campaign.id, None)
    assert credited.campaign_recipient_id == recipients(db_session, campaign.id)[0].id
    assert credited.booked_at == clock.now() - timedelta(minutes=5)
    assert credited.message_at == clock.now() - timedelta(hours=1, minutes=5)
    assert appointment  # the appointment's row is the one credited, once
    assert len(_attributions(db_session)) == 1


def test_the_redirect_records_the_click_once_and_goes_only_to_the_clinics_bookings_page(
    connected, make_patient, pull, db_session, clock, smtp_sink, client, start_campaign, work_queue
) -> None:
    """Every click counts on one row with the first time kept; the target is the clinic's address + UTM."""
    olivia = make_patient("Olivia")
    pull()
    campaign = _send(db_session, clock, start_campaign, work_queue, name="Hydro Launch: May!")
    path = urlsplit(_links(smtp_sink)[_contact(db_session, olivia).email]).path
    token = path.rsplit("/", 1)[1]
    first = clock.now()

    response = client.get(path)
    clock.advance(minutes=3)
    again = client.get(path + "?next=https://evil.example/")  # a scanner, then the patient; a planted target

    for answer in (response, again):
        target = urlsplit(answer.headers["Location"])
        assert answer.status_code == 302 and answer.headers["Referrer-Policy"] == "no-referrer"
        assert (target.scheme, target.netloc, target.path) == (
            "https", "northside-allied-health.au1.cliniko.com", "/bookings")
        assert parse_qs(target.query) == {
            "utm_source": ["oncord"], "utm_medium": ["email"], "utm_campaign": ["hydro-launch-may"],
            "utm_content": [token],
        }
    db_session.expire_all()
    click = db_session.scalars(select(BookingClick)).one()
    assert (click.campaign_id, click.clicks, click.channel) == (campaign.id, 2, "email")
    assert click.first_clicked_at == first and click.last_clicked_at == clock.now()

    secret = context.settings(connected).secret_key
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert client.get(f"/b/{forged}").status_code == 404  # a changed token is refused
    other = make_token(secret, message_ref("campaign-recipient:999999"))  # type: ignore[arg-type]
    assert read_token(secret, other) is not None
    assert urlsplit(client.get(f"/b/{other}").headers["Location"]).query == ""  # a gone message: no UTM
    assert db_session.scalars(select(BookingClick)).one().clicks == 2


def test_bookings_before_the_message_outside_the_window_or_without_a_click(
    connected, sandbox, make_patient, pull, db_session, clock, smtp_sink, client, start_campaign, work_queue
) -> None:
    """Before the message or the click, after the window, or not online: never attributed to the click;
    booked within the window after the delivery without a click: counted apart."""
    early, late, quiet, phone, first = (make_patient(n) for n in ("Early", "Late", "Quiet", "Phone", "First"))
    pull()
    _book(sandbox, early, clock)  # booked before the message went out
    clock.advance(minutes=1)
    pull()
    clock.advance(minutes=1)
    campaign = _send(db_session, clock, start_campaign, work_queue)
    links = _links(smtp_sink)
    for patient in (early, late, phone):
        assert client.get(urlsplit(links[_contact(db_session, patient).email]).path).status_code == 302

    clock.advance(hours=12)
    _book(sandbox, first, clock)  # booked online before clicking (the click comes after, same pull)
    clock.advance(hours=12)
    assert client.get(urlsplit(links[_contact(db_session, first).email]).path).status_code == 302
    _book(sandbox, quiet, clock)  # never clicked
    _book(sandbox, phone, clock, online=False)  # clicked, but booked by reception
    clock.advance(days=7)
    _book(sandbox, late, clock)  # clicked, but more than 7 days ago
    clock.advance(minutes=1)
    pull()

    found = _attributions(db_session)
    by_contact = {cid: (a.kind, a.campaign_id) for cid, a in found.items()}
    assert _contact(db_session, early).id not in by_contact
    assert _contact(db_session, late).id not in by_contact
    assert by_contact[_contact(db_session, quiet).id] == ("after_message", campaign.id)
    assert by_contact[_contact(db_session, phone).id] == ("after_message", campaign.id)
    assert by_contact[_contact(db_session, first).id] == ("after_message", campaign.id)
    assert [a.kind for a in found.values()].count("clicked") == 0


def test_the_campaign_report_and_the_dashboard_chart_show_the_bookings(
    connected, sandbox, make_patient, pull, db_session, clock, smtp_sink, client, staff, start_campaign,
    work_queue,
) -> None:
    """The report counts attributed and no-click bookings apart, with the rule; the chart has the campaign."""
    olivia, noah = make_patient("Olivia"), make_patient("Noah", mobile="0412 345 679")
    pull()
    campaign = _send(db_session, clock, start_campaign, work_queue, name="Pool reopening")
    client.get(urlsplit(_links(smtp_sink)[_contact(db_session, olivia).email]).path)
    clock.advance(hours=3)
    _book(sandbox, olivia, clock)
    _book(sandbox, noah, clock)
    clock.advance(minutes=1)
    pull()

    report = staff.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(r'data-count="bookings-attributed">1<', report)
    assert re.search(r'data-count="bookings-after-message">1<', report)
    assert "within 7 days after clicking its Book Now link" in report

    dashboard = staff.get("/").get_data(as_text=True)
    figures = dashboard[dashboard.index('id="bookings-chart-figures"'):]
    figures = figures[:figures.index("</table>")]
    assert "Pool reopening (campaign)" in figures
    last_week = figures.rsplit("<tr>", 1)[1]
    assert re.findall(r"<td>(\d+)</td>", last_week) == ["1", "1"]  # the campaign's one, and all
    assert "Bookings from messages" in dashboard and "data-attribution-rule" in dashboard


def test_of_two_clicked_messages_the_latest_click_wins(
    connected, sandbox, make_patient, pull, db_session, clock, smtp_sink, client, start_campaign, work_queue
) -> None:
    """Two campaigns clicked before one booking: it is credited to the one clicked last, once."""
    olivia = make_patient("Olivia")
    pull()
    older = _send(db_session, clock, start_campaign, work_queue, name="Older")
    client.get(urlsplit(_links(smtp_sink)[_contact(db_session, olivia).email]).path)
    smtp_sink.reset()
    clock.advance(days=1)
    newer = _send(db_session, clock, start_campaign, work_queue, name="Newer")
    client.get(urlsplit(_links(smtp_sink)[_contact(db_session, olivia).email]).path)
    clock.advance(hours=1)
    _book(sandbox, olivia, clock)
    clock.advance(minutes=1)
    pull()

    (credited,) = _attributions(db_session).values()
    assert (credited.kind, credited.campaign_id) == ("clicked", newer.id)
    assert older.id != newer.id


def test_the_sms_counter_counts_the_tracked_link_the_message_carries(
    connected, make_patient, pull, db_session, clock, fake_twilio, start_campaign, work_queue
) -> None:
    """The editor's character count is the sent SMS's, tracked link included (not the longer Cliniko one)."""
    make_patient("Olivia")
    pull()
    body = "Hi {{ first_name }}, book: {{ book_now_url }}"
    _send(db_session, clock, start_campaign, work_queue, channel="sms", sms_body=body)
    (sms,) = fake_twilio.received
    assert LINK.search(sms.body)
    counted = sms_count(db_session, context.settings(connected), body).count
    assert counted is not None
    # The sample's ids (link and opt-out token) are a few characters longer than the real message's;
    # counting the Cliniko address instead would be 17 more.
    assert 0 <= counted.units - len(sms.body) <= 10, (counted.units, len(sms.body))
