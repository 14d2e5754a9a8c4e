"""The one owner of marketing consent: every change of a contact's e-mail or SMS status comes here.

`set_marketing_status` writes, in the caller's transaction, the ledger row (status before and
after, when, source, who, on what evidence), the activity-feed entry and, for a contact linked to
Cliniko, the outbox row the push takes to Cliniko. Staff editing, the unsubscribe link, an SMS STOP,
a contact added by hand and the pull (through `record_pulled_changes`, its bulk form) all use it.

The rules, in one place:
- The patient can always unsubscribe (link, STOP), and staff can do it on their behalf.
- A contact who unsubscribed themselves stays Unsubscribed until an admin records how the patient
  consented again (`evidence`); then only Subscribed may be chosen. Under the Spam Act the clinic
  must be able to show consent, and a click in a form is not evidence.
- A sync never changes Unsubscribed, and never takes back an SMS Subscribed that was given here:
  Cliniko's API cannot opt a patient in to SMS, so Cliniko's flag stays false after the push.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.db import one_of, table_of
from oncord.models import (
    SELF_UNSUBSCRIBE_SOURCES,
    ActivityEvent,
    ActivityKind,
    ConsentChange,
    ConsentSource,
    Contact,
    MarketingStatus,
    User,
)
from oncord.sync.outbox import record_changes
from oncord.sync.patient_fields import status_from_cliniko

CHANNELS = ("email", "sms")
EVIDENCE_MAX = 500


def status_attribute(channel: str) -> str:
    """The contact column holding the status of a channel."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{channel}_marketing_status"


@dataclass(frozen=True)
class ConsentActor:
    """Who or what changes a status: the source the ledger records, and for staff who they are."""

    source: ConsentSource
    user_id: int | None = None
    name: str | None = None
    is_admin: bool = False

    @classmethod
    def staff(cls, user: User) -> ConsentActor:
        """A logged-in staff member (the ledger keeps their e-mail as it is today)."""
        return cls(ConsentSource.STAFF_EDIT, user_id=user.id, name=user.email, is_admin=user.is_admin)

    @classmethod
    def importer(cls, name: str | None = None) -> ConsentActor:
        """A bulk import of contacts (name: what was imported, e.g. a file name)."""
        return cls(ConsentSource.IMPORT, name=name)


UNSUBSCRIBE_LINK = ConsentActor(ConsentSource.UNSUBSCRIBE_LINK)
SMS_STOP = ConsentActor(ConsentSource.SMS_STOP)
CLINIKO_SYNC = ConsentActor(ConsentSource.CLINIKO_SYNC)


class ConsentRefused(Exception):
    """A status change the consent rules do not allow, with the reason staff read."""

    def __init__(self, channel: str, user_message: str) -> None:
        super().__init__(user_message)
        self.channel = channel
        self.user_message = user_message


@dataclass(frozen=True)
class ConsentResult:
    """Whether the status changed, and whether Cliniko now needs a push."""

    changed: bool
    push_owed: bool = False


def latest_change(
    session: Session, contact_id: int, channel: str, *, to: str | None = None
) -> ConsentChange | None:
    """The newest ledger row of a contact on a channel (optionally: the newest that set `to`)."""
    query = select(ConsentChange).where(ConsentChange.contact_id == contact_id,
                                        ConsentChange.channel == channel)
    if to is not None:
        query = query.where(ConsentChange.new_status == to)
    return session.scalars(query.order_by(ConsentChange.id.desc()).limit(1)).first()


def self_unsubscribed(session: Session, contact: Contact, channel: str) -> ConsentChange | None:
    """The ledger row by which the patient unsubscribed themselves, when that is the current status.

    A contact Unsubscribed with no ledger row to say how counts as the patient's own doing: with
    no record of consent, only new evidence may re-subscribe them. The row is then a stand-in
    without an id.
    """
    if getattr(contact, status_attribute(channel)) != MarketingStatus.UNSUBSCRIBED:
        return None
    row = latest_change(session, contact.id, channel, to=MarketingStatus.UNSUBSCRIBED.value)
    if row is None:
        return ConsentChange(contact_id=contact.id, channel=channel, source="unknown",
                             new_status=MarketingStatus.UNSUBSCRIBED.value, occurred_at=contact.updated_at)
    return row if row.source in SELF_UNSUBSCRIBE_SOURCES else None


