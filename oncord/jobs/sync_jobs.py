"""RQ entry points for syncing with Cliniko, and the app wiring they share with views and the CLI.

The wiring takes an app: it builds the client from the stored connection, takes the Redis lock
and runs the sync code (PullSync, PushSync), which is given a database and a client only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from oncord import context
from oncord.cliniko.client import ClinikoClient
from oncord.clock import Clock
from oncord.db import Database, get_database
from oncord.integration import NotConnected, active_connection, client_for
from oncord.jobs.enqueue import enqueue_dispatch, schedule_next_pull, schedule_pulls, schedule_push
from oncord.jobs.runtime import job_app
from oncord.models import SyncRun, SyncRunStatus
from oncord.queue import get_queue, get_redis
from oncord.sync import outbox
from oncord.sync.launcher import create_run, fold_idle_poll, run_changed_anything
from oncord.sync.locks import SyncAlreadyRunning, pull_lock, pull_running, push_lock
from oncord.sync.pull import PullSync
from oncord.sync.push import PushResult, PushSync


def pull(run_id: int, full: bool) -> str:
    """Run a queued pull; Cliniko failures are recorded on the run and re-raised for RQ."""
    run = run_pull(job_app(), run_id, full=full)
    _after_pull(run, f"sync-{run_id}")
    return run.status


def scheduled_pull(full: bool) -> str:
    """The auto-sync schedule's poll or reconcile: schedules the next slot, then pulls if auto-sync is on."""
    app = job_app()
    run = run_scheduled_pull(app, full=full)
    if isinstance(run, str):
        return run
    _after_pull(run, f"sync-{context.clock(app).now():%Y%m%d%H%M%S}")
    return run.status


def _after_pull(run: SyncRun, reason: str) -> None:
    # Automations react to what a pull brought in without waiting for the next minute; a poll
    # that changed nothing has nothing for them.
    if run.status not in ("succeeded", "partial") or not run_changed_anything(run):
        return
    enqueue_dispatch(get_queue(job_app()), reason)


def push() -> str:
    """Push pending contact edits when due; re-schedules itself when woken early."""
    return run_push(job_app())


def run_pull(app: Flask, run_id: int, *, full: bool, poll: bool = False) -> SyncRun:
    """Run the pull of one SyncRun under its lock; record why when it cannot run.

    A poll (auto-sync) reads the slow-moving lists only every SYNC_LISTS_MINUTES; a pull staff
    asked for reads everything that changed. Pulls are bulk work for the shared budget.
    """
    database = get_database(app)
    clock = context.clock(app)
    settings = context.settings(app)
    try:
        with pull_lock(get_redis(app), settings.sync_lock_seconds, full=full) as lock:
            with database.session() as session:
                connection = active_connection(session)
                if connection is None:
                    raise NotConnected()
                client = client_for(
                    connection, settings, context.secret_box(app), bulk=True,
                    **context.cliniko_client_options(app),
                )
            with client:
                sync = PullSync(
                    database,
                    client,
                    clock,
                    overlap=timedelta(seconds=settings.sync_overlap_seconds),
                    heartbeat=lock.reacquire,
                    default_region=settings.sms_default_region,
                    lists_every=timedelta(minutes=settings.sync_lists_minutes) if poll else None,
                    attribution_window=timedelta(days=settings.attribution_window_days),
                )
                return sync.run(run_id, full=full)
    except (SyncAlreadyRunning, NotConnected) as exc:
        with database.session() as session:
            run = session.get(SyncRun, run_id)
            assert run is not None
            run.status = SyncRunStatus.FAILED.value
            run.error = exc.user_message
            run.finished_at = clock.now()
            session.commit()
            return run


