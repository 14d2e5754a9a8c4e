"""Consent across the sync, every combination: Cliniko's flag x the local status x where it came from.

Pull: Subscribed iff Cliniko's flag is true, otherwise Pending; Unsubscribed (whoever set it) stays,
and so does an SMS Subscribed given here (Cliniko's API cannot opt a patient in to SMS).
Push: Cliniko is told "accepted" only for Subscribed; Pending and Unsubscribed are "not accepted".
Each patient is also renamed in Cliniko so the pull cannot skip it as unchanged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from oncord import context
from oncord.contacts.editing import update_contact
from oncord.jobs.sync_jobs import ensure_push_scheduled
from oncord.messaging.unsubscribe import make_token, unsubscribe
from oncord.models import ConsentChange, ConsentSource, Contact, PatientChange
from tests.factories import staff_actor
from tests.sync.test_push import _patient

CHANNELS = ("email", "sms")
FLAGS = (True, False, None)
# How the local status came about: the first pull, a staff edit, the unsubscribe link, an SMS STOP.
SETUPS = [
    ("cliniko_sync", "subscribed"),
    ("cliniko_sync", "pending"),
    ("staff_edit", "subscribed"),
    ("staff_edit", "pending"),
    ("staff_edit", "unsubscribed"),
    ("unsubscribe_link", "unsubscribed"),
    ("sms_stop", "unsubscribed"),
]


@pytest.fixture
def sandbox(sandbox_factory, clock):
    """An empty sandbox on the test's clock: the test creates one patient per combination."""
    return sandbox_factory(clock=clock.now, patients=0, appointments=0, rate_limit=None)


@dataclass
class Case:
    channel: str
    source: str
    local: str
    flag: bool | None
    patient_id: str = ""
    contact_id: int = 0

    @property
    def cliniko_field(self) -> str:
        return f"accepted_{self.channel}_marketing"

    @property
    def attribute(self) -> str:
        return f"{self.channel}_marketing_status"


def _flag_field(channel: str) -> str:
    return f"accepted_{channel}_marketing"


def _create(sandbox, n: int, channel: str, accepted: bool | None) -> str:
    """A patient with this flag on the channel under test and consent on the other."""
    flags = {"accepted_email_marketing": True, "accepted_sms_marketing": True, _flag_field(channel): accepted}
    patient_id = sandbox.store.create_patient({
        "first_name": f"P{n}", "last_name": "Consent", "email": f"p{n}@example.com",
        "patient_phone_numbers": [{"number": f"0412 000 {n:03d}", "phone_type": "Mobile"}],
        "accepted_email_marketing": flags["accepted_email_marketing"],
    })
    # Cliniko's API takes no SMS opt-in; the sandbox sets it as staff would in Cliniko.
    sandbox.store.edit_patient(patient_id, accepted_sms_marketing=flags["accepted_sms_marketing"])
    return patient_id


def _set_locally(app, session, client, case: Case, clock) -> None:
    contact = session.get(Contact, case.contact_id)
    if case.source == "staff_edit":
        update_contact(session, contact, {case.attribute: case.local}, clock=clock, actor=staff_actor())
    elif case.source == "sms_stop":
        unsubscribe(session, contact, case.channel, clock, source=ConsentSource.SMS_STOP.value)
    session.commit()
    if case.source == "unsubscribe_link":
        token = make_token(context.settings(app).secret_key, contact.id, case.channel)
        assert client.post(f"/u/{token}").status_code == 200
    session.expire_all()
    assert getattr(session.get(Contact, case.contact_id), case.attribute) == case.local, case