@dataclass(frozen=True)
class ChannelLock:
    """A channel the patient unsubscribed from themselves, for the edit form to explain."""

    locked: bool  # this person cannot choose another status (only an admin, with evidence, can)
    source: str
    since: datetime | None


def resubscribe_locks(session: Session, contact: Contact, actor: ConsentActor) -> dict[str, ChannelLock]:
    """Per channel the patient unsubscribed from themselves: whether this person may re-subscribe."""
    locks = {}
    for channel in CHANNELS:
        row = self_unsubscribed(session, contact, channel)
        if row is not None:
            locks[channel] = ChannelLock(locked=not actor.is_admin, source=row.source, since=row.occurred_at)
    return locks


def ledger(session: Session, contact_id: int) -> list[ConsentChange]:
    """A contact's whole consent ledger, newest first."""
    return list(session.scalars(
        select(ConsentChange).where(ConsentChange.contact_id == contact_id)
        .order_by(ConsentChange.occurred_at.desc(), ConsentChange.id.desc())
    ))


def refusal(session: Session, contact: Contact, channel: str, new: str, actor: ConsentActor,
            evidence: str | None) -> str | None:
    """Why this change is not allowed, in words for staff; None when it is."""
    if new not in set(MarketingStatus):
        return "Choose Subscribed, Pending or Unsubscribed."
    if new == MarketingStatus.UNSUBSCRIBED or actor.source != ConsentSource.STAFF_EDIT:
        return None
    if self_unsubscribed(session, contact, channel) is None:
        return None
    if not actor.is_admin:
        return ("The patient unsubscribed themselves, so only an admin can subscribe them again, "
                "recording how the patient gave consent. Ask your clinic's Oncord admin.")
    if new != MarketingStatus.SUBSCRIBED:
        return ("The patient unsubscribed themselves: it stays Unsubscribed unless they consent again "
                "(then choose Subscribed).")
    if not (evidence or "").strip():
        return ("The patient unsubscribed themselves. To subscribe them again, record how they gave "
                "consent, e.g. \"signed form at front desk, 3 Dec\".")
    return None


def check_marketing_status(session: Session, contact: Contact, channel: str, new: str, *, actor: ConsentActor,
                           evidence: str | None = None) -> None:
    """Raise ConsentRefused when set_marketing_status would refuse this change; change nothing."""
    if new == getattr(contact, status_attribute(channel)):
        return
    reason = refusal(session, contact, channel, new, actor, evidence)
    if reason is not None:
        raise ConsentRefused(channel, reason)


def set_marketing_status(session: Session, contact: Contact, channel: str, new: str, *, actor: ConsentActor,
                         now: datetime, evidence: str | None = None) -> ConsentResult:
    """Change one channel's status under the consent rules: ledger, feed and outbox (caller commits).

    Raises ConsentRefused when the rules forbid it; returns changed=False when it already was so
    (nothing is recorded twice). A sync never changes Unsubscribed.
    """
    attribute = status_attribute(channel)
    old = getattr(contact, attribute)
    if new == old or (actor.source == ConsentSource.CLINIKO_SYNC and old == MarketingStatus.UNSUBSCRIBED):
        return ConsentResult(changed=False)
    evidence = (evidence or "").strip()[:EVIDENCE_MAX] or None
    check_marketing_status(session, contact, channel, new, actor=actor, evidence=evidence)
    setattr(contact, attribute, new)
    contact.updated_at = now
    _record(session, contact.id, channel, old, new, actor=actor, now=now, evidence=evidence)
    return ConsentResult(changed=True, push_owed=record_changes(session, contact, [attribute], now))


