"""The pull sync against the Cliniko sandbox over real HTTP."""

from __future__ import annotations

import math

from sqlalchemy import func, select

from oncord.models import ActivityEvent, Appointment, Contact, MarketingStatus, Practitioner, SyncRunStatus
from tests.sync.helpers import all_appointments, all_attendees, all_group_appointments, all_patients


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_first_pull_stores_every_patient_and_appointment(pull, sandbox, db_session) -> None:
    """A first pull creates one contact per patient and one appointment per Cliniko appointment."""
    run = pull()
    patients, appointments = all_patients(sandbox), all_appointments(sandbox)
    assert run.status == SyncRunStatus.SUCCEEDED
    assert _count(db_session, Contact) == len(patients)
    individual = select(func.count()).where(Appointment.kind == "individual")
    assert db_session.scalar(individual) == len(appointments)
    assert run.counts["patients"]["created"] == len(patients)
    assert run.counts["appointments"]["created"] == len(appointments)
    stored = {c.cliniko_patient_id: c for c in db_session.scalars(select(Contact))}
    for patient in patients:
        contact = stored[patient["id"]]
        assert contact.first_name == patient["first_name"]
        assert contact.last_name == patient["last_name"]
        assert contact.email == (patient["email"] or None)
        expected_email = "subscribed" if patient["accepted_email_marketing"] else "pending"
        expected_sms = "subscribed" if patient["accepted_sms_marketing"] else "pending"
        assert (contact.email_marketing_status, contact.sms_marketing_status) == (
            expected_email,
            expected_sms,
        )
        assert (contact.archived_at is not None) == (patient["archived_at"] is not None)


def test_pull_costs_one_request_per_page(pull, sandbox) -> None:
    """Related records come from links, not from a request per record."""
    run = pull()
    patients, appointments = all_patients(sandbox), all_appointments(sandbox)
    reference_pages = 1 + 2 + 1  # businesses, active + inactive practitioners, appointment types
    classes, attendees = all_group_appointments(sandbox), all_attendees(sandbox)
    expected = reference_pages + sum(
        math.ceil(len(records) / 100) for records in (patients, appointments, classes, attendees)
    )
    assert run.requests_made == expected


def test_appointments_link_contacts_and_fill_the_activity_feed(pull, sandbox, db_session) -> None:
    """Each appointment belongs to its patient's contact and shows in the feed."""
    pull()
    by_id = {a["id"]: a for a in all_appointments(sandbox)}
    for appointment in db_session.scalars(select(Appointment).where(Appointment.kind == "individual")):
        source = by_id[appointment.cliniko_id]
        patient_id = source["patient"]["links"]["self"].rsplit("/", 1)[1]
        contact = db_session.get(Contact, appointment.contact_id)
        assert contact is not None and contact.cliniko_patient_id == patient_id
        assert appointment.practitioner is not None
        assert (
            appointment.practitioner.cliniko_id == source["practitioner"]["links"]["self"].rsplit("/", 1)[1]
        )
        kinds = set(
            db_session.scalars(
                select(ActivityEvent.kind).where(ActivityEvent.appointment_id == appointment.id)
            )
        )
        assert "appointment_booked" in kinds
        assert ("appointment_cancelled" in kinds) == (source["cancelled_at"] is not None)
        if source["cancelled_at"] is None:
            assert ("appointment_did_not_arrive" in kinds) == bool(source["did_not_arrive"])


def test_second_pull_changes_nothing(pull, db_session) -> None:
    """Running the sync twice adds no contacts, appointments or feed entries."""
    pull()
    before = [_count(db_session, m) for m in (Contact, Appointment, ActivityEvent)]
    run = pull()
    assert [_count(db_session, m) for m in (Contact, Appointment, ActivityEvent)] == before
    for counts in (run.counts["patients"], run.counts["appointments"]):
        assert counts["created"] == 0 and counts["updated"] == 0


def test_full_pull_reconciles_everything_again(pull, sandbox, db_session) -> None:
    """--full walks every record even when nothing changed, and still changes nothing."""
    pull()
    run = pull(full=True)
    assert run.counts["patients"]["fetched"] == len(all_patients(sandbox))
    assert run.counts["patients"]["unchanged"] == len(all_patients(sandbox))


def test_first_pull_links_existing_contacts_by_email(connected_app, pull, sandbox, db_session, clock) -> None:
    """A contact that already has a patient's e-mail is linked, not duplicated."""
    patient = next(p for p in all_patients(sandbox) if p["email"] and p["archived_at"] is None)
    db_session.add(
        Contact(
            first_name="Old",
            last_name="Record",
            email=patient["email"].upper(),
            email_marketing_status="pending",
            sms_marketing_status="pending",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )
    db_session.commit()
    pull()
    db_session.expire_all()
    linked = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient["id"])).one()
    assert linked.first_name == patient["first_name"]
    assert _count(db_session, Contact) == len(all_patients(sandbox))


def test_local_unsubscribe_survives_a_pull(pull, sandbox, db_session, clock) -> None:
    """A contact who unsubscribed stays Unsubscribed when Cliniko, edited since, says accepted."""
    pull()
    patient = next(
        p for p in all_patients(sandbox) if p["accepted_email_marketing"] and p["archived_at"] is None
    )
    contact = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient["id"])).one()
    contact.email_marketing_status = MarketingStatus.UNSUBSCRIBED.value
    db_session.commit()
    # Changed in Cliniko after the unsubscribe, so the pull reads it rather than skipping it unchanged.
    clock.advance(minutes=5)
    sandbox.store.edit_patient(patient["id"], first_name="Renamed", accepted_email_marketing=True)
    for full in (False, True):
        pull(full=full)
        db_session.expire_all()
        stored = db_session.get(Contact, contact.id)
        assert stored.first_name == "Renamed"
        assert stored.email_marketing_status == "unsubscribed"


def test_reference_lists_include_inactive_practitioners(pull, db_session) -> None:
    """Appointments with a practitioner who has left still resolve to them."""
    pull()
    assert db_session.scalar(select(func.count()).where(Practitioner.active.is_(False))) >= 1
