"""Classes (group appointments) and their attendees, pulled from the sandbox over real HTTP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from oncord.campaigns.audience import AppointmentCondition, Audience, Period, audience_clauses
from oncord.models import Appointment, AppointmentType, Contact, GroupAppointment, Practitioner, User
from oncord.web.presenters import run_lines
from tests.factories import PASSWORD, make_user
from tests.sync.helpers import all_appointments, all_attendees, all_group_appointments, booking_id

MELBOURNE = "Australia/Melbourne"


def _id(link: dict) -> str:
    return link["links"]["self"].rsplit("/", 1)[1]


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _class_rows(session) -> dict[str, Appointment]:
    session.expire_all()
    return {a.cliniko_id: a for a in session.scalars(select(Appointment).where(Appointment.kind == "class"))}


def _feed(app, session, clock, contact_id: int) -> list[str]:
    """The contact's activity feed as staff read it on the contact page."""
    if session.scalars(select(User).where(User.email == "desk@clinic.example")).first() is None:
        make_user(session, clock, email="desk@clinic.example")
        session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "desk@clinic.example", "password": PASSWORD, "csrf_token": token})
    body = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    return re.findall(r'<p class="feed-text">([^<]+)</p>', body)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_seeded_class_attendances_are_stored_with_their_class_and_outcome(pull, sandbox, db_session, clock):
    """Each class attendee is one row: time, type and practitioner of the class, outcome of the attendee."""
    run = pull()
    classes = {g["id"]: g for g in all_group_appointments(sandbox)}
    attendees = all_attendees(sandbox)
    of_classes = [a for a in attendees if booking_id(a) in classes]
    assert classes and len(of_classes) >= 3 * len(classes)
    rows = _class_rows(db_session)
    assert set(rows) == {a["id"] for a in of_classes}
    outcomes = set()
    for attendee in of_classes:
        row, group = rows[attendee["id"]], classes[booking_id(attendee)]
        assert row.starts_at == _time(group["starts_at"]) and row.ends_at == _time(group["ends_at"])
        assert row.appointment_type.cliniko_id == _id(group["appointment_type"])
        assert row.practitioner.cliniko_id == _id(group["practitioner"])
        assert row.business.cliniko_id == _id(group["business"])
        contact = db_session.get(Contact, row.contact_id)
        assert contact.cliniko_patient_id == _id(attendee["patient"])
        assert row.cancelled_at == _time(attendee["cancelled_at"])
        ended = _time(group["ends_at"]) <= clock.now()
        expected_dna = attendee["arrived"] is False and attendee["cancelled_at"] is None and ended
        assert (row.patient_arrived, bool(row.did_not_arrive)) == (attendee["arrived"], expected_dna)
        outcomes.add(row.outcome)
    assert outcomes == {"arrived", "did_not_arrive", "cancelled", "booked"}
    # The listing's attendees of individual appointments are read and left alone.
    assert run.counts["attendees"]["ignored"] == len(attendees) - len(of_classes)
    line = next(line for line in run_lines(run) if line.startswith("Class attendees:"))
    assert f"{len(of_classes)} new" in line and "of individual appointments, already read" in line
    assert run.counts["group_appointments"]["created"] == len(classes)


def test_a_new_class_attendance_is_in_the_feed_after_one_pull(
    connected_app, pull, sandbox, db_session, clock
):
    """Booked into a class in Cliniko: the next pull stores it and the contact's feed says so."""
    pull()
    patient = all_appointments(sandbox)[0]["patient"]
    patient_id = _id(patient)
    starts = clock.now() + timedelta(days=3)
    group = sandbox.store.add_group_appointment(starts_at=_iso(starts))
    attendee = sandbox.store.add_attendee(group_appointment_id=group, patient_id=patient_id)
    clock.advance(minutes=5)
    run = pull()
    assert run.counts["attendees"]["created"] == 1
    row = _class_rows(db_session)[attendee]
    assert row.starts_at == starts.replace(microsecond=0) and row.outcome == "booked"
    stored_class = db_session.scalars(
        select(GroupAppointment).where(GroupAppointment.cliniko_id == group)
    ).one()
    assert row.group_appointment_id == stored_class.id
    name = f"{row.appointment_type.name} class with {row.practitioner.display_name}"
    assert f"Booked: {name}" in _feed(connected_app, db_session, clock, row.contact_id)


