"""/group_appointments and /attendees: the seeded weekly class, filters, hiding and pagination."""

from __future__ import annotations

from datetime import datetime

import pytest


def _id(link: dict) -> str:
    return link["links"]["self"].rsplit("/", 1)[1]


ALL_ATTENDEES = ["archived_at:*", "cancelled_at:*"]


def test_the_seed_has_a_weekly_class_with_a_few_regulars(api):
    """One repeating class a week apart, past and coming, with the same few patients booked."""
    classes = api.all("/group_appointments")
    starts = sorted(c["starts_at"] for c in classes)
    assert len(classes) >= 10 and len({_id(c["practitioner"]) for c in classes}) == 1
    moments = [datetime.fromisoformat(s) for s in starts]
    gaps = {(b - a).days for a, b in zip(moments, moments[1:], strict=False)}
    assert gaps == {7}
    regulars = {p for c in classes for p in c["patient_ids"]}
    assert 3 <= len(regulars) <= 6
    first = next(c for c in classes if c["repeats"])
    repeats = api.all("/group_appointments", [f"repeated_from_id:={first['id']}"])
    assert len(repeats) == len(classes) - 1


def test_class_filters_follow_the_spec(api):
    """Practitioner, type, start and patient filters narrow; cancelled_at is not a class filter."""
    classes = api.all("/group_appointments")
    one = classes[0]
    practitioner, kind = _id(one["practitioner"]), _id(one["appointment_type"])
    assert len(api.all("/group_appointments", [f"practitioner_id:={practitioner}"])) == len(classes)
    assert api.all("/group_appointments", [f"appointment_type_id:!={kind}"]) == []
    later = api.all("/group_appointments", [f"starts_at:>{one['starts_at']}"])
    assert {c["id"] for c in later} == {c["id"] for c in classes if c["starts_at"] > one["starts_at"]}
    patient = one["patient_ids"][0]
    with_patient = api.all("/group_appointments", [f"patient_ids:~{patient}"])
    assert {c["id"] for c in with_patient} == {c["id"] for c in classes if patient in c["patient_ids"]}
    refused = api.get("/group_appointments", {"q[]": "cancelled_at:*"})
    assert refused.status_code == 400 and "not searchable" in refused.text


def test_archived_classes_are_hidden_unless_asked_for(api, sandbox):
    """An archived class leaves the default list and GET by id, and comes back with archived_at:*."""
    one = api.all("/group_appointments")[0]["id"]
    sandbox.store.update_group_appointment(one, archived=True)
    assert one not in {c["id"] for c in api.all("/group_appointments")}
    assert api.get(f"/group_appointments/{one}").status_code == 404
    assert api.get(f"/group_appointments/{one}", {"q[]": "archived_at:*"}).status_code == 200
    assert one in {c["id"] for c in api.all("/group_appointments", ["archived_at:*"])}


def test_attendees_list_both_classes_and_individual_appointments(api):
    """Every individual appointment has one attendee (arrived from its flags); class attendees join them."""
    appointments = {a["id"]: a for a in api.all("/individual_appointments", ALL_ATTENDEES)}
    classes = {c["id"] for c in api.all("/group_appointments", ["archived_at:*"])}
    attendees = api.all("/attendees", ALL_ATTENDEES)
    bookings = [_id(a["booking"]) for a in attendees]
    assert sorted(b for b in bookings if b in appointments) == sorted(appointments)
    assert {b for b in bookings if b not in appointments} == classes
    arrived_of = {(True, False): True, (False, True): False, (False, False): False, (None, None): None}
    for attendee in attendees:
        appointment = appointments.get(_id(attendee["booking"]))
        if appointment is not None:
            flags = (appointment["patient_arrived"], appointment["did_not_arrive"])
            assert attendee["arrived"] == arrived_of[flags]
            assert _id(attendee["patient"]) == _id(appointment["patient"])
            assert attendee["cancelled_at"] == appointment["cancelled_at"]


