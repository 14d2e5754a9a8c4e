"""When syncs run on their own: the slots of the incremental pulls and the daily reconcile.

RQ's scheduler holds the next pull, full reconcile and push (oncord.jobs.enqueue queues them,
one job id per slot); the database and the pull lock keep each run single.
"""

from __future__ import annotations

from datetime import datetime, timedelta


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