def start_consent(session: Session, contact: Contact, statuses: dict[str, str], *, actor: ConsentActor,
                  now: datetime, evidence: str | None = None) -> None:
    """The first status per channel of a contact added here (by hand, or an import), into the ledger.

    Subscribed needs evidence from staff: the contact has no Cliniko record saying they consented.
    Raises ConsentRefused before changing anything. The contact must have been flushed.
    """
    evidence = (evidence or "").strip()[:EVIDENCE_MAX] or None
    for channel, status in statuses.items():
        status_attribute(channel)
        if status not in set(MarketingStatus):
            raise ConsentRefused(channel, "Choose Subscribed, Pending or Unsubscribed.")
        staff = actor.source == ConsentSource.STAFF_EDIT
        if status == MarketingStatus.SUBSCRIBED and staff and evidence is None:
            raise ConsentRefused(channel, "To add a contact as Subscribed, record how they gave consent, "
                                          "e.g. \"verbal consent at reception, 3 Dec\".")
    for channel, status in statuses.items():
        setattr(contact, status_attribute(channel), status)
        _record(session, contact.id, channel, None, status, actor=actor, now=now, evidence=evidence)


def _record(session: Session, contact_id: int, channel: str, old: str | None, new: str, *,
            actor: ConsentActor, now: datetime, evidence: str | None) -> None:
    session.add(ConsentChange(contact_id=contact_id, channel=channel, old_status=old, new_status=new,
                              source=actor.source.value, occurred_at=now, actor_user_id=actor.user_id,
                              actor=actor.name, evidence=evidence))
    session.add(ActivityEvent(contact_id=contact_id, kind=ActivityKind.CONSENT_CHANGED.value, occurred_at=now,
                              created_at=now, details=_feed_details(channel, old, new, actor.source.value,
                                                                    actor.name)))


def _feed_details(channel: str, old: str | None, new: str, source: str, actor: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"channel": channel, "old": old, "new": new, "source": source}
    if actor:
        details["actor"] = actor
    return details


# --- The pull: many contacts a page, so the same records in bulk -------------------------------


def pulled_status(current: str | None, accepted: bool | None, *, held_locally: bool = False) -> str:
    """The status after a pull: Unsubscribed stays, an SMS Subscribed given here stays, otherwise
    Cliniko's flag decides (true: Subscribed, anything else: Pending)."""
    if current == MarketingStatus.UNSUBSCRIBED:
        return current
    if held_locally and current == MarketingStatus.SUBSCRIBED:
        return current
    return status_from_cliniko(accepted).value


def sms_held_locally(session: Session, contact_ids: Iterable[int]) -> set[int]:
    """Of these contacts, those whose SMS Subscribed was given here (not by a sync).

    Cliniko's API cannot opt a patient in to SMS, so Cliniko keeps saying "not accepted" after
    the push; without this the next pull would take the consent back.
    """
    ids = list(contact_ids)
    if not ids:
        return set()
    newest = (
        select(func.max(ConsentChange.id))
        .where(one_of(session, ConsentChange.contact_id, ids), ConsentChange.channel == "sms")
        .group_by(ConsentChange.contact_id)
    )
    return set(session.scalars(
        select(ConsentChange.contact_id).where(
            ConsentChange.id.in_(newest),
            ConsentChange.new_status == MarketingStatus.SUBSCRIBED.value,
            ConsentChange.source != ConsentSource.CLINIKO_SYNC.value,
        )
    ))


@dataclass(frozen=True)
class PulledChange:
    """A status the pull changed (old is None for a contact the pull created)."""

    contact_id: int
    channel: str
    old: str | None
    new: str


def record_pulled_changes(session: Session, changes: Sequence[PulledChange], now: datetime) -> None:
    """Ledger rows for the pull's changes, and feed entries for contacts that already existed.

    Nothing goes to the outbox: the change came from Cliniko. A new contact's first status is in
    the ledger but not the feed (a first sync would otherwise add two feed rows per patient).
    """
    if not changes:
        return
    source = ConsentSource.CLINIKO_SYNC.value
    session.execute(table_of(ConsentChange).insert(), [
        {"contact_id": c.contact_id, "channel": c.channel, "old_status": c.old, "new_status": c.new,
         "source": source, "occurred_at": now}
        for c in changes
    ])
    events = [
        {"contact_id": c.contact_id, "kind": ActivityKind.CONSENT_CHANGED.value, "occurred_at": now,
         "created_at": now, "details": _feed_details(c.channel, c.old, c.new, source, None)}
        for c in changes if c.old is not None
    ]
    if events:
        session.execute(table_of(ActivityEvent).insert(), events)
