"""Where the templates, static files, migrations and gunicorn.conf.py are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_path(name: str) -> str:
    """The path of `name` ("templates", "static", "migrations", "gunicorn.conf.py") for this oncord."""
    # The wheel maps the repository's top-level files into the package (see pyproject.toml);
    # a checkout, editable install included, keeps them beside the package.
    packaged = PACKAGE_DIR / name
    return str(packaged if packaged.exists() else PACKAGE_DIR.parent / name)
