"""Adding a contact by hand (not in Cliniko): its details, and its first consent in the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.consent import ConsentActor, start_consent
from oncord.contacts.editing import CHANNELS, DETAIL_FIELDS
from oncord.models import Contact, MarketingStatus


def add_contact(session: Session, values: dict[str, Any], *, clock: Clock, actor: ConsentActor,
                evidence: str | None = None) -> Contact:
    """A new unlinked contact with these details and statuses (caller commits).

    Raises ConsentRefused when a status needs evidence that is missing. A pull later links it to a
    Cliniko patient with the same e-mail, as it does any unlinked contact.
    """
    now = clock.now()
    contact = Contact(**{name: values.get(name) for name in DETAIL_FIELDS}, created_at=now, updated_at=now)
    contact.first_name = values.get("first_name") or ""
    contact.last_name = values.get("last_name") or ""
    statuses = {channel: values.get(attribute) or MarketingStatus.PENDING.value
                for channel, attribute in CHANNELS.items()}
    session.add(contact)
    session.flush()
    start_consent(session, contact, statuses, actor=actor, now=now, evidence=evidence)
    return contact
