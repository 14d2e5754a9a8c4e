"""When syncs run on their own: RQ's scheduler holds the next pull, full reconcile and push.

Job ids are deterministic per slot, so scheduling the same slot twice (a worker restart,
two workers starting) leaves one job; the database and the pull lock keep each run single.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rq import Queue, Retry

from oncord.clock import Clock
from oncord.config import Settings

PULL_JOB = "oncord.jobs.sync_jobs.scheduled_pull"
PUSH_JOB = "oncord.jobs.sync_jobs.push"
# Transient Cliniko failures (outage, 429 storms) retry the push with growing waits.
PUSH_RETRY = Retry(max=6, interval=[30, 60, 120, 300, 600, 1200])


def next_incremental_slot(now: datetime, interval_minutes: int) -> datetime:
    """The next whole multiple of the interval after now (e.g. :00, :15, :30, :45)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((now - midnight).total_seconds() // 60)
    slot = (elapsed // interval_minutes + 1) * interval_minutes
    return midnight + timedelta(minutes=slot)


def next_full_slot(now: datetime, hour_utc: int) -> datetime:
    """The next daily reconcile time after now."""
    today = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def _at(
    queue: Queue,
    clock: Clock,
    when: datetime,
    func: str,
    job_id: str,
    *args: object,
    retry: Retry | None = None,
) -> None:
    # enqueue_in, not enqueue_at: delays come from the injected clock, so tests can move it.
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
    """The id of the scheduled pull for one slot."""
    return f"oncord-{'full' if full else 'incremental'}-pull-{when:%Y%m%dT%H%M}"


def schedule_pulls(queue: Queue, clock: Clock, settings: Settings) -> list[str]:
    """Make sure the next incremental pull and the next daily reconcile are scheduled."""
    now = clock.now()
    incremental = next_incremental_slot(now, settings.sync_pull_interval_minutes)
    full = next_full_slot(now, settings.sync_daily_full_hour_utc)
    ids = [pull_job_id(False, incremental), pull_job_id(True, full)]
    _at(queue, clock, incremental, PULL_JOB, ids[0], False)
    _at(queue, clock, full, PULL_JOB, ids[1], True)
    return ids


def schedule_next_pull(queue: Queue, clock: Clock, settings: Settings, *, full: bool) -> str:
    """Schedule the slot after the one now running."""
    now = clock.now() + timedelta(seconds=1)
    when = (
        next_full_slot(now, settings.sync_daily_full_hour_utc)
        if full
        else next_incremental_slot(now, settings.sync_pull_interval_minutes)
    )
    job_id = pull_job_id(full, when)
    _at(queue, clock, when, PULL_JOB, job_id, full)
    return job_id


def push_job_id(due: datetime) -> str:
    """The id of the push due at this moment (edits due together share one job)."""
    return f"oncord-push-{int(due.timestamp())}"


def schedule_push(queue: Queue, clock: Clock, due: datetime) -> str:
    """Wake the push at `due`; the job itself re-reads the outbox and re-schedules if early."""
    job_id = push_job_id(due)
    _at(queue, clock, due, PUSH_JOB, job_id, retry=PUSH_RETRY)
    return job_id
