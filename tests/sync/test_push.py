"""Local edits reach Cliniko: debounced, batched, once, and never lost on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from oncord import context
from oncord.jobs.sync_jobs import ensure_push_scheduled
from oncord.models import ChangeStatus, Contact, PatientChange
from oncord.queue import get_queue
from oncord.sync.outbox import record_changes
from tests.sync.helpers import USER_AGENT, all_patients


def _linked(session, n: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.cliniko_patient_id.is_not(None), Contact.archived_at.is_(None))
            .order_by(Contact.id)
            .limit(n)
        )
    )


def _edit(app, session, contact: Contact, **values) -> None:
    """What the contact form does: change fields, record them in the outbox, schedule the push."""
    for name, value in values.items():
        setattr(contact, name, value)
    record_changes(session, contact, values, context.clock(app).now())
    session.commit()
    with app.app_context():
        ensure_push_scheduled(app)


def _patient(sandbox, patient_id: str) -> dict:
    response = requests.get(
        f"{sandbox.base_url}/patients/{patient_id}",
        params={"q[]": "archived_at:*"},
        auth=(sandbox.api_key, ""),
        headers={"User-Agent": USER_AGENT},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _patches(sandbox) -> list[dict]:
    return [r for r in sandbox.store.request_log() if r["method"] == "PATCH"]


def test_burst_of_edits_goes_out_once_two_minutes_after_the_last(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Edits at 0:00 and 1:00 are pushed together once, near 3:00, with the final values."""
    pull()
    first, second = _linked(db_session, 2)
    sandbox.store.reset_requests()
    _edit(connected_app, db_session, first, first_name="Annabel")
    clock.advance(seconds=60)
    _edit(connected_app, db_session, first, last_name="Lee-Nguyễn")
    _edit(connected_app, db_session, second, email="second.person@example.com")

    scheduled = get_queue(connected_app).scheduled_job_registry
    due_times = {scheduled.get_scheduled_time(j) for j in scheduled.get_job_ids()}
    latest = max(due_times).replace(tzinfo=UTC)
    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert abs((latest - expected).total_seconds()) < 10

    work_queue()  # woken early: nothing is due yet, nothing is sent
    assert _patches(sandbox) == []

    clock.advance(seconds=121)
    work_queue()
    patches = _patches(sandbox)
    assert sorted(p["path"].rsplit("/", 1)[1] for p in patches) == sorted(
        [first.cliniko_patient_id, second.cliniko_patient_id]
    )
    assert _patient(sandbox, first.cliniko_patient_id)["first_name"] == "Annabel"
    assert _patient(sandbox, first.cliniko_patient_id)["last_name"] == "Lee-Nguyễn"
    assert _patient(sandbox, second.cliniko_patient_id)["email"] == "second.person@example.com"
    assert db_session.scalars(select(PatientChange.status)).all() == ["pushed"] * 3

    clock.advance(minutes=30)
    work_queue()
    assert len(_patches(sandbox)) == 2, "nothing is pushed twice"


def test_a_steady_stream_of_edits_is_pushed_within_the_maximum_wait(
    connected_app, pull, sandbox, db_session, clock
) -> None:
    """Edits every minute cannot postpone the push past ten minutes after the first."""
    pull()
    (contact,) = _linked(db_session, 1)
    start = clock.now()
    for minute in range(12):
        _edit(connected_app, db_session, contact, first_name=f"Name{minute}")
        clock.advance(seconds=60)
    from oncord.jobs.sync_jobs import push_due_at

    assert push_due_at(connected_app) == start + timedelta(minutes=10)


