"""The checks every automation message passes just before it goes (oncord.automations.rules), as
functions of a few inputs: the automation's snapshot, the appointment and the contact as they are now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncord.automations.journeys.recipes import BY_KEY
from oncord.automations.journeys.versions import save_steps
from oncord.automations.rules import check_appointment, check_contact, spec_of, too_late
from oncord.automations.spec import LATE_LIMIT, SEND, AutomationSpec, ChannelQuiet, skip
from oncord.automations.triggers import trigger_def
from oncord.messaging.eligibility import Reason
from oncord.messaging.quiet_hours import QuietHours
from oncord.models import (
    Appointment,
    Automation,
    Backfill,
    ClinikoConnection,
    Contact,
    MarketingStatus,
    Trigger,
)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TRIGGERS = list(Trigger)
SESSION_RULES = {Trigger.FEEDBACK_LOW, Trigger.FIRST_APPOINTMENT, Trigger.RECALL, Trigger.BIRTHDAY}
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


def a_spec(**fields: object) -> AutomationSpec:
    """An enabled e-mail and SMS reminder for any appointment, changed by `fields`."""
    values: dict[str, object] = {
        "id": 1, "name": "Reminder", "enabled": True, "trigger": Trigger.UPCOMING.value,
        "offset": timedelta(hours=24), "require_arrived": False, "send_when_booked_late": True,
        "is_service": False, "channels": ("email", "sms"), "appointment_type_ids": frozenset(),
        "practitioner_ids": frozenset(), "email_subject": "", "email_body": "", "sms_body": "",
        "cutoff": NOW - timedelta(days=30), "planned_through": None,
    }
    values.update(fields)
    return AutomationSpec(**values)  # type: ignore[arg-type]


def an_appointment(**fields: object) -> Appointment:
    """A booked appointment tomorrow at 10:00 UTC, linked to contact 7, changed by `fields`."""
    values: dict[str, object] = {
        "contact_id": 7, "appointment_type_id": 3, "practitioner_id": 4,
        "starts_at": NOW + timedelta(hours=24), "ends_at": NOW + timedelta(hours=25),
        "cancelled_at": None, "archived_at": None,
    }
    values.update(fields)
    return Appointment(**values)


def a_contact(**fields: object) -> Contact:
    """A subscribed contact with an e-mail address and a mobile number, changed by `fields`."""
    values: dict[str, object] = {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
        "phone_e164": "+61412345678", "phone_is_mobile": True,
        "email_marketing_status": MarketingStatus.SUBSCRIBED.value,
        "sms_marketing_status": MarketingStatus.SUBSCRIBED.value,
        "archived_at": None, "cliniko_reminder_type": None,
    }
    values.update(fields)
    return Contact(**values)


# --- check_appointment --------------------------------------------------------------------------


@given(
    enabled=st.booleans(), exists=st.booleans(), archived=st.booleans(), linked=st.booleans(),
    type_matches=st.booleans(), practitioner_matches=st.booleans(),
)
def test_the_shared_appointment_checks_come_first_in_order(
    enabled: bool, exists: bool, archived: bool, linked: bool, type_matches: bool, practitioner_matches: bool
) -> None:
    """Off, deleted or archived, no contact, no longer matching, in that order; else the trigger's rule."""
    spec = a_spec(enabled=enabled, appointment_type_ids=frozenset({3 if type_matches else 99}),
                  practitioner_ids=frozenset({4 if practitioner_matches else 99}))
    appointment = an_appointment(archived_at=NOW - timedelta(days=1) if archived else None,
                                 contact_id=7 if linked else None) if exists else None
    verdict = check_appointment(spec, appointment, NOW)
    if not enabled:
        assert verdict == skip(Reason.AUTOMATION_OFF)
    elif not exists or archived:
        assert verdict == skip(Reason.DELETED)
    elif not linked:
        assert verdict == skip(Reason.NO_CONTACT)
    elif not (type_matches and practitioner_matches):
        assert verdict == skip(Reason.NO_LONGER_MATCHES)
    else:
        assert verdict == SEND


