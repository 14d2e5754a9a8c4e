"""Factories for automations and the messages tests read back."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.models import Automation, AutomationSend

REMINDER_SUBJECT = "Reminder: {{ appointment_type }} on {{ appointment_date }}"
REMINDER_BODY = (
    "Hi {{ first_name }},\n\nSee you {{ appointment_start }} with {{ practitioner }} at {{ business }}.\n\n"
    "Need to change it? {{ book_now_url }}"
)
REMINDER_SMS = "Hi {{ first_name }}, reminder: {{ appointment_start }} with {{ practitioner }}."


def make_automation(session: Session, clock: Clock, **fields: Any) -> Automation:
    """An enabled automation switched on now; an e-mail and SMS 24-hour reminder unless told otherwise."""
    now = clock.now()
    values: dict[str, Any] = {
        "name": "Appointment reminder",
        "enabled": True,
        "trigger": "upcoming",
        "offset_minutes": 24 * 60,
        "is_service": True,
        "send_email": True,
        "email_subject": REMINDER_SUBJECT,
        "email_body": REMINDER_BODY,
        "send_sms": True,
        "sms_body": REMINDER_SMS,
        "activated_at": now,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    automation = Automation(**values)
    session.add(automation)
    session.flush()
    return automation


def sends(session: Session, **where: Any) -> list[AutomationSend]:
    """Send rows matching column values, oldest first (reads fresh from the database)."""
    session.expire_all()
    query = select(AutomationSend).order_by(AutomationSend.id)
    for name, value in where.items():
        query = query.where(getattr(AutomationSend, name) == value)
    return list(session.scalars(query))


def count_sends(session: Session, **where: Any) -> int:
    """How many send rows match."""
    query = select(func.count()).select_from(AutomationSend)
    for name, value in where.items():
        query = query.where(getattr(AutomationSend, name) == value)
    return session.scalar(query) or 0


def book_now_button(message, label: str = "Book a new time") -> str:
    """The e-mail's one button with this label (its href); the text part says it as "label: link"."""
    (href,) = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>\s*' + re.escape(label) + r"\s*</a>", message.html())
    assert href.startswith("http") and "[button" not in message.html()
    assert f"{label}: {href}" in message.text() and "[button" not in message.text()
    return href
