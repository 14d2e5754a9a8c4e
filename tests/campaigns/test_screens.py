"""The campaign screens: live audience, SMS counter, preview, test send, send, progress and report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from oncord.campaigns import lifecycle
from oncord.campaigns.sending import start
from oncord.models import Campaign
from oncord.queue import get_queue
from tests.campaigns.helpers import fresh, make_campaign, recipients
from tests.factories import make_appointment, make_appointment_type, make_contact, make_practitioner
from tests.fixtures.messaging import SENDER_EMAIL
from tests.web.conftest import HTMX, post

MELBOURNE = ZoneInfo("Australia/Melbourne")


def _form(**overrides) -> dict:
    """The editor's fields as the browser posts them: one condition, "seen in the last 180 days"."""
    data = {
        "name": "Sports massage recall",
        "channel": "email",
        "conditions-0-presence": "has",
        "conditions-0-period": "last_days",
        "conditions-0-days": "180",
        "email_subject": "Hello {{ first_name }}",
        "email_body": "Hi {{ first_name }}, come back soon.",
        "sms_body": "Hi {{ first_name }}!",
        "has_email": "",
        "has_phone": "",
        "preview_contact": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _clinic(db_session, clock):
    """Dr Lee's sports-massage patients (two subscribed, one pending) and Dr Patel's patient."""
    lee, patel = make_practitioner(db_session, "Dr Lee"), make_practitioner(db_session, "Dr Patel")
    massage = make_appointment_type(db_session, "Sports massage")
    people = {}
    for name, status, practitioner in (
        ("Ada", "subscribed", lee),
        ("Bo", "subscribed", lee),
        ("Cy", "pending", lee),
        ("Di", "subscribed", patel),
    ):
        contact = make_contact(
            db_session,
            clock,
            first_name=name,
            last_name="Test",
            email=f"{name.lower()}@example.com",
            phone="0412 345 678",
            email_marketing_status=status,
        )
        make_appointment(
            db_session,
            contact,
            clock.now() - timedelta(days=30),
            practitioner_id=practitioner.id,
            appointment_type_id=massage.id,
            patient_arrived=True,
        )
        people[name] = contact
    db_session.commit()
    return people, lee, massage


def _receive_count(body: str) -> int:
    match = re.search(r'data-receive="(\d+)"', body)
    assert match, body[:500]
    return int(match.group(1))


def test_campaign_screens_need_a_login(messaging_app) -> None:
    """Anonymous visitors go to the login page; an htmx request gets a full-page redirect."""
    client = messaging_app.test_client()
    assert client.get("/campaigns").status_code == 302
    response = client.get("/campaigns/1/progress", headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_the_audience_count_follows_the_conditions_as_they_change(staff, db_session, clock) -> None:
    """Each change of the conditions answers with the new count, who is left out and why, and a sample."""
    people, lee, massage = _clinic(db_session, clock)
    page = staff.get("/campaigns/new?channel=email")
    assert page.status_code == 200 and _receive_count(page.text) == 3  # everyone seen in 180 days, subscribed

    seen_by_lee = _form(**{"conditions-0-practitioners": str(lee.id)})
    fragment = post(staff, "/campaigns/audience", seen_by_lee, htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert _receive_count(fragment.text) == 2
    assert "Not subscribed to e-mails (consent pending)" in fragment.text and "Cy Test" in fragment.text
    assert "Ada Test" in fragment.text and "Di Test" not in fragment.text

    nobody = _form(**{"conditions-0-practitioners": str(lee.id), "conditions-0-presence": "has_no"})
    assert _receive_count(post(staff, "/campaigns/audience", nobody, htmx=True).text) == 1  # Di only


def test_conditions_can_be_added_and_removed(staff, db_session, clock) -> None:
    """Add appends a second condition (count included); remove takes one out."""
    _clinic(db_session, clock)
    added = post(staff, "/campaigns/audience/conditions", {**_form(), "op": "add"}, htmx=True)
    assert added.text.count("Appointment condition ") == 2 and 'id="audience-count"' in added.text
    removed = post(staff, "/campaigns/audience/conditions", {**_form(), "op": "remove-0"}, htmx=True)
    assert "Appointment condition 1" not in removed.text and _receive_count(removed.text) == 3


def test_saving_checks_the_form_and_stores_the_audience(staff, db_session, clock) -> None:
    """A draft is saved with its typed audience; problems come back on the form with 422."""
    _, lee, _ = _clinic(db_session, clock)
    bad = post(
        staff,
        "/campaigns/new",
        _form(name="", email_body="Hi {{ appointment_date }}", **{"conditions-0-days": ""}),
        htmx=True,
    )
    assert bad.status_code == 422
    assert "Give the campaign a name." in bad.text and "Unknown merge field" in bad.text
    assert "Enter how many days." in bad.text

    saved = post(staff, "/campaigns/new", _form(**{"conditions-0-practitioners": str(lee.id)}), htmx=True)
    assert saved.status_code == 204
    campaign = db_session.scalars(select(Campaign)).one()
    assert saved.headers["HX-Redirect"] == f"/campaigns/{campaign.id}"
    condition = campaign.audience["appointments"][0]
    assert condition["practitioner_ids"] == [lee.id] and condition["period"] == {
        "kind": "last_days",
        "days": 180,
        "start": None,
        "end": None,
    }
    page = staff.get(f"/campaigns/{campaign.id}")
    assert "Has appointment in the last 180 days with Dr Lee" in page.text
    assert "Send now to 2 contacts" in page.text

    edited = post(staff, f"/campaigns/{campaign.id}/edit", _form(name="Renamed", channel="sms"), htmx=True)
    assert edited.status_code == 204
    assert (fresh(db_session, campaign.id).name, fresh(db_session, campaign.id).channel) == (
        "Renamed",
        "email",
    )


def test_sms_counter_knows_gsm7_and_unicode(staff, db_session, clock) -> None:
    """The counter includes the opt-out link and switches to 70-character segments for an emoji."""
    _clinic(db_session, clock)
    plain = post(
        staff, "/campaigns/sms-counter", _form(channel="sms", sms_body="Hi {{ first_name }}!"), htmx=True
    )
    units = int(re.search(r"data-units>(\d+)<", plain.text).group(1))
    assert "GSM-7" in plain.text and "data-segments>1<" in plain.text and units > len("Hi Ada!") + 20
    emoji = post(
        staff,
        "/campaigns/sms-counter",
        _form(channel="sms", sms_body="Hi {{ first_name }} 🎉 " + "x" * 40),
        htmx=True,
    )
    assert "UCS-2" in emoji.text and "data-segments>3<" in emoji.text and "70 characters" in emoji.text
    broken = post(
        staff, "/campaigns/sms-counter", _form(channel="sms", sms_body="Hi {{ first_name"), htmx=True
    )
    assert "text-bad" in broken.text


def test_preview_uses_a_real_contact_of_the_audience(staff, db_session, clock) -> None:
    """The first contact who would receive it, filled in, with the sender; an excluded one says why not."""
    people, _, _ = _clinic(db_session, clock)
    shown = post(staff, "/campaigns/preview", _form(), htmx=True)
    assert "Hi Ada, come back soon." in shown.text and "Would be sent to ada@example.com" in shown.text
    assert f"&lt;{SENDER_EMAIL}&gt;" in shown.text and "Unsubscribe from e-mails" in shown.text
    pending = post(staff, "/campaigns/preview", _form(preview_contact=str(people["Cy"].id)), htmx=True)
    assert "Would not be sent" in pending.text and "Hi Cy" in pending.text


def test_a_test_send_goes_to_me_and_its_link_unsubscribes_nobody(staff, db_session, clock, smtp_sink) -> None:
    """ "Send me a test" e-mails the staff member the filled-in message; its unsubscribe link is inert."""
    people, _, _ = _clinic(db_session, clock)
    result = post(
        staff,
        "/campaigns/test-send",
        _form(test_email="me@clinic.example", preview_contact=str(people["Ada"].id)),
        htmx=True,
    )
    assert "Test e-mail sent to me@clinic.example" in result.text
    (email,) = smtp_sink.received
    assert email.rcpt_tos == ("me@clinic.example",) and email.message["Subject"] == "[Test] Hello Ada"
    link = email.message["List-Unsubscribe"].strip().strip("<>")
    path = link.split("example", 1)[1]
    page = staff.post(path)
    assert page.status_code == 200 and "This was a test message; nobody was unsubscribed" in page.text
    one_click = staff.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.text == "This was a test message; nobody was unsubscribed."
    assert fresh_contact_status(db_session, people["Ada"].id) == "subscribed"


def fresh_contact_status(session, contact_id: int) -> str:
    """A contact's e-mail status as stored now."""
    from oncord.models import Contact

    session.expire_all()
    return session.get(Contact, contact_id).email_marketing_status


def test_send_now_then_the_progress_widget_polls_until_done(
    staff, messaging_app, db_session, clock, smtp_sink, work_queue
) -> None:
    """Send now queues the job; the widget polls while it runs and stops with the report when done."""
    _clinic(db_session, clock)
    campaign = make_campaign(db_session, clock, name="Recall")
    db_session.commit()
    response = post(staff, f"/campaigns/{campaign.id}/send", {"confirm": "yes"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/campaigns/{campaign.id}"
    assert get_queue(messaging_app).get_job_ids() == [f"campaign-{campaign.id}-r1"]
    waiting = staff.get(f"/campaigns/{campaign.id}/progress", headers=HTMX)
    assert "Starting…" in waiting.text and 'data-hx-trigger="load delay:1s"' in waiting.text
    assert post(staff, f"/campaigns/{campaign.id}/send", htmx=True).status_code == 409  # not twice

    work_queue()
    done = staff.get(f"/campaigns/{campaign.id}/progress", headers=HTMX)
    assert "data-hx-get" not in done.text and "✓ Sent" in done.text
    assert 'data-count="sent">3<' in done.text and '<progress max="3" value="3"' in done.text
    assert len(smtp_sink.received) == 3
    page = staff.get(f"/campaigns/{campaign.id}")
    assert page.status_code == 200 and 'id="campaign-progress"' in page.text and "Send now" not in page.text
    listing = staff.get("/campaigns")
    assert "Recall" in listing.text and "badge campaign-state-sent" in listing.text


def test_schedule_in_clinic_time_and_unschedule(staff, messaging_app, db_session, clock) -> None:
    """A Melbourne day and time becomes the right UTC moment and job; the past is refused; unschedule."""
    _clinic(db_session, clock)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    tomorrow = (clock.now().astimezone(MELBOURNE) + timedelta(days=1)).date()
    past = post(
        staff,
        f"/campaigns/{campaign.id}/schedule",
        {"send_date": clock.now().astimezone(MELBOURNE).date().isoformat(), "send_time": "09:00"},
        htmx=True,
    )
    assert past.status_code == 422 and "Choose a time in the future" in past.text

    ok = post(
        staff,
        f"/campaigns/{campaign.id}/schedule",
        {"send_date": tomorrow.isoformat(), "send_time": "09:30"},
        htmx=True,
    )
    assert ok.status_code == 204
    scheduled = fresh(db_session, campaign.id)
    assert scheduled.state == "scheduled"
    assert scheduled.scheduled_at == datetime.combine(
        tomorrow, datetime.min.time().replace(hour=9, minute=30), tzinfo=MELBOURNE
    ).astimezone(UTC)
    registry = get_queue(messaging_app).scheduled_job_registry
    assert registry.get_job_ids() == [scheduled.job_id]
    assert "Scheduled for" in staff.get(f"/campaigns/{campaign.id}").text

    assert post(staff, f"/campaigns/{campaign.id}/unschedule", htmx=True).status_code == 204
    assert fresh(db_session, campaign.id).state == "draft" and registry.get_job_ids() == []


def test_pause_resume_and_cancel_from_the_widget(staff, messaging_app, db_session, clock) -> None:
    """The widget's buttons move the campaign and answer with the widget itself."""
    _clinic(db_session, clock)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    start(db_session, campaign, clock.now(), "Australia/Melbourne")
    db_session.commit()

    paused = post(staff, f"/campaigns/{campaign.id}/pause", htmx=True)
    assert 'data-state="paused"' in paused.text and ">Resume<" in paused.text
    assert "data-hx-get" not in paused.text
    resumed = post(staff, f"/campaigns/{campaign.id}/resume", htmx=True)
    assert 'data-state="sending"' in resumed.text and "data-hx-get" in resumed.text
    assert get_queue(messaging_app).get_job_ids() == [f"campaign-{campaign.id}-r2"]
    cancelled = post(staff, f"/campaigns/{campaign.id}/cancel", htmx=True)
    assert 'data-state="cancelled"' in cancelled.text and 'data-count="cancelled">3<' in cancelled.text
    assert {r.state for r in recipients(db_session, campaign.id)} == {"cancelled"}


def test_report_lists_failures_with_their_reason(
    staff, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Failed recipients show the provider's words; the feed of each recipient shows the send."""
    people, _, _ = _clinic(db_session, clock)
    campaign = make_campaign(db_session, clock, name="Recall")
    db_session.commit()
    smtp_sink.refuse[:] = ["550 5.1.1 No such mailbox here"]
    start_campaign(campaign.id)
    work_queue()

    page = staff.get(f"/campaigns/{campaign.id}")
    assert "The provider refused the message" in page.text and "No such mailbox here" in page.text
    failed = staff.get(f"/campaigns/{campaign.id}/recipients?state=failed")
    assert failed.status_code == 200 and failed.text.count('data-state="failed"') == 1
    sent = staff.get(f"/campaigns/{campaign.id}/recipients?state=sent")
    assert sent.text.count('data-state="sent"') == 2
    assert (
        "Campaign e-mail sent (Recall): Hydrotherapy is back, Bo"
        in staff.get(f"/contacts/{people['Bo'].id}").text
    )
    assert (
        "Campaign e-mail failed (Recall): The SMTP server refused"
        in staff.get(f"/contacts/{people['Ada'].id}").text
    )


def test_editor_wires_the_sms_counter_and_the_preview_picker_for_htmx(staff, db_session, clock) -> None:
    """The SMS box and the preview-contact picker carry real hx-* attributes, so they update live."""
    _clinic(db_session, clock)
    page = staff.get("/campaigns/new?channel=sms").text
    assert re.search(r'<textarea[^>]*data-hx-post="/campaigns/sms-counter"', page)
    assert re.search(
        r'<select[^>]*data-hx-post="/campaigns/preview"[^>]*|<select[^>]*data-hx-trigger="change"', page)
    assert "hx_post" not in page and "hx_target" not in page


def test_a_template_that_fails_on_the_sample_is_refused_and_a_stored_one_cannot_be_sent(
    staff, messaging_app, db_session, clock
) -> None:
    """The editor shows the line and the problem (422); Send now refuses a stored bad template."""
    bad = post(staff, "/campaigns/new", _form(email_body="Hi {{ first_name }}\n{{ 1/0 }}"), htmx=True)
    assert bad.status_code == 422
    assert "Line 2: The template could not be filled in: it divides by zero" in bad.text
    size = post(staff, "/campaigns/new", _form(email_body="{{ 'a' * 10000000 }}"), htmx=True)
    assert size.status_code == 422 and "longer than 100,000 characters" in size.text
    campaign = make_campaign(db_session, clock, email_body="{% include 'x' %}")
    db_session.commit()
    post(staff, f"/campaigns/{campaign.id}/send", {"confirm": "yes"}, htmx=True)
    assert fresh(db_session, campaign.id).state == "draft"
    assert get_queue(messaging_app).get_job_ids() == []
    page = staff.get(f"/campaigns/{campaign.id}").text
    assert "{% include %} is not available" in page


def test_the_editor_works_with_a_zone_and_subdomain_that_are_not_real(staff, db_session, clock) -> None:
    """A bad account zone falls back to the clinic's; a bad subdomain is named in the preview."""
    from tests.factories import make_connection

    make_connection(db_session, clock, subdomain="not a label!", time_zone_identifier="Not/AZone")
    _clinic(db_session, clock)
    db_session.commit()
    assert staff.get("/campaigns/new?channel=email").status_code == 200
    preview_page = post(staff, "/campaigns/preview", _form(email_body="Book: {{ book_now_url }}"), htmx=True)
    assert preview_page.status_code == 200 and "Book Now link cannot be made" in preview_page.text
