"""Epoch-second timestamps as Cliniko writes them: UTC ISO-8601, whole seconds, a trailing Z."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_day_cache: dict[int, str] = {}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso(ts: int | None) -> str | None:
    """Format epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`, or None for a missing timestamp."""
    if ts is None:
        return None
    days, secs = divmod(ts, DAY)
    day = _day_cache.get(days)
    if day is None:
        # Formatting the date part once per day keeps page rendering cheap at 500k rows.
        day = time.strftime("%Y-%m-%d", time.gmtime(days * DAY))
        if len(_day_cache) > 50_000:
            _day_cache.clear()
        _day_cache[days] = day
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    return f"{day}T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def iso_date(days: int | None) -> str | None:
    """Format a day number (days since 1970-01-01) as `YYYY-MM-DD`."""
    if days is None:
        return None
    return date.fromordinal(days + _EPOCH_ORDINAL).isoformat()



def date_to_days(text: str) -> int | None:
    """Parse `YYYY-MM-DD` into a day number, or None when it is not a real date."""
    if not isinstance(text, str) or not _DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def epoch_of(moment: datetime) -> int:
    """Whole epoch seconds of a datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def parse_timestamp(text: str) -> float | None:
    """Parse an ISO-8601 date-time (a `Z` or offset, or naive meaning UTC) into epoch seconds."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40 or not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
