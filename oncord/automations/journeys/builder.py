"""The journey builder: a draft of a journey's steps carried in the screen's form, changed one action at
a time (add, remove, move up or down) and checked into steps when staff save.

The draft is plain text as the form sent it, so a value staff are still typing survives a move or an
added step unchanged; only saving turns it into steps, with problems that name their step. The form
needs no script: each action is a submit button the server applies and answers with the new draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from oncord.automations.journeys.editing import MAX_WAIT_MINUTES, is_hhmm
from oncord.automations.journeys.steps import Step, StepKind, Test
from oncord.bounds import is_id
from oncord.messaging.templates import check_email_body, check_template
from oncord.models import MarketingStatus

MAX_STEPS = 20
MAX_TEXT = 20_000
FIELDS = ("kind", "channel", "subject", "body", "minutes", "at_time", "test", "negate", "status",
          "appointment_type_id")
# What the "add a step" menu offers: value -> (words, the new step's draft).
NEW_STEPS: dict[str, tuple[str, dict[str, str]]] = {
    "email": ("Send an e-mail", {"kind": StepKind.SEND, "channel": "email"}),
    "sms": ("Send an SMS", {"kind": StepKind.SEND, "channel": "sms"}),
    "wait": ("Wait", {"kind": StepKind.WAIT, "minutes": str(24 * 60)}),
    "condition": ("Condition", {"kind": StepKind.CONDITION, "test": Test.FUTURE_BOOKING}),
    "stop": ("Stop", {"kind": StepKind.STOP}),
}
_ACTION = re.compile(r"(remove|up|down)-([0-9]{1,3})")
_COUNT = re.compile(r"[0-9]{1,3}")
_ID = re.compile(r"[0-9]{1,19}")
_MINUTES = re.compile(r"[0-9]{1,7}")


@dataclass
class DraftStep:
    """One step as the form holds it: each field's text."""

    values: dict[str, str]

    def get(self, name: str) -> str:
        """A field's text ("" when absent)."""
        return self.values.get(name, "")

    @property
    def kind(self) -> str:
        """send, wait, condition or stop."""
        return self.get("kind")


def draft_of(steps: list[Step]) -> list[DraftStep]:
    """The draft of saved steps."""
    drafts = []
    for step in steps:
        values = {
            "kind": step.kind, "channel": step.channel, "subject": step.subject, "body": step.body,
            "minutes": str(step.minutes), "at_time": step.at_time, "test": step.test,
            "negate": "1" if step.negate else "", "status": step.status,
            "appointment_type_id": "" if step.appointment_type_id is None else str(step.appointment_type_id),
        }
        drafts.append(DraftStep(values))
    return drafts


def read_draft(current: list[Step], form: Mapping[str, str]) -> list[DraftStep]:
    """The draft the form carries (fields step-N-<field>, and steps: how many). A form without the
    count is the plain editor's: the current steps with whatever text fields it sent."""
    saved = draft_of(current)
    raw = form.get("steps", "")
    count = min(int(raw), MAX_STEPS + 1) if _COUNT.fullmatch(raw) else len(saved)
    drafts = []
    for number in range(1, count + 1):
        base = saved[number - 1].values if number <= len(saved) else {}
        values = {}
        for name in FIELDS:
            value = form.get(f"step-{number}-{name}")
            values[name] = value[:MAX_TEXT] if value is not None else base.get(name, "")
        if "steps" in form:
            # A checkbox sends nothing when unticked: the form's own state decides, not the saved step.
            values["negate"] = form.get(f"step-{number}-negate", "")
        drafts.append(DraftStep(values))
    return drafts


def apply_action(drafts: list[DraftStep], action: str, new_kind: str) -> tuple[list[DraftStep], str | None]:
    """The draft after one builder action, and a problem when it cannot be done."""
    result = list(drafts)
    if action == "add":
        if new_kind not in NEW_STEPS:
            return result, "Choose which kind of step to add."
        if len(result) >= MAX_STEPS:
            return result, f"A journey has at most {MAX_STEPS} steps."
        result.append(DraftStep(dict(NEW_STEPS[new_kind][1])))
        return result, None
    match = _ACTION.fullmatch(action)
    if match is None:
        return result, None
    verb, index = match.group(1), int(match.group(2)) - 1
    if not 0 <= index < len(result):
        return result, None
    if verb == "remove":
        del result[index]
    elif verb == "up" and index > 0:
        result[index - 1], result[index] = result[index], result[index - 1]
    elif verb == "down" and index < len(result) - 1:
        result[index + 1], result[index] = result[index], result[index + 1]
    return result, None


