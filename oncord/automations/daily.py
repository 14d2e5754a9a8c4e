"""The daily evaluation of state triggers (recall, birthday): when it runs and what it does.

It runs once a morning in the clinic's time zone (a birthday greeting belongs in the morning),
as an RQ job with one id per local day; entering is once per once-key in the database, so a re-run
or a second worker on the same day enters nobody twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncord.automations.dispatcher import plan_all
from oncord.automations.planner import PlanResult
from oncord.config import Settings
from oncord.db import Database

# The local hour the day's evaluation runs.
DAILY_HOUR = 9


def next_daily_slot(now: datetime, zone: str) -> tuple[date, datetime]:
    """The next local morning slot after `now` (the local day it is for, and its UTC moment)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date()
    slot = datetime.combine(day, time(DAILY_HOUR), tzinfo=tz)
    if slot <= local:
        day += timedelta(days=1)
        slot = datetime.combine(day, time(DAILY_HOUR), tzinfo=tz)
    return day, slot.astimezone(now.tzinfo)


def evaluate(database: Database, now: datetime, settings: Settings | None = None) -> PlanResult:
    """Enter everyone the state triggers match today (each once; their steps run in the dispatch)."""
    return plan_all(database, now, settings, state_based=True)