def test_the_type_and_practitioner_filters_each_read_their_own_field() -> None:
    """A type filter is checked against the type, a practitioner filter against the practitioner."""
    appointment = an_appointment(appointment_type_id=3, practitioner_id=4)
    assert check_appointment(a_spec(appointment_type_ids=frozenset({3})), appointment, NOW) == SEND
    assert check_appointment(a_spec(practitioner_ids=frozenset({4})), appointment, NOW) == SEND
    assert check_appointment(a_spec(appointment_type_ids=frozenset({4})), appointment, NOW) == skip(
        Reason.NO_LONGER_MATCHES)


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("cancelled", [False, True])
def test_a_journey_step_stops_only_for_a_cancelled_reminder(trigger: Trigger, cancelled: bool) -> None:
    """A journey step goes whatever the trigger's rule says, unless it is a reminder and was cancelled."""
    spec = a_spec(trigger=trigger.value, journey_step=True)
    appointment = an_appointment(cancelled_at=NOW - timedelta(hours=1) if cancelled else None,
                                 starts_at=NOW - timedelta(days=3))
    expected = skip(Reason.CANCELLED) if cancelled and trigger == Trigger.UPCOMING else SEND
    assert check_appointment(spec, appointment, NOW) == expected


# The rules that read only the appointment (the others look up related rows in its session).
@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t not in SESSION_RULES])
def test_otherwise_the_triggers_own_rule_decides(trigger: Trigger) -> None:
    """Past the shared checks, the verdict is the one the trigger's registry entry gives."""
    spec = a_spec(trigger=trigger.value)
    for appointment in (an_appointment(), an_appointment(cancelled_at=NOW - timedelta(hours=1))):
        expected = trigger_def(trigger.value).qualifies(spec, appointment, NOW, ChannelQuiet())
        assert check_appointment(spec, appointment, NOW) == expected


def test_a_reminder_respects_the_channels_quiet_hours() -> None:
    """A reminder that would fall in the channel's quiet hours goes before they begin."""
    spec, appointment = a_spec(), an_appointment(starts_at=NOW + timedelta(hours=25))
    assert check_appointment(spec, appointment, NOW).action == "wait"
    quiet = ChannelQuiet(QuietHours(start=10 * 60, end=12 * 60), "UTC")
    assert check_appointment(spec, appointment, NOW, quiet) == SEND


def test_a_reminder_whose_appointment_has_started_is_not_sent() -> None:
    """The rule sees the appointment and the time: started already means skipped."""
    started = an_appointment(starts_at=NOW - timedelta(minutes=5))
    assert check_appointment(a_spec(), started, NOW) == skip(Reason.ALREADY_STARTED)
    later = an_appointment(starts_at=NOW + timedelta(hours=30))
    assert check_appointment(a_spec(), later, NOW).action == "wait"


# --- too_late -----------------------------------------------------------------------------------


@given(trigger=st.sampled_from(TRIGGERS), journey_step=st.booleans(), event_at=st.none() | moments,
       offset_minutes=st.integers(0, 60 * 24 * 90), now=moments)
def test_only_a_follow_up_more_than_two_days_past_its_time_is_too_late(
    trigger: Trigger, journey_step: bool, event_at: datetime | None, offset_minutes: int, now: datetime
) -> None:
    """Never a reminder, a journey step or a send with no event; otherwise event + offset + 2 days < now."""
    offset = timedelta(minutes=offset_minutes)
    spec = a_spec(trigger=trigger.value, journey_step=journey_step, offset=offset)
    exempt = journey_step or trigger == Trigger.UPCOMING or event_at is None
    expected = False if exempt else event_at + offset + LATE_LIMIT < now  # type: ignore[operator]
    assert too_late(spec, event_at, now) is expected


