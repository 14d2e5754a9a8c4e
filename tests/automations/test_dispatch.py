"""Dispatch machinery: concurrent dispatchers and workers, retries, stuck sends, the schedule, after-sync."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from oncord import context
from oncord.automations.dispatcher import STUCK_MESSAGE
from oncord.automations.dispatcher import dispatch as run_dispatch
from oncord.automations.sender import BatchSender
from oncord.db import get_database
from oncord.jobs.automation_jobs import batch_sender, ensure_dispatch_schedule
from oncord.jobs.enqueue import DISPATCH_JOB, dispatch_job_id, schedule_next_dispatch
from oncord.messaging.errors import UnknownOutcome
from oncord.messaging.pipeline import Transports
from oncord.messaging.profile import make_sms_provider
from oncord.models import ActivityEvent, AutomationSend
from oncord.queue import get_queue
from oncord.sync.launcher import launch_pull
from tests.automations.conftest import iso
from tests.automations.helpers import make_automation, sends
from tests.factories import make_appointment, make_connection, make_contact, make_sync_run


@pytest.fixture
def due_reminders(messaging_app, db_session, clock):
    """n contacts with a reminder due now (24 hours before their appointment), Cliniko freshly pulled."""

    def make(n: int, **automation_fields):
        make_connection(db_session, clock)
        automation = make_automation(db_session, clock, **automation_fields)
        starts = clock.now() + timedelta(days=2)
        contacts = []
        for i in range(n):
            contact = make_contact(
                db_session,
                clock,
                first_name=f"P{i}",
                email=f"p{i}@example.com",
                phone=f"0412 {i:03d} {i:03d}",
                email_marketing_status="subscribed",
                sms_marketing_status="subscribed",
            )
            make_appointment(db_session, contact, starts, cliniko_created_at=clock.now() - timedelta(days=9))
            contacts.append(contact)
        db_session.commit()
        clock.set(starts - timedelta(hours=24))
        make_sync_run(db_session, clock)
        db_session.commit()
        return automation, contacts

    return make


def _dispatch_and_send(app, worker_id: str = "test") -> None:
    batches: list[list[int]] = []
    run_dispatch(get_database(app), context.clock(app), batch_size=7, enqueue=batches.append)
    for batch in batches:
        batch_sender(app, worker_id=worker_id).run(batch)


def test_two_dispatchers_and_two_workers_send_each_message_once(
    messaging_app, due_reminders, db_session, smtp_sink, fake_twilio
) -> None:
    """Both plan and queue at once, then both work every send: one e-mail and one SMS per contact."""
    automation, contacts = due_reminders(30)
    app = messaging_app
    barrier = threading.Barrier(2)
    queued: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def plan(k: int) -> None:
        try:
            barrier.wait()
            run_dispatch(
                get_database(app), context.clock(app), batch_size=7, enqueue=lambda ids: queued[k].extend(ids)
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=plan, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(queued[0]) + len(queued[1]) == 60 and not set(queued[0]) & set(queued[1])

    everything = sorted(queued[0] + queued[1])

    def work(k: int) -> None:
        try:
            barrier.wait()
            batch_sender(app, worker_id=f"worker-{k}").run(everything)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(m.rcpt_tos[0] for m in smtp_sink.received) == Counter({c.email: 1 for c in contacts})
    assert len(fake_twilio.received) == 30 and len({m.to for m in fake_twilio.received}) == 30
    assert Counter(s.state for s in sends(db_session)) == Counter(sent=60)


def test_a_refused_sms_is_retried_with_backoff_then_sent(
    messaging_app, due_reminders, db_session, clock, fake_twilio
) -> None:
    """503, then 429: retried after 1 and 5 minutes; the third attempt goes through."""
    due_reminders(1, send_email=False)
    fake_twilio.script = [
        (503, {"code": 20503, "message": "Service unavailable", "status": 503}),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
    ]
    _dispatch_and_send(messaging_app)
    [send] = sends(db_session)
    assert (send.state, send.reason, send.attempts) == ("pending", "retry", 1)
    assert send.error == "Twilio refused the SMS: Service unavailable (error 20503)"
    assert send.due_at == clock.now() + timedelta(minutes=1)
    clock.advance(seconds=59)
    _dispatch_and_send(messaging_app)
    assert sends(db_session)[0].attempts == 1
    clock.advance(seconds=1)
    _dispatch_and_send(messaging_app)
    assert sends(db_session)[0].due_at == clock.now() + timedelta(minutes=5)
    clock.advance(minutes=5)
    _dispatch_and_send(messaging_app)
    [send] = sends(db_session)
    assert (send.state, send.attempts) == ("sent", 3) and len(fake_twilio.received) == 1


def test_a_permanent_refusal_fails_with_the_providers_message(
    messaging_app, due_reminders, db_session, clock, fake_twilio
) -> None:
    """Twilio's 400 ends the send as failed with Twilio's words, in the log and the contact's feed."""
    _, [contact] = due_reminders(1, send_email=False)
    fake_twilio.script = [
        (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})
    ]
    _dispatch_and_send(messaging_app)
    [send] = sends(db_session)
    assert send.state == "failed"
    assert send.error == "Twilio refused the SMS: Attempt to send to unsubscribed recipient (error 21610)"
    event = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "message_failed")).one()
    assert event.contact_id == contact.id and "21610" in event.details["error"]


