"""Property: any mix of local edits, Cliniko-side edits and push failures ends with both sides equal."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from oncord import context
from oncord.db import get_database
from oncord.integration import connect_cliniko
from oncord.jobs.sync_jobs import run_pull, run_push
from oncord.models import Contact
from oncord.sandbox.server import start_sandbox
from oncord.sync.launcher import create_run
from oncord.sync.outbox import record_changes
from tests.conftest import _empty_tables
from tests.sync.test_push import _patient

FIELDS = ("first_name", "last_name", "city")
VALUES = st.sampled_from(["Ann", "Zoë", "José", "Nguyễn", "O'Brien", "Siobhán", "Lee", "Ōtaki"])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("local"), st.integers(0, 2), st.sampled_from(FIELDS), VALUES),
        st.tuples(st.just("remote"), st.integers(0, 2), st.sampled_from(FIELDS), VALUES),
        st.tuples(st.just("push"), st.booleans()),  # True: Cliniko fails during this push
        st.tuples(st.just("pull"), st.booleans()),  # True: a full pull
    ),
    max_size=14,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_both_sides_converge_under_the_conflict_rule(app, clock, client_sleep, operations) -> None:
    """Local edits win over Cliniko edits made while they were pending; otherwise the latest edit wins."""
    _empty_tables(app)
    database = get_database(app)
    with start_sandbox(patients=5, appointments=5, clock=clock.now, rate_limit=None) as sandbox:
        app.extensions["oncord.settings"] = replace(
            context.settings(app), cliniko_api_base_url=sandbox.base_url
        )

        def pull(full: bool = False) -> None:
            with database.session() as session:
                run = create_run(session, full=full, trigger="test", clock=clock)
                session.commit()
                run_id = run.id
            run_pull(app, run_id, full=full)

        with app.app_context(), database.session() as session:
            connect_cliniko(
                session,
                api_key=sandbox.api_key,
                settings=context.settings(app),
                secret_box=context.secret_box(app),
                clock=clock,
                client_options=context.cliniko_client_options(app),
            )
            session.commit()
        pull()
        with database.session() as session:
            # Archived patients cannot be edited through the API (Cliniko hides them), so leave them out.
            contacts = session.scalars(
                select(Contact).where(Contact.archived_at.is_(None)).order_by(Contact.id)
            ).all()
            ids = [(c.id, c.cliniko_patient_id) for c in contacts]
            expected = {(c.id, f): getattr(c, f) for c in contacts for f in FIELDS}
        pending: set[tuple[int, str]] = set()

        for operation in operations:
            clock.advance(seconds=7)
            kind = operation[0]
            if kind == "local":
                _, index, field, value = operation
                contact_id = ids[index][0]
                with database.session() as session:
                    contact = session.get(Contact, contact_id)
                    setattr(contact, field, value)
                    record_changes(session, contact, [field], clock.now())
                    session.commit()
                expected[(contact_id, field)] = value
                pending.add((contact_id, field))
            elif kind == "remote":
                _, index, field, value = operation
                contact_id, patient_id = ids[index]
                sandbox.store.edit_patient(patient_id, **{field: value})
                if (contact_id, field) not in pending:
                    expected[(contact_id, field)] = value
            elif kind == "push":
                if operation[1]:
                    sandbox.store.inject_fault("server_error", times=100, status=503, method="PATCH")
                clock.advance(minutes=11)
                try:
                    run_push(app)
                except Exception:  # noqa: BLE001 - the injected outage; edits must stay pending
                    assert operation[1]
                else:
                    pending.clear()
                sandbox.store.clear_faults()
            else:
                pull(full=operation[1])

        clock.advance(minutes=11)
        run_push(app)
        clock.advance(seconds=5)
        pull()
        with database.session() as session:
            for contact_id, patient_id in ids:
                contact = session.get(Contact, contact_id)
                remote = _patient(sandbox, patient_id)
                for field in FIELDS:
                    assert getattr(contact, field) == expected[(contact_id, field)], (field, operations)
                    assert remote[field] == expected[(contact_id, field)], (field, operations)
