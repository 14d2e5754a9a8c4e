"""flask cliniko connect | disconnect | status | sync."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from oncord import context
from oncord.cliniko.errors import ClinikoError
from oncord.db import get_database
from oncord.integration import active_connection, connect_cliniko, disconnect_cliniko, set_auto_sync
from oncord.jobs.sync_jobs import run_pull
from oncord.sync.launcher import create_run

cliniko_group = AppGroup("cliniko", help="The connection to Cliniko and syncing with it.")


@cliniko_group.command("connect")
@click.option("--api-key", prompt=True, hide_input=True, help="The Cliniko API key (ends in -au1 etc.).")
def connect_command(api_key: str) -> None:
    """Check an API key against Cliniko and store it encrypted."""
    with get_database().session() as session:
        try:
            connection = connect_cliniko(
                session,
                api_key=api_key,
                settings=context.settings(),
                secret_box=context.secret_box(),
                clock=context.clock(),
                client_options=context.cliniko_client_options(),
            )
        except ClinikoError as exc:
            raise click.ClickException(exc.user_message) from None
        session.commit()
        click.echo(
            f"Connected to Cliniko account {connection.account_subdomain or '(unknown)'} "
            f"on shard {connection.shard} as {connection.user_name}."
        )


@cliniko_group.command("disconnect")
def disconnect_command() -> None:
    """Forget the API key and stop syncing (contacts stay)."""
    with get_database().session() as session:
        disconnect_cliniko(session, context.clock())
        session.commit()
    click.echo("Disconnected from Cliniko. Contacts and appointments were kept.")


@cliniko_group.command("auto-sync")
@click.argument("state", type=click.Choice(["on", "off"]))
def auto_sync_command(state: str) -> None:
    """Turn scheduled syncing on or off."""
    with get_database().session() as session:
        set_auto_sync(session, state == "on", context.clock())
        session.commit()
    click.echo(f"Auto-sync is {state}.")


@cliniko_group.command("status")
def status_command() -> None:
    """Show the connection."""
    with get_database().session() as session:
        connection = active_connection(session)
        if connection is None:
            click.echo("Not connected.")
            return
        click.echo(
            f"Connected: {connection.account_subdomain} ({connection.shard}), "
            f"auto-sync {'on' if connection.auto_sync else 'off'}, "
            f"enabled at {connection.enabled_at.isoformat()}"
        )


@cliniko_group.command("sync")
@click.option("--full", is_flag=True, help="Reconcile everything instead of only what changed.")
def sync_command(full: bool) -> None:
    """Pull from Cliniko now, in this process, and print what it did."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with get_database().session() as session:
        run = create_run(session, full=full, trigger="cli", clock=context.clock())
        session.commit()
        run_id = run.id
    try:
        run = run_pull(app, run_id, full=full)
    except ClinikoError as exc:
        click.echo(f"Sync failed: {exc.user_message}", err=True)
        sys.exit(1)
    click.echo(
        f"Sync #{run.id} {run.status}: {run.requests_made} requests, {run.rate_limit_waits} rate-limit waits."
    )
    for resource, counts in run.counts.items():
        click.echo(f"  {resource:<18} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for problem in run.problems:
        click.echo(f"  skipped {problem['resource']} {problem['id']}: {problem['reason']}")
    if run.error:
        click.echo(f"Sync failed: {run.error}", err=True)
        sys.exit(1)


def init_app(app: Flask) -> None:
    """Register `flask cliniko` on the app's CLI."""
    app.cli.add_command(cliniko_group)
