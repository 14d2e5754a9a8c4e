"""What staff read about campaigns: the list, the progress bar and the report (grouped queries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.models import (
    AppointmentType,
    Business,
    Campaign,
    CampaignRecipient,
    Contact,
    Practitioner,
    RecipientState,
)

FINISHED = (RecipientState.SENT, RecipientState.FAILED, RecipientState.SKIPPED, RecipientState.CANCELLED)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Progress:
    """Recipient counts of one campaign by state, and how many unsubscribed from it."""

    by_state: dict[str, int] = field(default_factory=dict)
    unsubscribed: int = 0

    @property
    def total(self) -> int:
        """Everyone the campaign was taken for."""
        return sum(self.by_state.values())

    def count(self, state: RecipientState | str) -> int:
        """Recipients in one state."""
        return self.by_state.get(str(state), 0)

    @property
    def done(self) -> int:
        """Recipients whose message was sent, failed, skipped or cancelled."""
        return sum(self.count(s) for s in FINISHED)

    @property
    def percent(self) -> int:
        """Share done, 0-100 (100 for a campaign with nobody in it)."""
        return 100 if self.total == 0 else int(100 * self.done / self.total)


def progress_of(session: Session, campaign_ids: Sequence[int]) -> dict[int, Progress]:
    """Progress of several campaigns in two grouped queries (the list page and the widget)."""
    if not campaign_ids:
        return {}
    counts: dict[int, dict[str, int]] = {i: {} for i in campaign_ids}
    rows = session.execute(
        select(CampaignRecipient.campaign_id, CampaignRecipient.state, func.count())
        .where(CampaignRecipient.campaign_id.in_(campaign_ids))
        .group_by(CampaignRecipient.campaign_id, CampaignRecipient.state)
    )
    for campaign_id, state, n in rows:
        counts[campaign_id][state] = n
    unsubscribed = dict(
        session.execute(
            select(CampaignRecipient.campaign_id, func.count())
            .where(
                CampaignRecipient.campaign_id.in_(campaign_ids),
                CampaignRecipient.unsubscribed_at.is_not(None),
            )
            .group_by(CampaignRecipient.campaign_id)
        ).all()
    )
    return {i: Progress(counts[i], unsubscribed.get(i, 0)) for i in campaign_ids}


def progress(session: Session, campaign_id: int) -> Progress:
    """One campaign's progress."""
    return progress_of(session, [campaign_id])[campaign_id]


def list_campaigns(session: Session, *, archived: bool = False) -> list[Campaign]:
    """Every campaign not archived (or only the archived ones), newest first."""
    where = Campaign.archived_at.is_not(None) if archived else Campaign.archived_at.is_(None)
    return list(session.scalars(
        select(Campaign).where(where).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def archived_count(session: Session) -> int:
    """How many campaigns are archived."""
    query = select(func.count()).select_from(Campaign).where(Campaign.archived_at.is_not(None))
    return session.scalar(query) or 0


@dataclass(frozen=True)
class ReasonCount:
    """How many recipients were skipped or failed for one reason, with one provider message."""

    state: str
    reason: str | None
    count: int
    example: str | None


def reasons(session: Session, campaign_id: int) -> list[ReasonCount]:
    """Skipped and failed recipients grouped by reason, most common first."""
    rows = session.execute(
        select(
            CampaignRecipient.state, CampaignRecipient.reason, func.count(), func.max(CampaignRecipient.error)
        )
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state.in_([RecipientState.FAILED.value, RecipientState.SKIPPED.value]),
        )
        .group_by(CampaignRecipient.state, CampaignRecipient.reason)
        .order_by(func.count().desc())
    ).all()
    return [ReasonCount(state, reason, n, example) for state, reason, n, example in rows]


@dataclass(frozen=True)
class RecipientRow:
    """One line of the report's recipient list."""

    id: int
    contact_id: int
    name: str
    state: str
    to_address: str | None
    reason: str | None
    error: str | None
    sent_at: datetime | None
    unsubscribed_at: datetime | None


@dataclass(frozen=True)
class RecipientPage:
    """A page of recipients and where the next one starts."""

    rows: list[RecipientRow]
    next_cursor: int | None


def recipients_page(
    session: Session,
    campaign_id: int,
    *,
    state: str | None = None,
    unsubscribed: bool = False,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> RecipientPage:
    """Recipients in id order (keyset paging), optionally of one state or only those who unsubscribed."""
    query = (
        select(CampaignRecipient, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == CampaignRecipient.contact_id)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .order_by(CampaignRecipient.id)
        .limit(limit + 1)
    )
    if state:
        query = query.where(CampaignRecipient.state == state)
    if unsubscribed:
        query = query.where(CampaignRecipient.unsubscribed_at.is_not(None))
    if after:
        query = query.where(CampaignRecipient.id > after)
    found = session.execute(query).all()
    rows = [
        RecipientRow(
            r.id,
            r.contact_id,
            " ".join(p for p in (first, last) if p) or "(no name)",
            r.state,
            r.to_address,
            r.reason,
            r.error,
            r.sent_at,
            r.unsubscribed_at,
        )
        for r, first, last in found[:limit]
    ]
    return RecipientPage(rows, rows[-1].id if len(found) > limit else None)


def reference_choices(
    session: Session,
) -> tuple[list[tuple[int, str]], list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, label) of appointment types, practitioners and locations for the editor's lists."""
    types = [
        (t.id, t.name + (" (archived)" if t.archived_at else ""))
        for t in session.scalars(select(AppointmentType).order_by(AppointmentType.name))
    ]
    practitioners = [
        (p.id, p.display_name + ("" if p.active else " (inactive)"))
        for p in session.scalars(select(Practitioner).order_by(Practitioner.display_name))
    ]
    businesses = [(b.id, b.name) for b in session.scalars(select(Business).order_by(Business.name))]
    return types, practitioners, businesses


def reference_names(session: Session) -> dict[str, dict[int, str]]:
    """Names of appointment types, practitioners and businesses by id (to describe an audience)."""
    return {
        "types": dict(session.execute(select(AppointmentType.id, AppointmentType.name)).all()),
        "practitioners": dict(session.execute(select(Practitioner.id, Practitioner.display_name)).all()),
        "businesses": dict(session.execute(select(Business.id, Business.name)).all()),
    }


def feed_sentence(kind: str, details: dict[str, object]) -> str:
    """A campaign's feed entry, e.g. "Campaign e-mail sent (Spring recall): Hello Ada"."""
    channel = "e-mail" if details.get("channel") == "email" else "SMS"
    name = details.get("campaign") or "campaign"
    if kind == "message_failed":
        return f"Campaign {channel} failed ({name}): {details.get('error') or 'the provider gave no reason'}"
    what = details.get("subject") if details.get("channel") == "email" else details.get("body")
    return f"Campaign {channel} sent ({name})" + (f": {what}" if what else "")