def test_attendee_filters_and_hiding(api, sandbox):
    """Cancelled attendees are hidden by default; booking, patient and updated_at filters narrow."""
    every = api.all("/attendees", ALL_ATTENDEES)
    visible = api.all("/attendees", ["archived_at:*"])
    assert {a["id"] for a in visible} == {a["id"] for a in every if a["cancelled_at"] is None}
    cancelled = next(a for a in every if a["cancelled_at"])
    assert api.get(f"/attendees/{cancelled['id']}").status_code == 404
    assert api.get(f"/attendees/{cancelled['id']}", {"q[]": "cancelled_at:*"}).json()["id"] == cancelled["id"]
    booking = _id(cancelled["booking"])
    of_booking = api.all("/attendees", [*ALL_ATTENDEES, f"booking_id:={booking}"])
    assert {a["id"] for a in of_booking} == {a["id"] for a in every if _id(a["booking"]) == booking}
    patient = _id(cancelled["patient"])
    of_patient = api.all("/attendees", [*ALL_ATTENDEES, f"patient_id:={patient}"])
    assert {a["id"] for a in of_patient} == {a["id"] for a in every if _id(a["patient"]) == patient}
    newest = max(a["updated_at"] for a in every)
    changed = api.all("/attendees", [*ALL_ATTENDEES, f"updated_at:>={newest}"])
    assert changed and all(a["updated_at"] >= newest for a in changed)


def test_a_class_lists_its_own_attendees_page_by_page(api):
    """GET /group_appointments/{id}/attendees (deprecated) pages through that class's attendees only."""
    group = api.all("/group_appointments")[0]
    listed = api.all(f"/group_appointments/{group['id']}/attendees", ALL_ATTENDEES, per_page=2)
    assert listed and {_id(a["booking"]) for a in listed} == {group["id"]}
    # patient_ids names every patient booked in, cancelled ones too (none is archived here).
    assert {_id(a["patient"]) for a in listed} == set(group["patient_ids"])
    assert api.get("/group_appointments/1/attendees").status_code == 404


@pytest.mark.parametrize("path", ["/group_appointments", "/attendees"])
def test_pages_walk_every_record_once_in_created_order(api, path):
    """Following links.next visits each record exactly once, oldest first, total_entries agreeing."""
    q = ["archived_at:*"] if path == "/group_appointments" else ALL_ATTENDEES
    first = api.get(path, {"per_page": 7, "q[]": q}).json()
    walked = api.all(path, q, per_page=7)
    ids = [r["id"] for r in walked]
    assert len(ids) == len(set(ids)) == first["total_entries"] > 7
    created = [(r["created_at"], int(r["id"])) for r in walked]
    assert created == sorted(created)


def test_new_attendees_and_cancellations_show_in_an_incremental_listing(api, sandbox):
    """Booking a patient into a class, or cancelling them, is seen by `updated_at:>=` from then on."""
    group = api.all("/group_appointments")[-1]
    patient = api.all("/patients")[-1]["id"]
    sandbox.store.advance_clock(60)
    since = max(a["updated_at"] for a in api.all("/attendees", ALL_ATTENDEES))
    sandbox.store.advance_clock(60)
    new = sandbox.store.add_attendee(group_appointment_id=group["id"], patient_id=patient)
    changed = api.all("/attendees", [*ALL_ATTENDEES, f"updated_at:>{since}"])
    assert [a["id"] for a in changed] == [new] and changed[0]["arrived"] is False
    assert patient in api.get(f"/group_appointments/{group['id']}").json()["patient_ids"]
    sandbox.store.advance_clock(60)
    sandbox.store.cancel_attendee(new, reason=40)
    assert new not in {a["id"] for a in api.all("/attendees")}
    again = api.all("/attendees", [*ALL_ATTENDEES, f"id:={new}"])
    assert again[0]["cancellation_reason_description"] == "Away"
