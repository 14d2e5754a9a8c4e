"""Editing a journey's steps from the journey screen: each step's text and timing, checked, saved
as a new version (the caller commits)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step, StepKind
from oncord.automations.journeys.versions import save_steps
from oncord.messaging.templates import check_template
from oncord.models import JourneyVersion

MAX_WAIT_MINUTES = 366 * 24 * 60
# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_MINUTES = re.compile(r"[0-9]{1,7}")
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def edited_steps(steps: list[Step], form: Mapping[str, str]) -> tuple[list[Step], list[str]]:
    """The steps with the form's values (fields step-N-subject, -body, -minutes, -at_time), and the
    problems, each naming its step."""
    result: list[Step] = []
    problems: list[str] = []
    for number, step in enumerate(steps, start=1):
        prefix = f"step-{number}-"
        if step.kind == StepKind.SEND:
            subject = form.get(prefix + "subject", step.subject).strip() if step.channel == "email" else ""
            body = form.get(prefix + "body", step.body).strip()
            if not body:
                problems.append(f"Step {number}: write the message.")
            for text in (subject, body):
                problems.extend(f"Step {number}: {p}" for p in check_template(text))
            result.append(replace(step, subject=subject, body=body))
        elif step.kind == StepKind.WAIT:
            raw = form.get(prefix + "minutes", str(step.minutes)).strip()
            at_time = form.get(prefix + "at_time", step.at_time).strip()
            minutes = int(raw) if _MINUTES.fullmatch(raw) else -1
            if not 0 <= minutes <= MAX_WAIT_MINUTES:
                problems.append(
                    f"Step {number}: enter the wait in whole minutes (0 to {MAX_WAIT_MINUTES:,})."
                )
                minutes = step.minutes
            if at_time and not _is_hhmm(at_time):
                problems.append(f"Step {number}: enter the time of day as HH:MM, e.g. 10:00.")
                at_time = step.at_time
            result.append(replace(step, minutes=minutes, at_time=at_time))
        else:
            result.append(step)
    return result, problems


def _is_hhmm(value: str) -> bool:
    match = _HHMM.fullmatch(value)
    return match is not None and int(match.group(1)) < 24 and int(match.group(2)) < 60


def save_if_changed(
    session: Session, automation_id: int, old: list[Step], new: list[Step], now: datetime
) -> JourneyVersion | None:
    """A new version when anything changed (contacts already in the journey keep theirs), else None."""
    if new == old:
        return None
    return save_steps(session, automation_id, new, now)