def test_pull_keeps_a_pending_local_edit_and_the_push_then_wins(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """The documented conflict rule: a field with a pending local edit is not overwritten by a pull."""
    pull()
    (contact,) = _linked(db_session, 1)
    _edit(connected_app, db_session, contact, first_name="Local")
    clock.advance(seconds=30)
    sandbox.store.edit_patient(contact.cliniko_patient_id, first_name="Remote", last_name="RemoteLast")
    pull()
    db_session.expire_all()
    contact = db_session.get(Contact, contact.id)
    assert (contact.first_name, contact.last_name) == ("Local", "RemoteLast")
    clock.advance(minutes=3)
    work_queue()
    remote = _patient(sandbox, contact.cliniko_patient_id)
    assert (remote["first_name"], remote["last_name"]) == ("Local", "RemoteLast")


def test_rejected_value_is_kept_with_clinikos_message_and_others_go_through(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """A 422 marks that field failed with Cliniko's words; other fields and contacts are pushed.

    The refused field is the phone, which Cliniko names `patient_phone_numbers[0].number`: the push
    has to map Cliniko's name back to the local field to fail only that one.
    """
    pull()
    first, second = _linked(db_session, 2)
    _edit(connected_app, db_session, first, phone="0499 999 999", city="Fitzroy")
    _edit(connected_app, db_session, second, city="Carlton")
    sandbox.store.inject_fault(
        "validation",
        times=1,
        field="patient_phone_numbers[0].number",
        message="is invalid",
        path=f"/v1/patients/{first.cliniko_patient_id}",
        method="PATCH",
    )
    clock.advance(minutes=3)
    work_queue()
    rows = {(r.contact_id, r.field): r for r in db_session.scalars(select(PatientChange))}
    assert rows[(first.id, "phone")].status == ChangeStatus.FAILED
    assert "invalid" in rows[(first.id, "phone")].error
    assert rows[(first.id, "city")].status == ChangeStatus.PUSHED
    assert rows[(second.id, "city")].status == ChangeStatus.PUSHED
    assert _patient(sandbox, first.cliniko_patient_id)["city"] == "Fitzroy"
    assert _patient(sandbox, second.cliniko_patient_id)["city"] == "Carlton"
    numbers = [n["number"] for n in _patient(sandbox, first.cliniko_patient_id)["patient_phone_numbers"]]
    assert "0499 999 999" not in numbers
    # The pull does not undo the refused local value: staff see it and decide.
    pull(full=True)
    db_session.expire_all()
    assert db_session.get(Contact, first.id).phone == "0499 999 999"


def test_outage_keeps_edits_pending_and_a_later_retry_sends_them_once(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Cliniko down during the push: nothing is lost, and the retry sends each edit once."""
    pull()
    (contact,) = _linked(db_session, 1)
    _edit(connected_app, db_session, contact, state="VIC", post_code="3065")
    sandbox.store.inject_fault("server_error", times=50, status=503, method="PATCH")
    clock.advance(minutes=3)
    work_queue()
    assert {r.status for r in db_session.scalars(select(PatientChange))} == {"pending"}
    sandbox.store.clear_faults()
    sandbox.store.reset_requests()
    clock.advance(minutes=20)
    work_queue()  # RQ's retry of the failed push (released from the schedule)
    db_session.expire_all()
    assert {r.status for r in db_session.scalars(select(PatientChange))} == {"pushed"}
    assert len([p for p in _patches(sandbox) if p["status"] == 200]) == 1
    remote = _patient(sandbox, contact.cliniko_patient_id)
    assert (remote["state"], remote["post_code"]) == ("VIC", "3065")


def test_unlinked_contact_is_never_pushed(connected_app, db_session, clock) -> None:
    """A contact with no Cliniko patient records no outbox rows."""
    contact = Contact(
        first_name="Walk",
        last_name="In",
        email_marketing_status="pending",
        sms_marketing_status="pending",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db_session.add(contact)
    db_session.flush()
    assert record_changes(db_session, contact, ["first_name"], clock.now()) is False
    assert db_session.scalars(select(PatientChange)).all() == []


def test_unsubscribe_reaches_clinikos_marketing_flags(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Unsubscribed locally becomes accepted_email_marketing false and an SMS opt-out in Cliniko."""
    pull()
    patient = next(
        p
        for p in all_patients(sandbox)
        if p["accepted_email_marketing"] and p["accepted_sms_marketing"] and p["archived_at"] is None
    )
    contact = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient["id"])).one()
    _edit(
        connected_app,
        db_session,
        contact,
        email_marketing_status="unsubscribed",
        sms_marketing_status="unsubscribed",
    )
    clock.advance(minutes=3)
    work_queue()
    remote = _patient(sandbox, patient["id"])
    assert remote["accepted_email_marketing"] is False
    assert remote["accepted_sms_marketing"] is False


def test_create_patient_in_cliniko_links_the_contact(connected_app, sandbox, db_session, clock) -> None:
    """An unlinked contact becomes a Cliniko patient with its fields, and is linked to it."""
    from oncord.integration import active_connection, client_for
    from oncord.sync.create_patient import create_patient_for

    contact = Contact(first_name="Mia", last_name="Đặng", email="mia@example.com", phone="0412 345 678",
                      city="Brunswick", email_marketing_status="subscribed", sms_marketing_status="pending",
                      created_at=clock.now(), updated_at=clock.now())
    db_session.add(contact)
    db_session.commit()
    with connected_app.app_context():
        client = client_for(active_connection(db_session), context.settings(connected_app),
                            context.secret_box(connected_app))
    with client:
        patient_id = create_patient_for(db_session, client, contact, clock)
    db_session.commit()
    remote = _patient(sandbox, patient_id)
    assert (remote["first_name"], remote["last_name"], remote["email"]) == ("Mia", "Đặng", "mia@example.com")
    assert remote["accepted_email_marketing"] is True
    assert remote["patient_phone_numbers"][0]["number"] == "0412 345 678"
    assert db_session.get(Contact, contact.id).cliniko_patient_id == patient_id
