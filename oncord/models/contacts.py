"""Contacts: the clinic's patients as the marketing side knows them, and their consent."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Index,
    String,
    Text,
    event,
    false,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from oncord.db import Base


class MarketingStatus(enum.StrEnum):
    """Consent to marketing on one channel."""

    SUBSCRIBED = "subscribed"
    PENDING = "pending"
    UNSUBSCRIBED = "unsubscribed"


class ConsentSource(enum.StrEnum):
    """Where a consent change came from, for the consent history."""

    CLINIKO_SYNC = "cliniko_sync"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    SMS_STOP = "sms_stop"
    STAFF_EDIT = "staff_edit"
    IMPORT = "import"


# The patient withdrew consent themselves: only new evidence of consent can undo these.
SELF_UNSUBSCRIBE_SOURCES = frozenset({ConsentSource.UNSUBSCRIBE_LINK.value, ConsentSource.SMS_STOP.value})


# The same expression as PostgreSQL prints it back, so Alembic sees the index as unchanged
# (migration 0002 creates it on PostgreSQL; tests check that searches use it).
SEARCH_DOCUMENT_SQL = (
    "lower((((((first_name || ' ') || last_name) || ' ') || coalesce(email, '')) || ' ') || "
    "coalesce(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), "
    "'(', ''), ')', ''), '+', ''), '.', ''), ''))"
)

_STATUSES = ", ".join(f"'{s.value}'" for s in MarketingStatus)


class Contact(Base):
    """A person the clinic can message; linked to a Cliniko patient when synced."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"email_marketing_status IN ({_STATUSES})", name="email_status"),
        CheckConstraint(f"sms_marketing_status IN ({_STATUSES})", name="sms_status"),
        Index("ix_contacts_name", "last_name", "first_name"),
        # Substring search as staff type; PostgreSQL only (pg_trgm), see search_document().
        Index(
            "ix_contacts_search_trgm",
            literal_column(SEARCH_DOCUMENT_SQL).label("search_document"),
            postgresql_using="gin",
            postgresql_ops={"search_document": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    # As typed, or as Cliniko sent it; the two below are derived from it (contacts.phones) and
    # are what the audience count, SMS sending and STOP replies use.
    phone: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_e164: Mapped[str | None] = mapped_column(String(16), index=True)
    phone_is_mobile: Mapped[bool] = mapped_column(default=False, server_default=false())
    address_1: Mapped[str | None] = mapped_column(String(255))
    address_2: Mapped[str | None] = mapped_column(String(255))
    address_3: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    post_code: Mapped[str | None] = mapped_column(String(32), index=True)
    country: Mapped[str | None] = mapped_column(String(255))
    country_code: Mapped[str | None] = mapped_column(String(2))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(255))
    gender_identity: Mapped[str | None] = mapped_column(String(255))
    email_marketing_status: Mapped[str] = mapped_column(
        String(16), default=MarketingStatus.PENDING.value, index=True
    )
    sms_marketing_status: Mapped[str] = mapped_column(
        String(16), default=MarketingStatus.PENDING.value, index=True
    )
    cliniko_patient_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Cliniko's own reminder setting, shown so a clinic can avoid double reminders.
    cliniko_reminder_type: Mapped[str | None] = mapped_column(String(32))
    cliniko_updated_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def full_name(self) -> str:
        """First and last name, or a placeholder for a nameless record."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"

    @property
    def is_archived(self) -> bool:
        """Whether Cliniko archived the patient."""
        return self.archived_at is not None


class ConsentChange(Base):
    """One row of the consent ledger: a contact's status on one channel before and after, when,
    from what source, by whom and on what evidence.

    Append-only: rows are written by `oncord.contacts.consent` and never changed or removed
    (the ORM refuses below; the database's triggers refuse too, migration 0009). No foreign key:
    the record of consent must outlive the contact it is about.
    """

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(8))
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    # Staff changes: who (the user's e-mail, kept as written then) and how the patient consented.
    actor_user_id: Mapped[int | None]
    actor: Mapped[str | None] = mapped_column(String(255))
    evidence: Mapped[str | None] = mapped_column(Text)


class LedgerIsAppendOnly(Exception):
    """Something tried to change or remove a consent ledger row."""


def _refuse_change(_mapper: Any, _connection: Any, _target: Any) -> None:
    raise LedgerIsAppendOnly("consent_changes rows are never updated or deleted")


event.listen(ConsentChange, "before_update", _refuse_change)
event.listen(ConsentChange, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    # update(ConsentChange) / delete(...) statements skip the mapper events above.
    if (state.is_update or state.is_delete) and getattr(state.statement, "table", None) is not None \
            and state.statement.table.name == ConsentChange.__tablename__:  # type: ignore[attr-defined]
        raise LedgerIsAppendOnly("consent_changes rows are never updated or deleted")


# Linking patients by e-mail and searching are case-insensitive.
Index("ix_contacts_email_lower", func.lower(Contact.email))
# One or two typed letters match the start of a first or last name (too short for trigrams).
Index("ix_contacts_first_name_prefix", func.lower(Contact.first_name).label("first_name_lower"),
      postgresql_ops={"first_name_lower": "text_pattern_ops"})
Index("ix_contacts_last_name_prefix", func.lower(Contact.last_name).label("last_name_lower"),
      postgresql_ops={"last_name_lower": "text_pattern_ops"})


_PHONE_PUNCTUATION = (" ", "-", "(", ")", "+", ".")


def _sql_string(value: str) -> Any:
    # Constants rather than bound parameters, so PostgreSQL matches the query to the index.
    return literal_column("'" + value.replace("'", "''") + "'", String)


def search_document() -> Any:
    """What the contacts search matches against: names, e-mail and phone digits, lower-case."""
    digits: Any = Contact.phone
    # Portable "digits only" for the phone formats Cliniko stores (SQLite has no regexp_replace).
    for character in _PHONE_PUNCTUATION:
        digits = func.replace(digits, _sql_string(character), _sql_string(""))
    space = _sql_string(" ")
    return func.lower(
        Contact.first_name
        + space
        + Contact.last_name
        + space
        + func.coalesce(Contact.email, _sql_string(""))
        + space
        + func.coalesce(digits, _sql_string(""))
    )
