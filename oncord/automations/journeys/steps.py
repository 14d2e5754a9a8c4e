"""The steps a journey version holds, as plain values read from and written to its JSON list."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class StepKind(enum.StrEnum):
    """What a step does."""

    SEND = "send"
    WAIT = "wait"
    CONDITION = "condition"
    STOP = "stop"


class Test(enum.StrEnum):
    """What a condition step asks about the contact."""

    FUTURE_BOOKING = "future_booking"
    BOOKED_SINCE_ENTERING = "booked_since_entering"
    MARKETING_STATUS = "marketing_status"
    APPOINTMENT_TYPE_SEEN = "appointment_type_seen"


TEST_WORDS = {
    Test.FUTURE_BOOKING: "has a future booking",
    Test.BOOKED_SINCE_ENTERING: "has booked since entering",
    Test.MARKETING_STATUS: "has marketing status",
    Test.APPOINTMENT_TYPE_SEEN: "has been seen for appointment type",
}


@dataclass(frozen=True)
class Step:
    """One step. Send: channel, subject (e-mail), body. Wait: minutes, then (optionally) until
    at_time ("HH:MM") in the patient's zone. Condition: test (negate: "does not"), carry on only when
    it holds, else the enrolment ends. Stop: the enrolment ends."""

    kind: str
    channel: str = ""
    subject: str = ""
    body: str = ""
    minutes: int = 0
    at_time: str = ""
    test: str = ""
    negate: bool = False
    status: str = ""
    appointment_type_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored form (defaults left out)."""
        defaults = Step(kind=self.kind)
        return {k: v for k, v in asdict(self).items() if k == "kind" or v != getattr(defaults, k)}

    def describe(self) -> str:
        """The step in words, for the journey screen."""
        if self.kind == StepKind.SEND:
            return f"Send {'an e-mail' if self.channel == 'email' else 'an SMS'}" + (
                f": {self.subject}" if self.subject else ""
            )
        if self.kind == StepKind.WAIT:
            parts = []
            if self.minutes:
                parts.append(_duration(self.minutes))
            if self.at_time:
                parts.append(f"until {self.at_time} in the patient's time zone")
            return "Wait " + (", then ".join(parts) or "no time")
        if self.kind == StepKind.CONDITION:
            words = TEST_WORDS.get(Test(self.test), self.test)
            if self.negate:
                words = "does not " + words.replace("has ", "have ", 1)
            detail = f" {self.status}" if self.test == Test.MARKETING_STATUS else ""
            return f"Only if the contact {words}{detail}; otherwise the journey ends"
        return "Stop"


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def parse_steps(raw: list[Any]) -> list[Step]:
    """Steps from a version's stored JSON."""
    return [Step(**item) for item in raw]


def dump_steps(steps: list[Step]) -> list[dict[str, Any]]:
    """A version's JSON from steps."""
    return [step.as_json() for step in steps]
