"""Which time zone a moment is shown in: the one rule for screens, messages and send logs.

The clinic's main zone is the Cliniko account's, else CLINIC_TIME_ZONE (`clinic_time_zone`). When
something happened (a send, a sync, an edit) is shown in that zone. An appointment's time is shown
in its business's zone, with the zone's short name ("AEST") when that reads differently from the
clinic's zone at that moment, so a Brisbane appointment says 5:45 pm AEST on the contact page, in
the automation preview, in the reminder and in the send log alike.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from oncord.config import Settings
from oncord.integration import active_connection
from oncord.models import Appointment, ClinikoConnection


def is_real_zone(name: str | None) -> bool:
    """Whether the name is a time zone zoneinfo knows."""
    try:
        ZoneInfo(name or "")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def account_time_zone(connection: ClinikoConnection | None, settings: Settings) -> str:
    """The clinic's main zone given its Cliniko connection: the account's zone, else
    CLINIC_TIME_ZONE; a zone that is not real falls back too (one bad value from Cliniko must not
    stop every message and screen)."""
    zone = connection.time_zone_identifier if connection else None
    if zone and is_real_zone(zone):
        return zone
    return settings.clinic_time_zone


def clinic_time_zone(session: Session, settings: Settings) -> str:
    """The clinic's main zone: the Cliniko account's, else CLINIC_TIME_ZONE."""
    return account_time_zone(active_connection(session), settings)


def appointment_zone(appointment: Appointment | None, clinic_zone: str) -> str:
    """The zone an appointment is shown in: its business's, else the clinic's."""
    business = appointment.business if appointment is not None else None
    if business is not None and business.time_zone_identifier:
        return business.time_zone_identifier
    return clinic_zone


def zone_suffix(moment: datetime, zone: str, clinic_zone: str) -> str:
    """" AEST" when the moment reads differently in `zone` than in the clinic's zone, else ""."""
    local = moment.astimezone(ZoneInfo(zone))
    if not is_real_zone(clinic_zone):
        return f" {local:%Z}"
    there = moment.astimezone(ZoneInfo(clinic_zone))
    if (local.utcoffset(), local.tzname()) == (there.utcoffset(), there.tzname()):
        return ""
    return f" {local:%Z}"


def clock_time(local: datetime) -> str:
    """"5:45 pm"."""
    return local.strftime("%I").lstrip("0") + local.strftime(":%M ") + local.strftime("%p").lower()