def test_cancelled_and_did_not_arrive_attendances_show_as_such(
    connected_app, pull, sandbox, db_session, clock
):
    """A cancelled attendee and one never marked arrived at a class now over read as such in the feed."""
    pull()
    patients = sorted({_id(a["patient"]) for a in all_appointments(sandbox)})[:2]
    starts = clock.now() + timedelta(hours=1)
    group = sandbox.store.add_group_appointment(starts_at=_iso(starts))
    cancelled, missed = (
        sandbox.store.add_attendee(group_appointment_id=group, patient_id=p) for p in patients
    )
    sandbox.store.cancel_attendee(cancelled, reason=30)
    pull()
    assert _class_rows(db_session)[missed].outcome == "booked"
    clock.set(starts + timedelta(hours=2))
    pull()
    rows = _class_rows(db_session)
    assert rows[cancelled].outcome == "cancelled" and rows[missed].outcome == "did_not_arrive"
    name = f"{rows[missed].appointment_type.name} class with {rows[missed].practitioner.display_name}"
    assert f"Cancelled: {name} (Sick)" in _feed(connected_app, db_session, clock, rows[cancelled].contact_id)
    assert f"Did not arrive: {name}" in _feed(connected_app, db_session, clock, rows[missed].contact_id)


def test_moving_or_archiving_a_class_carries_over_to_its_attendances(pull, sandbox, db_session, clock):
    """A class moved in Cliniko moves every attendance; archived, they drop out; back, they return."""
    pull()
    patients = sorted({_id(a["patient"]) for a in all_appointments(sandbox)})[:3]
    group = sandbox.store.add_group_appointment(starts_at=_iso(clock.now() + timedelta(days=2)))
    ids = [sandbox.store.add_attendee(group_appointment_id=group, patient_id=p) for p in patients]
    pull()
    later = clock.now() + timedelta(days=9)
    clock.advance(minutes=1)
    sandbox.store.update_group_appointment(group, starts_at=_iso(later))
    pull()
    rows = _class_rows(db_session)
    assert {rows[i].starts_at for i in ids} == {later.replace(microsecond=0)}
    clock.advance(minutes=1)
    sandbox.store.update_group_appointment(group, archived=True)
    pull()
    assert all(_class_rows(db_session)[i].archived_at is not None for i in ids)
    clock.advance(minutes=1)
    sandbox.store.update_group_appointment(group, archived=False)
    pull()
    assert all(_class_rows(db_session)[i].archived_at is None for i in ids)


@pytest.mark.parametrize("outcome", ["attended", "booked"])
def test_campaign_audience_by_type_practitioner_and_when_counts_class_attendees(
    pull, sandbox, db_session, clock, outcome
):
    """"Saw <practitioner> for <type>" counts class attendees exactly as the sandbox's data says."""
    pull()
    classes = {g["id"]: g for g in all_group_appointments(sandbox)}
    some_class = next(iter(classes.values()))
    type_id, practitioner_id = _id(some_class["appointment_type"]), _id(some_class["practitioner"])
    period = Period("last_days", 60) if outcome == "attended" else Period("next_days", 40)
    now = clock.now()
    start, end = period.bounds(now, ZoneInfo(MELBOURNE))

    def counts(record: dict, starts: str, arrived: bool | None, did_not_arrive: bool | None) -> bool:
        moment = _time(starts)
        in_period = (start is None or moment >= start) and (end is None or moment < end)
        if record["cancelled_at"] is not None or record["archived_at"] is not None or not in_period:
            return False
        if outcome == "attended":
            return bool(arrived) and not did_not_arrive
        return not arrived and not did_not_arrive

    expected = set()
    for a in all_appointments(sandbox):
        if (_id(a["appointment_type"]), _id(a["practitioner"])) == (type_id, practitioner_id) and counts(
            a, a["starts_at"], a["patient_arrived"], a["did_not_arrive"]
        ):
            expected.add(_id(a["patient"]))
    from_classes = set()
    for attendee in all_attendees(sandbox):
        group = classes.get(booking_id(attendee))
        if group is None:
            continue
        if (_id(group["appointment_type"]), _id(group["practitioner"])) != (type_id, practitioner_id):
            continue
        ended = _time(group["ends_at"]) <= now
        missed = attendee["arrived"] is False and ended
        if counts(attendee, group["starts_at"], attendee["arrived"], missed):
            from_classes.add(_id(attendee["patient"]))
    assert from_classes, "the seeded class has attendees of this outcome"
    expected |= from_classes

    local_type = db_session.scalars(
        select(AppointmentType.id).where(AppointmentType.cliniko_id == type_id)
    ).one()
    local_practitioner = db_session.scalars(
        select(Practitioner.id).where(Practitioner.cliniko_id == practitioner_id)
    ).one()
    audience = Audience(appointments=(AppointmentCondition(
        period=period, appointment_type_ids=(local_type,), practitioner_ids=(local_practitioner,),
        outcomes=(outcome,),
    ),))
    found = set(db_session.scalars(
        select(Contact.cliniko_patient_id).where(*audience_clauses(audience, now, MELBOURNE))
    ))
    assert found == expected
