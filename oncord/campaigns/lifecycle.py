"""Saving a campaign and moving it through its states (draft, scheduled, sending, paused, ...).

Every change is a compare-and-set on the state, so a double click or two staff members never
start a campaign twice. Starting, scheduling and resuming each open a new "round" whose RQ job
id is deterministic (`send_job_id`): the view enqueues that job after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, update
from sqlalchemy.orm import Session

from oncord.campaigns.audience import Audience
from oncord.campaigns.sending import cancel_pending
from oncord.jobs.enqueue import send_job_id
from oncord.models import Campaign, CampaignState


@dataclass(frozen=True)
class CampaignData:
    """What the editor saves."""

    name: str
    channel: str
    audience: Audience
    email_subject: str = ""
    email_body: str = ""
    sms_body: str = ""


def create_campaign(session: Session, data: CampaignData, now: datetime, *, user_id: int | None) -> Campaign:
    """A new draft (the caller commits)."""
    campaign = Campaign(
        state=CampaignState.DRAFT.value, created_by_id=user_id, created_at=now, updated_at=now
    )
    apply(campaign, data, now)
    session.add(campaign)
    session.flush()
    return campaign


def not_started(now: datetime) -> ColumnElement[bool]:
    """A draft, or scheduled for a time still to come: the campaigns staff may change."""
    return or_(
        Campaign.state == CampaignState.DRAFT.value,
        and_(Campaign.state == CampaignState.SCHEDULED.value, Campaign.scheduled_at > now),
    )


def is_editable(campaign: Campaign, now: datetime) -> bool:
    """Whether staff may still change the campaign (a due "send now" is already starting)."""
    if campaign.state == CampaignState.DRAFT:
        return True
    return (
        campaign.state == CampaignState.SCHEDULED
        and campaign.scheduled_at is not None
        and campaign.scheduled_at > now
    )


def update_campaign(session: Session, campaign: Campaign, data: CampaignData, now: datetime) -> bool:
    """Save the editor's values unless the campaign started meanwhile (compare-and-set)."""
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, not_started(now))
        .values(
            name=data.name.strip(),
            audience=data.audience.to_json(),
            email_subject=data.email_subject,
            email_body=data.email_body,
            sms_body=data.sms_body,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(campaign)
    return moved == 1


def apply(campaign: Campaign, data: CampaignData, now: datetime) -> None:
    """Copy the editor's values onto the campaign."""
    campaign.name = data.name.strip()
    campaign.channel = data.channel
    campaign.audience = data.audience.to_json()
    campaign.email_subject = data.email_subject
    campaign.email_body = data.email_body
    campaign.sms_body = data.sms_body
    campaign.updated_at = now


def _move(
    session: Session,
    campaign: Campaign,
    from_states: tuple[CampaignState, ...],
    now: datetime,
    **values: object,
) -> bool:
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state.in_([s.value for s in from_states]))
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(campaign)
    return moved == 1


def schedule(session: Session, campaign: Campaign, when: datetime, now: datetime) -> bool:
    """Send at `when` (now or later): a draft, or a campaign scheduled for a time still to come,
    becomes scheduled in a new round. False when it is already due or under way."""
    send_round = campaign.send_round + 1
    at = when if when > now else None
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, not_started(now))
        .values(
            state=CampaignState.SCHEDULED.value,
            scheduled_at=max(when, now),
            send_round=send_round,
            job_id=send_job_id(campaign.id, send_round, at),
            error=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(campaign)
    return moved == 1


def unschedule(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Back to draft before it started (its scheduled job then finds nothing to do)."""
    moved = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign.id,
            Campaign.state == CampaignState.SCHEDULED.value,
            Campaign.scheduled_at > now,
        )
        .values(state=CampaignState.DRAFT.value, scheduled_at=None, job_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(campaign)
    return moved == 1


def pause(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Stop after the current batch; nothing sent is lost and nothing is sent twice on resume."""
    return _move(
        session, campaign, (CampaignState.SENDING,), now, state=CampaignState.PAUSED.value, paused_at=now
    )


def resume(session: Session, campaign: Campaign, now: datetime) -> bool:
    """paused -> sending, in a new round (the view enqueues its job)."""
    send_round = campaign.send_round + 1
    return _move(
        session,
        campaign,
        (CampaignState.PAUSED,),
        now,
        state=CampaignState.SENDING.value,
        paused_at=None,
        error=None,
        send_round=send_round,
        job_id=send_job_id(campaign.id, send_round),
    )


def cancel(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Stop for good: every message not yet claimed is marked cancelled at once (a running sender's
    claims for them then fail, and it stops at its next batch)."""
    moved = _move(
        session,
        campaign,
        (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED),
        now,
        state=CampaignState.CANCELLED.value,
        cancelled_at=now,
        finished_at=now,
        waiting_until=None,
    )
    if moved:
        cancel_pending(session, campaign.id, now)
    return moved


def delete_draft(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Delete a draft, or a scheduled campaign whose time has not come (compare-and-set, so one that
    started meanwhile is kept); its queued job then finds no campaign and does nothing."""
    deleted = session.execute(
        delete(Campaign)
        .where(Campaign.id == campaign.id, not_started(now))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if deleted == 1:
        session.expunge(campaign)
    return deleted == 1


ARCHIVABLE = (CampaignState.SENT, CampaignState.CANCELLED)


def archive(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Take a finished campaign off the list; its report and recipients are kept."""
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state.in_([s.value for s in ARCHIVABLE]),
               Campaign.archived_at.is_(None))
        .values(archived_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(campaign)
    return moved == 1


def duplicate(session: Session, campaign: Campaign, now: datetime, *, user_id: int | None) -> Campaign:
    """A new draft "Copy of …" with the same channel, audience and message (the caller commits)."""
    data = CampaignData(
        name=f"Copy of {campaign.name}"[:255],
        channel=campaign.channel,
        audience=Audience.from_json(campaign.audience),
        email_subject=campaign.email_subject,
        email_body=campaign.email_body,
        sms_body=campaign.sms_body,
    )
    return create_campaign(session, data, now, user_id=user_id)
