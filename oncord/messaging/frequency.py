"""The frequency cap: at most N marketing messages per contact (e-mail and SMS together) per
rolling window of D days; an admin setting, off by default. Service reminders never count.

Enforced in the database so two workers cannot exceed it: each contact has N slots (rows unique
on contact and slot number). A marketing message takes one, in the transaction that claims it
and before the provider is called, by inserting a slot never used (the unique key lets one
insert win) or by a compare-and-set on a slot whose message was claimed before the window began
or was never sent. No free slot: the message is skipped with the reason "frequency cap".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.db import table_of
from oncord.models import FrequencySlot


@dataclass(frozen=True)
class FrequencyCap:
    """At most `messages` marketing messages per contact in any `window`."""

    messages: int
    window: timedelta

    @classmethod
    def of(cls, messages: int | None, days: int | None) -> FrequencyCap | None:
        """The stored setting as a cap (None: no cap)."""
        if not messages or not days:
            return None
        return cls(messages, timedelta(days=days))

    @property
    def label(self) -> str:
        """"at most 3 marketing messages per contact per 7 days"."""
        days = self.window.days
        unit = "day" if days == 1 else "days"
        return f"at most {self.messages} marketing messages per contact per {days} {unit}"


def _insert_for(session: Session, table: Table) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def take_slot(session: Session, cap: FrequencyCap, contact_id: int, reference: str, now: datetime) -> bool:
    """Take one of the contact's slots for this message (the caller commits); False when all are in use."""
    table = table_of(FrequencySlot)
    free_before = now - cap.window
    used = {
        row.slot: row.taken_at
        for row in session.execute(
            select(table.c.slot, table.c.taken_at).where(table.c.contact_id == contact_id,
                                                         table.c.slot < cap.messages)
        )
    }
    for slot in range(cap.messages):
        if slot not in used:
            # The unique key lets one insert win; a worker that lost tries the next slot.
            won = session.execute(
                _insert_for(session, table)
                .values(contact_id=contact_id, slot=slot, taken_at=now, reference=reference)
                .on_conflict_do_nothing()
                .returning(table.c.id)
            ).first()
            if won is not None:
                return True
            continue
        moved = session.execute(
            update(table)
            .where(table.c.contact_id == contact_id, table.c.slot == slot,
                   or_(table.c.taken_at.is_(None), table.c.taken_at <= free_before))
            .values(taken_at=now, reference=reference)
        ).rowcount  # type: ignore[attr-defined]
        if moved == 1:
            return True
    return False


def release_slot(session: Session, reference: str) -> None:
    """Free the slot a message held when it was not sent after all (failed); the caller commits."""
    table = table_of(FrequencySlot)
    session.execute(update(table).where(table.c.reference == reference).values(taken_at=None, reference=None))


def capped_count(session: Session, cap: FrequencyCap, contact_ids: Select[Any], now: datetime) -> int:
    """How many of these contacts have every slot in use now (a marketing message would be skipped)."""
    table = table_of(FrequencySlot)
    in_use = (
        select(table.c.contact_id)
        .where(table.c.contact_id.in_(contact_ids.scalar_subquery()), table.c.slot < cap.messages,
               table.c.taken_at > now - cap.window)
        .group_by(table.c.contact_id)
        .having(func.count() >= cap.messages)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(in_use)) or 0
