"""When syncs run on their own: the slots of the polls and of the daily reconcile.

RQ's scheduler holds the next pull, full reconcile and push (oncord.jobs.enqueue queues them,
one job id per slot); the database and the pull lock keep each run single.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def next_poll_slot(now: datetime, interval_seconds: int) -> datetime:
    """The next whole multiple of the interval after now, counted from midnight (e.g. every :00 s)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((now - midnight).total_seconds())
    slot = (elapsed // interval_seconds + 1) * interval_seconds
    return midnight + timedelta(seconds=slot)


def next_full_slot(now: datetime, hour_utc: int) -> datetime:
    """The next daily reconcile time after now."""
    today = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)
