"""Accessors for the app-wide services that create_app binds."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from oncord.clock import Clock
from oncord.config import Settings
from oncord.secrets import SecretBox


def settings(app: Flask | None = None) -> Settings:
    """The app's typed settings."""
    return (app or current_app).extensions["oncord.settings"]


def clock(app: Flask | None = None) -> Clock:
    """The app's clock (a FrozenClock in tests)."""
    return (app or current_app).extensions["oncord.clock"]


def secret_box(app: Flask | None = None) -> SecretBox:
    """Encrypts and decrypts secrets at rest."""
    return (app or current_app).extensions["oncord.secrets"]


def cliniko_client_options(app: Flask | None = None) -> dict[str, Any]:
    """Extra ClinikoClient arguments; tests put a fake sleep here so retries cost no time."""
    return (app or current_app).extensions.get("oncord.cliniko_client_options", {})
