"""Adding a contact by hand (not in Cliniko): its details, and its first consent in the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.consent import ConsentActor, start_consent
from oncord.contacts.editing import CHANNELS
from oncord.contacts.phones import phone_region
from oncord.models import Contact, MarketingStatus
from oncord.sync.patient_fields import EDITED_HERE, derived_values, normalise


def add_contact(session: Session, values: dict[str, Any], *, clock: Clock, actor: ConsentActor,
                evidence: str | None = None, default_region: str = "AU") -> Contact:
    """A new unlinked contact with these details and statuses (caller commits).

    Raises ConsentRefused when a status needs evidence that is missing. A pull later links it to a
    Cliniko patient with the same e-mail, as it does any unlinked contact.
    """
    now = clock.now()
    contact = Contact(created_at=now, updated_at=now)
    region = phone_region(values.get("country_code"), default_region)
    # Stored as an edit stores it: normalised, with the phone's E.164 form and the country's name.
    for field in EDITED_HERE:
        value = normalise(field, values.get(field.column))
        setattr(contact, field.column, value)
        for column, derived in derived_values(field, value, region=region).items():
            setattr(contact, column, derived)
    contact.first_name = values.get("first_name") or ""
    contact.last_name = values.get("last_name") or ""
    statuses = {channel: values.get(attribute) or MarketingStatus.PENDING.value
                for channel, attribute in CHANNELS.items()}
    session.add(contact)
    session.flush()
    start_consent(session, contact, statuses, actor=actor, now=now, evidence=evidence)
    return contact
