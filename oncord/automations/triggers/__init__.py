"""The trigger registry: one entry per trigger, which the planner, rules, editor and forms iterate.

Adding a trigger is one module here with its query, rule, words and defaults, its value in
oncord.models.Trigger with a migration widening the CHECK, and its tests. Entries are listed
in the order the editor offers them.
"""

from __future__ import annotations

from oncord.automations.triggers import (
    birthday,
    booked,
    cancelled,
    did_not_arrive,
    feedback_low,
    finished,
    first_appointment,
    recall,
    rescheduled,
    upcoming,
)
from oncord.automations.triggers.base import (
    Firing,
    MessageDefaults,
    OncePer,
    Option,
    Timing,
    TriggerDef,
)
from oncord.models import Trigger

__all__ = ["TRIGGERS", "Firing", "MessageDefaults", "OncePer", "Option", "Timing", "TriggerDef",
           "trigger_def"]

TRIGGERS: dict[str, TriggerDef] = {
    entry.key.value: entry
    for entry in (upcoming.ENTRY, cancelled.ENTRY, did_not_arrive.ENTRY, finished.ENTRY, rescheduled.ENTRY,
                  first_appointment.ENTRY, feedback_low.ENTRY, booked.ENTRY, recall.ENTRY, birthday.ENTRY)
}

if set(TRIGGERS) != {t.value for t in Trigger}:  # pragma: no cover - caught by any import in the tests
    raise RuntimeError("every oncord.models.Trigger value needs exactly one registry entry")


def trigger_def(key: str) -> TriggerDef:
    """The registry entry of a stored trigger value."""
    return TRIGGERS[key]
