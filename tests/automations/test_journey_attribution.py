"""A journey's SMS carries its own tracked Book Now link; a class booked online after a click is credited
to the journey, and the journey screen shows it with the rule."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from oncord.models import Appointment, BookingAttribution
from tests.automations.conftest import contact_of, iso
from tests.automations.test_journeys import dna_journey, miss
from tests.fixtures.messaging import PUBLIC_URL

LINK = re.compile(re.escape(PUBLIC_URL) + r"/b/[0-9A-Za-z]+")


def test_a_class_booked_online_after_the_journeys_sms_link_is_credited_to_the_journey(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio, staff, client
) -> None:
    """SMS link -> click (utm_medium=sms, the journey's slug) -> online class booking -> the journey's."""
    chloe = make_patient("Chloe")
    pull()
    journey = dna_journey(db_session, clock)
    miss(sandbox, clock, chloe)
    pull()
    dispatch()
    dispatch()
    (sms,) = fake_twilio.received
    (link,) = LINK.findall(sms.body)
    assert "cliniko.com" not in sms.body

    clock.advance(minutes=30)
    target = urlsplit(client.get(urlsplit(link).path).headers["Location"])
    assert target.netloc.endswith(".cliniko.com") and target.path == "/bookings"
    query = parse_qs(target.query)
    assert (query["utm_medium"], query["utm_campaign"]) == (["sms"], ["missed-you"])

    clock.advance(hours=1)
    group = requests.post(f"{sandbox.control_url}/group_appointments",
                          json={"starts_at": iso(clock.now() + timedelta(days=2))}, timeout=10).json()["id"]
    booked = requests.post(f"{sandbox.control_url}/group_appointments/{group}/attendees",
                           json={"patient_id": chloe.cliniko_id, "online": True}, timeout=10)
    assert booked.status_code == 201
    clock.advance(minutes=1)
    pull()

    db_session.expire_all()
    credited = db_session.scalars(select(BookingAttribution)).one()
    assert (credited.kind, credited.automation_id, credited.campaign_id) == ("clicked", journey.id, None)
    assert credited.contact_id == contact_of(db_session, chloe).id
    assert db_session.get(Appointment, credited.appointment_id).kind == "class"

    page = staff.get(f"/automations/{journey.id}/journey").get_data(as_text=True)
    assert re.search(r'data-count="bookings-attributed">1<', page)
    assert re.search(r'data-count="bookings-after-message">0<', page)
    assert "after clicking its Book Now link" in page
