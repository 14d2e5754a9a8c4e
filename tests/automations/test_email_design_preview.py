"""The automation editor previews the designed e-mail as it would be sent, and checks its blocks."""

from __future__ import annotations

import re
from datetime import timedelta

from oncord.bookings.settings import update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from tests.automations.test_screens import NEW_FORM
from tests.factories import make_appointment, make_contact

BOOKINGS = "https://sunnyside.au1.cliniko.com/bookings"


def test_the_preview_frames_carry_the_designed_email_with_its_button(staff, db_session, clock) -> None:
    """Two frames (600 and 390 px) of the HTML part: the button opens the Book Now link and the
    contact's name stays text."""
    update_clinic_settings(db_session, clinic_name="Sunnyside Physio",
                           bookings_url=parse_bookings_url(BOOKINGS), clock=clock)
    contact = make_contact(db_session, clock, first_name="<i>Mia</i>", email="mia@example.com",
                           email_marketing_status="subscribed")
    make_appointment(db_session, contact, clock.now() - timedelta(hours=3))
    db_session.commit()
    form = {**NEW_FORM, "email_body": "Hi {{ first_name }},\n[button: Rebook now]\n---\nBye",
            "preview_contact": str(contact.id)}
    html = staff.post("/automations/preview", form).get_data(as_text=True)
    frames = re.findall(r'<iframe src="([^"]+)" title="The e-mail at (desktop|phone) width"', html)
    assert [kind for _, kind in frames] == ["desktop", "phone"] and frames[0][0] == frames[1][0]
    sent = staff.get(frames[0][0]).get_data(as_text=True)
    assert re.search(rf'<a href="{re.escape(BOOKINGS)}"[^>]*>Rebook now</a>', sent)
    assert "Hi &lt;i&gt;Mia&lt;/i&gt;," in sent and "<i>Mia</i>" not in sent


def test_a_malformed_block_is_named_in_the_preview_and_refused_on_save(staff, db_session, clock) -> None:
    """An image without its description: the preview says what is wrong and saving is refused."""
    form = {**NEW_FORM, "email_body": "Hi\n[image: https://cdn.sunnyside.example/pool.jpg]"}
    preview = staff.post("/automations/preview", form).get_data(as_text=True)
    assert "an image needs a description" in preview and "<iframe" not in preview
    saved = staff.post("/automations/new", form)
    assert saved.status_code == 422 and "an image needs a description" in saved.get_data(as_text=True)
