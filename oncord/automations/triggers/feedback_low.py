"""Low feedback: a patient scored a visit LOW_SCORE or less through a message's feedback link.

The event is the score's last change (a patient who first gave 9 and then 3 has given low
feedback from that moment); it fires on the appointment the rated message was about, so the
once-per-appointment key (or the journey's enrolment key) keeps it to one firing per visit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from oncord.automations.reasons import Reason
from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, Verdict, skip
from oncord.automations.triggers.base import MessageDefaults, Option, Timing, TriggerDef, event_finder
from oncord.models import Appointment, FeedbackResponse, Trigger

# Detractors in NPS terms (0-6): the scores a clinic wants to follow up.
LOW_SCORE = 6


def _event() -> Any:
    return FeedbackResponse.updated_at


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    return [FeedbackResponse.appointment_id == Appointment.id, FeedbackResponse.score <= LOW_SCORE]


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Still low: a patient who changed their answer to a higher score is not followed up."""
    session = object_session(appointment)
    assert session is not None
    score = session.scalar(
        select(FeedbackResponse.score).where(FeedbackResponse.appointment_id == appointment.id)
        .order_by(FeedbackResponse.updated_at.desc()).limit(1)
    )
    if score is None or score > LOW_SCORE:
        return skip(Reason.NO_LONGER_MATCHES)
    return SEND


ENTRY = TriggerDef(
    key=Trigger.FEEDBACK_LOW,
    label=f"Feedback of {LOW_SCORE} or less",
    choice=f"The patient scored a visit {LOW_SCORE}/10 or less",
    description=f"Sent the chosen time after a patient answers a feedback link ({{{{ feedback_links }}}}) "
    f"with {LOW_SCORE} or less out of 10; not sent if they change their answer to a higher score.",
    event_phrase="the low score",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Thank you for your feedback, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Thank you for telling us how your visit went. We are sorry it was not what you hoped for. "
            "Our practice manager would like to hear more and put it right: reply to this e-mail, or "
            "call us, and we will get back to you.\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, thank you for your feedback. We are sorry your visit fell short; "
                 "reply or call {{ business }} and we will put it right.",
    ),
    find=event_finder(_event, _conditions),
    qualifies=qualifies,
    options=frozenset({Option.SERVICE}),
)
