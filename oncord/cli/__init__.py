"""The `flask --app app <group> <command>` operations."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Add every command group to the app's CLI."""
    from oncord.cli import cliniko_commands, contacts_commands, db_commands

    app.cli.add_command(db_commands.db_group)
    app.cli.add_command(cliniko_commands.cliniko_group)
    app.cli.add_command(contacts_commands.contacts_group)

    from oncord.cli import users_commands

    app.cli.add_command(users_commands.users_group)

    from oncord.cli.bench import register_benchmarks

    app.cli.add_command(register_benchmarks())

    from oncord.demo import demo_command

    app.cli.add_command(demo_command)
    try:
        from oncord.sandbox.cli import sandbox as sandbox_group
    except ImportError:  # the sandbox package is optional in a slim production image
        sandbox_group = None
    if sandbox_group is not None:
        app.cli.add_command(sandbox_group)