def checked_steps(drafts: list[DraftStep], appointment_type_ids: set[int]) -> tuple[list[Step], list[str]]:
    """The steps to save, and the problems, each naming its step."""
    steps: list[Step] = []
    problems: list[str] = []
    if not drafts:
        problems.append("Add at least one step.")
    if len(drafts) > MAX_STEPS:
        problems.append(f"A journey has at most {MAX_STEPS} steps.")
    for number, draft in enumerate(drafts, start=1):
        step, found = _checked(draft, appointment_type_ids)
        problems.extend(f"Step {number}: {p}" for p in found)
        if step is not None:
            steps.append(step)
        if draft.kind == StepKind.STOP and number < len(drafts):
            problems.append(f"Step {number}: nothing after a stop ever runs; remove the stop or the steps "
                            "after it.")
    if drafts and not any(d.kind == StepKind.SEND for d in drafts):
        problems.append("Add a step that sends an e-mail or an SMS: this journey sends nothing.")
    return steps, problems


def _checked(draft: DraftStep, appointment_type_ids: set[int]) -> tuple[Step | None, list[str]]:
    kind = draft.kind
    if kind == StepKind.SEND:
        return _send(draft)
    if kind == StepKind.WAIT:
        return _wait(draft)
    if kind == StepKind.CONDITION:
        return _condition(draft, appointment_type_ids)
    if kind == StepKind.STOP:
        return Step(kind=StepKind.STOP), []
    return None, ["this kind of step does not exist; remove it."]


def _send(draft: DraftStep) -> tuple[Step | None, list[str]]:
    channel = draft.get("channel")
    if channel not in ("email", "sms"):
        return None, ["choose e-mail or SMS."]
    subject = draft.get("subject").strip() if channel == "email" else ""
    body = draft.get("body").strip()
    problems = []
    if channel == "email" and not subject:
        problems.append("write the e-mail's subject.")
    if not body:
        problems.append("write the message.")
    problems.extend(check_template(subject))
    # An e-mail's body may hold block lines ([button: …]); checking them here refuses a malformed one
    # on save, as the automation and campaign editors do, instead of failing each send later.
    problems.extend(check_email_body(body) if channel == "email" else check_template(body))
    return Step(kind=StepKind.SEND, channel=channel, subject=subject, body=body), problems


def _wait(draft: DraftStep) -> tuple[Step | None, list[str]]:
    raw = draft.get("minutes").strip() or "0"
    at_time = draft.get("at_time").strip()
    problems = []
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    minutes = int(raw) if _MINUTES.fullmatch(raw) else -1
    if not 0 <= minutes <= MAX_WAIT_MINUTES:
        problems.append(f"enter the wait in whole minutes (0 to {MAX_WAIT_MINUTES:,}).")
    if at_time and not is_hhmm(at_time):
        problems.append("enter the time of day as HH:MM, e.g. 10:00.")
    if not problems and minutes == 0 and not at_time:
        problems.append("a wait needs a number of minutes, a time of day, or both.")
    if problems:
        return None, problems
    return Step(kind=StepKind.WAIT, minutes=minutes, at_time=at_time), []


def _condition(draft: DraftStep, appointment_type_ids: set[int]) -> tuple[Step | None, list[str]]:
    test = draft.get("test")
    if test not in {t.value for t in Test}:
        return None, ["choose what the condition asks."]
    negate = draft.get("negate") not in ("", "0")
    if test == Test.MARKETING_STATUS:
        channel, status = draft.get("channel"), draft.get("status")
        problems = []
        if channel not in ("email", "sms"):
            problems.append("choose the channel whose marketing status the condition asks about.")
        if status not in {s.value for s in MarketingStatus}:
            problems.append("choose the marketing status (subscribed, pending or unsubscribed).")
        if problems:
            return None, problems
        return Step(kind=StepKind.CONDITION, test=test, negate=negate, channel=channel, status=status), []
    if test == Test.APPOINTMENT_TYPE_SEEN:
        raw = draft.get("appointment_type_id")
        type_id = int(raw) if _ID.fullmatch(raw) else None
        if type_id is None or not is_id(type_id) or type_id not in appointment_type_ids:
            return None, ["choose the appointment type."]
        return Step(kind=StepKind.CONDITION, test=test, negate=negate, appointment_type_id=type_id), []
    return Step(kind=StepKind.CONDITION, test=test, negate=negate), []
