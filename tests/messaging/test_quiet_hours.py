"""Quiet hours in local time, wrapping past midnight and across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

from oncord.messaging.quiet_hours import QuietHours, format_hhmm, parse_hhmm

NIGHT = QuietHours(20 * 60, 8 * 60)
MELBOURNE = "Australia/Melbourne"


def test_a_window_past_midnight() -> None:
    """20:00-08:00 holds 23:00 and 07:59 local, not 08:00 or 19:59."""
    # 2026-06-01 13:00 UTC is 23:00 in Melbourne (UTC+10 in winter).
    assert NIGHT.contains(datetime(2026, 6, 1, 13, 0, tzinfo=UTC), MELBOURNE)
    assert NIGHT.contains(datetime(2026, 6, 1, 21, 59, tzinfo=UTC), MELBOURNE)
    assert not NIGHT.contains(datetime(2026, 6, 1, 22, 0, tzinfo=UTC), MELBOURNE)
    assert not NIGHT.contains(datetime(2026, 6, 1, 9, 59, tzinfo=UTC), MELBOURNE)


def test_the_end_is_the_next_local_morning_even_across_a_clock_change() -> None:
    """Inside the window on the night daylight saving starts, the end is 08:00 AEDT (21:00 UTC)."""
    # Daylight saving starts at 02:00 on Sunday 4 October 2026 in Melbourne.
    night = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)  # 22:00 AEST Saturday
    assert NIGHT.ends_at(night, MELBOURNE) == datetime(2026, 10, 3, 21, 0, tzinfo=UTC)
    assert NIGHT.ends_at(datetime(2026, 10, 4, 0, 0, tzinfo=UTC), MELBOURNE) is None  # 11:00 Sunday


def test_a_daytime_window_and_parsing() -> None:
    """A window that does not wrap, and the HH:MM text staff type."""
    lunch = QuietHours(parse_hhmm("12:00"), parse_hhmm("13:30"))
    assert lunch.contains(datetime(2026, 6, 1, 2, 15, tzinfo=UTC), MELBOURNE)
    assert lunch.ends_at(datetime(2026, 6, 1, 2, 15, tzinfo=UTC), MELBOURNE) == datetime(
        2026, 6, 1, 3, 30, tzinfo=UTC
    )
    assert format_hhmm(parse_hhmm("7:05")) == "07:05"


def test_the_latest_time_before_a_window_is_its_last_minute_the_evening_before() -> None:
    """05:33 inside 20:00-08:00 -> 19:59 the evening before; 19:00 (outside) stays 19:00."""
    # 2026-11-21 18:33 UTC is 05:33 on Sunday 22 November in Melbourne (UTC+11).
    assert NIGHT.latest_before(datetime(2026, 11, 21, 18, 33, tzinfo=UTC), MELBOURNE) == datetime(
        2026, 11, 21, 8, 59, tzinfo=UTC
    )
    assert NIGHT.latest_before(datetime(2026, 11, 21, 10, 0, tzinfo=UTC), MELBOURNE) == datetime(
        2026, 11, 21, 8, 59, tzinfo=UTC
    )  # 21:00 the same evening
    outside = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert NIGHT.latest_before(outside, MELBOURNE) == outside


def test_defaults_apply_until_an_admin_switches_a_channel_off() -> None:
    """Never saved or empty times: SMS 20:00-08:00 and e-mail 21:00-07:00; switched off: none."""
    from oncord.messaging.quiet_hours import DEFAULTS, effective
    from oncord.models import MessagingSettings

    assert effective(None) == DEFAULTS
    assert effective(MessagingSettings(email_quiet_off=False, sms_quiet_off=False)) == DEFAULTS
    assert DEFAULTS["sms"].label == "20:00–08:00" and DEFAULTS["email"].label == "21:00–07:00"
    off = MessagingSettings(email_quiet_off=True, sms_quiet_off=False,
                            sms_quiet_start=22 * 60, sms_quiet_end=6 * 60)
    assert effective(off) == {"sms": QuietHours(22 * 60, 6 * 60)}
