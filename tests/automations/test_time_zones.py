"""One rule for times: an appointment in its business's zone (with the short name when that reads
differently from the clinic's), a message's sending time in the clinic's zone, on every screen and
in the message itself."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.automations.conftest import contact_of, iso
from tests.automations.helpers import make_automation, sends
from tests.automations.test_screens import NEW_FORM

# 07:45 UTC on 22 November: 5:45 pm in Brisbane (AEST, no daylight saving), 6:45 pm in Melbourne (AEDT).
STARTS = datetime(2026, 11, 22, 7, 45, tzinfo=UTC)


def _brisbane_business(sandbox) -> str:
    catalog = sandbox.store.catalog
    k = next(k for k, row in enumerate(catalog.businesses.rows)
             if row["time_zone_identifier"] == "Australia/Brisbane")
    return str(sandbox.store.tables["businesses"].codec.encode(k))


def test_a_brisbane_appointment_shows_one_time_on_screens_and_in_the_message(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio, staff
) -> None:
    """Contact page, automation preview, the e-mail and SMS received and the send log all say 5:45 pm AEST;
    the send log says the message left at 6:45 pm, Melbourne time (the clinic's zone)."""
    patient = make_patient("Olivia")
    pull()
    automation = make_automation(db_session, clock)
    db_session.commit()
    sandbox.store.add_appointment(
        patient_id=patient.cliniko_id, starts_at=iso(STARTS), business_id=_brisbane_business(sandbox)
    )
    clock.advance(minutes=5)
    pull()
    contact = contact_of(db_session, patient)

    page = staff.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Sun 22 Nov 2026, 5:45 pm AEST" in page and "6:45 pm" not in page

    form = {**NEW_FORM, "trigger": "upcoming", "timing_amount": "24", "send_sms": "y",
            "email_body": "See you {{ appointment_start }}", "sms_body": "See you {{ appointment_start }}",
            "preview_contact": str(contact.id)}
    preview = staff.post("/automations/preview", form).get_data(as_text=True)
    assert "See you Sunday 22 November at 5:45 pm AEST" in preview

    clock.set(datetime(2026, 11, 21, 7, 45, 30, tzinfo=UTC))
    pull()
    dispatch()
    assert [s.state for s in sends(db_session)] == ["sent", "sent"]
    assert "See you Sunday 22 November at 5:45 pm AEST with" in smtp_sink.received[0].text()
    assert fake_twilio.received[0].body.startswith("Hi Olivia, reminder: Sunday 22 November at 5:45 pm AEST")

    log = staff.get(f"/automations/{automation.id}/log").get_data(as_text=True)
    assert "Sun 22 Nov 2026, 5:45 pm AEST" in log  # the appointment, in its business's zone
    assert "Sat 21 Nov 2026, 6:45 pm" in log  # when it left, in the clinic's zone


def test_an_appointment_in_the_clinics_own_zone_shows_no_zone_name(
    connected, sandbox, make_patient, pull, db_session, clock, staff
) -> None:
    """A Melbourne appointment for a Melbourne clinic reads plainly: 6:45 pm, no "AEDT"."""
    patient = make_patient("Noah")
    pull()
    sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(STARTS))
    clock.advance(minutes=5)
    pull()
    page = staff.get(f"/contacts/{contact_of(db_session, patient).id}").get_data(as_text=True)
    assert "Sun 22 Nov 2026, 6:45 pm<" in page
