"""Quiet hours per channel, in the clinic's local time (e.g. no SMS from 20:00 to 08:00)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


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
