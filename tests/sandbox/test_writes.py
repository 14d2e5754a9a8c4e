"""Patient writes: create, update, archive/unarchive, and the 422s Cliniko answers bad bodies with."""

from __future__ import annotations

import pytest

BLANK = "can\u2019t be blank"


@pytest.fixture
def clocked(sandbox_factory, sandbox_clock, api_for):
    """A sandbox on a frozen clock, with its session."""
    return api_for(sandbox_factory(clock=sandbox_clock))


def test_create_returns_201_location_and_the_full_patient(clocked, sandbox_clock):
    """POST /patients answers 201, a Location to the new patient, and the resource itself."""
    body = {"first_name": "Zoë", "last_name": "O'Brien", "email": "Zoe.OBrien@Example.COM",
            "accepted_email_marketing": True, "unsubscribe_sms_marketing": True,
            "patient_phone_numbers": [{"number": "0491 570 156", "phone_type": "Mobile"}],
            "invented_field": "ignored"}
    response = clocked.request("POST", "/patients", json=body)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == created["links"]["self"]
    assert created["id"].isdigit() and len(created["id"]) == 19
    assert created["first_name"] == "Zoë" and created["label"] == "Zoë O'Brien"
    assert created["email"] == "Zoe.OBrien@Example.COM"
    assert created["accepted_email_marketing"] is True
    assert created["accepted_sms_marketing"] is False
    assert created["patient_phone_numbers"] == [
        {"number": "0491 570 156", "phone_type": "Mobile", "normalized_number": "61491570156"}]
    assert created["created_at"] == created["updated_at"] == "2026-11-20T23:00:00Z"
    assert "invented_field" not in created
    assert clocked.session.get(response.headers["Location"]).json() == created
    newest = clocked.get("/patients", {"sort": "created_at:desc", "per_page": 1}).json()
    assert newest["patients"][0]["id"] == created["id"]


def test_patch_and_put_update_and_bump_updated_at(clocked, sandbox_clock):
    """PATCH and PUT change only the fields sent and stamp updated_at with whole seconds."""
    patient = clocked.all("/patients")[0]
    sandbox_clock.advance(90.6)
    response = clocked.request("PATCH", f"/patients/{patient['id']}", json={
        "last_name": "Nguyễn", "accepted_email_marketing": False, "notes": "Prefers SMS"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["last_name"] == "Nguyễn" and updated["notes"] == "Prefers SMS"
    assert updated["first_name"] == patient["first_name"]
    assert updated["accepted_email_marketing"] is False
    assert updated["updated_at"] == "2026-11-20T23:01:30Z"
    assert updated["created_at"] == patient["created_at"]
    sandbox_clock.advance(60)
    put = clocked.request("PUT", f"/patients/{patient['id']}", json={"first_name": "Siobhán"})
    assert put.status_code == 200 and put.json()["first_name"] == "Siobhán"
    assert put.json()["updated_at"] == "2026-11-20T23:02:30Z"
    assert clocked.get(f"/patients/{patient['id']}").json() == put.json()


def test_consent_fields_follow_the_spec(clocked):
    """accepted_sms_marketing is read-only; unsubscribe_sms_marketing turns it off; gender is ignored."""
    patient = next(p for p in clocked.all("/patients") if p["accepted_sms_marketing"] is True)
    path = f"/patients/{patient['id']}"
    ignored = clocked.request("PATCH", path, json={"accepted_sms_marketing": False, "gender": "X"})
    assert ignored.json()["accepted_sms_marketing"] is True
    assert ignored.json()["gender"] == patient["gender"]
    kept = clocked.request("PATCH", path, json={"unsubscribe_sms_marketing": False}).json()
    assert kept["accepted_sms_marketing"] is True
    gone = clocked.request("PATCH", path, json={"unsubscribe_sms_marketing": True}).json()
    assert gone["accepted_sms_marketing"] is False


def test_phone_numbers_are_replaced_as_a_list(clocked):
    """patient_phone_numbers replaces the whole list; each number gets a normalized form."""
    patient = clocked.all("/patients")[0]
    phones = [{"number": "(03) 5550 1234", "phone_type": "Home"},
              {"number": "+61 491 570 110", "phone_type": "Work"}]
    body = clocked.request("PATCH", f"/patients/{patient['id']}",
                           json={"patient_phone_numbers": phones}).json()
    assert body["patient_phone_numbers"] == [
        {"number": "(03) 5550 1234", "phone_type": "Home", "normalized_number": "61355501234"},
        {"number": "+61 491 570 110", "phone_type": "Work", "normalized_number": "61491570110"}]
    cleared = clocked.request("PATCH", f"/patients/{patient['id']}", json={"patient_phone_numbers": []})
    assert cleared.json()["patient_phone_numbers"] == []


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"first_name": "", "last_name": "Smith"}, "first_name", BLANK),
    ({"first_name": "  ", "last_name": "Smith"}, "first_name", BLANK),
    ({"first_name": "Ann"}, "last_name", BLANK),
    ({"first_name": "Ann", "last_name": None}, "last_name", BLANK),
    ({"first_name": "A" * 256, "last_name": "B"}, "first_name", "is too long (maximum is 255 characters)"),
    ({"first_name": 5, "last_name": "B"}, "first_name", "must be a string"),
    ({"first_name": "A", "last_name": "B", "email": "not an email"}, "email", "is invalid"),
    ({"first_name": "A", "last_name": "B", "email": "zoë@example.com"}, "email", "is invalid"),
    ({"first_name": "A", "last_name": "B", "date_of_birth": "1990-02-30"}, "date_of_birth",
     "is not a valid date"),
    ({"first_name": "A", "last_name": "B", "date_of_birth": "30/01/1990"}, "date_of_birth",
     "is not a valid date"),
    ({"first_name": "A", "last_name": "B",
      "patient_phone_numbers": [{"number": "0491570156", "phone_type": "Pager"}]},
     "patient_phone_numbers", "phone_type is not included in the list"),
    ({"first_name": "A", "last_name": "B", "patient_phone_numbers": "0491570156"},
     "patient_phone_numbers", "must be an array"),
    ({"first_name": "A", "last_name": "B", "accepted_email_marketing": "yes"},
     "accepted_email_marketing", "must be true or false"),
    ({"first_name": "A", "last_name": "B", "reminder_type": "Carrier pigeon"}, "reminder_type",
     "is not included in the list"),
    ({"first_name": "A", "last_name": "B", "time_zone": "Mars/Olympus"}, "time_zone",
     "is not a valid time zone"),
])
def test_invalid_create_is_422_with_field_errors(clocked, body, field, message):
    """Cliniko's 422: `Validation Failed` plus a message for each bad field."""
    response = clocked.request("POST", "/patients", json=body)
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert response.json()["errors"][field] == message


