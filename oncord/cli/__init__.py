"""The `flask --app app <group> <command>` operations; each group's module registers it."""

from __future__ import annotations

from flask import Flask

from oncord import demo
from oncord.cli import bench, cliniko_commands, contacts_commands, db_commands, users_commands
from oncord.sandbox import cli as sandbox_cli

GROUPS = (db_commands, cliniko_commands, contacts_commands, users_commands, bench, demo, sandbox_cli)


def init_app(app: Flask) -> None:
    """Add every command group to the app's CLI."""
    for commands in GROUPS:
        commands.init_app(app)
