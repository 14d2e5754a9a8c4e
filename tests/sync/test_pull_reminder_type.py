"""Cliniko's own reminder setting per patient reaches the contact, so staff can avoid double reminders."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oncord.models import Contact


@pytest.fixture
def sandbox(sandbox_factory, clock):
    """An empty sandbox on the test's clock."""
    return sandbox_factory(clock=clock.now, patients=0, appointments=0, rate_limit=None)


def test_the_cliniko_reminder_type_is_pulled_and_follows_changes(pull, sandbox, db_session, clock) -> None:
    """Stored on the first pull, and changed when it changes in Cliniko."""
    patient_id = sandbox.store.create_patient(
        {"first_name": "Rae", "last_name": "Min", "reminder_type": "SMS"}
    )
    pull()
    stored = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()
    assert stored.cliniko_reminder_type == "SMS"
    clock.advance(minutes=5)
    sandbox.store.edit_patient(patient_id, reminder_type="None")
    pull()
    db_session.expire_all()
    assert db_session.get(Contact, stored.id).cliniko_reminder_type == "None"
