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
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from oncord import context
from oncord.campaigns.lifecycle import send_job_id
from oncord.campaigns.sending import CampaignSender, give_up
from oncord.clock import Clock
from oncord.db import get_database
from oncord.jobs.runtime import job_app, last_attempt
from oncord.messaging.errors import failure_text
from oncord.messaging.pipeline import JOB_RETRY, Transports
from oncord.models import Campaign, CampaignState
from oncord.queue import get_queue, get_redis

log = logging.getLogger(__name__)

SEND_JOB = "oncord.jobs.campaign_jobs.send_campaign"
# A big campaign is sent by one job from start to end (it gives way only to wait or pause).
JOB_TIMEOUT = 12 * 3600
_WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _enqueue(queue: Queue, clock: Clock, job_id: str, campaign_id: int, when: datetime | None) -> str:
    options = {
        "job_id": job_id,
        "job_timeout": JOB_TIMEOUT,
        "result_ttl": 24 * 3600,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"Campaign {campaign_id} ({job_id})",
        "retry": JOB_RETRY.rq_retry(),
    }
    delay = when - clock.now() if when is not None else None
    if delay is not None and delay.total_seconds() > 0:
        # enqueue_in, not enqueue_at: the delay comes from the app's clock, which tests move.
        queue.enqueue_in(delay, SEND_JOB, campaign_id, **options)
    else:
        queue.enqueue(SEND_JOB, campaign_id, **options)
    return job_id


def _waiting(queue: Queue, job_id: str) -> bool:
    try:
        return Job.fetch(job_id, connection=queue.connection).get_status() in _WAITING
    except NoSuchJobError:
        return False


def enqueue_round(queue: Queue, clock: Clock, campaign: Campaign) -> str:
    """Queue the campaign's current round (call after the commit): now, or at its scheduled time."""
    job_id = campaign.job_id or send_job_id(campaign.id, campaign.send_round)
    when = campaign.scheduled_at if campaign.state == CampaignState.SCHEDULED else None
    return _enqueue(queue, clock, job_id, campaign.id, when)


def drop_job(queue: Queue, job_id: str | None) -> None:
    """Forget a round's job that has not run yet (a campaign unscheduled or moved to another time)."""
    if not job_id:
        return
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return
    if job.get_status() in _WAITING:
        queue.scheduled_job_registry.remove(job)
        job.delete()


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
        # A wake-up for later (quiet hours, retries, woken early, lock busy); the sender's key
        # names it, so asking twice for the same one makes one job.
        job_id = f"campaign-{campaign_id}-{key}"
        if not _waiting(queue, job_id):
            _enqueue(queue, clock, job_id, campaign_id, when)

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
            job_id = campaign.job_id or send_job_id(campaign.id, campaign.send_round)
            when = campaign.scheduled_at
        else:
            job_id = f"campaign-{campaign.id}-r{campaign.send_round}-resume-{now:%Y%m%dT%H%M}"
            when = campaign.waiting_until if campaign.waiting_until and campaign.waiting_until > now else None
        if _waiting(queue, job_id):
            continue
        ids.append(_enqueue(queue, clock, job_id, campaign.id, when))
    if ids:
        log.info("Campaign jobs queued at worker start: %s", ", ".join(ids))
    return ids
