"""The outbox across every ordering of "edit, push starts, edit again while the PATCH is in flight,
Cliniko answers (200, a 422 naming one field, or a 503)": no edit is lost, only the refused field fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from oncord import context
from oncord.contacts.editing import update_contact
from oncord.db import get_database
from oncord.jobs.sync_jobs import run_push
from oncord.models import ChangeStatus, Contact, PatientChange
from tests.factories import staff_actor
from tests.fixtures.cliniko import pull_in_process
from tests.sync.in_flight import PatchHook
from tests.sync.test_push import _patient

# Local field -> (value before the push, value during the PATCH), Cliniko's name for it in a 422,
# and how to read it back from Cliniko's patient. Phone and consent need the name mapping.
FIELDS: dict[str, tuple[tuple[object, object], str, Callable[[dict], object]]] = {
    "first_name": (("Before", "During"), "first_name", lambda p: p["first_name"]),
    "city": (("Fitzroy", "Carlton"), "city", lambda p: p["city"]),
    "phone": (("0412 111 222", "0413 333 444"), "patient_phone_numbers[0].number",
              lambda p: p["patient_phone_numbers"][0]["number"]),
    "email_marketing_status": (("unsubscribed", "subscribed"), "accepted_email_marketing",
                               lambda p: "subscribed" if p["accepted_email_marketing"] else "unsubscribed"),
}
NAMES = sorted(FIELDS)


@pytest.fixture
def sandbox(sandbox_factory, clock):
    """An empty sandbox on the test's clock; each example adds its own patient."""
    return sandbox_factory(clock=clock.now, patients=0, appointments=0, rate_limit=None)


def _edit(app, contact_id: int, values: dict[str, object]) -> None:
    """A staff edit saved in its own transaction, as the contact form does."""
    with get_database(app).session() as session:
        contact = session.get(Contact, contact_id)
        update_contact(session, contact, values, clock=context.clock(app), actor=staff_actor())
        session.commit()


def _push(app, clock, during: Callable[[], None] | None = None) -> bool:
    """One push, as its job runs it; False when Cliniko's outage made it fail (RQ retries it)."""
    options = context.cliniko_client_options(app)
    app.extensions["oncord.cliniko_client_options"] = {
        **options, "session": PatchHook(during) if during else requests.Session()}
    clock.advance(minutes=11)
    try:
        run_push(app)
    except Exception as exc:  # noqa: BLE001 - the injected 503 surfaces from the Cliniko client
        assert "503" in str(exc) or "unavailable" in str(exc).lower(), exc
        return False
    finally:
        app.extensions["oncord.cliniko_client_options"] = options
    return True


ORDERINGS = st.tuples(
    st.sets(st.sampled_from(NAMES), min_size=1),  # edited before the push starts
    st.sets(st.sampled_from(NAMES)),  # edited again (or for the first time) while the PATCH is in flight
    st.one_of(st.just("200"), st.just("503"), st.sampled_from(NAMES).map(lambda f: f"422:{f}")),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ordering=ORDERINGS)
def test_no_edit_is_lost_whatever_the_ordering(connected_app, sandbox, clock, ordering) -> None:
    """Edited in flight: stays pending and goes next time. Refused: only that field fails. 503: all wait."""
    before, during, answer = ordering
    refused = answer.removeprefix("422:") if answer.startswith("422:") else None
    if refused is not None and refused not in before:
        refused = None
        answer = "200"
    app = connected_app
    patient_id = sandbox.store.create_patient({
        "first_name": "Initial", "last_name": "Flight", "city": "Initial",
        "accepted_email_marketing": True,
        "patient_phone_numbers": [{"number": "0400 000 000", "phone_type": "Mobile"}],
    })
    pull_in_process(app)
    with get_database(app).session() as session:
        contact_id = session.scalars(select(Contact.id).where(Contact.cliniko_patient_id == patient_id)).one()
        initial = {name: getattr(session.get(Contact, contact_id), name) for name in NAMES}
    initial_remote = {name: FIELDS[name][2](_patient(sandbox, patient_id)) for name in NAMES}

    first = {name: FIELDS[name][0][0] for name in before}
    second = {name: FIELDS[name][0][1] if name in before else FIELDS[name][0][0] for name in during}
    _edit(app, contact_id, first)
    if answer == "503":
        sandbox.store.inject_fault("server_error", times=100, status=503, method="PATCH")
    elif refused is not None:
        sandbox.store.inject_fault("validation", times=1, field=FIELDS[refused][1], message="is not valid",
                                   path=f"/v1/patients/{patient_id}", method="PATCH")
    pushed = _push(app, clock, during=(lambda: _edit(app, contact_id, second)) if during else None)
    sandbox.store.clear_faults()
    assert pushed is (answer != "503")

    with get_database(app).session() as session:
        rows = {r.field: r for r in session.scalars(
            select(PatientChange).where(PatientChange.contact_id == contact_id))}
        for name in before | during:
            row = rows[name]
            if answer == "503" or name in during:
                assert row.status == ChangeStatus.PENDING, (name, ordering, row.status)
            elif name == refused:
                assert row.status == ChangeStatus.FAILED and "is not valid" in row.error, (name, ordering)
            else:
                assert row.status == ChangeStatus.PUSHED, (name, ordering, row.status)

    assert _push(app, clock)
    final_local = {**initial, **first, **second}
    with get_database(app).session() as session:
        contact = session.get(Contact, contact_id)
        assert {name: getattr(contact, name) for name in NAMES} == final_local
        statuses = {r.field: r.status for r in session.scalars(
            select(PatientChange).where(PatientChange.contact_id == contact_id))}
    remote = _patient(sandbox, patient_id)
    for name in NAMES:
        if name == refused and name not in during:
            assert statuses[name] == ChangeStatus.FAILED
            assert FIELDS[name][2](remote) == initial_remote[name], (name, ordering)
        else:
            assert FIELDS[name][2](remote) == final_local[name], (name, ordering, remote)
            if name in before | during:
                assert statuses[name] == ChangeStatus.PUSHED, (name, ordering)


def test_a_push_sends_only_the_edited_fields(connected_app, sandbox, clock) -> None:
    """Fields edited in Cliniko since the last pull survive a push of other fields of the same patient."""
    app = connected_app
    patient_id = sandbox.store.create_patient({"first_name": "Initial", "last_name": "Before", "city": "Kew"})
    pull_in_process(app)
    with get_database(app).session() as session:
        contact_id = session.scalars(select(Contact.id).where(Contact.cliniko_patient_id == patient_id)).one()
    _edit(app, contact_id, {"first_name": "Local"})
    clock.advance(seconds=30)
    sandbox.store.edit_patient(patient_id, last_name="RemoteLast", city="Remote City")
    assert _push(app, clock)
    remote = _patient(sandbox, patient_id)
    assert (remote["first_name"], remote["last_name"]) == ("Local", "RemoteLast")
    assert remote["city"] == "Remote City"
    patch = [r for r in sandbox.store.request_log() if r["method"] == "PATCH"]
    assert len(patch) == 1
