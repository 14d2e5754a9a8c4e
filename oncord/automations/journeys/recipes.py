"""Recipes: ready-made automations a clinic turns on with one click and then edits.

Each names its message class (service or marketing), its default timing and how quiet hours apply.
A one-message recipe becomes an ordinary automation (the editor edits it); a recipe with more steps
becomes a journey, its steps stored as version 1. Recipes whose trigger does not exist yet are
listed as coming.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.automations.editing import AutomationData, save_automation
from oncord.automations.journeys.cliniko_reminders import CLINIKO_REMINDS
from oncord.automations.journeys.steps import Step, StepKind, Test
from oncord.automations.journeys.versions import save_steps
from oncord.clock import Clock
from oncord.models import Automation, Contact, Trigger

QUIET_HOURS = (
    "The clinic's quiet hours (Settings → Messaging) apply: a message due in them waits until they end."
)


@dataclass(frozen=True)
class Recipe:
    """One ready-made automation."""

    key: str
    name: str
    summary: str
    # "service" (may reach Pending contacts) or "marketing" (Subscribed only).
    message_class: str
    timing: str
    quiet_hours: str
    trigger: str | None = None
    offset_minutes: int = 0
    require_arrived: bool = False
    email_subject: str = ""
    email_body: str = ""
    sms_body: str = ""
    steps: tuple[Step, ...] = ()
    # Recall: the months without an appointment (3, 6 or 12, chosen when it is turned on).
    recall_months: int | None = None

    @property
    def available(self) -> bool:
        """Whether its trigger exists (otherwise it is listed as coming)."""
        return self.trigger is not None


_MISSED_SMS = "Hi {{ first_name }}, we missed you at {{ business }} today. Rebook: {{ book_now_url }}"
# The e-mails' Book Now link is a designed-e-mail button (oncord/messaging/blocks.py); the text
# part still says it as "Book a new time: <link>". SMS has no buttons, so it keeps the bare link.
_MISSED_EMAIL = (
    "Hi {{ first_name }},\n\nWe missed you at your {{ appointment_type }} with {{ practitioner }}. "
    "It only takes a minute to book a new time.\n\n[button: Book a new time]\n\n{{ business }}"
)

_RECALL_EMAIL = (
    "Hi {{ first_name }},\n\nIt has been a while since your last visit to {{ business }}. If it is time "
    "for a check-up, you can book online: {{ book_now_url }}\n\n{{ business }}"
)
_RECALL_SMS = (
    "Hi {{ first_name }}, it's been a while! Book your next visit at {{ business }}: {{ book_now_url }}"
)
_BIRTHDAY_EMAIL = (
    "Hi {{ first_name }},\n\nEveryone at {{ business }} wishes you a happy birthday!\n\n{{ business }}"
)

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        key="reminder-24h",
        name="24-hour appointment reminder",
        summary="An SMS the day before each appointment, with the time, practitioner and location.",
        message_class="service",
        timing="24 hours before the appointment",
        quiet_hours=QUIET_HOURS + " A reminder whose quiet hours last past the start is skipped.",
        trigger=Trigger.UPCOMING,
        offset_minutes=24 * 60,
        sms_body=(
            "Hi {{ first_name }}, a reminder of your {{ appointment_type }} with {{ practitioner }} "
            "{{ appointment_start }} at {{ business }}. To change it: {{ book_now_url }}"
        ),
    ),
    Recipe(
        key="did-not-arrive",
        name="Did-not-arrive follow-up",
        summary="An SMS with a rebook link at once; two days later an e-mail if they have not booked again.",
        message_class="marketing",
        timing="Straight after the did-not-arrive, then 2 days later",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.DID_NOT_ARRIVE,
        steps=(
            Step(kind=StepKind.SEND, channel="sms", body=_MISSED_SMS),
            Step(kind=StepKind.WAIT, minutes=2 * 24 * 60),
            Step(kind=StepKind.CONDITION, test=Test.BOOKED_SINCE_ENTERING, negate=True),
            Step(kind=StepKind.SEND, channel="email", subject="We missed you, {{ first_name }}",
                 body=_MISSED_EMAIL),
        ),
    ),
    Recipe(
        key="cancellation-rebook",
        name="Cancellation rebook",
        summary="An e-mail an hour after a cancellation, with a link to book a new time.",
        message_class="marketing",
        timing="1 hour after the cancellation",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.CANCELLED,
        offset_minutes=60,
        email_subject="Let's find you a new time, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\nYour {{ appointment_type }} was cancelled. When you are ready, "
            "book a new time here.\n\n[button: Book a new time]\n\n{{ business }}"
        ),
    ),
    Recipe(
        key="review-request",
        name="Review request",
        summary="After a finished appointment, an e-mail asking for a Google review (needs the clinic's "
        "review link setting).",
        message_class="marketing",
        timing="2 hours after a finished appointment the patient arrived for",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.FINISHED,
        offset_minutes=2 * 60,
        require_arrived=True,
        email_subject="How was your visit, {{ first_name }}?",
        email_body=(
            "Hi {{ first_name }},\n\nThank you for coming in to see {{ practitioner }} today. If you have a "
            "minute, a short Google review helps other people find us: {{ review_url }}\n\n{{ business }}"
        ),
    ),
    Recipe(
        key="recall",
        name="Recall at 3, 6 or 12 months",
        summary="Patients with no appointment for N months and none booked, with a second touch if they "
        "do not book.",
        message_class="marketing",
        timing="Evaluated daily in the clinic's time zone",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.RECALL,
        recall_months=6,
        steps=(
            Step(kind=StepKind.SEND, channel="email", subject="Time for a check-up, {{ first_name }}?",
                 body=_RECALL_EMAIL),
            Step(kind=StepKind.WAIT, minutes=14 * 24 * 60),
            Step(kind=StepKind.CONDITION, test=Test.BOOKED_SINCE_ENTERING, negate=True),
            Step(kind=StepKind.SEND, channel="sms", body=_RECALL_SMS),
        ),
    ),
    Recipe(
        key="new-patient-welcome",
        name="New-patient welcome",
        summary="An e-mail welcoming a new patient when they book their first appointment.",
        message_class="marketing",
        timing="Straight after the first appointment is booked",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.FIRST_APPOINTMENT,
        email_subject="Welcome to {{ business }}, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\nWelcome! Your {{ appointment_type }} with {{ practitioner }} is on "
            "{{ appointment_start }}. Please arrive five minutes early.\n\n{{ business }}"
        ),
    ),
    Recipe(
        key="birthday",
        name="Birthday greeting",
        summary="A greeting on the patient's birthday, to patients who opted in to marketing.",
        message_class="marketing",
        timing="On the birthday, in the morning in the clinic's time zone",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.BIRTHDAY,
        steps=(
            Step(kind=StepKind.SEND, channel="email", subject="Happy birthday, {{ first_name }}!",
                 body=_BIRTHDAY_EMAIL),
        ),
    ),
)

# Feedback (NPS): the request and the low-score follow-up, kept together here.
_FEEDBACK_EMAIL = (
    "Hi {{ first_name }},\n\nThank you for coming in to see {{ practitioner }}. One quick question, "
    "one click:\n\n{{ feedback_links }}\n\n{{ business }}"
)
_LOW_SCORE_EMAIL = (
    "Hi {{ first_name }},\n\nThank you for telling us how your visit went. We are sorry it was not what "
    "you hoped for. Our practice manager would like to hear more and put it right: reply to this e-mail "
    "and we will get back to you.\n\n{{ business }}"
)

FEEDBACK_RECIPES: tuple[Recipe, ...] = (
    Recipe(
        key="feedback-nps",
        name="Post-visit feedback (NPS)",
        summary="An e-mail after a finished appointment asking how likely the patient is to recommend "
        "the clinic, 0 to 10 in one click; scores show on the dashboard and in the patient's feed.",
        # Marketing: a survey is not needed to deliver care, so only patients who opted in get it.
        message_class="marketing",
        timing="3 hours after a finished appointment the patient arrived for",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.FINISHED,
        offset_minutes=3 * 60,
        require_arrived=True,
        email_subject="How was your visit, {{ first_name }}?",
        email_body=_FEEDBACK_EMAIL,
    ),
    Recipe(
        key="feedback-low-score",
        name="Low feedback follow-up",
        summary="When a patient scores a visit 6 or less, an e-mail saying sorry and asking them to reply, "
        "so the practice manager hears about it while it can still be put right.",
        # Service: a reply to the patient's own answer, not promotion (never to Unsubscribed).
        message_class="service",
        timing="Straight after the low score",
        quiet_hours=QUIET_HOURS,
        trigger=Trigger.FEEDBACK_LOW,
        steps=(
            Step(kind=StepKind.SEND, channel="email", subject="Thank you for your feedback, {{ first_name }}",
                 body=_LOW_SCORE_EMAIL),
        ),
    ),
)

RECIPES = RECIPES + FEEDBACK_RECIPES

BY_KEY = {recipe.key: recipe for recipe in RECIPES}

def cliniko_reminded(session: Session) -> int:
    """How many active contacts Cliniko already reminds itself (a second reminder would double up)."""
    return session.scalar(
        select(func.count()).select_from(Contact).where(
            Contact.cliniko_reminder_type.in_(CLINIKO_REMINDS), Contact.archived_at.is_(None)
        )
    ) or 0


def turn_on(session: Session, recipe: Recipe, clock: Clock) -> Automation:
    """Create the recipe's automation switched on now (nothing before now fires); the caller commits."""
    assert recipe.trigger is not None
    data = AutomationData(
        name=recipe.name,
        enabled=True,
        trigger=recipe.trigger,
        offset_minutes=recipe.offset_minutes,
        require_arrived=recipe.require_arrived,
        send_when_booked_late=True,
        is_service=recipe.message_class == "service",
        appointment_type_ids=(),
        practitioner_ids=(),
        send_email=bool(recipe.email_body) and not recipe.steps,
        email_subject=recipe.email_subject,
        email_body=recipe.email_body,
        send_sms=bool(recipe.sms_body) and not recipe.steps,
        sms_body=recipe.sms_body,
        # A reminder recipe skips patients Cliniko reminds itself; the editor can turn that off.
        skip_cliniko_reminded=recipe.trigger == Trigger.UPCOMING,
    )
    automation = save_automation(session, None, data, clock)
    if recipe.recall_months is not None:
        automation.recall_months = recipe.recall_months
    if recipe.steps:
        save_steps(session, automation.id, list(recipe.steps), clock.now())
    return automation