def run_scheduled_pull(app: Flask, *, full: bool) -> SyncRun | str:
    """One slot of the auto-sync schedule: book the next slot first, so a failure cannot end it.

    Returns the finished run, or why nothing ran. Polls and the reconcile hold different locks,
    so polls go on while the reconcile runs; a slot that finds its own kind still running
    (a poll longer than the interval) leaves no run behind.
    """
    database = get_database(app)
    clock = context.clock(app)
    with database.session() as session:
        connection = active_connection(session)
        if connection is None or not connection.auto_sync:
            return "auto-sync is off"
        schedule_next_pull(get_queue(app), clock, context.settings(app), full=full)
        if pull_running(get_redis(app), full=full):
            return "a pull is already under way"
        run = create_run(session, full=full, trigger="schedule", clock=clock)
        session.commit()
        run_id = run.id
    result = run_pull(app, run_id, full=full, poll=not full)
    if not full:
        with database.session() as session:
            finished = session.get(SyncRun, run_id)
            assert finished is not None
            fold_idle_poll(session, finished)
            session.commit()
            session.refresh(finished)
            session.expunge(finished)
            result = finished
    ensure_push_scheduled(app)
    return result


def ensure_schedules(app: Flask) -> list[str]:
    """At worker start and when auto-sync is turned on: the pull schedule and owed push exist."""
    with get_database(app).session() as session:
        connection = active_connection(session)
        if connection is None:
            return []
        auto_sync = connection.auto_sync
    # Edits always go out (auto-sync governs pulls only): a push killed mid-way resumes here.
    push = ensure_push_scheduled(app)
    ids = schedule_pulls(get_queue(app), context.clock(app), context.settings(app)) if auto_sync else []
    return ids + ([push] if push else [])


def push_due_at(app: Flask) -> datetime | None:
    """When the pending edits are due to go to Cliniko, or None."""
    settings = context.settings(app)
    with get_database(app).session() as session:
        return outbox.push_due_at(
            session,
            delay=timedelta(seconds=settings.sync_push_delay_seconds),
            max_wait=timedelta(seconds=settings.sync_push_max_wait_seconds),
        )


def ensure_push_scheduled(app: Flask) -> str | None:
    """Schedule the push for the pending edits' due time (after an edit, or as a safety net)."""
    due = push_due_at(app)
    if due is None:
        return None
    return schedule_push(get_queue(app), context.clock(app), due)


def run_push(app: Flask) -> str:
    """Push pending edits if they are due, under the push lock; otherwise wake up later."""
    clock = context.clock(app)
    due = push_due_at(app)
    if due is None:
        return "nothing to push"
    if clock.now() < due:
        ensure_push_scheduled(app)
        return "not due yet"
    database = get_database(app)
    settings = context.settings(app)
    with push_lock(get_redis(app), settings.sync_lock_seconds) as lock:
        with database.session() as session:
            connection = active_connection(session)
            if connection is None:
                return "not connected"
            client = client_for(
                connection, settings, context.secret_box(app), **context.cliniko_client_options(app)
            )
            run = SyncRun(
                kind="push",
                trigger="edit",
                status=SyncRunStatus.RUNNING.value,
                queued_at=clock.now(),
                started_at=clock.now(),
                counts={},
                problems=[],
            )
            session.add(run)
            session.commit()
            run_id = run.id
        with client:
            try:
                result = PushSync(database, client, clock, heartbeat=lock.reacquire).run()
            except Exception as exc:
                _finish_push_run(database, run_id, clock, client, error=_user_message(exc))
                raise
        _finish_push_run(database, run_id, clock, client, result=result)
    # Edits made while we pushed wait for their own due time.
    ensure_push_scheduled(app)
    return "pushed"


def _user_message(exc: Exception) -> str:
    return getattr(exc, "user_message", None) or (
        "The push to Cliniko stopped unexpectedly; the edits are kept and will be sent on the next try."
    )


def _finish_push_run(
    database: Database,
    run_id: int,
    clock: Clock,
    client: ClinikoClient,
    *,
    result: PushResult | None = None,
    error: str | None = None,
) -> None:
    with database.session() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.finished_at = clock.now()
        run.requests_made = client.stats.requests_made
        run.rate_limit_waits = client.stats.rate_limit_waits
        if error is not None:
            run.status = SyncRunStatus.FAILED.value
            run.error = error + " The edits are kept and will be retried."
        else:
            assert result is not None
            run.counts = {
                "contacts": {
                    "pushed": result.contacts_pushed,
                    "fields_pushed": result.fields_pushed,
                    "fields_failed": result.fields_failed,
                }
            }
            run.problems = result.problems[:50]
            run.status = (SyncRunStatus.PARTIAL if result.fields_failed else SyncRunStatus.SUCCEEDED).value
        session.commit()
