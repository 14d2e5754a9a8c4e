"""The whole consent ledger as CSV, oldest first, for the clinic to show consent when asked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.models import ConsentChange, Contact

LEDGER_COLUMNS = (
    "id", "occurred_at", "contact_id", "first_name", "last_name", "email", "channel", "old_status",
    "new_status", "source", "actor", "evidence",
)
BATCH = 1000


def iter_ledger(session: Session) -> Iterator[dict[str, Any]]:
    """Every ledger row with the contact's name and e-mail when the contact still exists (streamed)."""
    rows = session.execute(
        select(ConsentChange, Contact.first_name, Contact.last_name, Contact.email)
        .outerjoin(Contact, Contact.id == ConsentChange.contact_id)
        .order_by(ConsentChange.id)
        .execution_options(yield_per=BATCH)
    )
    for change, first_name, last_name, email in rows:
        yield {
            "id": change.id, "occurred_at": change.occurred_at.isoformat(), "contact_id": change.contact_id,
            "first_name": first_name, "last_name": last_name, "email": email, "channel": change.channel,
            "old_status": change.old_status, "new_status": change.new_status, "source": change.source,
            "actor": change.actor, "evidence": change.evidence,
        }
