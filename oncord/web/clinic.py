"""The clinic's logo at its stable address, for public pages and e-mails: anonymous and cacheable."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, request
from werkzeug.wrappers import Response

from oncord.clinic_profile import LOGO_PATH, clinic_logo
from oncord.db import get_session

bp = Blueprint("clinic", __name__)

# The bare address may change when an admin uploads another logo; a versioned one never does.
LOGO_MAX_AGE_SECONDS = 300
VERSIONED_MAX_AGE_SECONDS = 365 * 24 * 3600


@bp.get(LOGO_PATH)
def logo() -> Response:
    """The stored logo with its checked media type, or 404 when there is none."""
    stored = clinic_logo(get_session())
    if stored is None:
        abort(404)
    response = make_response(stored.data)
    response.headers["Content-Type"] = stored.media_type
    # An image, never a document: nothing in it may run even if opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline; filename=logo"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # e-mail clients load it too
    version = request.args.get("v")
    if version and stored.digest.startswith(version) and len(version) >= 16:
        response.headers["Cache-Control"] = f"public, max-age={VERSIONED_MAX_AGE_SECONDS}, immutable"
    else:
        response.headers["Cache-Control"] = f"public, max-age={LOGO_MAX_AGE_SECONDS}"
    response.set_etag(stored.digest)
    return response.make_conditional(request)
