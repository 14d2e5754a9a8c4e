"""Saving a journey's edited steps as a new version (the builder checks them first; the caller commits)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step
from oncord.automations.journeys.versions import save_steps
from oncord.models import JourneyVersion

MAX_WAIT_MINUTES = 366 * 24 * 60
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def is_hhmm(value: str) -> bool:
    """Whether a wait's time of day is a real HH:MM."""
    match = _HHMM.fullmatch(value)
    return match is not None and int(match.group(1)) < 24 and int(match.group(2)) < 60


def save_if_changed(
    session: Session, automation_id: int, old: list[Step], new: list[Step], now: datetime
) -> JourneyVersion | None:
    """A new version when anything changed (contacts already in the journey keep theirs), else None."""
    if new == old:
        return None
    return save_steps(session, automation_id, new, now)
