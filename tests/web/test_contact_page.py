"""The contact page: synced fields, the Cliniko link, the activity feed and the edit form."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from oncord.models import ActivityEvent, ConsentChange, Contact
from tests.factories import (
    make_appointment,
    make_appointment_type,
    make_connection,
    make_contact,
    make_event,
    make_practitioner,
)
from tests.web.conftest import HTMX, post

VALID = {
    "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "0412345678",
    "date_of_birth": "1984-03-02", "address_1": "1 Beach Rd", "address_2": "", "address_3": "",
    "city": "St Kilda", "state": "VIC", "post_code": "3182", "country_code": "AU",
    "sex": "", "gender_identity": "", "email_marketing_status": "pending", "sms_marketing_status": "pending",
}


def feed_texts(body: str) -> list[str]:
    """The sentences of the activity feed, in order."""
    return re.findall(r'<p class="feed-text">([^<]+)</p>', body)


def test_contact_page_shows_synced_fields(staff_client, db_session, clock) -> None:
    """Every synced field is on the page, with marketing status per channel."""
    contact = make_contact(db_session, clock, first_name="Ada", last_name="Lovelace", email="ada@example.com",
                           phone="+61 412 345 678", date_of_birth=date(1984, 3, 2), sex="Female",
                           gender_identity="Woman", address_1="1 Beach Rd", city="St Kilda", state="VIC",
                           post_code="3182", country="Australia", email_marketing_status="subscribed",
                           sms_marketing_status="unsubscribed", cliniko_patient_id="998877",
                           cliniko_reminder_type="SMS & Email")
    db_session.commit()
    body = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    for text in ("Ada Lovelace", "ada@example.com", "+61 412 345 678", "2 Mar 1984", "Female", "Woman",
                 "1 Beach Rd", "St Kilda VIC 3182", "Australia", "998877", "SMS &amp; Email"):
        assert text in body, text
    assert 'data-channel="email"><span class="badge badge-subscribed">Subscribed' in body
    assert 'data-channel="sms"><span class="badge badge-unsubscribed">Unsubscribed' in body


def test_linked_contact_links_to_cliniko_in_a_new_tab(staff_client, db_session, clock) -> None:
    """A linked contact has the blue Cliniko mark pointing at the patient's record."""
    make_connection(db_session, clock, subdomain="sunnyside", shard="au2")
    contact = make_contact(db_session, clock, cliniko_patient_id="123456789")
    db_session.commit()
    body = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    link = re.search(r'<a class="cliniko-link" href="([^"]+)" target="_blank" rel="noopener noreferrer"',
                     body)
    assert link and link.group(1) == "https://sunnyside.au2.cliniko.com/patients/123456789"
    assert "View in Cliniko" in body and "#1b6ad8" in body


def test_unlinked_contact_has_no_cliniko_link(staff_client, db_session, clock) -> None:
    """A contact that is not a Cliniko patient says so."""
    make_connection(db_session, clock)
    contact = make_contact(db_session, clock)
    db_session.commit()
    body = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "cliniko-link" not in body and "Not in Cliniko" in body


def test_missing_contact_is_a_helpful_404(staff_client) -> None:
    """An unknown id tells staff to search instead."""
    response = staff_client.get("/contacts/424242")
    assert response.status_code == 404
    assert "Search for it from the Contacts page" in response.get_data(as_text=True)


def test_activity_feed_loads_more(staff_client, db_session, clock) -> None:
    """The feed shows the newest 15 events and a button that fetches the next ones as a fragment."""
    contact = make_contact(db_session, clock)
    practitioner = make_practitioner(db_session, "Dr Jane Smith")
    kind = make_appointment_type(db_session, "Hydrotherapy")
    start = clock.now() - timedelta(days=40)
    for day in range(20):
        appointment = make_appointment(db_session, contact, start + timedelta(days=day),
                                       practitioner_id=practitioner.id, appointment_type_id=kind.id)
        make_event(db_session, contact, "appointment_booked", start + timedelta(days=day),
                   appointment=appointment)
    # Two events at the same moment must not be lost or repeated across pages.
    make_event(db_session, contact, "email_sent", start - timedelta(days=1), subject="Welcome")
    make_event(db_session, contact, "email_sent", start - timedelta(days=1), subject="Welcome again")
    db_session.commit()
    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    first = feed_texts(page)
    assert len(first) == 15 and first[0] == "Booked: Hydrotherapy with Dr Jane Smith"
    more = re.search(r'data-hx-get="(/contacts/\d+/activity\?before=[^"]+)"', page).group(1)
    response = staff_client.get(more.replace("&amp;", "&"), headers=HTMX)
    assert response.status_code == 200
    second = response.get_data(as_text=True)
    assert feed_texts(second) == ["Booked: Hydrotherapy with Dr Jane Smith"] * 5 + [
        "E-mail sent: Welcome again", "E-mail sent: Welcome"]
    assert "Load more" not in second
    assert "Nothing yet" not in second


