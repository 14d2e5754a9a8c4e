"""Every RQ job name, job id and enqueue call: the one module the areas call to queue work.

Job names are dotted paths that jobs already waiting in Redis hold, so they never change.
Job ids are chosen on purpose (STYLE conventions 9-11): a pull's id is its run's, scheduled
work has one id per slot or minute, a campaign round has one id stored on the campaign. RQ
2.x ignores `unique=` for scheduled jobs, but a scheduled registry entry is keyed by its id,
so scheduling the same id twice (a worker restart, two workers starting) leaves one job.
Delays use `enqueue_in` with the app's clock rather than `enqueue_at`, so tests can move time.
Exactly-once never relies on any of this: it lives in the database. Callers enqueue after
they commit, so a worker always finds the rows a job names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import uuid4

from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from oncord.clock import Clock
from oncord.config import Settings
from oncord.messaging.pipeline import JOB_RETRY
from oncord.models import Campaign, CampaignState
from oncord.sync.schedule import next_full_slot, next_poll_slot

PULL_JOB = "oncord.jobs.sync_jobs.pull"
SCHEDULED_PULL_JOB = "oncord.jobs.sync_jobs.scheduled_pull"
PUSH_JOB = "oncord.jobs.sync_jobs.push"
DISPATCH_JOB = "oncord.jobs.automation_jobs.dispatch"
DAILY_TRIGGERS_JOB = "oncord.jobs.automation_jobs.daily_triggers"
AUTOMATION_SEND_JOB = "oncord.jobs.automation_jobs.send_batch"
CAMPAIGN_SEND_JOB = "oncord.jobs.campaign_jobs.send_campaign"

# Transient Cliniko failures (outage, 429 storms) retry the push with growing waits.
PUSH_RETRY = Retry(max=6, interval=[30, 60, 120, 300, 600, 1200])
DISPATCH_PREFIX = "automations-dispatch-"
# A big campaign is sent by one job from start to end (it gives way only to wait or pause).
CAMPAIGN_JOB_TIMEOUT = 12 * 3600
_WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def job_waiting(queue: Queue, job_id: str) -> bool:
    """Whether the job exists and has not started yet (queued, scheduled or deferred)."""
    try:
        return Job.fetch(job_id, connection=queue.connection).get_status() in _WAITING
    except NoSuchJobError:
        return False


def drop_job(queue: Queue, job_id: str | None) -> None:
    """Forget a job that has not run yet (e.g. a campaign unscheduled or moved to another time)."""
    if not job_id:
        return
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return
    if job.get_status() in _WAITING:
        queue.scheduled_job_registry.remove(job)
        job.delete()


# Sync with Cliniko


def run_job_id(run_id: int) -> str:
    """The job id of a requested pull: its SyncRun's, stored on the row so the UI can follow it."""
    return f"pull-{run_id}"


def enqueue_pull(queue: Queue, run_id: int, full: bool, job_id: str) -> None:
    """Queue the pull of a committed SyncRun now, under the run's own job id."""
    queue.enqueue(
        PULL_JOB, run_id, full, job_id=job_id, job_timeout=6 * 3600, description=f"Cliniko pull #{run_id}"
    )


def _sync_at(
    queue: Queue,
    clock: Clock,
    when: datetime,
    func: str,
    job_id: str,
    *args: object,
    retry: Retry | None = None,
) -> None:
    delay = max(timedelta(0), when - clock.now())
    queue.enqueue_in(
        delay,
        func,
        *args,
        job_id=job_id,
        retry=retry,
        job_timeout=6 * 3600,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
    )


def pull_job_id(full: bool, when: datetime) -> str:
    """The id of the scheduled poll or daily reconcile for one slot."""
    if full:
        return f"oncord-full-pull-{when:%Y%m%dT%H%M}"
    return f"oncord-poll-{when:%Y%m%dT%H%M%S}"


def schedule_pulls(queue: Queue, clock: Clock, settings: Settings) -> list[str]:
    """Make sure the next poll and the next daily reconcile are scheduled."""
    now = clock.now()
    incremental = next_poll_slot(now, settings.sync_poll_seconds)
    full = next_full_slot(now, settings.sync_daily_full_hour_utc)
    ids = [pull_job_id(False, incremental), pull_job_id(True, full)]
    _sync_at(queue, clock, incremental, SCHEDULED_PULL_JOB, ids[0], False)
    _sync_at(queue, clock, full, SCHEDULED_PULL_JOB, ids[1], True)
    return ids


def schedule_next_pull(queue: Queue, clock: Clock, settings: Settings, *, full: bool) -> str:
    """Schedule the slot after the one now running."""
    now = clock.now() + timedelta(seconds=1)
    when = (
        next_full_slot(now, settings.sync_daily_full_hour_utc)
        if full
        else next_poll_slot(now, settings.sync_poll_seconds)
    )
    job_id = pull_job_id(full, when)
    _sync_at(queue, clock, when, SCHEDULED_PULL_JOB, job_id, full)
    return job_id


def push_job_id(due: datetime) -> str:
    """The id of the push due at this moment (edits due together share one job)."""
    return f"oncord-push-{int(due.timestamp())}"


def schedule_push(queue: Queue, clock: Clock, due: datetime) -> str:
    """Wake the push at `due`; the job itself re-reads the outbox and re-schedules if early."""
    job_id = push_job_id(due)
    _sync_at(queue, clock, due, PUSH_JOB, job_id, retry=PUSH_RETRY)
    return job_id


# Automations


