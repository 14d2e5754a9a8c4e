"""flask contacts export."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from oncord.contacts.export import iter_contacts, write_csv, write_json
from oncord.db import get_database

contacts_group = AppGroup("contacts", help="Contacts: export.")


@contacts_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--with-appointments", is_flag=True, help="Include each contact's appointments.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File (default stdout).")
def export_command(fmt: str, with_appointments: bool, output: str | None) -> None:
    """Write every contact with every synced field, marketing statuses and Cliniko id."""
    out = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        with get_database().session() as session:
            records = iter_contacts(session, with_appointments=with_appointments)
            if fmt == "json":
                count = write_json(records, out)
            else:
                count = write_csv(records, out, with_appointments=with_appointments)
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"Exported {count} contacts to {output}.", err=True)


def init_app(app: Flask) -> None:
    """Register `flask contacts` on the app's CLI."""
    app.cli.add_command(contacts_group)
