"""The seeded account: deterministic for (patients, appointments, seed), and realistically mixed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from oncord.sandbox.store import SandboxStore
from tests.sandbox.conftest import START, MovableClock

ALL = ["archived_at:*", "cancelled_at:*"]


def _dump(store: SandboxStore) -> list[str]:
    base = "https://api.au1.cliniko.com/v1"
    # The attendee table interleaves two kinds and so has gaps: `exists` says which rows are real.
    return [table.render_json(i, base) for table in store.tables.values() for i in range(len(table))
            if getattr(table, "exists", lambda _i: True)(i)]


def test_same_options_give_the_same_account():
    """Two stores with equal options and clock are identical; another seed differs."""
    first = _dump(SandboxStore(patients=40, seed=7, clock=MovableClock()))
    assert first == _dump(SandboxStore(patients=40, seed=7, clock=MovableClock()))
    assert first != _dump(SandboxStore(patients=40, seed=8, clock=MovableClock()))


def test_the_account_is_stable_through_the_day():
    """Seed data hangs off the start of the UTC day, so a later start that day gives the same data."""
    later = MovableClock(START + timedelta(minutes=50))
    assert _dump(SandboxStore(patients=20, clock=MovableClock())) == _dump(
        SandboxStore(patients=20, clock=later))


def test_same_options_over_http_give_the_same_payloads(sandbox_factory, sandbox_clock, api_for):
    """Determinism holds for the served JSON, once the host in the links is set aside."""
    a = sandbox_factory(seed=3, clock=sandbox_clock)
    b = sandbox_factory(seed=3, clock=sandbox_clock)
    text_a = api_for(a).get("/individual_appointments", {"per_page": 100, "q[]": ALL}).text
    text_b = api_for(b).get("/individual_appointments", {"per_page": 100, "q[]": ALL}).text
    assert text_a.replace(a.root_url, "") == text_b.replace(b.root_url, "")


def test_counts_follow_the_options():
    """`patients` sets the patient count; appointments default to ten per patient or `appointments`."""
    store = SandboxStore(patients=25, clock=MovableClock())
    assert store.counts()["patients"] == 25
    assert store.counts()["individual_appointments"] == 250
    assert SandboxStore(patients=5, appointments=17).counts()["individual_appointments"] == 17
    assert SandboxStore(patients=0).counts()["individual_appointments"] == 0


def test_patients_are_a_realistic_mix(sandbox_factory, api_for):
    """Non-ASCII names, missing e-mails/phones, every consent state, archived and merged patients."""
    patients = api_for(sandbox_factory(patients=300)).all("/patients", ["archived_at:*"])
    names = {f"{p['first_name']} {p['last_name']}" for p in patients}
    for featured in ("Zoë Nguyễn", "José García", "Siobhán O'Brien"):
        assert featured in names
    assert any(not p["email"] for p in patients) and any(p["email"] for p in patients)
    assert any(p["patient_phone_numbers"] == [] for p in patients)
    for field in ("accepted_email_marketing", "accepted_sms_marketing"):
        assert {p[field] for p in patients} == {True, False, None}
    archived = [p for p in patients if p["archived_at"]]
    assert 0 < len(archived) < len(patients) // 5
    merged = [p for p in patients if p["merged_at"]]
    assert merged and all(p["archived_at"] and "merged_with_patient" in p for p in merged)
    survivor = merged[0]["merged_with_patient"]["links"]["self"].rsplit("/", 1)[1]
    assert any(p["id"] == survivor and p["archived_at"] is None for p in patients)
    states = Counter(p["state"] for p in patients if p["state"])
    assert len(states) >= 4
    assert any(p["post_code"].startswith("0") for p in patients if p["state"] in ("NT", "Northern Territory"))
    for p in patients:
        assert p["created_at"] <= p["updated_at"]


def test_small_tables_match_a_real_account(api):
    """2-4 businesses with IANA zones, 5-8 practitioners (one inactive), 6-10 types (one archived)."""
    businesses = api.all("/businesses")
    assert 2 <= len(businesses) <= 4
    assert {"Australia/Melbourne", "Australia/Brisbane"} <= {b["time_zone_identifier"] for b in businesses}
    practitioners = api.all("/practitioners") + api.all("/practitioners/inactive")
    assert 5 <= len(practitioners) <= 8
    assert sum(not p["active"] for p in practitioners) == 1
    types = api.all("/appointment_types", ["archived_at:*"])
    assert 6 <= len(types) <= 10
    assert sum(t["archived_at"] is not None for t in types) == 1


@pytest.fixture
def appointments(sandbox_factory, sandbox_clock, api_for):
    sandbox = sandbox_factory(patients=60, clock=sandbox_clock)
    return api_for(sandbox).all("/individual_appointments", ALL)


def test_appointments_cover_every_state(appointments):
    """Past and future; cancelled with reasons, did-not-arrive, arrived, unticked and plain."""
    now = "2026-11-20T23:00:00Z"
    past = [a for a in appointments if a["starts_at"] < now]
    future = [a for a in appointments if a["starts_at"] > now]
    assert past and len(future) >= len(appointments) // 50
    cancelled = [a for a in appointments if a["cancelled_at"]]
    assert cancelled and all(a["cancellation_reason"] in (10, 20, 30, 31, 40, 50, 60) for a in cancelled)
    assert all(a["cancellation_reason_description"] for a in cancelled)
    assert all(a["cancellation_reason_description"] == "" for a in appointments if not a["cancelled_at"])
    pairs = Counter((a["patient_arrived"], a["did_not_arrive"]) for a in past if not a["cancelled_at"])
    assert set(pairs) == {(True, False), (False, True), (None, None), (False, False)}
    assert all((a["patient_arrived"], a["did_not_arrive"]) == (False, False)
               for a in future if not a["cancelled_at"])


def test_appointment_times_are_consistent(appointments):
    """created <= updated <= now, start < end, and cancellations happen after booking."""
    now = "2026-11-20T23:00:00Z"
    for a in appointments:
        assert a["created_at"] <= a["updated_at"] <= now
        assert a["created_at"] < a["starts_at"] < a["ends_at"]
        if a["cancelled_at"]:
            assert a["created_at"] <= a["cancelled_at"] <= now
