"""The Google review link: an admin setting (https only), the {{ review_url }} merge field (a message
using it while unset fails saying where to set it), and the review-request recipe (refused without
the link; with it, an e-mail 2 hours after a finished appointment the patient arrived for)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oncord.bookings.settings import clinic_settings
from oncord.models import Automation
from tests.automations.conftest import iso
from tests.automations.helpers import make_automation, sends

SETTINGS = "/settings/online-bookings/"
LINK = "https://g.page/r/sunnyside-physio/review"


def set_link(owner, url):
    return owner.post(SETTINGS, {"clinic_name": "Sunnyside", "review_url": url})


def test_an_admin_sets_the_review_link_and_only_an_https_address_is_taken(owner, db_session) -> None:
    """http, javascript: and a page path are refused with the reason; an https link is stored and shown."""
    for value, reason in [("http://g.page/r/x/review", "https://"), ("javascript:alert(1)", "javascript:"),
                          ("/reviews", "https://"), ("https://", "host")]:
        response = set_link(owner, value)
        assert response.status_code == 422, value
        assert reason in response.get_data(as_text=True), value
    db_session.expire_all()
    assert clinic_settings(db_session).review_url is None
    assert set_link(owner, LINK).status_code == 204
    db_session.expire_all()
    assert clinic_settings(db_session).review_url == LINK
    assert f'value="{LINK}"' in owner.get(SETTINGS).get_data(as_text=True)
    assert set_link(owner, "").status_code == 204
    db_session.expire_all()
    assert clinic_settings(db_session).review_url is None


def test_the_review_recipe_is_refused_until_the_link_is_set(owner, db_session) -> None:
    """Turning it on without the link: 422 naming where to set it, and no automation."""
    response = owner.post("/automations/recipes/review-request")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "needs the clinic&#39;s review link" in html and "Settings → Online bookings" in html
    assert db_session.scalars(select(Automation)).all() == []
    assert set_link(owner, LINK).status_code == 204
    response = owner.post("/automations/recipes/review-request")
    automation = db_session.scalars(select(Automation)).one()
    assert response.headers["HX-Redirect"].endswith(f"/automations/{automation.id}")
    assert (automation.trigger, automation.offset_minutes, automation.require_arrived, automation.send_email,
            automation.send_sms) == ("finished", 120, True, True, False)


def test_the_review_recipe_asks_the_arrived_patient_two_hours_after_the_end(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """Arrived: the e-mail with the link 2 hours after the end; not marked arrived: nothing."""
    arrived, unmarked = make_patient("Eve"), make_patient("Finn")
    pull()
    assert set_link(owner, LINK).status_code == 204
    owner.post("/automations/recipes/review-request")
    starts = clock.now() + timedelta(hours=3)
    ends = starts + timedelta(minutes=45)
    ids = {p.cliniko_id: sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts),
                                                       ends_at=iso(ends))
           for p in (arrived, unmarked)}
    clock.set(starts + timedelta(minutes=10))
    sandbox.store.mark_arrived(ids[arrived.cliniko_id])
    pull()
    clock.set(ends + timedelta(hours=1, minutes=55))
    pull()
    dispatch()
    assert smtp_sink.received == []
    clock.set(ends + timedelta(hours=2, minutes=1))
    pull()
    dispatch()
    dispatch()
    assert [e.rcpt_tos for e in smtp_sink.received] == [(arrived.email,)]
    email = smtp_sink.received[0]
    assert email.message["Subject"] == "How was your visit, Eve?"
    assert LINK in email.message.get_body(("plain",)).get_content()


def test_a_message_using_the_review_link_while_it_is_unset_fails_saying_where_to_set_it(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """An automation written by hand with {{ review_url }} and no link: the send fails, readable."""
    patient = make_patient("Eve")
    pull()
    make_automation(db_session, clock, name="Review", trigger="finished", is_service=False, offset_minutes=0,
                    send_sms=False, email_subject="Thanks", email_body="Review us: {{ review_url }}")
    db_session.commit()
    starts = clock.now() + timedelta(hours=1)
    sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    clock.set(starts + timedelta(hours=1))
    pull()
    dispatch()
    dispatch()
    assert smtp_sink.received == []
    [send] = sends(db_session)
    assert send.state == "failed"
    error = send.error or ""
    assert "review link is not set" in error and "Settings → Online bookings" in error
