"""The e-mail editors' desktop and phone previews: the exact HTML that would be sent, in a frame.

The staff pages' CSP forbids inline style, and a srcdoc frame inherits it, so a designed e-mail
(all inline style) would show unstyled. Instead the preview's HTML is kept in Redis for a short
while under a random token bound to the staff member, and served from its own address with a CSP
of its own: inline style and images only, no script, sandboxed, framable by this app alone.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, g, make_response, url_for
from werkzeug.wrappers import Response

from oncord.queue import get_redis
from oncord.web.auth import require_login

bp = Blueprint("email_preview", __name__, url_prefix="/email-preview")
bp.before_request(require_login)

KEEP_SECONDS = 30 * 60  # long enough to look at, short enough not to pile up
_KEY = "oncord:email-preview:{user}:{token}"
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
               "frame-ancestors 'self'; sandbox")


@bp.app_template_global()
def email_preview_url(html: str) -> str:
    """Keep `html` for the signed-in staff member and return the address that shows it."""
    token = secrets.token_urlsafe(16)
    get_redis().set(_KEY.format(user=g.user.id, token=token), html.encode(), ex=KEEP_SECONDS)
    return url_for("email_preview.show", token=token)


@bp.get("/<token>")
def show(token: str) -> Response:
    """The kept HTML, as the e-mail program would get it; 404 once it has expired."""
    if len(token) > 64:
        abort(404)
    html = get_redis().get(_KEY.format(user=g.user.id, token=token))
    if html is None:
        abort(404, "This preview has expired. Preview the message again.")
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
