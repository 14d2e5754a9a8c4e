"""Adding a contact by hand: not linked to Cliniko, its first consent in the ledger with evidence."""

from __future__ import annotations

from sqlalchemy import select

from oncord.models import ActivityEvent, ConsentChange, Contact, PatientChange
from tests.web.conftest import post

NEW = {
    "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "phone": "0412 555 010",
    "date_of_birth": "", "address_1": "", "address_2": "", "address_3": "", "city": "Fitzroy", "state": "VIC",
    "post_code": "3065", "country_code": "AU", "sex": "", "gender_identity": "",
    "email_marketing_status": "pending",
    "sms_marketing_status": "pending", "consent_evidence": "",
}


def test_the_form_starts_pending_and_is_linked_from_the_list(staff_client) -> None:
    """The contacts screen offers "Add contact"; the new form proposes Pending on both channels."""
    assert 'href="/contacts/new"' in staff_client.get("/contacts").get_data(as_text=True)
    form = staff_client.get("/contacts/new").get_data(as_text=True)
    assert form.count('<option selected value="pending">') == 2
    assert 'name="consent_evidence"' in form and "csrf_token" in form


def test_staff_add_a_subscribed_contact_with_evidence(staff_client, db_session, clock) -> None:
    """Saved unlinked, with a ledger row per channel naming the staff member and how they consented."""
    response = post(staff_client, "/contacts/new", {
        **NEW, "email_marketing_status": "subscribed", "consent_evidence": "verbal consent at reception"})
    assert response.status_code == 303
    contact = db_session.scalars(select(Contact)).one()
    assert response.headers["Location"].endswith(f"/contacts/{contact.id}")
    # The phone keeps the form it was typed in, with its E.164 form beside it (as an edit stores it).
    assert (contact.full_name, contact.cliniko_patient_id, contact.phone, contact.phone_e164,
            contact.phone_is_mobile, contact.country) == (
        "Grace Hopper", None, "0412 555 010", "+61412555010", True, "Australia")
    assert (contact.email_marketing_status, contact.sms_marketing_status) == ("subscribed", "pending")
    rows = [(c.channel, c.old_status, c.new_status, c.source, c.actor, c.evidence)
            for c in db_session.scalars(select(ConsentChange).order_by(ConsentChange.id))]
    who, how = "reception@clinic.example", "verbal consent at reception"
    assert rows == [("email", None, "subscribed", "staff_edit", who, how),
                    ("sms", None, "pending", "staff_edit", who, how)]
    assert len(db_session.scalars(select(ActivityEvent)).all()) == 2
    assert db_session.scalars(select(PatientChange)).all() == []  # nothing to push: not in Cliniko
    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Not in Cliniko" in page and "Consent: verbal consent at reception" in page


def test_subscribed_without_evidence_is_refused(staff_client, db_session) -> None:
    """A click is not consent: Subscribed with no evidence comes back (422) saying what to record."""
    response = post(staff_client, "/contacts/new", {**NEW, "sms_marketing_status": "subscribed"}, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "record how they gave consent" in body and 'id="new-contact"' in body and "<html" not in body
    assert db_session.scalars(select(Contact)).all() == []
    assert db_session.scalars(select(ConsentChange)).all() == []


def test_a_nameless_contact_is_refused(staff_client, db_session) -> None:
    """The same field checks as editing: a name to find the contact by."""
    response = post(staff_client, "/contacts/new", {**NEW, "first_name": "", "last_name": ""})
    assert response.status_code == 422 and "Enter a first or last name." in response.get_data(as_text=True)
    assert db_session.scalars(select(Contact)).all() == []


def test_admins_see_the_csv_download_on_the_contacts_screen(admin_client) -> None:
    """Admins get "Download CSV" next to "Add contact"."""
    assert 'href="/exports/contacts.csv"' in admin_client.get("/contacts").get_data(as_text=True)


def test_staff_do_not_see_the_csv_download(staff_client) -> None:
    """The download is an admin's."""
    assert "/exports/contacts.csv" not in staff_client.get("/contacts").get_data(as_text=True)
