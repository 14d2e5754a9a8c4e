"""No input gives a 5xx: every GET route walked with hostile path values and query strings.

The CI run is short. A long run: ONCORD_FUZZ_EXAMPLES=500 pytest tests/web/test_hostile_input.py
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import post

EXAMPLES = int(os.environ.get("ONCORD_FUZZ_EXAMPLES", "8"))
HOSTILE = ["99999999999999999999999", "-1", "0", "9223372036854775808", "0001-01-01", "9999-12-31",
           "a\x00b", "\x00", "%00", "\u202e", "é" * 300, "x" * 5000, "'", "<script>", "{" * 200,
           "../../etc/passwd", "1e309", "NaN"]
QUERY_NAMES = ["q", "page", "days", "practitioner", "after", "before", "start", "end", "next", "status",
               "cursor", "id", "type", "channel"]
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _get_routes(app: Flask) -> list[str]:
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ()) and r.endpoint != "static"]
    return sorted({r.rule for r in rules})


def _fill(rule: str, value: str) -> str:
    # Percent-encoded as a browser would: a "?" or "#" in a value must not start the query string.
    return _PARAM.sub(lambda m: quote(value, safe="/" if m.group(1) == "path" else ""), rule)


def _assert_no_5xx(client, app: Flask, values: list[str]) -> None:
    for rule in _get_routes(app):
        for value in values:
            query = {name: value for name in QUERY_NAMES}
            response = client.get(_fill(rule, value), query_string=query)
            assert response.status_code < 500, (rule, value, response.status_code)


@pytest.fixture
def no_outside_calls(app, monkeypatch):
    """Nothing may leave the machine: a Cliniko base URL nobody listens on."""
    from tests.web.conftest import point_at

    point_at(app, "http://127.0.0.1:9")


def test_every_get_route_survives_hostile_values_anonymous(client, app, no_outside_calls) -> None:
    """An anonymous visitor gets no 5xx from any GET route with any listed hostile value."""
    _assert_no_5xx(client, app, HOSTILE)


def test_every_get_route_survives_hostile_values_as_admin(admin_client, app, no_outside_calls) -> None:
    """An admin (who sees every screen) gets no 5xx from any GET route with any listed hostile value."""
    _assert_no_5xx(admin_client, app, HOSTILE)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=st.one_of(st.text(max_size=40), st.integers(min_value=-(2**80), max_value=2**80).map(str)))
def test_generated_values_give_no_5xx(admin_client, app, no_outside_calls, value) -> None:
    """Generated text and integers in every path and query parameter give no 5xx."""
    _assert_no_5xx(admin_client, app, [value or "x"])


def test_huge_id_in_a_url_is_a_404(admin_client) -> None:
    """An id above 64 bits matches no route, so it is a plain 404 rather than a database overflow."""
    response = admin_client.get("/contacts/99999999999999999999999")
    assert response.status_code == 404
    assert "find that page" in response.get_data(as_text=True)


def test_a_body_over_the_limit_is_refused_with_413(staff_client) -> None:
    """A 3 MB form is refused before it is parsed."""
    response = post(staff_client, "/contacts/1/edit", {"first_name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_server_header_names_no_versions(client) -> None:
    """The Server header says nothing about Werkzeug or Python."""
    assert client.get("/login").headers["Server"] == "Oncord"
