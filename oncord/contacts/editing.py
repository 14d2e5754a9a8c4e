"""Staff edits to a contact; marketing statuses go through the consent owner (`contacts.consent`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.consent import ConsentActor, check_marketing_status, set_marketing_status
from oncord.models import Contact
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
                   actor: ConsentActor, evidence: str | None = None) -> EditResult:
    """Apply the values, queue linked changes for Cliniko in the outbox (the caller commits).

    Raises ConsentRefused, before anything is changed, when a marketing status may not be set so.
    """
    now = clock.now()
    statuses = {channel: values[attribute] for channel, attribute in CHANNELS.items()
                if values.get(attribute) is not None}
    for channel, new in statuses.items():
        check_marketing_status(session, contact, channel, new, actor=actor, evidence=evidence)
    changed = []
    for name in DETAIL_FIELDS:
        if name in values and getattr(contact, name) != values[name]:
            setattr(contact, name, values[name])
            changed.append(name)
    push_owed = record_changes(session, contact, changed, now)
    for channel, new in statuses.items():
        result = set_marketing_status(session, contact, channel, new, actor=actor, now=now, evidence=evidence)
        if result.changed:
            changed.append(CHANNELS[channel])
            push_owed = push_owed or result.push_owed
    if changed:
        contact.updated_at = now
    # A linked contact's edit goes to Cliniko, and a pull leaves the edited fields alone meanwhile.
    return EditResult(changed=changed, push_owed=push_owed)