def dispatch_job_id(minute: datetime) -> str:
    """The job id of the scheduled dispatch for one minute, e.g. automations-dispatch-202611201001."""
    return f"{DISPATCH_PREFIX}{minute:%Y%m%d%H%M}"


def schedule_next_dispatch(queue: Queue, now: datetime) -> str:
    """Make sure next minute's dispatch is scheduled; return its job id."""
    minute = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    job_id = dispatch_job_id(minute)
    if not Job.exists(job_id, connection=queue.connection):
        queue.enqueue_at(
            minute, DISPATCH_JOB, "schedule", job_id=job_id, job_timeout=600, result_ttl=3600,
            description=f"Automations dispatch {minute:%H:%M} UTC",
        )
    return job_id


def enqueue_dispatch(queue: Queue, reason: str) -> None:
    """Run a dispatch soon (e.g. right after a sync pulled changes)."""
    queue.enqueue(DISPATCH_JOB, reason, job_id=f"{DISPATCH_PREFIX}{reason}", job_timeout=600,
                  result_ttl=600, description=f"Automations dispatch after {reason}")


def enqueue_next_steps_pass(queue: Queue, now: datetime) -> str:
    """A pass stopped at its limit with journey steps still due: run the next one now, on whichever
    worker is free, instead of leaving the backlog to the next minute's dispatch."""
    # Its own id each time: a pass that follows a full pass may be full too and queue one more.
    job_id = f"{DISPATCH_PREFIX}more-{now:%Y%m%d%H%M}-{uuid4().hex[:8]}"
    queue.enqueue(DISPATCH_JOB, "more steps due", job_id=job_id, job_timeout=600, result_ttl=600,
                  description="Automations dispatch: more journey steps due")
    return job_id


def daily_job_id(day: date) -> str:
    """The job id of the state triggers' evaluation for one local day, e.g. automations-daily-20261202."""
    return f"automations-daily-{day:%Y%m%d}"


def schedule_next_daily(queue: Queue, clock: Clock, zone: str) -> str:
    """Make sure the next morning's evaluation of state triggers is scheduled; return its job id."""
    from oncord.automations.daily import next_daily_slot

    day, when = next_daily_slot(clock.now(), zone)
    job_id = daily_job_id(day)
    if not Job.exists(job_id, connection=queue.connection):
        queue.enqueue_in(
            max(timedelta(0), when - clock.now()), DAILY_TRIGGERS_JOB, job_id=job_id, job_timeout=1800,
            result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600,
            description=f"Recall and birthdays {day:%Y-%m-%d}",
        )
    return job_id


def enqueue_send_batch(queue: Queue, clock: Clock, send_ids: list[int]) -> None:
    """Queue one batch of automation sends the dispatcher has just marked queued."""
    queue.enqueue(
        AUTOMATION_SEND_JOB, send_ids,
        job_id=f"automation-sends-{send_ids[0]}-{send_ids[-1]}-{clock.now():%Y%m%d%H%M%S}",
        job_timeout=1800, result_ttl=600, retry=JOB_RETRY.rq_retry(),
        description=f"Automation sends {send_ids[0]}..{send_ids[-1]} ({len(send_ids)})",
    )


# Campaigns


def send_job_id(campaign_id: int, send_round: int, when: datetime | None = None) -> str:
    """The RQ job id of one round of a campaign (with its time when it was scheduled for later)."""
    base = f"campaign-{campaign_id}-r{send_round}"
    return base if when is None else f"{base}-at-{when:%Y%m%dT%H%M%S}"


def round_job_id(campaign: Campaign) -> str:
    """The job id of the campaign's current round: the one stored on it, or the round's default."""
    return campaign.job_id or send_job_id(campaign.id, campaign.send_round)


def resume_job_id(campaign: Campaign, now: datetime) -> str:
    """The job id that carries on a campaign left sending, one per worker start and minute."""
    return f"campaign-{campaign.id}-r{campaign.send_round}-resume-{now:%Y%m%dT%H%M}"


def enqueue_campaign(queue: Queue, clock: Clock, job_id: str, campaign_id: int, when: datetime | None) -> str:
    """Queue the campaign's send job under `job_id`, now or at `when`; return the id."""
    options = {
        "job_id": job_id,
        "job_timeout": CAMPAIGN_JOB_TIMEOUT,
        "result_ttl": 24 * 3600,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"Campaign {campaign_id} ({job_id})",
        "retry": JOB_RETRY.rq_retry(),
    }
    delay = when - clock.now() if when is not None else None
    if delay is not None and delay.total_seconds() > 0:
        queue.enqueue_in(delay, CAMPAIGN_SEND_JOB, campaign_id, **options)
    else:
        queue.enqueue(CAMPAIGN_SEND_JOB, campaign_id, **options)
    return job_id


def enqueue_round(queue: Queue, clock: Clock, campaign: Campaign) -> str:
    """Queue the campaign's current round (call after the commit): now, or at its scheduled time."""
    when = campaign.scheduled_at if campaign.state == CampaignState.SCHEDULED else None
    return enqueue_campaign(queue, clock, round_job_id(campaign), campaign.id, when)


def schedule_campaign_wakeup(queue: Queue, clock: Clock, campaign_id: int, when: datetime, key: str) -> None:
    """A wake-up for later (quiet hours, retries, woken early, lock busy); the sender's key
    names it, so asking twice for the same one makes one job."""
    job_id = f"campaign-{campaign_id}-{key}"
    if not job_waiting(queue, job_id):
        enqueue_campaign(queue, clock, job_id, campaign_id, when)
