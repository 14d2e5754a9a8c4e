"""Creating a Cliniko patient for a contact that has none, and linking the two."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oncord.cliniko import payloads
from oncord.cliniko.client import ClinikoClient
from oncord.clock import Clock
from oncord.models import Contact
from oncord.sync.patient_fields import CLINIKO_WRITES, PUSHABLE_FIELDS, cliniko_changes


class AlreadyLinked(ValueError):
    """The contact already has a Cliniko patient."""

    user_message = "This contact is already linked to a patient in Cliniko."


def create_patient_for(session: Session, client: ClinikoClient, contact: Contact, clock: Clock) -> str:
    """POST the contact to Cliniko as a new patient and link it (the caller commits).

    Raises ClinikoError subclasses with .user_message; WriteOutcomeUnknown means Cliniko may
    have created it, and the next pull links it by e-mail rather than creating a second one.
    """
    if contact.cliniko_patient_id is not None:
        raise AlreadyLinked()
    present = {name for name in PUSHABLE_FIELDS if getattr(contact, name, None) not in (None, "")}
    present |= {"first_name", "last_name", "email_marketing_status"}
    if contact.sms_marketing_status != "unsubscribed":
        # A new patient has not accepted SMS marketing; only an opt-out needs saying.
        present.discard("sms_marketing_status")
    body = payloads.patient_update_body(cliniko_changes(contact, present), CLINIKO_WRITES)
    created = payloads.parse_patient(client.create_patient(body))
    contact.cliniko_patient_id = created.id
    contact.cliniko_updated_at = created.updated_at
    contact.updated_at = clock.now()
    session.flush()
    return created.id
