"""Staff edits to a contact; a changed marketing status is recorded in the consent history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.models import ActivityEvent, ActivityKind, ConsentChange, ConsentSource, Contact
from oncord.sync.outbox import record_changes

DETAIL_FIELDS = (
    "first_name", "last_name", "email", "phone", "date_of_birth", "address_1", "address_2",
    "address_3", "city", "state", "post_code", "country",
)
CHANNELS = {"email": "email_marketing_status", "sms": "sms_marketing_status"}


@dataclass(frozen=True)
class EditResult:
    """What an edit changed, and whether Cliniko now needs a push."""

    changed: list[str]
    push_owed: bool


def update_contact(session: Session, contact: Contact, values: dict[str, Any], *, clock: Clock,
                   source: ConsentSource = ConsentSource.STAFF_EDIT) -> EditResult:
    """Apply the values, queue linked changes for Cliniko in the outbox (the caller commits)."""
    now = clock.now()
    changed = []
    for name in DETAIL_FIELDS:
        if name in values and getattr(contact, name) != values[name]:
            setattr(contact, name, values[name])
            changed.append(name)
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