def test_email_is_validated_case_insensitively(clocked):
    """Upper- and mixed-case addresses are valid, despite the spec's upper-case-only pattern."""
    for email in ("ZOE@EXAMPLE.COM", "zoe@example.com", "Zoe.Nguyen+clinic@Mail.Example.org"):
        response = clocked.request("POST", "/patients", json={
            "first_name": "Zoë", "last_name": "Nguyễn", "email": email})
        assert response.status_code == 201, email


def test_bodies_that_are_not_objects(clocked):
    """A JSON non-object is 422 `must be an object`; unparseable JSON is 400."""
    patient = clocked.all("/patients")[0]["id"]
    for raw in (b"[]", b'"x"', b"3", b"null"):
        response = clocked.request("PATCH", f"/patients/{patient}", data=raw,
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json() == {"message": "must be an object"}
    broken = clocked.request("POST", "/patients", data=b"{nope",
                             headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["message"]
    form = clocked.request("POST", "/patients", data={"first_name": "A"})
    assert form.status_code == 415


def test_archive_and_unarchive(clocked, sandbox_clock):
    """archive is 204 and hides the patient; unarchive is 200 with the patient back."""
    patient = clocked.all("/patients")[0]["id"]
    sandbox_clock.advance(5)
    archived = clocked.request("POST", f"/patients/{patient}/archive")
    assert archived.status_code == 204 and archived.content == b""
    assert clocked.get(f"/patients/{patient}").status_code == 404
    assert clocked.request("PATCH", f"/patients/{patient}", json={"notes": "x"}).status_code == 404
    hidden = clocked.get(f"/patients/{patient}", {"q[]": "archived_at:*"}).json()
    assert hidden["archived_at"] == hidden["updated_at"] == "2026-11-20T23:00:05Z"
    sandbox_clock.advance(5)
    back = clocked.request("POST", f"/patients/{patient}/unarchive")
    assert back.status_code == 200
    assert back.json()["archived_at"] is None and back.json()["updated_at"] == "2026-11-20T23:00:10Z"
    assert clocked.get(f"/patients/{patient}").status_code == 200


def test_deprecated_delete_archives(clocked):
    """DELETE /patients/{id} is deprecated in the spec and archives the patient."""
    patient = clocked.all("/patients")[0]["id"]
    assert clocked.request("DELETE", f"/patients/{patient}").status_code == 204
    assert clocked.get(f"/patients/{patient}", {"q[]": "archived_at:?"}).status_code == 200


def test_writes_to_unknown_patients_are_404(clocked):
    """PATCH, archive and unarchive of an id that does not exist are JSON 404s."""
    for method, path in (("PATCH", "/patients/123"), ("POST", "/patients/123/archive"),
                         ("POST", "/patients/123/unarchive"), ("PUT", "/patients/x")):
        response = clocked.request(method, path, json={"first_name": "A"})
        assert response.status_code == 404
        assert "message" in response.json()
