"""Oncord for clinics: marketing for allied-health clinics, synced with Cliniko."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from oncord import db, logredact
from oncord.clock import Clock, SystemClock
from oncord.config import load_settings
from oncord.resources import resource_path
from oncord.secrets import SecretBox


def create_app(overrides: dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the Flask app: settings, database, queue, blueprints and CLI."""
    # Flask's default instance folder: <checkout>/instance, or <prefix>/var/oncord-instance when
    # installed (never inside site-packages).
    # Before anything logs: no log line of this process carries patient data (oncord/logredact.py).
    logredact.install()
    app = Flask(
        __name__,
        template_folder=resource_path("templates"),
        static_folder=resource_path("static"),
    )
    settings = load_settings(app.instance_path, overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        ONCORD=settings,
        TESTING=settings.mode == "test",
    )
    app.extensions["oncord.settings"] = settings
    app.extensions["oncord.clock"] = clock or SystemClock()
    app.extensions["oncord.secrets"] = SecretBox(
        encryption_key=settings.encryption_key, secret_key=settings.secret_key
    )
    db.init_app(app, settings.database_url)

    from oncord import queue

    queue.init_app(app, settings)

    # Late: the demo and bench commands build apps of their own with create_app.
    from oncord import cli

    cli.init_app(app)

    from oncord.web import register_blueprints, security

    security.init_app(app)

    register_blueprints(app)
    return app
