"""One bad template or hostile record fails its own automation message; every good one goes once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from oncord.jobs.enqueue import DISPATCH_JOB
from oncord.models import Business
from oncord.queue import get_queue
from tests.automations.helpers import make_automation, sends
from tests.factories import make_appointment, make_connection, make_contact, make_sync_run

GOOD_BODY = "Hi {{ first_name }},\n\nSee you {{ appointment_start }}."
GOOD_SMS = "Hi {{ first_name }}, see you {{ appointment_start }}."


def _patient(session, clock, name: str, email: str, phone: str, starts, **appointment):
    contact = make_contact(session, clock, first_name=name, email=email, phone=phone,
                           email_marketing_status="subscribed", sms_marketing_status="subscribed")
    make_appointment(session, contact, starts, cliniko_created_at=clock.now() - timedelta(days=9),
                     **appointment)
    return contact


@pytest.fixture
def dispatch_jobs(messaging_app, run_jobs):
    """Enqueue the dispatcher as the schedule does and let a real RQ worker run it and its send jobs."""

    def _run() -> None:
        get_queue(messaging_app).enqueue(DISPATCH_JOB, "test")
        run_jobs()

    return _run


def test_a_batch_with_every_poison_case_sends_each_good_message_once_and_fails_each_bad_one(
    messaging_app, db_session, clock, smtp_sink, fake_twilio, dispatch_jobs
) -> None:
    """Division by zero, include, a bad Book Now link (subdomain), CR/LF in an e-mail, a zone that is
    not real, SMTP 550: each fails that one message with its reason; a CR/LF name is sent made safe;
    every good message goes exactly once and nothing is left queued."""
    make_connection(db_session, clock, subdomain="not a label!")
    starts = clock.now() + timedelta(days=2)
    good = make_automation(db_session, clock, name="Good", email_subject="See you soon",
                           email_body=GOOD_BODY, sms_body=GOOD_SMS)
    poisoned = {
        "zero": make_automation(db_session, clock, name="Zero", email_body="Hi {{ 1/0 }}", send_sms=False),
        "include": make_automation(db_session, clock, name="Include", email_body="{% include 'x' %}",
                                   send_sms=False),
        "link": make_automation(db_session, clock, name="Link", email_body="Book: {{ book_now_url }}",
                                send_sms=False),
    }
    goods = [_patient(db_session, clock, f"Good{i}", f"good{i}@example.com", f"0412 000 00{i}", starts)
             for i in range(4)]
    mallory = _patient(db_session, clock, "Mallory\r\nBcc: x@evil.example", "mallory@example.com",
                       "0412 000 100", starts)
    eve = _patient(db_session, clock, "Eve", "eve@example.com\r\nBcc: x@evil.example", "0412 000 101",
                   starts)
    mars = Business(cliniko_id="mars-1", name="Mars clinic", time_zone_identifier="Mars/Olympus_Mons")
    db_session.add(mars)
    db_session.flush()
    martian = _patient(db_session, clock, "Marvin", "marvin@example.com", "0412 000 102", starts,
                       business_id=mars.id)
    gone = _patient(db_session, clock, "Gone", "gone@example.com", "0412 000 103", starts)
    smtp_sink.refuse_recipients["gone@example.com"] = "550 5.1.1 No such user here"
    db_session.commit()
    clock.set(starts - timedelta(hours=24))
    make_sync_run(db_session, clock)
    db_session.commit()

    dispatch_jobs()
    dispatch_jobs()

    rows = sends(db_session)
    by = {(r.automation_id, r.contact_id, r.channel): r for r in rows}
    assert not [r for r in rows if r.state not in ("sent", "failed")]
    # Every e-mail that arrived is the good automation's, once each; Mallory's made safe.
    assert Counter(m.rcpt_tos for m in smtp_sink.received) == {(c.email,): 1 for c in [*goods, mallory]}
    assert all(m.message["Subject"] == "See you soon" for m in smtp_sink.received)
    mallory_mail = next(m for m in smtp_sink.received if m.rcpt_tos == ("mallory@example.com",))
    assert mallory_mail.message["Bcc"] is None
    assert mallory_mail.message["To"].addresses[0].display_name.startswith("Mallory Bcc: x@evil.example")
    assert mallory_mail.message["To"].addresses[0].addr_spec == "mallory@example.com"
    # The header block is whole: nothing after the name was pushed into the body.
    assert mallory_mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mallory_mail.message["Message-ID"] and "Hi Mallory Bcc: x@evil.example," in mallory_mail.text()
    # SMS: the good automation's, once per number; the Martian's fails on its zone.
    assert Counter(s.to for s in fake_twilio.received) == {
        n: 1 for n in ["+61412000000", "+61412000001", "+61412000002", "+61412000003", "+61412000100",
                       "+61412000101", "+61412000103"]}
    for contact in [*goods, mallory]:
        assert by[(good.id, contact.id, "email")].state == "sent"
    assert (by[(good.id, eve.id, "email")].state, by[(good.id, eve.id, "email")].error) == (
        "failed", "invalid e-mail address")
    for channel in ("email", "sms"):
        martian_row = by[(good.id, martian.id, channel)]
        assert martian_row.state == "failed" and "time zone" in martian_row.error
    refused = by[(good.id, gone.id, "email")]
    assert refused.state == "failed" and "550" in refused.error
    words = {"zero": "divides by zero", "include": "{% include %} is not available", "link": "Book Now link"}
    for name, automation in poisoned.items():
        for contact in [*goods, mallory, gone]:
            row = by[(automation.id, contact.id, "email")]
            assert row.state == "failed" and words[name] in row.error, (name, row.error)
        assert by[(automation.id, eve.id, "email")].error == "invalid e-mail address"
        assert by[(automation.id, martian.id, "email")].state == "failed"


def test_a_send_job_that_keeps_failing_is_retried_a_few_times_then_its_sends_show_failed(
    messaging_app, db_session, clock, smtp_sink, work_queue, monkeypatch
) -> None:
    """An unexpected error in the whole job: RQ retries it twice, then the sends are failed with why
    (never queued forever) and the dispatcher does not pick them up again."""
    make_connection(db_session, clock)
    starts = clock.now() + timedelta(days=2)
    make_automation(db_session, clock, send_sms=False)
    _patient(db_session, clock, "Ada", "ada@example.com", "0412 000 001", starts)
    db_session.commit()
    clock.set(starts - timedelta(hours=24))
    make_sync_run(db_session, clock)
    db_session.commit()

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr("oncord.automations.sender.load_profile", broken)
    get_queue(messaging_app).enqueue(DISPATCH_JOB, "test")
    for _ in range(4):  # the dispatch and the send job, then its two retries (released at once)
        work_queue()

    assert len(calls) == 3 and len(FailedJobRegistry(queue=get_queue(messaging_app))) == 1
    [send] = sends(db_session)
    assert send.state == "failed" and "Something unexpected went wrong" in send.error
    assert smtp_sink.received == []
    monkeypatch.undo()
    clock.advance(minutes=15)
    get_queue(messaging_app).enqueue(DISPATCH_JOB, "test")
    work_queue()
    assert [s.state for s in sends(db_session)] == ["failed"] and smtp_sink.received == []


def test_the_frequency_cap_skips_marketing_follow_ups_but_never_counts_or_caps_reminders(
    messaging_app, db_session, clock, smtp_sink, dispatch_jobs
) -> None:
    """Cap 1 per 7 days: two reminders (service) both go and take no slot; of two marketing
    automations due together only one goes, the other is skipped "frequency cap"."""
    from oncord.models import FrequencySlot, MessagingSettings

    settings_row = db_session.get(MessagingSettings, 1)
    settings_row.frequency_cap_messages, settings_row.frequency_cap_days = 1, 7
    make_connection(db_session, clock)
    starts = clock.now() + timedelta(days=2)
    reminders = [make_automation(db_session, clock, name=f"Reminder {i}", send_sms=False,
                                 email_subject=f"Reminder {i}", email_body=GOOD_BODY) for i in range(2)]
    nudges = [make_automation(db_session, clock, name=f"Nudge {i}", send_sms=False, is_service=False,
                              email_subject=f"Nudge {i}", email_body=GOOD_BODY) for i in range(2)]
    ada = _patient(db_session, clock, "Ada", "ada@example.com", "0412 000 001", starts)
    db_session.commit()
    clock.set(starts - timedelta(hours=24))
    make_sync_run(db_session, clock)
    db_session.commit()

    dispatch_jobs()

    by = {r.automation_id: r for r in sends(db_session, contact_id=ada.id)}
    assert [by[a.id].state for a in reminders] == ["sent", "sent"]
    assert sorted((by[a.id].state, by[a.id].reason) for a in nudges) == [
        ("sent", None), ("skipped", "frequency_cap")]
    assert len(smtp_sink.received) == 3
    assert len(db_session.scalars(select(FrequencySlot)).all()) == 1
