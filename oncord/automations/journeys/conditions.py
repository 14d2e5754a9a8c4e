"""Journey conditions, each answered for a whole batch of enrolments with one query at most.

The runner locks due enrolments a batch at a time; asking a condition one contact at a time would
make a batch's cost grow with its size. Each test has one entry in CONDITIONS: given what the
runner already loaded for the batch and the enrolments standing at a condition step of that test,
it returns those for which the test is true (before the step's negation). "Has booked since
entering" is also the journeys' exit rule on booking, so the runner asks it once per batch
(`booked_since_entering`) and both read the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step, Test
from oncord.db import table_of
from oncord.models import Appointment, Contact, JourneyEnrolment

AtCondition = list[tuple[JourneyEnrolment, Step]]


@dataclass(frozen=True)
class BatchFacts:
    """What the runner has loaded for one batch: its contacts, and who booked since entering."""

    session: Session
    now: datetime
    contacts: dict[int, Contact]
    booked: set[int]


def booked_since_entering(session: Session, enrolments: list[JourneyEnrolment]) -> set[int]:
    """The enrolments whose contact has booked another appointment since entering, in one query."""
    with_contact = [e.id for e in enrolments if e.contact_id]
    if not with_contact:
        return set()
    enrolment = table_of(JourneyEnrolment)
    return set(session.scalars(
        select(enrolment.c.id).where(
            enrolment.c.id.in_(with_contact),
            exists(select(Appointment.id).where(
                Appointment.contact_id == enrolment.c.contact_id,
                Appointment.id.is_distinct_from(enrolment.c.appointment_id),
                Appointment.cancelled_at.is_(None),
                Appointment.archived_at.is_(None),
                Appointment.cliniko_created_at >= enrolment.c.entered_at,
            )),
        )
    ))


def holding(facts: BatchFacts, at_condition: AtCondition) -> set[int]:
    """The enrolments whose condition step lets them carry on (one without a contact never does)."""
    by_test: dict[Test, AtCondition] = {}
    for enrolment, step in at_condition:
        if enrolment.contact_id in facts.contacts:
            by_test.setdefault(Test(step.test), []).append((enrolment, step))
    held: set[int] = set()
    for test, group in by_test.items():
        true = CONDITIONS[test](facts, group)
        held |= {enrolment.id for enrolment, step in group if (enrolment.id in true) != step.negate}
    return held


def _booked(facts: BatchFacts, group: AtCondition) -> set[int]:
    return {enrolment.id for enrolment, _ in group if enrolment.id in facts.booked}


def _future_booking(facts: BatchFacts, group: AtCondition) -> set[int]:
    contact_ids = {enrolment.contact_id for enrolment, _ in group}
    booked = set(facts.session.scalars(select(Appointment.contact_id).distinct().where(
        Appointment.contact_id.in_(contact_ids), Appointment.starts_at > facts.now,
        Appointment.cancelled_at.is_(None), Appointment.archived_at.is_(None),
    )))
    return {enrolment.id for enrolment, _ in group if enrolment.contact_id in booked}


def marketing_status(contact: Contact, channel: str) -> str:
    """The contact's marketing status on one channel ("email" or "sms")."""
    return contact.email_marketing_status if channel == "email" else contact.sms_marketing_status


def _marketing_status(facts: BatchFacts, group: AtCondition) -> set[int]:
    contacts = facts.contacts
    return {enrolment.id for enrolment, step in group if enrolment.contact_id is not None
            and marketing_status(contacts[enrolment.contact_id], step.channel or "email") == step.status}


def _appointment_type_seen(facts: BatchFacts, group: AtCondition) -> set[int]:
    contact_ids = {enrolment.contact_id for enrolment, _ in group}
    type_ids = {step.appointment_type_id for _, step in group if step.appointment_type_id is not None}
    if not type_ids:
        return set()
    seen = set(facts.session.execute(
        select(Appointment.contact_id, Appointment.appointment_type_id).distinct().where(
            Appointment.contact_id.in_(contact_ids), Appointment.appointment_type_id.in_(type_ids),
            Appointment.starts_at <= facts.now, Appointment.cancelled_at.is_(None),
            Appointment.did_not_arrive.is_not(True),
        )
    ).tuples())
    return {enrolment.id for enrolment, step in group
            if (enrolment.contact_id, step.appointment_type_id) in seen}


CONDITIONS: dict[Test, Callable[[BatchFacts, AtCondition], set[int]]] = {
    Test.FUTURE_BOOKING: _future_booking,
    Test.BOOKED_SINCE_ENTERING: _booked,
    Test.MARKETING_STATUS: _marketing_status,
    Test.APPOINTMENT_TYPE_SEEN: _appointment_type_seen,
}
