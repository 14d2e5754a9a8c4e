"""The one table of patient fields, seen through the edit form, the outbox, the push and the pull."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from oncord.forms.contacts import ContactForm
from oncord.models import ChangeStatus, Contact, PatientChange
from oncord.sync.patient_fields import EDITABLE, PATIENT_FIELDS, PUSHABLE_FIELDS, Owner
from tests.factories import make_user
from tests.sync.test_push import _linked, _patient
from tests.web.conftest import log_in, post


class _FormValues(HTMLParser):
    """What a browser would submit from the edit form: every input's value, each select's choice."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            self.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_values(client: FlaskClient, contact_id: int) -> dict[str, str]:
    """The edit form's values as the page renders them."""
    parser = _FormValues()
    parser.feed(client.get(f"/contacts/{contact_id}/edit").get_data(as_text=True))
    parser.values.pop("csrf_token", None)
    return parser.values


@pytest.fixture
def staff_client(connected_app, client: FlaskClient, db_session, clock) -> FlaskClient:
    """A client logged in as staff on the app connected to the sandbox."""
    user = make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    assert log_in(client, user.email).status_code == 303
    return client


def _outbox(db_session, contact_id: int) -> set[str]:
    db_session.expire_all()
    return set(db_session.scalars(select(PatientChange.field).where(PatientChange.contact_id == contact_id)))


def _set_cliniko_phone(sandbox, patient_id: str, number: str) -> None:
    sandbox.store.edit_patient(patient_id, patient_phone_numbers=[
        {"number": number, "phone_type": "Mobile", "normalized_number": "61" + number[1:]}])


def test_every_editable_field_is_pushed_or_marked_local_only() -> None:
    """An editable field Cliniko never hears of would be reverted by the next pull (the Country bug)."""
    for field in EDITABLE:
        assert field.write is not None or field.local_only, field.column
        assert field.column in PUSHABLE_FIELDS or field.local_only, field.column
        if field.write is not None:
            assert field.cliniko is not None, field.column


def test_the_form_has_one_input_per_editable_field(app) -> None:
    """The form is derived from the table: nothing editable is missing, nothing else is there but
    the consent ledger's evidence (not a patient field: it goes with a status change)."""
    with app.test_request_context():
        form = ContactForm(meta={"csrf": False}, today=date(2026, 12, 1))
    assert set(form._fields) - {"consent_evidence"} == {f.column for f in EDITABLE}
    assert {f.column for f in PATIENT_FIELDS if f.owner is Owner.CONSENT} == {
        "email_marketing_status", "sms_marketing_status"}


def test_country_edit_is_pushed_and_survives_the_next_pull(
    staff_client, sandbox, pull, db_session, clock, work_queue
) -> None:
    """Staff pick New Zealand from the list: the code goes to Cliniko, and pulls keep it."""
    pull()
    (contact,) = _linked(db_session, 1)
    values = form_values(staff_client, contact.id)
    response = post(staff_client, f"/contacts/{contact.id}/edit", {**values, "country_code": "NZ"})
    assert response.status_code == 303
    assert _outbox(db_session, contact.id) == {"country_code"}

    pull(full=True)  # before the push: the pending edit is protected
    db_session.expire_all()
    kept = db_session.get(Contact, contact.id)
    assert (kept.country_code, kept.country) == ("NZ", "New Zealand")
    clock.advance(minutes=3)
    work_queue()
    assert _patient(sandbox, contact.cliniko_patient_id)["country_code"] == "NZ"
    clock.advance(minutes=1)
    pull(full=True)
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert (saved.country_code, saved.country) == ("NZ", "New Zealand")
    assert "New Zealand" in staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_a_legacy_country_text_gives_the_code_on_pull(sandbox, pull, db_session, clock) -> None:
    """A patient with only Cliniko's deprecated `country` text gets its ISO code locally."""
    pull()
    (contact,) = _linked(db_session, 1)
    clock.advance(minutes=1)
    sandbox.store.edit_patient(contact.cliniko_patient_id, country="New Zealand", country_code=None)
    pull()
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert (saved.country_code, saved.country) == ("NZ", "New Zealand")