def test_retries_give_up_after_five_attempts(
    messaging_app, due_reminders, db_session, clock, fake_twilio
) -> None:
    """Five temporary refusals in a row: failed, with the last message and the number of attempts."""
    due_reminders(1, send_email=False)
    fake_twilio.script = [(500, {"code": 20500, "message": "Internal Server Error", "status": 500})] * 5
    for wait in (0, 1, 5, 15, 60):
        clock.advance(minutes=wait)
        _dispatch_and_send(messaging_app)
    [send] = sends(db_session)
    assert send.state == "failed" and send.attempts == 5
    assert send.error.endswith("(gave up after 5 attempts)") and fake_twilio.received == []


def test_an_unknown_outcome_is_never_retried(messaging_app, due_reminders, db_session, clock) -> None:
    """A connection that broke after the message was handed over: failed, never sent again."""
    due_reminders(1, send_sms=False)

    class BrokenAfterData:
        def send(self, email):
            raise UnknownOutcome("The connection broke while sending; it may have gone.")

        def close(self):
            pass

    app = messaging_app
    batches: list[list[int]] = []
    run_dispatch(get_database(app), context.clock(app), batch_size=10, enqueue=batches.append)
    settings = context.settings(app)
    transports = Transports(
        make_email=BrokenAfterData, make_sms=lambda: make_sms_provider(settings, get_database(app), clock)
    )
    BatchSender(get_database(app), clock, settings, transports, worker_id="w").run(batches[0])
    [send] = sends(db_session)
    assert send.state == "failed" and "may have gone" in send.error
    clock.advance(hours=2)
    _dispatch_and_send(app)
    assert sends(db_session)[0].attempts == 1


def test_a_send_left_sending_by_a_dead_worker_is_failed_not_resent(
    messaging_app, due_reminders, db_session, clock, smtp_sink
) -> None:
    """Claimed 31 minutes ago and never finished: marked failed with an explanation, nothing sent."""
    due_reminders(1, send_sms=False)
    batches: list[list[int]] = []
    run_dispatch(get_database(messaging_app), clock, batch_size=10, enqueue=batches.append)
    send = db_session.get(AutomationSend, batches[0][0])
    send.state, send.claimed_at, send.claimed_by = "sending", clock.now(), "dead-worker"
    db_session.commit()
    clock.advance(minutes=31)
    _dispatch_and_send(messaging_app)
    [send] = sends(db_session)
    assert (send.state, send.error) == ("failed", STUCK_MESSAGE) and smtp_sink.received == []


def test_turning_an_automation_off_stops_messages_still_waiting(
    messaging_app, due_reminders, db_session, clock, smtp_sink
) -> None:
    """A queued reminder of an automation switched off before it went is skipped."""
    automation, _ = due_reminders(1, send_sms=False)
    batches: list[list[int]] = []
    run_dispatch(get_database(messaging_app), clock, batch_size=10, enqueue=batches.append)
    automation.enabled = False
    db_session.commit()
    batch_sender(messaging_app, worker_id="w").run(batches[0])
    assert [(s.state, s.reason) for s in sends(db_session)] == [("skipped", "automation_off")]
    assert smtp_sink.received == []


def test_the_per_minute_schedule_has_one_job_per_minute(app, clock, run_jobs) -> None:
    """Deterministic ids: scheduling twice makes one job; a scheduled run schedules the next minute."""
    queue = get_queue(app)
    first = ensure_dispatch_schedule(app)
    assert (
        schedule_next_dispatch(queue, clock.now())
        == first
        == dispatch_job_id(clock.now() + timedelta(minutes=1))
    )
    registry = ScheduledJobRegistry(queue=queue)
    assert registry.get_job_ids() == [first]
    clock.advance(minutes=1)
    queue.enqueue(DISPATCH_JOB, "schedule")
    run_jobs()
    assert sorted(registry.get_job_ids()) == sorted(
        [first, dispatch_job_id(clock.now() + timedelta(minutes=1))]
    )


def test_a_sync_is_followed_by_a_dispatch(
    connected, sandbox, make_patient, db_session, clock, run_jobs, smtp_sink
) -> None:
    """Synchronise (the RQ pull job) alone sends what the pulled changes made due."""
    patient = make_patient("Theo")
    make_automation(
        db_session,
        clock,
        send_sms=False,
        trigger="cancelled",
        is_service=False,
        offset_minutes=0,
        email_subject="Sorry to miss you",
        email_body="Rebook: {{ book_now_url }}",
    )
    db_session.commit()
    booking = sandbox.store.add_appointment(
        patient_id=patient.cliniko_id, starts_at=iso(clock.now() + timedelta(days=1))
    )
    clock.advance(minutes=10)
    sandbox.store.cancel_appointment(booking)
    launch_pull(db_session, get_queue(connected), full=False, trigger="manual", clock=clock)
    run_jobs()
    assert [m.rcpt_tos for m in smtp_sink.received] == [(patient.email,)]


def test_worker_start_creates_the_per_minute_schedule(app, run_worker) -> None:
    """`python worker.py` makes sure next minute's dispatch is scheduled before it works the queue."""
    result = run_worker()
    assert result.returncode == 0, result.stderr
    ids = ScheduledJobRegistry(queue=get_queue(app)).get_job_ids()
    assert [i for i in ids if i.startswith("automations-dispatch-")]
