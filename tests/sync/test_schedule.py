"""Auto-sync schedules live in RQ's scheduler, one job per slot, and stop when auto-sync is off."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from oncord import context
from oncord.integration import set_auto_sync
from oncord.jobs.enqueue import pull_job_id
from oncord.jobs.sync_jobs import ensure_schedules
from oncord.models import SyncRun
from oncord.queue import get_queue
from oncord.sync.schedule import next_full_slot, next_poll_slot


def test_slots_are_whole_minutes_and_a_daily_hour() -> None:
    """The next poll slot is the next multiple of the interval; the reconcile is daily."""
    now = datetime(2026, 11, 20, 23, 7, 12, tzinfo=UTC)
    assert next_poll_slot(now, 60) == datetime(2026, 11, 20, 23, 8, tzinfo=UTC)
    assert next_poll_slot(now, 30) == datetime(2026, 11, 20, 23, 7, 30, tzinfo=UTC)
    assert next_poll_slot(datetime(2026, 11, 20, 23, 59, 0, tzinfo=UTC), 60) == datetime(
        2026, 11, 21, 0, 0, tzinfo=UTC
    )
    assert next_full_slot(now, 16) == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)


def test_nothing_is_scheduled_while_auto_sync_is_off(connected_app) -> None:
    """With auto-sync off, no pull runs on its own."""
    assert ensure_schedules(connected_app) == []
    assert get_queue(connected_app).scheduled_job_registry.get_job_ids() == []


def test_turning_auto_sync_on_schedules_one_pull_per_slot(connected_app, db_session, clock) -> None:
    """The incremental and daily pulls are scheduled once, however often the schedule is ensured."""
    set_auto_sync(db_session, True, clock)
    db_session.commit()
    first = ensure_schedules(connected_app)
    again = ensure_schedules(connected_app)
    assert first == again
    scheduled = sorted(get_queue(connected_app).scheduled_job_registry.get_job_ids())
    assert scheduled == sorted(first)
    assert pull_job_id(False, next_poll_slot(clock.now(), 60)) in scheduled


def test_a_scheduled_slot_pulls_and_books_the_next_one(connected_app, db_session, clock, work_queue) -> None:
    """When a slot comes, the pull runs and the following slot is scheduled."""
    set_auto_sync(db_session, True, clock)
    db_session.commit()
    ensure_schedules(connected_app)
    clock.advance(seconds=60)
    work_queue()
    runs = db_session.scalars(select(SyncRun).where(SyncRun.trigger == "schedule")).all()
    assert {r.kind for r in runs} >= {"pull_incremental"}
    assert all(r.status == "succeeded" for r in runs)
    scheduled = get_queue(connected_app).scheduled_job_registry.get_job_ids()
    assert pull_job_id(False, next_poll_slot(clock.now(), 60)) in scheduled


def test_a_slot_after_auto_sync_was_turned_off_does_nothing(
    connected_app, db_session, clock, work_queue
) -> None:
    """Turning auto-sync off stops the schedule at its next slot."""
    set_auto_sync(db_session, True, clock)
    db_session.commit()
    ensure_schedules(connected_app)
    set_auto_sync(db_session, False, clock)
    db_session.commit()
    clock.advance(days=1)
    work_queue()
    assert db_session.scalars(select(SyncRun)).all() == []
    assert get_queue(connected_app).scheduled_job_registry.get_job_ids() == []
    assert context.settings(connected_app).sync_poll_seconds == 60
