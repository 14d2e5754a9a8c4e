"""Blueprints, one per screen area."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the app."""
    from oncord.web import health

    app.register_blueprint(health.bp)
