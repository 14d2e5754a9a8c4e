"""Factories for campaigns and small readers the campaign tests share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.campaigns.audience import Audience
from oncord.clock import Clock
from oncord.messaging.testing import FakeTwilio, SmtpSink
from oncord.models import Campaign, CampaignRecipient
from oncord.sandbox.holds import HoldBoard

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


class HoldingSmtpSink(SmtpSink):
    """An SMTP sink whose `holds` keep chosen messages waiting until the test releases them.

    A hold (see oncord.sandbox.holds) makes "the worker is mid-campaign" certain rather than likely.
    """

    def __init__(self) -> None:
        super().__init__()
        self.holds = HoldBoard()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Wait while held (off the event loop, so the sink still serves), then keep the message."""
        await asyncio.get_running_loop().run_in_executor(None, self.holds.pass_through, "DATA", "/")
        return await super().handle_DATA(server, session, envelope)

    def stop(self) -> None:
        """Release every held message, then stop."""
        self.holds.release_all()
        super().stop()


@dataclass
class HoldingTwilio(FakeTwilio):
    """The Twilio stand-in, with `holds` that keep chosen messages waiting until released."""

    holds: HoldBoard = field(default_factory=HoldBoard)

    def handle(self, method: str, path: str, *args: Any) -> tuple[int, dict[str, Any]]:
        """Wait while held, then answer as Twilio would."""
        self.holds.pass_through(method, path)
        return super().handle(method, path, *args)

    def stop(self) -> None:
        """Release every held message, then stop."""
        self.holds.release_all()
        super().stop()
