"""Template filters: times in the clinic's time zone, appointments in their business's, "5 minutes
ago", numbers with separators (the rule itself: oncord.timezones)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g

from oncord.context import clock, settings
from oncord.db import get_session
from oncord.models import Appointment
from oncord.timezones import appointment_zone, clinic_time_zone, clock_time, zone_suffix


def local_today(now: datetime, time_zone: str) -> date:
    """Today's date in the clinic."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def request_zone() -> str:
    """The clinic's main zone, read once per request."""
    if "clinic_zone" not in g:
        g.clinic_zone = clinic_time_zone(get_session(), settings())
    return str(g.clinic_zone)


def localtime(moment: datetime | None, style: str = "full") -> str:
    """A moment as the clinic reads it, e.g. "Tue 24 Nov 2026, 9:30 am"."""
    return _format(moment, request_zone(), style)


def appointment_time(appointment: Appointment | None, style: str = "full") -> str:
    """When an appointment starts, in its business's zone, with the zone's short name when that
    reads differently from the clinic's: "Tue 24 Nov 2026, 5:45 pm AEST"."""
    if appointment is None:
        return ""
    clinic = request_zone()
    zone = appointment_zone(appointment, clinic)
    try:
        suffix = zone_suffix(appointment.starts_at, zone, clinic)
    except (ValueError, KeyError):
        # A business zone that is not real: shown in the clinic's zone rather than failing the page.
        return _format(appointment.starts_at, clinic, style)
    return _format(appointment.starts_at, zone, style) + suffix


def _format(moment: datetime | None, zone: str, style: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    hour = clock_time(local)
    if style == "time":
        return hour
    if style == "day":
        return f"{local.day} {local.strftime('%b')}"
    if style == "date":
        return f"{local.day} {local.strftime('%b %Y')}"
    if style == "month":
        return local.strftime("%b %Y")
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
    app.add_template_filter(appointment_time)
    app.add_template_filter(ago)
    app.add_template_filter(number)
    app.add_template_filter(date_long)