@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t != Trigger.UPCOMING])
def test_too_late_counts_from_the_event_plus_the_offset_exclusive(trigger: Trigger) -> None:
    """Exactly two days past event + offset is still in time; a minute more is too late."""
    spec = a_spec(trigger=trigger.value, offset=timedelta(hours=3))
    event_at = NOW - LATE_LIMIT - timedelta(hours=3)
    assert too_late(spec, event_at, NOW) is False
    assert too_late(spec, event_at, NOW + timedelta(minutes=1)) is True
    journey_step = a_spec(trigger=trigger.value, journey_step=True)
    assert too_late(journey_step, event_at, NOW + timedelta(days=9)) is False
    assert too_late(spec, None, NOW + timedelta(days=9)) is False


def test_a_reminder_is_never_too_late_here() -> None:
    """A reminder's lateness is the trigger's own rule (started or not), never this one."""
    assert too_late(a_spec(), NOW - timedelta(days=30), NOW) is False


# --- check_contact ------------------------------------------------------------------------------

statuses = st.sampled_from(list(MarketingStatus))


@given(channel=st.sampled_from(["email", "sms"]), channel_on=st.booleans(), is_service=st.booleans(),
       skip_reminded=st.booleans(),
       reminder_type=st.sampled_from([None, "SMS", "Email", "SMS & Email", "None"]),
       status=statuses, archived=st.booleans(), email=st.sampled_from(["ada@example.com", " ", None]),
       mobile=st.booleans())
def test_the_contact_check_is_channel_then_cliniko_reminders_then_eligibility(
    channel: str, channel_on: bool, is_service: bool, skip_reminded: bool, reminder_type: str | None,
    status: MarketingStatus, archived: bool, email: str | None, mobile: bool,
) -> None:
    """Channel off, then reminded by Cliniko (if the automation skips those), then eligibility."""
    channels = (channel,) if channel_on else tuple({"email", "sms"} - {channel})
    spec = a_spec(channels=channels, is_service=is_service, skip_cliniko_reminded=skip_reminded)
    contact = a_contact(email_marketing_status=status.value, sms_marketing_status=status.value,
                        archived_at=NOW if archived else None, email=email, phone_is_mobile=mobile,
                        cliniko_reminder_type=reminder_type)
    verdict, address = check_contact(spec, contact, channel, "AU")
    reminded = reminder_type in ("SMS", "Email", "SMS & Email")
    has_address = bool((email or "").strip()) if channel == "email" else mobile
    if not channel_on:
        expected = skip(Reason.CHANNEL_OFF)
    elif skip_reminded and reminded:
        expected = skip(Reason.CLINIKO_REMINDS)
    elif status == MarketingStatus.UNSUBSCRIBED:
        expected = skip(Reason.UNSUBSCRIBED)
    elif archived:
        expected = skip(Reason.CONTACT_ARCHIVED)
    elif status != MarketingStatus.SUBSCRIBED and not is_service:
        expected = skip(Reason.NO_CONSENT)
    elif not has_address:
        expected = skip(Reason.NO_EMAIL if channel == "email" else Reason.NO_MOBILE)
    else:
        expected = SEND
    assert verdict == expected
    if verdict == SEND:
        assert address == ("ada@example.com" if channel == "email" else "+61412345678")
    else:
        assert address is None


@pytest.mark.parametrize("skip_reminded", [False, True])
def test_no_contact_is_no_contact_whatever_the_automation(skip_reminded: bool) -> None:
    """No contact is skipped as such on any channel, even one the automation no longer uses."""
    spec = a_spec(channels=("email",), skip_cliniko_reminded=skip_reminded)
    for channel in ("email", "sms"):
        assert check_contact(spec, None, channel, "AU") == (skip(Reason.NO_CONTACT), None)


# --- spec_of --------------------------------------------------------------------------------------


