"""CSRF protection, session cookie settings and security headers for every response."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from oncord.bounds import MAX_ID, is_id
from oncord.config import Settings
from oncord.context import settings

csrf = CSRFProtect()

# No inline script or style anywhere: htmx is configured from a <meta> tag and styled by app.css.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


# Forms and pages are small; a bigger body is refused (413) before anything parses it.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
# An id in a URL bigger than any id (oncord.bounds) matches no route (404) instead of overflowing
# the database driver (500).


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` for the whole app, limited to what a signed 64-bit column can hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_arg(name: str) -> int | None:
    """A query-string id (a paging cursor such as ?after=), or None when absent or out of range."""
    value = request.args.get(name, type=int)
    return value if is_id(value, allow_zero=True) else None


# Health checks and the bench talk to the server directly, by loopback address.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def trusted_hosts(config: Settings) -> list[str] | None:
    """The Host names a request may carry, or None for any (outside production)."""
    names = [name.strip() for name in config.trusted_hosts.split(",") if name.strip()]
    if not names and config.is_production and config.public_base_url:
        names = [urlsplit(config.public_base_url).hostname or ""]
    if not names:
        return None
    return [*names, *LOOPBACK_HOSTS]


def init_app(app: Flask) -> None:
    """Enable CSRF on every POST (form field or X-CSRFToken header) and set the headers."""
    config = settings(app)
    if config.trusted_proxy_count > 0:
        # Believe X-Forwarded-For/-Proto only as far back as the proxies we run: a client can put
        # anything in the header, so the address n hops back is the first one a proxy wrote.
        count = config.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    # A Host header names where redirects (e.g. the trailing-slash one) point: only our own names
    # are accepted (400 otherwise), so nobody can send staff elsewhere through a forged Host.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(config)
    app.config.update(
        # The token lives as long as the login session; an hour-old tab must still save.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        SESSION_COOKIE_NAME="oncord_session",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.session_lifetime_minutes),
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.url_map.converters["int"] = BoundedIntConverter
    csrf.init_app(app)
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # No framework or version names (gunicorn sets its own bare name in front of us).
    headers["Server"] = "Oncord"
    # A view that needs more (e.g. a page embedding Cliniko's booking widget) sets its own CSP.
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        # Pages show patient data: keep them out of shared and back-button caches.
        headers["Cache-Control"] = "no-store"
    return response
