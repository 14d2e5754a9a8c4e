"""Every `q[]` operator by field type, checked against the same rule applied in Python."""

from __future__ import annotations

import re

import pytest

ALL_APPOINTMENTS = ["archived_at:*", "cancelled_at:*"]


@pytest.fixture
def patients(api):
    return api.all("/patients", ["archived_at:*"])


@pytest.fixture
def appointments(api):
    return api.all("/individual_appointments", ALL_APPOINTMENTS)


def _ids(records):
    return [r["id"] for r in records]


def _last_segment(link):
    return link["links"]["self"].rsplit("/", 1)[1]


def test_date_time_operators(api, appointments):
    """`>= > <= <` compare whole seconds; `?`/`!?` test for a value; `*` matches everything."""
    middle = sorted(a["updated_at"] for a in appointments)[len(appointments) // 2]
    for op, keep in ((">", lambda v: v > middle), (">=", lambda v: v >= middle),
                     ("<", lambda v: v < middle), ("<=", lambda v: v <= middle)):
        found = api.all("/individual_appointments", [*ALL_APPOINTMENTS, f"updated_at:{op}{middle}"])
        assert _ids(found) == _ids(a for a in appointments if keep(a["updated_at"])), op
    has_value = api.all("/individual_appointments", ["archived_at:*", "cancelled_at:?"])
    assert _ids(has_value) == _ids(a for a in appointments if a["cancelled_at"])
    no_value = api.all("/individual_appointments", ["archived_at:*", "cancelled_at:!?"])
    assert _ids(no_value) == _ids(a for a in appointments if a["cancelled_at"] is None)
    future = api.all("/individual_appointments", [*ALL_APPOINTMENTS, "starts_at:>2026-01-01T00:00:00+00:00"])
    assert _ids(future) == _ids(a for a in appointments if a["starts_at"] > "2026-01-01T00:00:00Z")


def test_date_operators_and_wildcards(api, patients):
    """Dates compare as days; `*` stands for any digit, as in `****-05-**`."""
    born = sorted(p["date_of_birth"] for p in patients if p["date_of_birth"])
    day = born[len(born) // 2]
    exact = api.all("/patients", ["archived_at:*", f"date_of_birth:={day}"])
    assert _ids(exact) == _ids(p for p in patients if p["date_of_birth"] == day)
    before = api.all("/patients", ["archived_at:*", f"date_of_birth:<{day}"])
    assert _ids(before) == _ids(p for p in patients if p["date_of_birth"] and p["date_of_birth"] < day)
    month = day[5:7]
    in_month = api.all("/patients", ["archived_at:*", f"date_of_birth:=****-{month}-**"])
    assert in_month and _ids(in_month) == _ids(
        p for p in patients if p["date_of_birth"] and p["date_of_birth"][5:7] == month)
    unknown = api.all("/patients", ["archived_at:*", "date_of_birth:!?"])
    assert _ids(unknown) == _ids(p for p in patients if p["date_of_birth"] is None)


def test_id_operators_including_lists(api, appointments):
    """Ids and foreign ids take `=` (with a comma list), `!=`, `> >= < <=`, `?`, `!?`."""
    ids = _ids(appointments)
    picked = [ids[3], ids[10], ids[20]]
    listed = api.all("/individual_appointments", [*ALL_APPOINTMENTS, f"id:={','.join(picked)}"])
    assert _ids(listed) == picked
    pivot = ids[len(ids) // 2]
    for op, keep in ((">", lambda v: v > int(pivot)), (">=", lambda v: v >= int(pivot)),
                     ("<", lambda v: v < int(pivot)), ("<=", lambda v: v <= int(pivot)),
                     ("!=", lambda v: v != int(pivot))):
        found = api.all("/individual_appointments", [*ALL_APPOINTMENTS, f"id:{op}{pivot}"])
        assert _ids(found) == [i for i in ids if keep(int(i))], op
    patient = _last_segment(appointments[0]["patient"])
    theirs = api.all("/individual_appointments", [*ALL_APPOINTMENTS, f"patient_id:={patient}"])
    assert theirs and _ids(theirs) == _ids(
        a for a in appointments if _last_segment(a["patient"]) == patient)
    practitioner = _last_segment(appointments[0]["practitioner"])
    others = api.all("/individual_appointments", [*ALL_APPOINTMENTS, f"practitioner_id:!={practitioner}"])
    assert _ids(others) == _ids(
        a for a in appointments if _last_segment(a["practitioner"]) != practitioner)
    assert api.all("/individual_appointments", [*ALL_APPOINTMENTS, "repeated_from_id:?"]) == []
    assert len(api.all("/individual_appointments", [*ALL_APPOINTMENTS, "repeated_from_id:!?"])) == len(ids)


def test_string_operators(api, patients):
    """`=` and `!=` are exact; `~` contains and `~~` is a LIKE pattern, both case-insensitive."""
    name = patients[0]["last_name"]
    exact = api.all("/patients", ["archived_at:*", f"last_name:={name}"])
    assert _ids(exact) == _ids(p for p in patients if p["last_name"] == name)
    other = api.all("/patients", ["archived_at:*", f"last_name:!={name}"])
    assert _ids(other) == _ids(p for p in patients if p["last_name"] != name)
    part = name[1:3].upper()
    contains = api.all("/patients", ["archived_at:*", f"last_name:~{part}"])
    assert _ids(contains) == _ids(p for p in patients if part.casefold() in p["last_name"].casefold())
    pattern = f"{name[0].lower()}%"
    like = api.all("/patients", ["archived_at:*", f"last_name:~~{pattern}"])
    regex = re.compile(re.escape(name[0]) + ".*", re.IGNORECASE | re.DOTALL)
    assert _ids(like) == _ids(p for p in patients if regex.fullmatch(p["last_name"]))
    with_email = api.all("/patients", ["archived_at:*", "email:?"])
    assert _ids(with_email) == _ids(p for p in patients if p["email"])
    without = api.all("/patients", ["archived_at:*", "email:!?"])
    assert without and _ids(without) == _ids(p for p in patients if not p["email"])


def test_boolean_operators(api, patients, appointments):
    """`=`/`!=` on booleans; null matches neither, as in SQL."""
    accepted = api.all("/patients", ["archived_at:*", "accepted_privacy_policy:=true"])
    assert _ids(accepted) == _ids(p for p in patients if p["accepted_privacy_policy"] is True)
    not_true = api.all("/patients", ["archived_at:*", "accepted_privacy_policy:!=true"])
    assert _ids(not_true) == _ids(p for p in patients if p["accepted_privacy_policy"] is False)
    dna = api.all("/individual_appointments", [*ALL_APPOINTMENTS, "did_not_arrive:=true"])
    assert dna and _ids(dna) == _ids(a for a in appointments if a["did_not_arrive"] is True)


def test_array_contains_operator(api):
    """Array fields take `~` with one id."""
    businesses = api.all("/businesses")
    type_id = businesses[0]["appointment_type_ids"][0]
    found = api.all("/businesses", [f"appointment_type_ids:~{type_id}"])
    assert _ids(found) == _ids(b for b in businesses if type_id in b["appointment_type_ids"])
    types = api.all("/appointment_types", ["archived_at:*"])
    template = types[0]["appointment_reminder_template_ids"][0]
    found = api.all("/appointment_types", ["archived_at:*", f"appointment_reminder_template_ids:~{template}"])
    assert _ids(found) == _ids(t for t in types if template in t["appointment_reminder_template_ids"])


def test_filters_are_anded(api, appointments):
    """Several q[] filters must all hold."""
    practitioner = _last_segment(appointments[0]["practitioner"])
    found = api.all("/individual_appointments", [
        *ALL_APPOINTMENTS, f"practitioner_id:={practitioner}", "did_not_arrive:=false"])
    assert _ids(found) == _ids(a for a in appointments if _last_segment(a["practitioner"]) == practitioner
                               and a["did_not_arrive"] is False)


def test_legacy_single_q_parameter(api, patients):
    """The legacy `q=` without brackets is one more filter."""
    found = api.get("/patients", {"q": "archived_at:?"}).json()["patients"]
    assert _ids(found) == _ids(p for p in patients if p["archived_at"])


def test_unsearchable_column_is_400(api):
    """A field the spec does not list for the endpoint is `This column is not searchable.`"""
    for path, q in (("/patients", "city:=Fitzroy"), ("/patients", "gender:=Male"),
                    ("/individual_appointments", "notes:~x"), ("/patients/1", "updated_at:*"),
                    ("/practitioners", "archived_at:*")):
        response = api.get(path, {"q[]": q})
        assert response.status_code == 400, (path, q)
        assert response.json() == {"message": "This column is not searchable."}


@pytest.mark.parametrize("q", [
    "updated_at:=2024-01-01T00:00:00Z",  # date-times have no `=`
    "updated_at:>yesterday",
    "updated_at:>2024-13-01T00:00:00Z",
    "date_of_birth:>1980-02-30",
    "date_of_birth:>****-01-01",
    "id:=12,abc",
    "id:>",
    "accepted_privacy_policy:=maybe",
    "accepted_privacy_policy:?",
    "first_name:>A",
    "archived_at:*now",
    "first_name",
    ":=x",
])
def test_malformed_filter_is_400_with_a_message(api, q):
    """A wrong operator for the type or an unreadable value is 400 with a clear message."""
    response = api.get("/patients", {"q[]": q})
    assert response.status_code == 400
    assert response.json()["message"]
