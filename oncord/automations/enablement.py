"""Turning on an automation whose trigger is a state (recall, birthday): who matches already, and
the choice staff make about them.

An appointment-event trigger never back-fills: turning it on counts only what happens afterwards.
A state is different: the day a recall journey is turned on, many patients are lapsed already.
None of them starts without staff's choice, made on a confirmation step that names how many:
"start them now" enters those people at once, "only new ones" enters only people who come to
match after the switch-on. The choice and the number shown stay on the automation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from oncord.automations.editing import set_enabled
from oncord.automations.planner import plan
from oncord.automations.rules import spec_of
from oncord.automations.spec import QuietRule
from oncord.automations.triggers import trigger_def
from oncord.clock import Clock
from oncord.config import Settings
from oncord.integration import active_connection
from oncord.models import Automation, Backfill
from oncord.timezones import account_time_zone


def asks_first(automation: Automation) -> bool:
    """Whether turning it on needs staff's choice about the people matching already."""
    return trigger_def(automation.trigger).state_based and not automation.enabled


def matching_now(session: Session, automation: Automation, now: datetime, settings: Settings) -> int:
    """How many contacts the trigger matches at this moment (0 without Cliniko, or for event triggers)."""
    connection = active_connection(session)
    if connection is None or not trigger_def(automation.trigger).state_based:
        return 0
    spec = replace(spec_of(automation, connection), enabled=True, cutoff=now, backfill_all=True)
    quiet = QuietRule(clinic_zone=account_time_zone(connection, settings))
    firings = trigger_def(automation.trigger).find(session, spec, now, quiet)
    return len({f.contact_id for f in firings if f.skip is None})


def switch_on(
    session: Session, automation: Automation, choice: Backfill, clock: Clock, settings: Settings
) -> int:
    """Turn it on with staff's choice recorded; "start them now" enters the people matching now at
    once (their steps run in the next dispatch). Return how many entered; the caller commits."""
    now = clock.now()
    count = matching_now(session, automation, now, settings)
    set_enabled(automation, True, clock, backfill=choice)
    automation.backfill = choice.value
    automation.backfill_count = count
    session.flush()
    connection = active_connection(session)
    if choice is not Backfill.ALL or connection is None:
        return 0
    quiet = QuietRule(clinic_zone=account_time_zone(connection, settings))
    return plan(session, spec_of(automation, connection), now, quiet=quiet).enrolled
