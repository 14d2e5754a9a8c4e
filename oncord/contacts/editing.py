"""Staff edits to a contact; marketing statuses go through the consent owner (`contacts.consent`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.consent import ConsentActor, check_marketing_status, set_marketing_status
from oncord.contacts.phones import phone_region
from oncord.models import Contact
from oncord.sync.outbox import record_changes
from oncord.sync.patient_fields import BY_COLUMN, EDITED_HERE, derived_values, is_unchanged, normalise

CHANNELS = {"email": "email_marketing_status", "sms": "sms_marketing_status"}


@dataclass(frozen=True)
class EditResult:
    """What an edit changed, and whether Cliniko now needs a push."""

    changed: list[str]
    push_owed: bool


def update_contact(session: Session, contact: Contact, values: dict[str, Any], *, clock: Clock,
                   actor: ConsentActor, evidence: str | None = None,
                   default_region: str = "AU") -> EditResult:
    """Apply the values, queue linked changes for Cliniko in the outbox (the caller commits).

    Only a field whose value the person changed counts: both sides are compared after the
    normalisation that is stored, and a phone only when its E.164 form differs, so a save that
    retypes nothing (or types the same number differently) leaves the stored text alone.
    Raises ConsentRefused, before anything is changed, when a marketing status may not be set so.
    """
    now = clock.now()
    statuses = {channel: values[attribute] for channel, attribute in CHANNELS.items()
                if values.get(attribute) is not None}
    for channel, new in statuses.items():
        check_marketing_status(session, contact, channel, new, actor=actor, evidence=evidence)
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
