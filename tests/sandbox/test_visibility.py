"""Archived, cancelled and deleted records stay hidden unless a `:*` or `:?` filter asks for them."""

from __future__ import annotations


def test_archived_patients_are_hidden_from_lists_and_by_id(api):
    """Lists leave archived patients out; `archived_at:*` adds them, `archived_at:?` keeps only them."""
    shown = api.all("/patients")
    everyone = api.all("/patients", ["archived_at:*"])
    archived = api.all("/patients", ["archived_at:?"])
    assert archived and all(p["archived_at"] for p in archived)
    assert all(p["archived_at"] is None for p in shown)
    assert {p["id"] for p in everyone} == {p["id"] for p in shown} | {p["id"] for p in archived}
    hidden = archived[0]["id"]
    assert api.get(f"/patients/{hidden}").status_code == 404
    assert api.get(f"/patients/{hidden}", {"q[]": "archived_at:*"}).json()["id"] == hidden
    assert api.get(f"/patients/{hidden}", {"q[]": "archived_at:?"}).status_code == 200
    assert api.get(f"/patients/{shown[0]['id']}", {"q[]": "archived_at:?"}).status_code == 404


def test_cancelled_and_archived_appointments_need_their_own_opt_in(api):
    """Cancelled ones need `cancelled_at:*`, archived ones `archived_at:*`; by id too."""
    default = api.all("/individual_appointments")
    everything = api.all("/individual_appointments", ["archived_at:*", "cancelled_at:*"])
    cancelled = [a for a in everything if a["cancelled_at"]]
    assert cancelled
    assert all(a["cancelled_at"] is None and a["archived_at"] is None for a in default)
    with_cancelled = api.all("/individual_appointments", ["cancelled_at:*"])
    assert {a["id"] for a in with_cancelled} == {
        a["id"] for a in everything if a["archived_at"] is None}
    only_cancelled = api.all("/individual_appointments", ["cancelled_at:?", "archived_at:*"])
    assert {a["id"] for a in only_cancelled} == {a["id"] for a in cancelled}
    one = next(a for a in cancelled if a["archived_at"] is None)["id"]
    assert api.get(f"/individual_appointments/{one}").status_code == 404
    assert api.get(f"/individual_appointments/{one}", {"q[]": "cancelled_at:*"}).status_code == 200


def test_hidden_archived_appointment_type_and_inactive_practitioner(api):
    """The archived appointment type and the inactive practitioner are on their own lists."""
    types = api.all("/appointment_types")
    all_types = api.all("/appointment_types", ["archived_at:*"])
    assert len(all_types) == len(types) + 1
    archived = next(t for t in all_types if t["archived_at"])
    assert api.get(f"/appointment_types/{archived['id']}").status_code == 404
    inactive = api.all("/practitioners/inactive")
    assert len(inactive) == 1 and inactive[0]["active"] is False
    assert all(p["active"] for p in api.all("/practitioners"))
    assert api.get(f"/practitioners/{inactive[0]['id']}").json()["active"] is False


def test_deleted_appointment_needs_deleted_at_filter(api, sandbox):
    """An appointment deleted on the Cliniko side is hidden unless `deleted_at:*` is sent."""
    target = api.all("/individual_appointments")[0]["id"]
    sandbox.store.delete_appointment(target)
    assert target not in {a["id"] for a in api.all("/individual_appointments")}
    assert api.get(f"/individual_appointments/{target}").status_code == 404
    found = api.get(f"/individual_appointments/{target}", {"q[]": "deleted_at:*"}).json()
    assert found["deleted_at"] is not None
