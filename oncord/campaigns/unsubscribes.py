"""Which campaign message a contact unsubscribed from, for the campaign's report."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.models import Campaign, CampaignRecipient, RecipientState

# An SMS STOP (or an SMS opt-out link, which names no campaign to stay short) counts against the
# latest campaign SMS the contact got within this long.
ATTRIBUTION_WINDOW = timedelta(days=30)


def note_unsubscribe(
    session: Session, contact_id: int, channel: str, now: datetime, *, campaign_id: int | None = None
) -> int | None:
    """Stamp the campaign message the contact unsubscribed from; return its recipient id, or None.

    With a campaign id (an e-mail's link names it) that campaign's message; otherwise the latest
    campaign message sent to the contact on the channel in the last 30 days. Caller commits.
    """
    query = (
        select(CampaignRecipient)
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(
            CampaignRecipient.contact_id == contact_id,
            Campaign.channel == channel,
            CampaignRecipient.state == RecipientState.SENT.value,
            CampaignRecipient.unsubscribed_at.is_(None),
        )
    )
    if campaign_id is not None:
        query = query.where(CampaignRecipient.campaign_id == campaign_id)
    else:
        query = query.where(CampaignRecipient.sent_at >= now - ATTRIBUTION_WINDOW).order_by(
            CampaignRecipient.sent_at.desc(), CampaignRecipient.id.desc()
        )
    recipient = session.scalars(query.limit(1)).first()
    if recipient is None:
        return None
    recipient.unsubscribed_at = now
    recipient.updated_at = now
    return recipient.id
