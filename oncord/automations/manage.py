"""Deleting and duplicating automations.

A deleted automation keeps its row: its sends are the send log and carry the once-only key
(automation, appointment, trigger, channel), so removing them would lose the history staff look
at and let a restored copy send again. It is switched off and hidden instead; a send still
waiting is then skipped as "the automation was turned off".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.models import Automation


def delete_automation(automation: Automation, now: datetime) -> None:
    """Switch it off for good and hide it; its send log stays (the caller commits)."""
    automation.enabled = False
    automation.deleted_at = now
    automation.updated_at = now


def duplicate_automation(session: Session, automation: Automation, now: datetime) -> Automation:
    """A copy named "Copy of …", switched off, with the same trigger, filters and messages."""
    copy = Automation(
        name=f"Copy of {automation.name}"[:255],
        enabled=False,
        trigger=automation.trigger,
        offset_minutes=automation.offset_minutes,
        require_arrived=automation.require_arrived,
        send_when_booked_late=automation.send_when_booked_late,
        is_service=automation.is_service,
        online_only=automation.online_only,
        recall_months=automation.recall_months,
        send_email=automation.send_email,
        email_subject=automation.email_subject,
        email_body=automation.email_body,
        send_sms=automation.send_sms,
        sms_body=automation.sms_body,
        appointment_types=list(automation.appointment_types),
        practitioners=list(automation.practitioners),
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    session.flush()
    return copy


def deleted_automations(session: Session) -> list[Automation]:
    """Deleted automations, most recently deleted first (their send logs stay readable)."""
    return list(session.scalars(
        select(Automation).where(Automation.deleted_at.is_not(None)).order_by(Automation.deleted_at.desc())
    ))
