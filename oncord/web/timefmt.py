"""Template filters: times in the clinic's time zone, "5 minutes ago", numbers with separators."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

from oncord.context import clock, settings


def local_today(now: datetime, time_zone: str) -> date:
    """Today's date in the clinic."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def _zone() -> ZoneInfo:
    return ZoneInfo(settings().clinic_time_zone)


def localtime(moment: datetime | None, style: str = "full") -> str:
    """A moment as the clinic reads it, e.g. "Tue 24 Nov 2026, 9:30 am"."""
    if moment is None:
        return ""
    local = moment.astimezone(_zone())
    hour = local.strftime("%I").lstrip("0") + local.strftime(":%M ") + local.strftime("%p").lower()
    if style == "time":
        return hour
    if style == "day":
        return f"{local.day} {local.strftime('%b')}"
    if style == "date":
        return f"{local.day} {local.strftime('%b %Y')}"
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}, {hour}"


def ago(moment: datetime | None) -> str:
    """How long ago (or how far ahead) a moment is, in words."""
    if moment is None:
        return "never"
    seconds = int((clock().now() - moment).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"


def number(value: int | None) -> str:
    """1234567 -> 1,234,567."""
    return f"{value or 0:,}"


def date_long(value: date | None) -> str:
    """A date like 3 Mar 1984."""
    return f"{value.day} {value.strftime('%b %Y')}" if value else ""


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(localtime)
    app.add_template_filter(ago)
    app.add_template_filter(number)
    app.add_template_filter(date_long)
