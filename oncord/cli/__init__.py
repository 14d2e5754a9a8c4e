"""The `flask --app app <group> <command>` operations."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Add every command group to the app's CLI."""
    from oncord.cli import db_commands

    app.cli.add_command(db_commands.db_group)
    try:
        from oncord.sandbox.cli import sandbox as sandbox_group
    except ImportError:  # the sandbox package is optional in a slim production image
        sandbox_group = None
    if sandbox_group is not None:
        app.cli.add_command(sandbox_group)
