"""Response bodies shaped like Cliniko's: compact JSON, plain-text auth errors, the HTML 404 page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html>
<head>
  <title>Cliniko - 404</title>
  <meta name="viewport" content="width=device-width,initial-scale=1">
</head>
<body>
  <div class="dialog">
    <h1>The page you were looking for doesn't exist.</h1>
    <p>You may have mistyped the address or the page may have moved.</p>
  </div>
</body>
</html>
"""

SERVER_ERROR_PAGE = """<!DOCTYPE html>
<html>
<head><title>Cliniko - 500</title></head>
<body><h1>We're sorry, but something went wrong.</h1></body>
</html>
"""


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize `payload` the way the API does (UTF-8, no extra whitespace)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status=status, headers=headers, content_type=JSON_TYPE)


def message(text: str, status: int) -> Response:
    """A `{"message": ...}` error body."""
    return json_response({"message": text}, status)


def validation_failed(errors: Mapping[str, str | None]) -> Response:
    """Cliniko's 422 body for a refused write."""
    return json_response({"message": "Validation Failed", "errors": errors}, 422)


def text(body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A plain-text response (Cliniko's auth and throttling answers are plain text)."""
    return Response(body, status=status, headers=headers, content_type="text/plain; charset=utf-8")


def not_found_page() -> Response:
    """The HTML page Cliniko serves for a route it does not have."""
    return Response(NOT_FOUND_PAGE, status=404, content_type="text/html; charset=utf-8")


def server_error_page(status: int) -> Response:
    """An HTML 5xx page, as a Rails app behind a proxy sends when it fails."""
    return Response(SERVER_ERROR_PAGE, status=status, content_type="text/html; charset=utf-8")
