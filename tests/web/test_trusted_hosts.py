"""In production only our own host names are answered, so no redirect points at a forged Host."""

from __future__ import annotations

import pytest
from flask import Flask

from oncord import create_app
from oncord.db import get_database


@pytest.fixture
def production_app(app: Flask, database_url: str, redis_url: str, clock) -> Flask:
    """The app in production mode, reached at https://oncord.clinic.example."""
    prod = create_app({"mode": "production", "secret_key": "s" * 48, "database_url": database_url,
                       "redis_url": redis_url, "public_base_url": "https://oncord.clinic.example"},
                      clock=clock)
    yield prod
    get_database(prod).engine.dispose()


def test_a_forged_host_is_a_400_not_a_redirect_to_it(production_app) -> None:
    """The trailing-slash redirect for /settings never sends staff to the Host a request claims."""
    client = production_app.test_client()
    forged = client.get("/settings", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "evil.example" not in forged.headers.get("Location", "")
    ours = client.get("/settings", headers={"Host": "oncord.clinic.example"})
    assert ours.status_code == 308
    assert ours.headers["Location"] in ("/settings/", "http://oncord.clinic.example/settings/")


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost"])
def test_loopback_is_answered_for_health_checks_and_the_bench(production_app, host) -> None:
    """A health check on the machine itself still works."""
    assert production_app.test_client().get("/healthz", headers={"Host": host}).status_code == 200


def test_outside_production_any_host_is_answered(client) -> None:
    """The demo and tests answer whatever name they are reached at."""
    assert client.get("/login", headers={"Host": "demo.local:5000"}).status_code == 200