def _automation(**fields: object) -> Automation:
    values: dict[str, object] = {
        "id": 5, "name": "Care", "enabled": True, "trigger": Trigger.UPCOMING.value, "offset_minutes": 90,
        "require_arrived": True, "send_when_booked_late": False, "is_service": True,
        "skip_cliniko_reminded": True, "send_email": True, "email_subject": "S", "email_body": "B",
        "send_sms": False, "sms_body": "T", "online_only": True, "recall_months": 9, "backfill": None,
        "activated_at": NOW, "planned_through": NOW + timedelta(hours=1),
        "created_at": NOW, "updated_at": NOW,
    }
    values.update(fields)
    return Automation(**values)


def _connection(enabled_at: datetime) -> ClinikoConnection:
    return ClinikoConnection(shard="au1", enabled_at=enabled_at, created_at=enabled_at, updated_at=enabled_at)


def test_the_snapshot_copies_the_automation() -> None:
    """Every field of the automation reaches the snapshot as it is stored."""
    spec = spec_of(_automation(), _connection(NOW - timedelta(days=1)))
    assert spec == AutomationSpec(
        id=5, name="Care", enabled=True, trigger="upcoming", offset=timedelta(minutes=90),
        require_arrived=True,
        send_when_booked_late=False, is_service=True, channels=("email",), appointment_type_ids=frozenset(),
        practitioner_ids=frozenset(), email_subject="S", email_body="B", sms_body="T", cutoff=NOW,
        planned_through=NOW + timedelta(hours=1), journey_version_id=None, skip_cliniko_reminded=True,
        online_only=False, recall_months=9, backfill_all=False,
    )


@given(enabled=st.booleans(), activated_at=st.none() | moments, connected_at=st.none() | moments)
def test_the_cutoff_is_the_later_of_switching_on_and_connecting(
    enabled: bool, activated_at: datetime | None, connected_at: datetime | None
) -> None:
    """None unless the automation is on and Cliniko connected; then the later of the two moments."""
    connection = _connection(connected_at) if connected_at is not None else None
    spec = spec_of(_automation(enabled=enabled, activated_at=activated_at), connection)
    if enabled and activated_at is not None and connected_at is not None:
        assert spec.cutoff == max(activated_at, connected_at)
    else:
        assert spec.cutoff is None


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("chosen", [False, True])
def test_trigger_specific_options_apply_only_to_their_trigger(trigger: Trigger, chosen: bool) -> None:
    """The service exception only where the trigger offers it; Cliniko's reminders only for upcoming;
    online-only only for booked."""
    automation = _automation(trigger=trigger.value, is_service=chosen, skip_cliniko_reminded=chosen,
                             online_only=chosen)
    spec = spec_of(automation, None)
    assert spec.is_service is (chosen and trigger in (Trigger.UPCOMING, Trigger.FEEDBACK_LOW))
    assert spec.skip_cliniko_reminded is (chosen and trigger == Trigger.UPCOMING)
    assert spec.online_only is (chosen and trigger == Trigger.BOOKED)


@pytest.mark.parametrize("backfill", [None, *Backfill])
def test_backfill_all_only_when_staff_chose_to_start_everyone(backfill: Backfill | None) -> None:
    """Only "start them now" lets people who matched before the cutoff in."""
    spec = spec_of(_automation(backfill=backfill.value if backfill else None), None)
    assert spec.backfill_all is (backfill == Backfill.ALL)


def test_the_snapshot_names_the_journeys_current_version(db_session, clock) -> None:
    """A journey's snapshot carries its latest version; a one-message automation none."""
    journey = _automation(id=None, trigger=Trigger.BIRTHDAY.value)
    single = _automation(id=None, name="Single")
    db_session.add_all([journey, single])
    db_session.flush()
    save_steps(db_session, journey.id, list(BY_KEY["birthday"].steps), clock.now())
    latest = save_steps(db_session, journey.id, list(BY_KEY["birthday"].steps), clock.now())
    db_session.flush()
    assert spec_of(journey, None).journey_version_id == latest.id
    assert spec_of(single, None).journey_version_id is None
    assert replace(spec_of(journey, None), journey_version_id=None).id == journey.id