def test_activity_url_without_htmx_goes_to_the_contact(staff_client, db_session, clock) -> None:
    """Opening the feed URL directly shows the contact page."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    response = staff_client.get(f"/contacts/{contact.id}/activity")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contacts/{contact.id}#activity"


def test_feed_describes_each_kind_and_escapes_cliniko_text(staff_client, db_session, clock) -> None:
    """Cancellations give the reason, consent changes their source; Cliniko text is escaped."""
    contact = make_contact(db_session, clock)
    practitioner = make_practitioner(db_session, "<i>Dr Evil</i>")
    appointment = make_appointment(db_session, contact, clock.now(), practitioner_id=practitioner.id)
    make_event(db_session, contact, "appointment_cancelled", clock.now(), appointment=appointment,
               reason="<script>alert(1)</script>")
    make_event(db_session, contact, "consent_changed", clock.now() - timedelta(hours=1), channel="sms",
               old="pending", new="unsubscribed", source="sms_stop")
    db_session.commit()
    body = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "<i>Dr Evil</i>" not in body and "<script>alert(1)</script>" not in body
    assert feed_texts(body) == [
        "Cancelled: Appointment with &lt;i&gt;Dr Evil&lt;/i&gt; (&lt;script&gt;alert(1)&lt;/script&gt;)",
        "SMS marketing: Pending → Unsubscribed (SMS STOP reply)",
    ]


def test_empty_feed_says_what_will_appear(staff_client, db_session, clock) -> None:
    """A contact with no activity has an explanatory empty state."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    assert "Nothing yet" in staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_edit_form_as_fragment_and_as_page(staff_client, db_session, clock) -> None:
    """htmx swaps the form in place of the details; without htmx it is a whole page."""
    contact = make_contact(db_session, clock, email="ada@example.com")
    db_session.commit()
    fragment = staff_client.get(f"/contacts/{contact.id}/edit", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<form id="contact-details"')
    assert 'value="ada@example.com"' in fragment
    page = staff_client.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert "<html" in page and 'id="contact-details"' in page and "Edit details" in page
    cancel = staff_client.get(f"/contacts/{contact.id}", headers=HTMX).get_data(as_text=True)
    assert cancel.lstrip().startswith('<section id="contact-details"')


def test_edit_saves_and_records_consent(staff_client, db_session, clock) -> None:
    """A valid edit is saved (phone as typed, with its E.164 form) and consent changes are recorded."""
    contact = make_contact(db_session, clock, email_marketing_status="subscribed")
    db_session.commit()
    clock.advance(hours=1)
    response = post(staff_client, f"/contacts/{contact.id}/edit",
                    {**VALID, "email_marketing_status": "unsubscribed"}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/contacts/{contact.id}"
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert (saved.email, saved.phone, saved.date_of_birth) == ("ada@example.com", "0412345678",
                                                               date(1984, 3, 2))
    assert (saved.phone_e164, saved.phone_is_mobile) == ("+61412345678", True)
    assert (saved.country_code, saved.country) == ("AU", "Australia")
    assert saved.address_2 is None and saved.updated_at == clock.now()
    assert saved.email_marketing_status == "unsubscribed"
    change = db_session.scalars(select(ConsentChange)).one()
    assert (change.channel, change.old_status, change.new_status, change.source) == (
        "email", "subscribed", "unsubscribed", "staff_edit")
    event = db_session.scalars(select(ActivityEvent)).one()
    assert event.kind == "consent_changed" and event.details["new"] == "unsubscribed"
    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Saved." in page and "Consent ledger" in page


def test_plain_form_post_redirects(staff_client, db_session, clock) -> None:
    """Without htmx a saved form answers 303 to the contact page."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    response = post(staff_client, f"/contacts/{contact.id}/edit", VALID)
    assert response.status_code == 303 and response.headers["Location"] == f"/contacts/{contact.id}"


def test_invalid_edit_shows_field_errors_and_saves_nothing(staff_client, db_session, clock) -> None:
    """Bad e-mail, phone and date of birth come back as the form with each error (422)."""
    contact = make_contact(db_session, clock, email="keep@example.com")
    db_session.commit()
    bad = {**VALID, "email": "ada@", "phone": "12", "date_of_birth": "2031-01-01", "first_name": "",
           "last_name": ""}
    response = post(staff_client, f"/contacts/{contact.id}/edit", bad, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="contact-details"')
    for message in ("This is not a valid e-mail address", "This number is too short",
                    "cannot be in the future", "Enter a first or last name"):
        assert message in body, message
    assert 'aria-invalid="true"' in body
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email == "keep@example.com"


def test_invalid_number_for_the_country(staff_client, db_session, clock) -> None:
    """A number with the right shape but impossible digits is refused."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    response = post(staff_client, f"/contacts/{contact.id}/edit", {**VALID, "phone": "0112 345 678"},
                    htmx=True)
    assert response.status_code == 422 and "This number is not valid" in response.get_data(as_text=True)
    letters = post(staff_client, f"/contacts/{contact.id}/edit", {**VALID, "phone": "call me"}, htmx=True)
    assert "This is not a phone number" in letters.get_data(as_text=True)


def test_invalid_edit_without_htmx_is_the_whole_page(staff_client, db_session, clock) -> None:
    """A plain form post with errors gets the contact page with the form in it."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    response = post(staff_client, f"/contacts/{contact.id}/edit", {**VALID, "email": "nope"})
    assert response.status_code == 422 and "<html" in response.get_data(as_text=True)


def test_edit_without_csrf_token_is_rejected(staff_client, db_session, clock) -> None:
    """A forged cross-site post changes nothing."""
    contact = make_contact(db_session, clock, email="keep@example.com")
    db_session.commit()
    response = staff_client.post(f"/contacts/{contact.id}/edit", data=VALID, headers=HTMX)
    assert response.status_code == 400
    assert "This page had expired" in response.headers["X-Oncord-Alert"].replace("%20", " ")
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email == "keep@example.com"


def test_contact_page_escapes_a_script_name(staff_client, db_session, clock) -> None:
    """<script>alert(1)</script> as a name is text on the contact page and in its form."""
    contact = make_contact(db_session, clock, first_name="<script>alert(1)</script>")
    db_session.commit()
    for url in (f"/contacts/{contact.id}", f"/contacts/{contact.id}/edit"):
        body = staff_client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_editing_a_linked_contact_queues_a_push_to_cliniko(staff_client, app, db_session, clock,
                                                           redis_conn) -> None:
    """A linked contact's edit is recorded in the outbox and a push job is scheduled."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from oncord import context
    from oncord.models import PatientChange

    contact = make_contact(db_session, clock, cliniko_patient_id="4242", email="old@example.com")
    db_session.commit()
    response = post(staff_client, f"/contacts/{contact.id}/edit", {**VALID, "email": "new@example.com"})
    assert response.status_code == 303
    fields = set(db_session.scalars(select(PatientChange.field)))
    assert {"email", "phone"} <= fields and "first_name" not in fields  # only what changed
    queue = Queue(context.settings(app).rq_queue, connection=redis_conn)
    assert len(ScheduledJobRegistry(queue=queue)) == 1
    assert "goes to Cliniko" in staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_editing_an_unlinked_contact_queues_nothing(staff_client, db_session, clock) -> None:
    """Contacts not in Cliniko are never pushed."""
    from oncord.models import PatientChange

    contact = make_contact(db_session, clock)
    db_session.commit()
    post(staff_client, f"/contacts/{contact.id}/edit", VALID)
    assert db_session.scalars(select(PatientChange)).first() is None


def test_contact_page_lists_edits_waiting_for_cliniko_and_refusals(staff_client, db_session, clock) -> None:
    """Staff see which edits have not reached Cliniko yet, and Cliniko's words for a refused one."""
    from oncord.models import PatientChange

    contact = make_contact(db_session, clock, cliniko_patient_id="4243")
    db_session.flush()
    db_session.add_all([
        PatientChange(contact_id=contact.id, field="city", status="pending", open_key="open",
                      first_changed_at=clock.now(), changed_at=clock.now(), attempts=0),
        PatientChange(contact_id=contact.id, field="email", status="failed", open_key="open",
                      first_changed_at=clock.now(), changed_at=clock.now(), attempts=1,
                      error="Cliniko did not accept the e-mail: <is invalid>"),
    ])
    db_session.commit()
    body = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Waiting to go to Cliniko: city" in body
    assert "Cliniko did not accept the e-mail" in body and "&lt;is invalid&gt;" in body
    assert "Create patient in Cliniko" not in body


def test_create_patient_in_cliniko_from_the_contact_page(staff_client, db_session, clock, cliniko) -> None:
    """An unlinked contact gets a button that creates the Cliniko patient and links it."""
    from oncord import context
    from oncord.integration import connect_cliniko

    app = staff_client.application
    connect_cliniko(db_session, api_key=cliniko.api_key, settings=context.settings(app),
                    secret_box=context.secret_box(app), clock=clock,
                    client_options=context.cliniko_client_options(app))
    contact = make_contact(db_session, clock, first_name="Noor", last_name="Haddad", email="noor@example.com")
    db_session.commit()
    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Create patient in Cliniko" in page
    response = post(staff_client, f"/contacts/{contact.id}/cliniko-patient", {})
    assert response.status_code in (302, 303)
    db_session.expire_all()
    linked = db_session.get(Contact, contact.id)
    assert linked.cliniko_patient_id is not None
    remote = cliniko.store.get("patients", linked.cliniko_patient_id)
    assert (remote["first_name"], remote["email"]) == ("Noor", "noor@example.com")
    assert "is now a patient in Cliniko" in staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_create_patient_needs_the_csrf_token(staff_client, db_session, clock) -> None:
    """The button's POST without a token is refused and creates nothing."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    response = staff_client.post(f"/contacts/{contact.id}/cliniko-patient", data={})
    assert response.status_code == 400
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).cliniko_patient_id is None
