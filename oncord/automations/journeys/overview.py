"""The journey screen's figures: how many enrolments are at each step, and how many have ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step, StepKind
from oncord.automations.journeys.versions import current_version, steps_of
from oncord.models import EnrolmentState, JourneyEnrolment, JourneyVersion

EXIT_WORDS = {
    "booked": "booked again",
    "unsubscribed": "unsubscribed",
    "contact_archived": "archived",
    "appointment_cancelled": "appointment cancelled",
    "appointment_deleted": "appointment deleted",
    "condition_not_met": "did not meet a condition",
    "automation_off": "journey turned off",
}


@dataclass
class StepRow:
    """One step of the current version with the enrolments at it."""

    number: int
    step: Step
    active: int = 0


@dataclass
class JourneyOverview:
    """What the journey screen shows."""

    version_number: int
    steps: list[StepRow]
    finished: int = 0
    exited: dict[str, int] = field(default_factory=dict)
    # Enrolments still running on earlier versions, by version number.
    on_earlier_versions: dict[int, int] = field(default_factory=dict)

    @property
    def active(self) -> int:
        """Enrolments running on the current version."""
        return sum(row.active for row in self.steps)


def position(steps: list[Step], step_index: int) -> int:
    """The step an active enrolment is at: the wait it is in, else the next step to run."""
    if 0 < step_index <= len(steps) and steps[step_index - 1].kind == StepKind.WAIT:
        return step_index - 1
    return min(step_index, len(steps) - 1)


def overview(session: Session, automation_id: int) -> JourneyOverview | None:
    """Counts per step of the current version, or None for a one-message automation."""
    version = current_version(session, automation_id)
    if version is None:
        return None
    steps = steps_of(version)
    result = JourneyOverview(version.number, [StepRow(i + 1, s) for i, s in enumerate(steps)])
    rows = session.execute(
        select(JourneyEnrolment.version_id, JourneyVersion.number, JourneyEnrolment.state,
               JourneyEnrolment.step_index, JourneyEnrolment.exit_reason, func.count())
        .join(JourneyVersion, JourneyVersion.id == JourneyEnrolment.version_id)
        .where(JourneyEnrolment.automation_id == automation_id)
        .group_by(JourneyEnrolment.version_id, JourneyVersion.number, JourneyEnrolment.state,
                  JourneyEnrolment.step_index, JourneyEnrolment.exit_reason)
    ).all()
    for version_id, number, state, step_index, reason, count in rows:
        if state == EnrolmentState.FINISHED:
            result.finished += count
        elif state == EnrolmentState.EXITED:
            words = EXIT_WORDS.get(reason or "", reason or "left")
            result.exited[words] = result.exited.get(words, 0) + count
        elif version_id != version.id:
            result.on_earlier_versions[number] = result.on_earlier_versions.get(number, 0) + count
        elif steps:
            result.steps[position(steps, step_index)].active += count
    return result
