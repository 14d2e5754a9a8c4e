"""Factories for campaigns and small readers the campaign tests share."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.campaigns.audience import Audience
from oncord.clock import Clock
from oncord.messaging.testing import FakeTwilio, SmtpSink
from oncord.models import Campaign, CampaignRecipient

EMAIL_SUBJECT = "Hydrotherapy is back, {{ first_name }}"
EMAIL_BODY = "Hi {{ first_name }},\n\nOur pool reopens on Monday.\n\nBook online: {{ book_now_url }}"
SMS_BODY = "Hi {{ first_name }}, our pool reopens Monday. Book: {{ book_now_url }}"


def make_campaign(
    session: Session, clock: Clock, audience: Audience | None = None, **fields: Any
) -> Campaign:
    """A draft e-mail campaign to every contact unless told otherwise."""
    now = clock.now()
    values: dict[str, Any] = {
        "name": "Hydrotherapy launch",
        "channel": "email",
        "state": "draft",
        "audience": (audience or Audience()).to_json(),
        "email_subject": EMAIL_SUBJECT,
        "email_body": EMAIL_BODY,
        "sms_body": SMS_BODY,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    campaign = Campaign(**values)
    session.add(campaign)
    session.flush()
    return campaign


def recipients(session: Session, campaign_id: int) -> list[CampaignRecipient]:
    """The campaign's recipient rows, freshly read, in id order."""
    session.expire_all()
    return list(
        session.scalars(
            select(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign_id)
            .order_by(CampaignRecipient.id)
        )
    )


def fresh(session: Session, campaign_id: int) -> Campaign:
    """The campaign as the database has it now."""
    session.expire_all()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    return campaign


def states(session: Session, campaign_id: int) -> dict[int, str]:
    """contact id -> recipient state."""
    return {r.contact_id: r.state for r in recipients(session, campaign_id)}


class SlowSmtpSink(SmtpSink):
    """An SMTP server that takes a moment per message, so progress (or a kill) lands mid-campaign."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Wait, then keep the message."""
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class SlowTwilio(FakeTwilio):
    """The Twilio stand-in, taking a moment per message."""

    delay: float = 0.0

    def handle(self, *args: Any) -> tuple[int, dict[str, Any]]:
        """Wait, then answer as Twilio would."""
        time.sleep(self.delay)
        return super().handle(*args)
