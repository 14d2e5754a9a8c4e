"""Quiet hours per channel in local time (e.g. no SMS from 20:00 to 08:00), on by default.

A clinic that never set them gets DEFAULTS; an admin may change them or switch a channel off,
and "switched off" is stored apart from "never set" (MessagingSettings.<channel>_quiet_off), so the
defaults reach clinics whose settings are empty without overriding anyone's choice. Automations
read them in the appointment's zone, campaigns in the clinic's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS = ("email", "sms")


def parse_hhmm(text: str) -> int:
    """"20:00" -> 1200 minutes after midnight; ValueError for anything else."""
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not (0 <= int(hours) < 24 and 0 <= int(minutes or 0) < 60):
        raise ValueError(text)
    return value


def format_hhmm(minutes: int | None) -> str:
    """1200 -> "20:00"; None -> ""."""
    if minutes is None:
        return ""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time when a channel sends nothing; it may wrap past midnight."""

    start: int
    end: int

    def _inside(self, minute: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def contains(self, moment: datetime, time_zone: str) -> bool:
        """Whether the moment falls inside the window where the clinic is."""
        local = moment.astimezone(ZoneInfo(time_zone))
        return self._inside(local.hour * 60 + local.minute)

    def starts_before(self, moment: datetime, time_zone: str) -> datetime | None:
        """When the window the moment falls in started (UTC), or None when the moment is outside it."""
        zone = ZoneInfo(time_zone)
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if not self._inside(minute):
            return None
        day = local.date() if minute >= self.start else local.date() - timedelta(days=1)
        start = datetime.combine(day, time(self.start // 60, self.start % 60), tzinfo=zone)
        return start.astimezone(UTC)

    def latest_before(self, moment: datetime, time_zone: str) -> datetime:
        """The moment itself when it is outside the window, else the last minute before the window
        it falls in began (a reminder due at 05:33 goes at 19:59 the evening before)."""
        start = self.starts_before(moment, time_zone)
        return moment if start is None else start - timedelta(minutes=1)

    def ends_at(self, moment: datetime, time_zone: str) -> datetime | None:
        """When the window the moment falls in ends (UTC), or None when the moment is outside it."""
        zone = ZoneInfo(time_zone)
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if not self._inside(minute):
            return None
        day = local.date() if minute < self.end else local.date() + timedelta(days=1)
        end = datetime.combine(day, time(self.end // 60, self.end % 60), tzinfo=zone)
        return end.astimezone(UTC)

    @property
    def label(self) -> str:
        """"20:00-08:00"."""
        return f"{format_hhmm(self.start)}–{format_hhmm(self.end)}"


# On for every clinic that has not chosen otherwise.
DEFAULTS: dict[str, QuietHours] = {"email": QuietHours(21 * 60, 7 * 60), "sms": QuietHours(20 * 60, 8 * 60)}


def effective(row: Any) -> dict[str, QuietHours]:
    """Each channel's quiet hours from the settings row (None: never saved): switched off -> none,
    both times set -> those, otherwise the defaults."""
    quiet: dict[str, QuietHours] = {}
    for channel in CHANNELS:
        if row is not None and getattr(row, f"{channel}_quiet_off"):
            continue
        start = getattr(row, f"{channel}_quiet_start") if row is not None else None
        end = getattr(row, f"{channel}_quiet_end") if row is not None else None
        if start is not None and end is not None and start != end:
            quiet[channel] = QuietHours(start, end)
        elif start is None and end is None:
            quiet[channel] = DEFAULTS[channel]
    return quiet
