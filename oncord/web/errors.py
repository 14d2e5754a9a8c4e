"""Error pages that tell staff what to do next; htmx requests get the message as an alert."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, StatementError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from oncord.web.htmx import htmx, with_alert

ADVICE = {
    400: ("Something in that request was not right",
          "Go back, reload the page and try again."),
    403: ("You don't have access to this page",
          "Only an admin can see and change this. Ask your clinic's Oncord admin."),
    404: ("We couldn't find that page",
          "The link may be old, or the contact may have been merged or removed. "
          "Search for it from the Contacts page."),
    405: ("That action isn't available here",
          "Go back to the previous page and use its buttons."),
    413: ("That was too much to send at once",
          "Forms and pages are limited to 2 MB. Shorten the text or remove pasted images, then try again."),
    429: ("Too many requests",
          "Wait a minute and try again."),
    500: ("Something went wrong on our side",
          "Your last change may not have been saved. Reload the page and try again; if it keeps "
          "happening, contact Oncord support and tell them the time it happened."),
}
CSRF_ADVICE = ("This page had expired",
               "For your security, forms stop working after you log out or your session ends. "
               "Reload the page and try again.")


def _render(status: int, title: str, advice: str) -> Response:
    if htmx:
        return with_alert(make_response(advice, status), f"{title}. {advice}")
    page = render_template("errors/error.html", status=status, title=title, advice=advice)
    return make_response(page, status)


def handle_http_error(error: HTTPException) -> Response:
    """Render a known HTTP error with the advice for its status."""
    status = error.code or 500
    title, advice = ADVICE.get(status, (error.name, ADVICE[400][1]))
    if status == 403 and error.description and not error.description.startswith("You don't have"):
        advice = error.description
    return _render(status, title, advice)


def handle_untrusted_host(_error: SecurityError) -> Response:
    """A Host that is not ours (TRUSTED_HOSTS): plain text, since no URL can be built for it."""
    message = "This address is not served here. Open Oncord at your clinic's own address."
    response = make_response(message, 400)
    response.mimetype = "text/plain"
    return response


def handle_csrf_error(_error: CSRFError) -> Response:
    """A missing or stale CSRF token."""
    return _render(400, *CSRF_ADVICE)


def handle_server_error(_error: InternalServerError) -> Response:
    """Anything unhandled (Flask has logged it already): apologise and say what to do."""
    return _render(500, *ADVICE[500])


OUT_OF_RANGE = ("A number, date or text in that request is out of range",
                "Check the values you entered (numbers, dates, no special characters) and try again.")


def handle_out_of_range(error: StatementError) -> Response:
    """A value the database cannot hold (a huge integer, a NUL character): 400, not 500.

    Forms and route converters bound what they can; this is the one net under all of them,
    so a field someone forgets to bound still gives staff a plain message.
    """
    if not isinstance(error, DataError) and not isinstance(error.orig, OverflowError | ValueError):
        raise error
    from oncord.db import get_session

    get_session().rollback()
    return _render(400, *OUT_OF_RANGE)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(StatementError, handle_out_of_range)
    app.register_error_handler(OverflowError, lambda _error: _render(400, *OUT_OF_RANGE))
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
