"""Quiet hours are on by default (SMS 20:00-08:00, e-mail 21:00-07:00, in the appointment's zone),
and a reminder that falls inside them goes the evening before, never at 5:33 am."""

from __future__ import annotations

import re
from datetime import timedelta

from oncord.models import MessagingSettings
from tests.automations.conftest import default_zone, iso, local_time
from tests.automations.helpers import make_automation, sends


def never_set(db_session) -> None:
    """The settings row as a clinic that never touched quiet hours has it (the fixture switches them off)."""
    row = db_session.get(MessagingSettings, 1)
    row.email_quiet_off = row.sms_quiet_off = False
    row.email_quiet_start = row.email_quiet_end = row.sms_quiet_start = row.sms_quiet_end = None
    db_session.commit()


def _book_0833_tomorrow(sandbox, make_patient, pull, db_session, clock):
    """A 3-hour reminder for 08:33 tomorrow: due at 05:33, inside both channels' default quiet hours."""
    never_set(db_session)
    zone = default_zone(sandbox)
    patient = make_patient("Ava")
    pull()
    tomorrow = clock.now() + timedelta(days=1)
    starts = local_time(zone, tomorrow, 8, 33)
    sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    return zone, clock.now(), tomorrow


def test_a_reminder_due_at_0533_goes_the_evening_before_at_the_latest_allowed_time(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """SMS at 19:59 (before 20:00), e-mail at 20:59 (before 21:00); nothing before, nothing at 05:33."""
    zone, today, tomorrow = _book_0833_tomorrow(sandbox, make_patient, pull, db_session, clock)
    make_automation(db_session, clock, offset_minutes=3 * 60)
    db_session.commit()

    clock.set(local_time(zone, today, 19, 58))
    pull()
    dispatch()
    assert smtp_sink.received == [] and fake_twilio.received == []

    clock.set(local_time(zone, today, 19, 59) + timedelta(seconds=10))
    dispatch()
    assert len(fake_twilio.received) == 1 and smtp_sink.received == []
    assert "8:33 am" in fake_twilio.received[0].body
    [waiting] = sends(db_session, channel="email")
    assert (waiting.state, waiting.due_at) == ("pending", local_time(zone, today, 20, 59))

    clock.set(local_time(zone, today, 20, 59) + timedelta(seconds=10))
    dispatch()
    assert len(smtp_sink.received) == 1
    assert {s.channel: s.sent_at for s in sends(db_session)} == {
        "sms": local_time(zone, today, 19, 59) + timedelta(seconds=10),
        "email": local_time(zone, today, 20, 59) + timedelta(seconds=10),
    }
    clock.set(local_time(zone, tomorrow, 5, 33))
    dispatch()
    assert len(fake_twilio.received) == 1 and len(smtp_sink.received) == 1


def test_once_the_latest_allowed_time_is_past_the_reminder_goes_at_once(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """Switched on at 19:59:20, after the SMS's latest time (19:59): it goes at once, still before 20:00."""
    zone, today, _ = _book_0833_tomorrow(sandbox, make_patient, pull, db_session, clock)
    clock.set(local_time(zone, today, 19, 59) + timedelta(seconds=20))
    pull()
    make_automation(db_session, clock, offset_minutes=3 * 60)
    db_session.commit()
    clock.advance(seconds=20)
    dispatch()
    assert len(fake_twilio.received) == 1
    assert [s.state for s in sends(db_session, channel="sms")] == ["sent"]


def test_inside_quiet_hours_a_late_reminder_waits_for_their_end_if_that_is_before_the_appointment(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """Switched on at 20:30: the SMS cannot go before 20:00 any more, so it waits until 08:00 (not 05:33)."""
    zone, today, tomorrow = _book_0833_tomorrow(sandbox, make_patient, pull, db_session, clock)
    clock.set(local_time(zone, today, 20, 30))
    pull()
    make_automation(db_session, clock, offset_minutes=3 * 60)
    db_session.commit()
    clock.advance(seconds=20)
    dispatch()
    assert fake_twilio.received == []
    [sms] = sends(db_session, channel="sms")
    assert (sms.state, sms.reason, sms.due_at) == ("pending", "quiet_hours", local_time(zone, tomorrow, 8))
    clock.set(local_time(zone, tomorrow, 5, 33))
    dispatch()
    assert fake_twilio.received == []
    clock.set(local_time(zone, tomorrow, 8) + timedelta(seconds=10))
    dispatch()
    assert len(fake_twilio.received) == 1


def test_quiet_hours_an_admin_switched_off_stay_off(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """With both channels switched off, the reminder goes at its own time, 05:33."""
    zone, today, tomorrow = _book_0833_tomorrow(sandbox, make_patient, pull, db_session, clock)
    row = db_session.get(MessagingSettings, 1)
    row.email_quiet_off = row.sms_quiet_off = True
    make_automation(db_session, clock, offset_minutes=3 * 60)
    db_session.commit()
    clock.set(local_time(zone, today, 21, 30))
    pull()
    dispatch()
    assert fake_twilio.received == [] and smtp_sink.received == []
    clock.set(local_time(zone, tomorrow, 5, 33) + timedelta(seconds=10))
    dispatch()
    assert len(fake_twilio.received) == 1 and len(smtp_sink.received) == 1


def test_the_settings_page_shows_the_defaults_as_real_values_for_a_clinic_that_never_set_them(
    owner, db_session
) -> None:
    """Empty settings (an existing clinic): the boxes are ticked and the times filled in, not placeholders."""
    never_set(db_session)
    html = owner.get("/settings/messaging").get_data(as_text=True)
    for name, value in (("email_quiet_start", "21:00"), ("email_quiet_end", "07:00"),
                        ("sms_quiet_start", "20:00"), ("sms_quiet_end", "08:00")):
        assert f'name="{name}" type="text" value="{value}"' in html
    for box in ("email_quiet_on", "sms_quiet_on"):
        assert re.search(rf'<input checked id="{box}" name="{box}" type="checkbox"', html)
    assert "placeholder=\"20:00\"" not in html
