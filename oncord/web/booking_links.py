"""The public end of a message's Book Now link: record the click, go to the clinic's bookings page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect
from werkzeug.wrappers import Response

from oncord.attribution.clicks import record_click, target
from oncord.context import clock, settings
from oncord.db import get_session
from oncord.messaging.booking_links import read_token

bp = Blueprint("booking_links", __name__)


@bp.get("/b/<token>")
def follow(token: str) -> Response:
    """Count the click on the message, then redirect to the clinic's own bookings address with UTM
    parameters; the address is the clinic's setting, never anything the link carries."""
    ref = read_token(settings().secret_key, token)
    if ref is None:
        abort(404)
    db = get_session()
    clicked = record_click(db, ref, clock().now())
    db.commit()
    url = target(db, clicked, token)
    if url is None:
        abort(404)
    response = redirect(url, code=302)
    # The token names a message: keep it out of the bookings page's Referer and shared caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
