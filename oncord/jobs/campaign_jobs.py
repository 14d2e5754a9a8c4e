"""RQ entry points for campaigns: send one (now, at its time, or carrying on), and resume at worker start.

Jobs take a campaign id and read everything else from the database. Each round of a campaign
(send now, schedule, resume) has a deterministic job id stored on the campaign, so the same round
enqueued twice is the same job; scheduled rounds use `enqueue_in` with that id (RQ 2.12 ignores
`unique=` for scheduled jobs, but a scheduled registry entry is keyed by the id). Exactly-once
sending does not rely on any of this: it lives in the recipient rows and the campaign's lock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask
from rq import get_current_job
from sqlalchemy import select

from oncord import context
from oncord.campaigns.sending import CampaignSender, give_up
from oncord.db import get_database
from oncord.jobs.enqueue import (
    enqueue_campaign,
    job_waiting,
    resume_job_id,
    round_job_id,
    schedule_campaign_wakeup,
)
from oncord.jobs.runtime import job_app, last_attempt
from oncord.messaging.errors import failure_text
from oncord.messaging.pipeline import Transports
from oncord.models import Campaign, CampaignState
from oncord.queue import get_queue, get_redis

log = logging.getLogger(__name__)


def send_campaign(campaign_id: int) -> dict[str, object]:
    """Start, carry on with or finish sending a campaign; a no-op when it is not due or not sending."""
    app = job_app()
    job = get_current_job()
    try:
        sender = campaign_sender(app, worker_id=job.id if job is not None else "direct")
        return sender.run(campaign_id).as_dict()
    except Exception as exc:
        # One message's problem never gets here (it fails that message); this is the whole run
        # failing. RQ retries it (JOB_RETRY); after the last try the campaign pauses with why.
        if last_attempt():
            give_up(get_database(app), context.clock(app), campaign_id, failure_text(exc))
        raise


def campaign_sender(app: Flask, *, worker_id: str) -> CampaignSender:
    """A CampaignSender wired to the app's database, clock, settings, Redis and transports."""
    settings = context.settings(app)
    database = get_database(app)
    clock = context.clock(app)
    queue = get_queue(app)

    def schedule(campaign_id: int, when: datetime, key: str) -> None:
        schedule_campaign_wakeup(queue, clock, campaign_id, when, key)

    transports = Transports.configured(settings, database, clock)
    return CampaignSender(
        database,
        clock,
        settings,
        get_redis(app),
        transports,
        schedule=schedule,
        worker_id=worker_id,
        batch_size=settings.campaign_batch_size,
        lock_seconds=settings.campaign_lock_seconds,
    )


def resume_campaigns(app: Flask) -> list[str]:
    """At worker start: every scheduled campaign has its job, and every campaign left sending
    (its worker killed, or Redis emptied) carries on. Duplicates are harmless (lock and row states)."""
    queue = get_queue(app)
    clock = context.clock(app)
    now = clock.now()
    ids = []
    with get_database(app).session() as session:
        campaigns = session.scalars(
            select(Campaign).where(
                Campaign.state.in_([CampaignState.SCHEDULED.value, CampaignState.SENDING.value])
            )
        ).all()
    for campaign in campaigns:
        if campaign.state == CampaignState.SCHEDULED:
            job_id = round_job_id(campaign)
            when = campaign.scheduled_at
        else:
            job_id = resume_job_id(campaign, now)
            when = campaign.waiting_until if campaign.waiting_until and campaign.waiting_until > now else None
        if job_waiting(queue, job_id):
            continue
        ids.append(enqueue_campaign(queue, clock, job_id, campaign.id, when))
    if ids:
        log.info("Campaign jobs queued at worker start: %s", ", ".join(ids))
    return ids