def test_saving_with_no_changes_queues_nothing(staff_client, sandbox, pull, db_session, clock) -> None:
    """The form sent back as it was shown (phone as Cliniko wrote it) changes and queues nothing."""
    pull()
    (contact,) = _linked(db_session, 1)
    clock.advance(minutes=1)
    _set_cliniko_phone(sandbox, contact.cliniko_patient_id, "0491573820")
    pull()
    db_session.expire_all()
    before = {c: getattr(db_session.get(Contact, contact.id), c) for c in Contact.__table__.columns.keys()}
    response = post(staff_client, f"/contacts/{contact.id}/edit", form_values(staff_client, contact.id))
    assert response.status_code == 303
    assert _outbox(db_session, contact.id) == set()
    assert before["phone"] == "0491573820"
    after = {c: getattr(db_session.get(Contact, contact.id), c) for c in Contact.__table__.columns.keys()}
    assert after == before
    assert "Nothing changed." in staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_the_same_number_typed_another_way_is_no_change(
    staff_client, sandbox, pull, db_session, clock
) -> None:
    """A phone changes only when its E.164 form does: +61 491 573 820 is 0491573820."""
    pull()
    (contact,) = _linked(db_session, 1)
    clock.advance(minutes=1)
    _set_cliniko_phone(sandbox, contact.cliniko_patient_id, "0491573820")
    pull()
    values = {**form_values(staff_client, contact.id), "phone": "+61 491 573 820"}
    assert post(staff_client, f"/contacts/{contact.id}/edit", values).status_code == 303
    assert _outbox(db_session, contact.id) == set()
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert (saved.phone, saved.phone_e164, saved.phone_is_mobile) == ("0491573820", "+61491573820", True)


def test_changing_only_the_email_pushes_only_the_email(
    staff_client, sandbox, pull, db_session, clock, work_queue
) -> None:
    """Only the e-mail is queued and sent; Cliniko's phone text and every other field stay as they were."""
    pull()
    (contact,) = _linked(db_session, 1)
    clock.advance(minutes=1)
    _set_cliniko_phone(sandbox, contact.cliniko_patient_id, "0491573820")
    pull()
    remote_before = _patient(sandbox, contact.cliniko_patient_id)
    values = {**form_values(staff_client, contact.id), "email": "only.this@example.com"}
    assert post(staff_client, f"/contacts/{contact.id}/edit", values).status_code == 303
    assert _outbox(db_session, contact.id) == {"email"}

    clock.advance(minutes=3)
    work_queue()
    db_session.expire_all()
    assert set(db_session.scalars(select(PatientChange.status))) == {ChangeStatus.PUSHED.value}
    remote_after = _patient(sandbox, contact.cliniko_patient_id)
    assert remote_after["email"] == "only.this@example.com"
    assert remote_after["patient_phone_numbers"] == remote_before["patient_phone_numbers"]
    changed = {k for k in remote_after if remote_after[k] != remote_before[k]}
    assert changed <= {"email", "updated_at"}
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert saved.phone == "0491573820"


def test_a_landline_is_stored_as_not_mobile(staff_client, pull, db_session) -> None:
    """The stored mobile flag follows the number typed: a landline cannot get SMS."""
    pull()
    (contact,) = _linked(db_session, 1)
    values = {**form_values(staff_client, contact.id), "phone": "(03) 9000 0000"}
    assert post(staff_client, f"/contacts/{contact.id}/edit", values).status_code == 303
    db_session.expire_all()
    saved = db_session.get(Contact, contact.id)
    assert (saved.phone, saved.phone_e164, saved.phone_is_mobile) == ("(03) 9000 0000", "+61390000000", False)
    assert _outbox(db_session, contact.id) == {"phone"}
