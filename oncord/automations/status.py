"""State changes of a send (compare-and-set, so two workers never both win) and feed entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from oncord.db import table_of
from oncord.models import ActivityEvent, ActivityKind, AutomationSend, SendState
from oncord.sync.bulk import insert_ignoring_duplicates

_SENT_KINDS = {"email": ActivityKind.EMAIL_SENT.value, "sms": ActivityKind.SMS_SENT.value}


def transition(
    session: Session, send_id: int, from_states: Sequence[str], now: datetime, **values: Any
) -> bool:
    """Move a send out of one of `from_states`; False when another worker got there first."""
    result = session.execute(
        update(AutomationSend)
        .where(AutomationSend.id == send_id, AutomationSend.state.in_(list(from_states)))
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def add_outcome_events(session: Session, automation: Any, rows: Iterable[Any], now: datetime) -> None:
    """Feed entries for sends that reached sent, skipped or failed; repeats are no-ops.

    `automation` needs .id and .name; each row needs id, state, contact_id, appointment_id,
    channel and reason, and may carry subject, body, error and to_address.
    """
    events = []
    for row in rows:
        if row.contact_id is None:
            continue
        details: dict[str, Any] = {
            "send_id": row.id,
            "automation_id": automation.id,
            "automation": automation.name,
            "channel": row.channel,
        }
        if row.state == SendState.SENT:
            kind = _SENT_KINDS[row.channel]
            details["to"] = getattr(row, "to_address", None)
            if row.channel == "email":
                details["subject"] = getattr(row, "subject", None)
            else:
                details["body"] = getattr(row, "body", None)
        elif row.state == SendState.SKIPPED:
            kind = ActivityKind.MESSAGE_SKIPPED.value
            details["reason"] = row.reason
        elif row.state == SendState.FAILED:
            kind = ActivityKind.MESSAGE_FAILED.value
            details["error"] = getattr(row, "error", None)
        else:
            continue
        events.append(
            {
                "contact_id": row.contact_id,
                "kind": kind,
                "occurred_at": now,
                "appointment_id": row.appointment_id,
                "dedupe_key": f"automation-send:{row.id}:{row.state}",
                "details": details,
                "created_at": now,
            }
        )
    insert_ignoring_duplicates(session, table_of(ActivityEvent), events)