def test_a_pull_applies_clinikos_flag_but_never_undoes_an_unsubscribe(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """For every flag x local status x source: Unsubscribed and a local SMS Subscribed stay;
    otherwise the flag decides."""
    cases = [Case(channel, source, local, flag)
             for channel, (source, local), flag in itertools.product(CHANNELS, SETUPS, FLAGS)]
    for n, case in enumerate(cases):
        # The first pull gives the local status for cliniko_sync; the other sources change it.
        initial = (case.local == "subscribed") == (case.source == "cliniko_sync")
        case.patient_id = _create(sandbox, n, case.channel, initial)
    pull()
    for case in cases:
        case.contact_id = db_session.scalars(
            select(Contact.id).where(Contact.cliniko_patient_id == case.patient_id)).one()
    client = connected_app.test_client()
    for case in cases:
        _set_locally(connected_app, db_session, client, case, clock)
    with connected_app.app_context():
        ensure_push_scheduled(connected_app)
    clock.advance(minutes=5)
    work_queue()  # the push takes the local changes to Cliniko and closes the outbox rows
    assert {r.status for r in db_session.scalars(select(PatientChange))} == {"pushed"}
    clock.advance(minutes=5)
    history_before = {c.contact_id: _history(db_session, c) for c in cases}
    for case in cases:
        sandbox.store.edit_patient(case.patient_id, first_name=f"Renamed{case.contact_id}",
                                   **{case.cliniko_field: case.flag})
    pull()

    db_session.expire_all()
    wrong = []
    for case in cases:
        contact = db_session.get(Contact, case.contact_id)
        assert contact.first_name == f"Renamed{case.contact_id}", "the pull must not skip the patient"
        expected = "unsubscribed" if case.local == "unsubscribed" else (
            "subscribed" if case.flag is True else "pending")
        if (case.channel, case.source, case.local) == ("sms", "staff_edit", "subscribed"):
            expected = "subscribed"  # the push could not tell Cliniko, so Cliniko's flag is stale
        history = _history(db_session, case)[len(history_before[case.contact_id]):]
        recorded = [("cliniko_sync", case.local, expected)] if expected != case.local else []
        if getattr(contact, case.attribute) != expected or history != recorded:
            wrong.append((case, getattr(contact, case.attribute), history))
    assert wrong == []


def _history(session, case: Case) -> list[tuple[str, str | None, str]]:
    return [(h.source, h.old_status, h.new_status) for h in session.scalars(
        select(ConsentChange).where(ConsentChange.contact_id == case.contact_id,
                                    ConsentChange.channel == case.channel).order_by(ConsentChange.id))]


PUSH_CASES = list(itertools.product(CHANNELS, ("subscribed", "pending", "unsubscribed"), (True, False)))


def test_a_push_tells_cliniko_accepted_only_for_subscribed(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """For every local status x Cliniko's flag before: after the push Cliniko says accepted iff Subscribed.

    SMS opt-in is the documented exception: Cliniko's API cannot re-subscribe, so an SMS
    Subscribed leaves Cliniko's flag as it was.
    """
    ids = []
    for n, (channel, _local, before) in enumerate(PUSH_CASES):
        ids.append(_create(sandbox, n, channel, before))
    pull()
    for patient_id, (channel, local, _before) in zip(ids, PUSH_CASES, strict=True):
        contact = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()
        # A field edit as well, so even a no-op consent change makes a PATCH for this patient.
        update_contact(db_session, contact, {f"{channel}_marketing_status": local, "city": "Fitzroy"},
                       clock=clock, actor=staff_actor())
    db_session.commit()
    with connected_app.app_context():
        ensure_push_scheduled(connected_app)
    clock.advance(minutes=5)
    work_queue()

    wrong = []
    for patient_id, (channel, local, before) in zip(ids, PUSH_CASES, strict=True):
        remote = _patient(sandbox, patient_id)
        assert remote["city"] == "Fitzroy"
        expected = local == "subscribed"
        if channel == "sms" and local == "subscribed":
            expected = before
        if remote[_flag_field(channel)] is not expected:
            wrong.append((channel, local, before, remote[_flag_field(channel)]))
    assert wrong == []
