"""Settings → Third Party Integrations: connecting Cliniko, auto-sync, Synchronise, history, disconnect."""

from __future__ import annotations

import re

from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from oncord import context
from oncord.jobs.sync_jobs import ensure_schedules
from oncord.models import ClinikoConnection, Contact, SyncRun
from tests.factories import make_connection, make_contact, make_sync_run
from tests.web.conftest import HTMX, point_at, post


def test_not_connected_shows_the_enable_form(admin_client) -> None:
    """Without a connection the box asks for the API key and says where to find it."""
    body = admin_client.get("/settings/integrations").get_data(as_text=True)
    assert "Not connected" in body and "Enable Integration" in body and "Manage API keys" in body
    assert 'type="password"' in body


def test_enable_with_a_good_key_shows_account_and_shard(admin_client, app, cliniko, db_session) -> None:
    """The key is checked against Cliniko, stored encrypted, and the account is shown."""
    response = post(admin_client, "/settings/integrations/cliniko", {"api_key": cliniko.api_key}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/settings/integrations"
    connection = db_session.scalars(select(ClinikoConnection)).one()
    assert connection.api_key_encrypted and cliniko.api_key not in connection.api_key_encrypted
    body = admin_client.get("/settings/integrations").get_data(as_text=True)
    assert "Cliniko is connected to" in body and "(shard au1)" in body
    assert "Connected" in body and "Synchronise" in body and "Disconnect" in body
    assert cliniko.api_key not in body


def test_enable_with_a_wrong_key_says_so(admin_client, cliniko, db_session) -> None:
    """A rejected key comes back on the form (422) with Cliniko's advice; nothing is stored."""
    response = post(admin_client, "/settings/integrations/cliniko", {"api_key": "wrong-key-au1"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<section id="cliniko-box"')
    assert "Cliniko rejected the API key" in body
    assert db_session.scalars(select(ClinikoConnection)).first() is None


def test_enable_when_cliniko_is_unreachable_says_so(admin_client, app, db_session) -> None:
    """An unreachable Cliniko is reported as such, not as a wrong key."""
    point_at(app, "http://127.0.0.1:9/v1")
    response = post(admin_client, "/settings/integrations/cliniko", {"api_key": "some-key-au1"}, htmx=True)
    assert response.status_code == 422
    assert "Cliniko could not be reached" in response.get_data(as_text=True)
    assert db_session.scalars(select(ClinikoConnection)).first() is None


def test_enable_with_an_empty_key(admin_client) -> None:
    """An empty field asks for the key."""
    response = post(admin_client, "/settings/integrations/cliniko", {"api_key": ""}, htmx=True)
    assert response.status_code == 422 and "Paste the API key" in response.get_data(as_text=True)


def test_auto_sync_toggle(admin_client, app, db_session, clock, redis_conn) -> None:
    """The switch turns scheduled syncing on (queueing the schedule) and off, answering with itself."""
    make_connection(db_session, clock)
    db_session.commit()
    on = post(admin_client, "/settings/integrations/cliniko/auto-sync", {"enabled": "y"}, htmx=True)
    assert on.status_code == 200 and on.get_data(as_text=True).lstrip().startswith('<form id="auto-sync"')
    assert "checked" in on.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalars(select(ClinikoConnection)).one().auto_sync is True
    assert "every minute" in on.get_data(as_text=True)
    scheduled = ScheduledJobRegistry(queue=Queue(context.settings(app).rq_queue, connection=redis_conn))
    assert len(scheduled) >= 1
    post(admin_client, "/settings/integrations/cliniko/auto-sync", {}, htmx=True)
    db_session.expire_all()
    assert db_session.scalars(select(ClinikoConnection)).one().auto_sync is False


def test_auto_sync_without_connection(admin_client) -> None:
    """Turning auto-sync on with nothing connected explains why it cannot."""
    response = post(admin_client, "/settings/integrations/cliniko/auto-sync", {"enabled": "y"}, htmx=True)
    assert response.headers["HX-Redirect"] == "/settings/integrations"
    assert "Cliniko is not connected" in admin_client.get("/settings/integrations").get_data(as_text=True)


def test_synchronise_enqueues_one_job_and_shows_a_polling_widget(admin_client, app, db_session, clock,
                                                                 redis_conn) -> None:
    """Synchronise queues a pull and answers with a status widget that polls; pressing again joins it."""
    make_connection(db_session, clock)
    db_session.commit()
    response = post(admin_client, "/settings/integrations/cliniko/sync", htmx=True)
    body = response.get_data(as_text=True)
    run = db_session.scalars(select(SyncRun)).one()
    assert response.status_code == 200
    assert f'data-hx-get="/settings/integrations/cliniko/sync-runs/{run.id}"' in body
    assert 'data-hx-trigger="load delay:1s"' in body and "Waiting for the background worker" in body
    queue = Queue(context.settings(app).rq_queue, connection=redis_conn)
    assert queue.job_ids == [run.job_id]
    again = post(admin_client, "/settings/integrations/cliniko/sync", htmx=True)
    assert f"/sync-runs/{run.id}" in again.get_data(as_text=True)
    assert db_session.scalars(select(SyncRun)).all() == [run] and len(queue) == 1


def test_synchronise_without_connection(admin_client) -> None:
    """With nothing connected the button explains instead of queueing."""
    response = post(admin_client, "/settings/integrations/cliniko/sync", htmx=True)
    assert response.headers["HX-Redirect"] == "/settings/integrations"


def test_status_widget_polls_while_running_and_stops_when_done(admin_client, db_session, clock) -> None:
    """Running: resource and pages, and it polls; finished: the result, no polling, a history event."""
    run = make_sync_run(db_session, clock, status="running", current_resource="appointment_types",
                        pages_done=7,
                        counts={"patients": {"fetched": 250, "created": 200, "updated": 50, "skipped": 0}})
    db_session.commit()
    running = admin_client.get(f"/settings/integrations/cliniko/sync-runs/{run.id}", headers=HTMX)
    body = running.get_data(as_text=True)
    assert "Synchronising appointment types" in body and "<span data-pages>7</span> pages" in body
    assert "Patients: 250 read, 200 new, 50 updated" in body
    assert "data-hx-trigger" in body and "HX-Trigger" not in running.headers
    run.status, run.finished_at = "succeeded", clock.now()
    db_session.commit()
    done = admin_client.get(f"/settings/integrations/cliniko/sync-runs/{run.id}", headers=HTMX)
    assert "data-hx-trigger" not in done.get_data(as_text=True)
    assert "Finished" in done.get_data(as_text=True)
    assert done.headers["HX-Trigger"] == "sync-finished"


def test_failed_and_partial_runs_read_plainly(admin_client, db_session, clock) -> None:
    """History shows the staff-readable error and which records were skipped and why."""
    make_connection(db_session, clock)
    make_sync_run(db_session, clock, status="failed",
                  error="Cliniko rejected the API key. Check it was copied in full.")
    make_sync_run(db_session, clock, status="partial", problems=[
        {"resource": "patients", "id": "77", "reason": "date of birth is not a date"}],
        counts={"patients": {"fetched": 3, "created": 2, "updated": 0, "skipped": 1}})
    db_session.commit()
    body = admin_client.get("/settings/integrations/cliniko/sync-runs", headers=HTMX).get_data(as_text=True)
    assert "Did not finish" in body and "Cliniko rejected the API key" in body
    assert "Finished with skipped records" in body and "1 record skipped" in body
    assert "Patient 77: date of birth is not a date" in body
    assert "Traceback" not in body


def test_status_of_unknown_run_is_404(admin_client) -> None:
    """Polling a run that does not exist is a 404."""
    assert admin_client.get("/settings/integrations/cliniko/sync-runs/999", headers=HTMX).status_code == 404


def test_page_shows_a_running_sync(admin_client, db_session, clock) -> None:
    """Opening settings during a sync shows its live widget."""
    make_connection(db_session, clock)
    make_sync_run(db_session, clock, status="running", current_resource="patients")
    db_session.commit()
    body = admin_client.get("/settings/integrations").get_data(as_text=True)
    assert "Synchronising patients" in body and "load delay:1s" in body


def test_disconnect_keeps_data_and_forgets_the_key(admin_client, app, db_session, clock) -> None:
    """Disconnect stops syncing and forgets the key; contacts stay."""
    make_connection(db_session, clock, auto_sync=True)
    make_contact(db_session, clock, cliniko_patient_id="5")
    db_session.commit()
    response = post(admin_client, "/settings/integrations/cliniko/disconnect", htmx=True)
    assert response.headers["HX-Redirect"] == "/settings/integrations"
    db_session.expire_all()
    connection = db_session.scalars(select(ClinikoConnection)).one()
    assert connection.api_key_encrypted is None and connection.disconnected_at == clock.now()
    # The choice is kept for the next Connect, but nothing is scheduled for a disconnected account.
    assert ensure_schedules(app) == []
    assert db_session.scalars(select(Contact)).one().cliniko_patient_id == "5"
    body = admin_client.get("/settings/integrations").get_data(as_text=True)
    assert "Cliniko is disconnected" in body and "Enable Integration" in body


def test_disconnect_needs_csrf(admin_client, db_session, clock) -> None:
    """A forged disconnect is refused."""
    make_connection(db_session, clock)
    db_session.commit()
    assert admin_client.post("/settings/integrations/cliniko/disconnect", headers=HTMX).status_code == 400
    db_session.expire_all()
    assert db_session.scalars(select(ClinikoConnection)).one().api_key_encrypted is not None


def test_settings_root_opens_integrations(admin_client) -> None:
    """/settings/ goes to the integrations tab."""
    assert admin_client.get("/settings/").headers["Location"] == "/settings/integrations"


def _auto_sync_box_checked(body: str) -> bool:
    box = re.search(r'<input[^>]*name="auto_sync"[^>]*>', body)
    assert box, "no auto-sync box on the connect form"
    return "checked" in box.group(0)


def test_reconnecting_offers_the_previous_auto_sync_choice_and_keeps_the_history(
    admin_client, app, cliniko, db_session, clock
) -> None:
    """Disconnect, then Connect: the form offers auto-sync as it was, and the sync history stays."""
    assert not _auto_sync_box_checked(admin_client.get("/settings/integrations").get_data(as_text=True))
    connect = {"api_key": cliniko.api_key, "auto_sync": "y"}
    post(admin_client, "/settings/integrations/cliniko", connect, htmx=True)
    assert db_session.scalars(select(ClinikoConnection)).one().auto_sync is True
    assert ensure_schedules(app), "auto-sync chosen at Connect schedules the polls"
    make_sync_run(db_session, clock, counts={"patients": {"fetched": 3, "created": 3}})
    db_session.commit()
    post(admin_client, "/settings/integrations/cliniko/disconnect", htmx=True)

    body = admin_client.get("/settings/integrations").get_data(as_text=True)
    assert "Enable Integration" in body and _auto_sync_box_checked(body)
    assert "Recent syncs" in body and "Patients: 3 read, 3 new" in body
    post(admin_client, "/settings/integrations/cliniko", connect, htmx=True)
    db_session.expire_all()
    latest = db_session.scalars(select(ClinikoConnection).order_by(ClinikoConnection.id.desc())).first()
    assert latest.is_active and latest.auto_sync is True
    assert "Patients: 3 read, 3 new" in admin_client.get("/settings/integrations").get_data(as_text=True)
