"""Starting pulls: one SyncRun row per request, joined when one is already under way."""

from __future__ import annotations

from datetime import timedelta

from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.jobs.enqueue import enqueue_pull, run_job_id
from oncord.models import SyncRun, SyncRunStatus
from oncord.sync.locks import pull_running

PULL_KINDS = ("pull_full", "pull_incremental")
# A queued run no worker picked up in this long is treated as lost (e.g. Redis was flushed).
QUEUED_RUN_EXPIRY = timedelta(minutes=30)


def active_pull(session: Session, kinds: tuple[str, ...] = PULL_KINDS) -> SyncRun | None:
    """The newest pull (of these kinds) still queued or running, if any."""
    return session.scalars(
        select(SyncRun)
        .where(
            SyncRun.kind.in_(kinds),
            SyncRun.status.in_([SyncRunStatus.QUEUED.value, SyncRunStatus.RUNNING.value]),
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()


def create_run(session: Session, *, full: bool, trigger: str, clock: Clock) -> SyncRun:
    """Add a queued pull run (the caller commits)."""
    run = SyncRun(
        kind="pull_full" if full else "pull_incremental",
        trigger=trigger,
        status=SyncRunStatus.QUEUED.value,
        queued_at=clock.now(),
        counts={},
        problems=[],
    )
    session.add(run)
    session.flush()
    return run


def launch_pull(session: Session, queue: Queue, *, full: bool, trigger: str, clock: Clock) -> SyncRun:
    """Queue a pull and return its run, or return the pull already under way.

    Commits: the run row must exist before a worker can pick the job up.
    """
    existing = active_pull(session)
    if existing is not None:
        if _still_alive(existing, queue.connection, clock):
            return existing
        existing.status = SyncRunStatus.FAILED.value
        existing.error = "This sync was interrupted (the worker stopped). A new sync has been started."
        existing.finished_at = clock.now()
    run = create_run(session, full=full, trigger=trigger, clock=clock)
    run.job_id = run_job_id(run.id)
    session.commit()
    enqueue_pull(queue, run.id, full, run.job_id)
    return run


def _still_alive(run: SyncRun, redis: Redis, clock: Clock) -> bool:
    if run.status == SyncRunStatus.RUNNING:
        return pull_running(redis, full=run.kind == "pull_full")
    return clock.now() - run.queued_at < QUEUED_RUN_EXPIRY


def recent_runs(session: Session, limit: int = 10) -> list[SyncRun]:
    """The latest sync runs, newest first."""
    return list(session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)))


PUSH_KINDS = ("push",)


def last_finished_run(session: Session, kinds: tuple[str, ...] | None = None) -> SyncRun | None:
    """The latest run that has ended, of these kinds (PULL_KINDS: last read; PUSH_KINDS: last push)."""
    return session.scalars(
        select(SyncRun)
        .where(
            SyncRun.status.in_(
                [SyncRunStatus.SUCCEEDED.value, SyncRunStatus.PARTIAL.value, SyncRunStatus.FAILED.value]
            ),
            *([SyncRun.kind.in_(kinds)] if kinds else []),
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()


def run_changed_anything(run: SyncRun) -> bool:
    """Whether a pull created or really changed any record (re-reads of unchanged ones do not count)."""
    return any(
        isinstance(tally, dict) and (tally.get("created") or tally.get("updated"))
        for tally in (run.counts or {}).values()
    )


def is_idle_poll(run: SyncRun) -> bool:
    """A scheduled poll that finished cleanly and changed nothing."""
    return (
        run.kind == "pull_incremental"
        and run.trigger == "schedule"
        and run.status == SyncRunStatus.SUCCEEDED
        and not run.problems
        and not run_changed_anything(run)
    )


def fold_idle_poll(session: Session, run: SyncRun) -> None:
    """Merge an idle poll with the idle polls just before it into one row (the caller commits).

    The earlier row goes and this one carries its count and first time, so the history shows
    "nothing had changed, checked 37 times" once rather than 37 rows, and stays small.
    """
    if not is_idle_poll(run):
        return
    previous = session.scalars(
        select(SyncRun).where(SyncRun.id < run.id).order_by(SyncRun.id.desc()).limit(1)
    ).first()
    if previous is None or not is_idle_poll(previous):
        return
    run.checks = previous.checks + 1
    run.first_checked_at = previous.first_checked_at or previous.started_at or previous.queued_at
    session.delete(previous)
