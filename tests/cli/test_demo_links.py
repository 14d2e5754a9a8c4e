"""The demo's message links point at the address the demo really serves, not a fixed :5000."""

from __future__ import annotations

from oncord import create_app
from oncord.demo import demo_public_base_url
from oncord.messaging.profile import public_base_url


def test_links_follow_the_demo_port() -> None:
    """`flask demo --port 8080` makes unsubscribe links on :8080; a wildcard bind becomes loopback."""
    assert demo_public_base_url("127.0.0.1", 8080, {}) == "http://127.0.0.1:8080"
    assert demo_public_base_url("0.0.0.0", 5050, {}) == "http://127.0.0.1:5050"
    assert demo_public_base_url("::1", 5050, {}) == "http://[::1]:5050"


def test_an_explicit_public_base_url_still_wins() -> None:
    """A PUBLIC_BASE_URL set by the person running the demo is kept as it is."""
    assert demo_public_base_url("127.0.0.1", 8080, {"PUBLIC_BASE_URL": "https://demo.example"}) == (
        "https://demo.example"
    )


def test_the_demo_app_builds_links_with_that_address(tmp_path) -> None:
    """The app the demo creates (and its worker, from the same value) puts the port in message links."""
    app = create_app({"mode": "demo", "database_url": f"sqlite:///{tmp_path / 'demo.db'}",
                      "public_base_url": demo_public_base_url("127.0.0.1", 8080, {})})
    assert public_base_url(app.extensions["oncord.settings"]) == "http://127.0.0.1:8080"
