"""What the automation sender needs to send a journey's step: the step's text, on its version."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from oncord.automations.journeys.versions import steps_of
from oncord.automations.spec import AutomationSpec
from oncord.models import AutomationSend, JourneyEnrolment, JourneyVersion


def step_spec(session: Session, spec: AutomationSpec, send: AutomationSend,
              cache: dict[tuple[int, int], AutomationSpec]) -> AutomationSpec:
    """The automation's snapshot with this send's step text and channel; unchanged for a one-message
    automation. The step comes from the enrolment's own version, so an edit never changes it."""
    if send.enrolment_id is None or send.step_index is None:
        return spec
    enrolment = session.get(JourneyEnrolment, send.enrolment_id)
    if enrolment is None:
        return spec
    key = (enrolment.version_id, send.step_index)
    if key not in cache:
        version = session.get(JourneyVersion, enrolment.version_id)
        assert version is not None
        step = steps_of(version)[send.step_index]
        cache[key] = replace(
            spec, channels=(step.channel,), email_subject=step.subject, email_body=step.body,
            sms_body=step.body, journey_step=True,
        )
    return cache[key]
