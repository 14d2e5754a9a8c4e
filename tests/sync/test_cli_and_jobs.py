"""The CLI operations and the RQ job around the pull, through their public interfaces."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from oncord import context
from oncord.integration import active_connection
from oncord.models import Appointment, Contact, SyncRun, SyncRunStatus
from oncord.queue import get_queue
from oncord.sync.launcher import launch_pull
from tests.sync.helpers import all_patients, appointment_rows


def _point_at(app, sandbox) -> None:
    from dataclasses import replace

    app.extensions["oncord.settings"] = replace(context.settings(app), cliniko_api_base_url=sandbox.base_url)


def test_cli_connect_validates_and_stores_the_key_encrypted(app, cli, sandbox, db_session) -> None:
    """`cliniko connect` checks the key with Cliniko and never stores it in plain text."""
    _point_at(app, sandbox)
    result = cli.invoke(args=["cliniko", "connect", "--api-key", sandbox.api_key])
    assert result.exit_code == 0, result.output
    assert "au1" in result.output
    connection = active_connection(db_session)
    assert connection is not None and connection.shard == "au1"
    assert sandbox.api_key not in connection.api_key_encrypted
    assert context.secret_box(app).decrypt(connection.api_key_encrypted) == sandbox.api_key


def test_cli_connect_with_a_wrong_key_says_so(app, cli, sandbox, db_session) -> None:
    """A rejected key is a clear message and a non-zero exit, not a traceback."""
    _point_at(app, sandbox)
    result = cli.invoke(args=["cliniko", "connect", "--api-key", "MS1ub3BlLW5vcGU-au1"])
    assert result.exit_code != 0
    assert "rejected the API key" in result.output
    assert "Traceback" not in result.output
    assert active_connection(db_session) is None


def test_cli_sync_prints_counts_and_requests(connected_app, cli, sandbox) -> None:
    """`cliniko sync` pulls in-process and reports what it did."""
    result = cli.invoke(args=["cliniko", "sync"])
    assert result.exit_code == 0, result.output
    assert f"created {len(all_patients(sandbox))}" in result.output
    assert "requests" in result.output
    again = cli.invoke(args=["cliniko", "sync", "--full"])
    assert again.exit_code == 0 and "created 0" in again.output


def test_export_json_and_csv_carry_every_synced_field(connected_app, cli, sandbox, db_session) -> None:
    """`contacts export` writes every contact, and with appointments each one's visits."""
    cli.invoke(args=["cliniko", "sync"])
    as_json = cli.invoke(args=["contacts", "export", "--format", "json", "--with-appointments"])
    records = json.loads(as_json.output)
    assert len(records) == len(all_patients(sandbox))
    assert {
        "cliniko_patient_id",
        "email_marketing_status",
        "sms_marketing_status",
        "post_code",
        "date_of_birth",
        "appointments",
    } <= set(records[0])
    total = sum(len(r["appointments"]) for r in records)
    assert total == db_session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.contact_id.is_not(None))
    )
    as_csv = cli.invoke(args=["contacts", "export", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == db_session.scalar(select(func.count()).select_from(Contact))


def test_launch_pull_runs_on_a_real_worker_and_joins_a_running_one(
    connected_app, sandbox, run_worker, db_session
) -> None:
    """Synchronise queues one job; asking again before it runs joins it; a worker completes it."""
    with connected_app.app_context():
        first = launch_pull(
            db_session,
            get_queue(connected_app),
            full=False,
            trigger="button",
            clock=context.clock(connected_app),
        )
        second = launch_pull(
            db_session,
            get_queue(connected_app),
            full=False,
            trigger="button",
            clock=context.clock(connected_app),
        )
    assert second.id == first.id
    finished = run_worker()
    assert finished.returncode == 0, finished.stderr[-2000:]
    db_session.expire_all()
    run = db_session.get(SyncRun, first.id)
    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert db_session.scalar(select(func.count()).select_from(Appointment)) == appointment_rows(sandbox)
