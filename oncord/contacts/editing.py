"""Staff edits to a contact; a changed marketing status is recorded in the consent history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.phones import phone_region
from oncord.models import ActivityEvent, ActivityKind, ConsentChange, ConsentSource, Contact
from oncord.sync.outbox import record_changes
from oncord.sync.patient_fields import BY_COLUMN, EDITED_HERE, derived_values, is_unchanged, normalise

CHANNELS = {"email": "email_marketing_status", "sms": "sms_marketing_status"}


@dataclass(frozen=True)
class EditResult:
    """What an edit changed, and whether Cliniko now needs a push."""

    changed: list[str]
    push_owed: bool


def update_contact(session: Session, contact: Contact, values: dict[str, Any], *, clock: Clock,
                   source: ConsentSource = ConsentSource.STAFF_EDIT,
                   default_region: str = "AU") -> EditResult:
    """Apply the values, queue linked changes for Cliniko in the outbox (the caller commits).

    Only a field whose value the person changed counts: both sides are compared after the
    normalisation that is stored, and a phone only when its E.164 form differs, so a save that
    retypes nothing (or types the same number differently) leaves the stored text alone.
    """
    now = clock.now()
    changed = []
    region = phone_region(values.get("country_code", contact.country_code), default_region)
    for field in EDITED_HERE:
        if field.column not in values:
            continue
        old = getattr(contact, field.column)
        if is_unchanged(field, old, values[field.column], region=region):
            continue
        new = normalise(field, values[field.column])
        setattr(contact, field.column, new)
        for column, value in derived_values(field, new, region=region).items():
            setattr(contact, column, value)
        changed.append(field.column)
    if "country_code" in changed and "phone" not in changed:
        # The same digits may be another number in the new country.
        for column, value in derived_values(BY_COLUMN["phone"], contact.phone, region=region).items():
            setattr(contact, column, value)
    for channel, attribute in CHANNELS.items():
        new, old = values.get(attribute), getattr(contact, attribute)
        if new is None or new == old:
            continue
        setattr(contact, attribute, new)
        changed.append(attribute)
        session.add(ConsentChange(contact_id=contact.id, channel=channel, old_status=old, new_status=new,
                                  source=source.value, occurred_at=now))
        details = {"channel": channel, "old": old, "new": new, "source": source.value}
        session.add(ActivityEvent(contact_id=contact.id, kind=ActivityKind.CONSENT_CHANGED.value,
                                  occurred_at=now, created_at=now, details=details))
    if changed:
        contact.updated_at = now
    # A linked contact's edit goes to Cliniko, and a pull leaves the edited fields alone meanwhile.
    return EditResult(changed=changed, push_owed=record_changes(session, contact, changed, now))
