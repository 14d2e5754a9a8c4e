"""The consent ledger and the re-subscribe rule, through the HTTP app and the Cliniko sandbox."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from oncord import context
from oncord.db import get_database
from oncord.messaging.inbound import twilio_signature
from oncord.messaging.unsubscribe import unsubscribe_url
from oncord.models import ConsentChange, Contact, LedgerIsAppendOnly, PatientChange
from oncord.sync.patient_fields import EDITED_HERE
from tests.factories import make_contact
from tests.fixtures.messaging import PUBLIC_URL
from tests.sync.helpers import USER_AGENT
from tests.web.conftest import post

HOOK = "/hooks/twilio/sms"


def _contact(session, patient_id: str) -> Contact:
    session.expire_all()
    return session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()


def _ledger(session, contact_id: int) -> list[tuple[str, str | None, str, str, str | None, str | None]]:
    session.expire_all()
    return [(c.channel, c.old_status, c.new_status, c.source, c.actor, c.evidence) for c in session.scalars(
        select(ConsentChange).where(ConsentChange.contact_id == contact_id).order_by(ConsentChange.id))]


def _patient(sandbox, patient_id: str) -> dict:
    response = requests.get(f"{sandbox.base_url}/patients/{patient_id}", auth=(sandbox.api_key, ""),
                            headers={"User-Agent": USER_AGENT}, timeout=10)
    response.raise_for_status()
    return response.json()


def _stop(client, app, number: str):
    settings = context.settings(app)
    params = {"AccountSid": settings.twilio_account_sid, "MessageSid": "SM" + "2" * 32, "To": "+61400000000",
              "From": number, "Body": "STOP"}
    signature = twilio_signature(settings.twilio_auth_token, PUBLIC_URL + HOOK, params.items())
    return client.post(HOOK, data=params, headers={"X-Twilio-Signature": signature})


def _unsubscribe_link(app, contact_id: int, channel: str) -> str:
    return unsubscribe_url("http://localhost", context.settings(app).secret_key, contact_id, channel)


def _form(contact: Contact, **changes: str) -> dict[str, str]:
    """The edit form as the browser posts it, unchanged but for `changes`."""
    values = {f.column: getattr(contact, f.column) or "" for f in EDITED_HERE}
    values["date_of_birth"] = contact.date_of_birth.isoformat() if contact.date_of_birth else ""
    values.update(email_marketing_status=contact.email_marketing_status,
                  sms_marketing_status=contact.sms_marketing_status)
    return {**values, "consent_evidence": "", **changes}


def test_the_ledger_records_each_source_with_its_actor(
    connected, make_patient, pull, db_session, clock, client, reception
) -> None:
    """Sync, a staff edit (with the user's name and evidence), the link and STOP each leave their row."""
    olivia = make_patient("Olivia", email=False, sms=True)
    pull()
    contact = _contact(db_session, olivia)
    clock.advance(hours=1)
    response = post(reception, f"/contacts/{contact.id}/edit",
                    _form(contact, email_marketing_status="subscribed",
                          consent_evidence="ticked the box on the intake form"))
    assert response.status_code == 303
    clock.advance(hours=1)
    assert client.post(_unsubscribe_link(connected, contact.id, "email")).status_code == 200
    clock.advance(hours=1)
    assert _stop(client, connected, "+61412345678").status_code == 200

    assert _ledger(db_session, contact.id) == [
        ("email", None, "pending", "cliniko_sync", None, None),
        ("sms", None, "subscribed", "cliniko_sync", None, None),
        ("email", "pending", "subscribed", "staff_edit", "reception@clinic.example",
         "ticked the box on the intake form"),
        ("email", "subscribed", "unsubscribed", "unsubscribe_link", None, None),
        ("sms", "subscribed", "unsubscribed", "sms_stop", None, None),
    ]
    page = reception.get(f"/contacts/{contact.id}").get_data(as_text=True)
    ledger = page[page.index("Consent ledger"):]
    for words in ("SMS STOP reply", "unsubscribe link", "staff (reception@clinic.example)",
                  "Consent: ticked the box on the intake form", "from Cliniko"):
        assert words in ledger, words


def test_ledger_rows_are_never_updated_or_deleted(app, db_session, clock) -> None:
    """The ORM has no path to change or remove a row, and the database's trigger refuses raw SQL."""
    contact = make_contact(db_session, clock)
    db_session.commit()
    db_session.add(ConsentChange(contact_id=contact.id, channel="email", old_status="pending",
                                 new_status="unsubscribed", source="unsubscribe_link",
                                 occurred_at=clock.now()))
    db_session.commit()
    row = db_session.scalars(select(ConsentChange)).one()

    row.new_status = "subscribed"
    with pytest.raises(LedgerIsAppendOnly):
        db_session.commit()
    db_session.rollback()
    db_session.delete(db_session.scalars(select(ConsentChange)).one())
    with pytest.raises(LedgerIsAppendOnly):
        db_session.commit()
    db_session.rollback()
    for statement in (update(ConsentChange).values(new_status="subscribed"), delete(ConsentChange)):
        with pytest.raises(LedgerIsAppendOnly):
            db_session.execute(statement)
        db_session.rollback()

    engine = get_database(app).engine
    for sql in ("UPDATE consent_changes SET new_status = 'subscribed'", "DELETE FROM consent_changes"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(sql))
    db_session.expire_all()
    assert db_session.scalars(select(ConsentChange.new_status)).all() == ["unsubscribed"]


def test_ledger_rows_outlive_their_contact(app, db_session, clock, client) -> None:
    """Deleting a contact leaves its consent record (no cascade)."""
    contact = make_contact(db_session, clock, email_marketing_status="subscribed")
    db_session.commit()
    assert client.post(_unsubscribe_link(app, contact.id, "email")).status_code == 200
    db_session.execute(delete(Contact).where(Contact.id == contact.id))
    db_session.commit()
    assert [r[2] for r in _ledger(db_session, contact.id)] == ["unsubscribed"]


def test_staff_cannot_resubscribe_a_patient_who_unsubscribed(
    messaging_app, db_session, clock, client, reception
) -> None:
    """After the patient's own unsubscribe the option is locked for staff, says why; a forged POST fails."""
    contact = make_contact(db_session, clock, email="ava@example.com", email_marketing_status="subscribed")
    db_session.commit()
    assert client.post(_unsubscribe_link(messaging_app, contact.id, "email")).status_code == 200
    db_session.expire_all()
    contact = db_session.get(Contact, contact.id)

    form = reception.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    email_lock = form.index('data-channel="email" data-locked="yes"')
    locked = form[email_lock:form.index('name="sms_marketing_status"')]
    options = {m.group(2): "disabled" in m.group(1) + m.group(3)
               for m in re.finditer(r'<option([^>]*)value="(\w+)"([^>]*)>', locked)}
    assert options == {"subscribed": True, "pending": True, "unsubscribed": False}
    assert "Only an admin can subscribe them again" in locked and "unsubscribe link" in locked
    assert 'class="consent-lock" data-channel="sms"' not in form  # SMS was never unsubscribed

    for status in ("subscribed", "pending"):
        response = post(reception, f"/contacts/{contact.id}/edit",
                        _form(contact, email_marketing_status=status, consent_evidence="she said so"))
        assert response.status_code == 422
        assert "only an admin can subscribe them again" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email_marketing_status == "unsubscribed"
    assert [r[3] for r in _ledger(db_session, contact.id)] == ["unsubscribe_link"]


def test_an_admin_resubscribes_only_with_evidence_and_cliniko_gets_it(
    connected, make_patient, pull, push, sandbox, db_session, clock, client, owner
) -> None:
    """An admin must record how the patient consented again; then the ledger shows it and Cliniko follows."""
    olivia = make_patient("Olivia")
    pull()
    contact = _contact(db_session, olivia)
    assert client.post(_unsubscribe_link(connected, contact.id, "email")).status_code == 200
    push()
    assert _patient(sandbox, olivia)["accepted_email_marketing"] is False
    contact = _contact(db_session, olivia)

    form = owner.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert 'data-locked="no"' in form and "record below how they gave consent" in form
    refused = post(owner, f"/contacts/{contact.id}/edit",
                   _form(contact, email_marketing_status="subscribed", consent_evidence="   "))
    assert refused.status_code == 422 and "record how they gave consent" in refused.get_data(as_text=True)
    assert _contact(db_session, olivia).email_marketing_status == "unsubscribed"

    clock.advance(hours=2)
    saved = post(owner, f"/contacts/{contact.id}/edit",
                 _form(contact, email_marketing_status="subscribed",
                       consent_evidence="signed form at front desk, 3 Dec"))
    assert saved.status_code == 303
    assert _contact(db_session, olivia).email_marketing_status == "subscribed"
    assert _ledger(db_session, contact.id)[-1] == (
        "email", "unsubscribed", "subscribed", "staff_edit", "owner@clinic.example",
        "signed form at front desk, 3 Dec")
    page = owner.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Consent: signed form at front desk, 3 Dec" in page
    push()
    assert _patient(sandbox, olivia)["accepted_email_marketing"] is True


def test_clinikos_flag_turning_true_does_not_resubscribe(
    connected, make_patient, pull, sandbox, db_session, clock, client, reception
) -> None:
    """The patient unsubscribed with us; Cliniko saying "accepted" again changes nothing; the page says so."""
    olivia = make_patient("Olivia")
    pull()
    contact = _contact(db_session, olivia)
    assert client.post(_unsubscribe_link(connected, contact.id, "email")).status_code == 200
    clock.advance(hours=1)
    sandbox.store.edit_patient(olivia, first_name="Liv", accepted_email_marketing=True)
    pull()
    contact = _contact(db_session, olivia)
    assert (contact.first_name, contact.email_marketing_status) == ("Liv", "unsubscribed")
    email_sources = [r[3] for r in _ledger(db_session, contact.id) if r[0] == "email"]
    assert email_sources == ["cliniko_sync", "unsubscribe_link"]
    page = reception.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Unsubscribed is never changed by a sync" in page


def test_a_local_sms_subscribed_survives_a_pull(
    connected, make_patient, pull, push, sandbox, db_session, clock, client, owner
) -> None:
    """Cliniko's API cannot opt in to SMS: an admin's SMS Subscribed (with evidence) outlives later pulls."""
    olivia = make_patient("Olivia", sms=True)
    pull()
    assert _stop(client, connected, "+61412345678").status_code == 200
    push()
    assert _patient(sandbox, olivia)["accepted_sms_marketing"] is False
    contact = _contact(db_session, olivia)
    clock.advance(hours=1)
    saved = post(owner, f"/contacts/{contact.id}/edit",
                 _form(contact, sms_marketing_status="subscribed", consent_evidence="texted START, 4 Dec"))
    assert saved.status_code == 303
    push()
    assert {c.status for c in db_session.scalars(select(PatientChange))} == {"pushed"}
    assert _patient(sandbox, olivia)["accepted_sms_marketing"] is False  # Cliniko could not take it

    for n in range(2):
        clock.advance(hours=1)
        sandbox.store.edit_patient(olivia, first_name=f"Renamed{n}")
        pull()
        contact = _contact(db_session, olivia)
        assert (contact.first_name, contact.sms_marketing_status) == (f"Renamed{n}", "subscribed")
    assert _ledger(db_session, contact.id)[-1][3] == "staff_edit"
