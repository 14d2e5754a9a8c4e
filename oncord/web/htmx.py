"""htmx helpers: page-or-fragment rendering, redirects htmx follows, alerts for failed requests."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

from flask import make_response, redirect, render_template
from flask_htmx import HTMX
from werkzeug.wrappers import Response

htmx = HTMX()

_R = TypeVar("_R", bound=Response)


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page (not a boosted link or a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(page: str, fragment: str, *, status: int = 200, **context: Any) -> Response:
    """The full page, or for an htmx request to the same URL only the fragment the page includes."""
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, *, status: int = 200, **context: Any) -> Response:
    """A fragment answered to an htmx request (e.g. a form with errors, with status 422)."""
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str) -> Response:
    """After a successful POST: a 303 for a plain form, a full-page HX-Redirect for htmx."""
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def with_alert(response: _R, message: str) -> _R:
    """Attach a message that static/app.js shows in the alert bar when htmx gets an error."""
    # Header values must be Latin-1; percent-encoding keeps any message intact.
    response.headers["X-Oncord-Alert"] = quote(message)
    return response
