"""What every trigger's query and rule work with: an automation's snapshot and the verdict on a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oncord.messaging.eligibility import Reason
from oncord.messaging.quiet_hours import QuietHours

# A follow-up more than this late (e.g. the workers were down for days) is skipped, not sent.
LATE_LIMIT = timedelta(days=2)
# A reminder whose recomputed due time is within this of now is due (clock granularity).
DUE_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class AutomationSpec:
    """A plain snapshot of an automation, usable after its session has closed."""

    id: int
    name: str
    enabled: bool
    trigger: str
    offset: timedelta
    require_arrived: bool
    send_when_booked_late: bool
    is_service: bool
    channels: tuple[str, ...]
    appointment_type_ids: frozenset[int]
    practitioner_ids: frozenset[int]
    email_subject: str
    email_body: str
    sms_body: str
    # Activity before this moment never fires; None while the automation or Cliniko is off.
    cutoff: datetime | None
    planned_through: datetime | None
    # A journey (its current version, for new enrolments); None: one message, planned directly.
    journey_version_id: int | None = None
    # The snapshot of one journey send step (its text and channel), as the sender uses it.
    journey_step: bool = False
    # Skip patients Cliniko reminds itself (their reminder type).
    skip_cliniko_reminded: bool = False
    # Appointment booked: only online bookings.
    online_only: bool = False
    # Recall: months without an appointment before a patient is due.
    recall_months: int = 6
    # A state trigger turned on with "start them now": people who matched before the cutoff enter too.
    backfill_all: bool = False

    @property
    def trigger_key(self) -> str:
        """The trigger part of the once-only key (once per appointment: the trigger itself)."""
        return self.trigger

    def matches(self, appointment_type_id: int | None, practitioner_id: int | None) -> bool:
        """Whether an appointment passes the type and practitioner filters (empty means any)."""
        if self.appointment_type_ids and appointment_type_id not in self.appointment_type_ids:
            return False
        if self.practitioner_ids and practitioner_id not in self.practitioner_ids:
            return False
        return True


@dataclass(frozen=True)
class Verdict:
    """Send now, skip for good, or wait until a later moment; with the reason."""

    action: str
    reason: str | None = None
    until: datetime | None = None

    @property
    def go(self) -> bool:
        """Whether the message may be sent now."""
        return self.action == "send"


SEND = Verdict("send")


def skip(reason: Reason) -> Verdict:
    """A final skip."""
    return Verdict("skip", reason.value)


def wait(reason: Reason, until: datetime) -> Verdict:
    """Stay pending until a later moment."""
    return Verdict("wait", reason.value, until)


@dataclass(frozen=True)
class ChannelQuiet:
    """One channel's quiet hours (None: none) and the zone the appointment's time is read in."""

    hours: QuietHours | None = None
    zone: str = "UTC"


@dataclass(frozen=True)
class QuietRule:
    """The quiet hours per channel a planning pass respects, and the zone of appointments whose
    business has none (the clinic's)."""

    hours: Mapping[str, QuietHours] = field(default_factory=dict)
    clinic_zone: str = "UTC"


NO_QUIET = QuietRule()
NO_CHANNEL_QUIET = ChannelQuiet()
