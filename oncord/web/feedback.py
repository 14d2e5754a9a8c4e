"""The public feedback page a message's 0-10 links open: no login; only its button records.

Mail scanners open every link in a message, so opening one (GET) shows the page with that score
chosen and records nothing; the page's POST (CSRF-protected like every form) records it.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from werkzeug.wrappers import Response

from oncord.context import clock, settings
from oncord.db import get_session
from oncord.feedback.limits import FeedbackLimiter
from oncord.feedback.responses import Link, LinkState, category, check_link, record_score
from oncord.forms.feedback import FeedbackForm
from oncord.messaging.profile import load_profile
from oncord.queue import get_redis

bp = Blueprint("feedback", __name__, url_prefix="/f")

_STATUS = {LinkState.VALID: 200, LinkState.TEST: 200, LinkState.INVALID: 404, LinkState.EXPIRED: 410}


def _link(token: str) -> Link:
    return check_link(get_session(), settings().secret_key, token, clock().now())


def _page(link: Link, form: FeedbackForm, *, status: int | None = None, **context: object) -> Response:
    clinic = load_profile(get_session(), settings()).sender_name or "the clinic"
    html = render_template("public/feedback.html", link=link, form=form, clinic=clinic,
                           token=request.view_args.get("token") if request.view_args else "", **context)
    response = make_response(html, status or _STATUS[link.state])
    # A patient's own link: never kept by a shared cache, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/<token>")
def choose(token: str) -> Response:
    """The 0-10 choice with nothing chosen (the text part's and the SMS's link)."""
    return _page(_link(token), FeedbackForm(formdata=None))


@bp.get("/<token>/<int:score>")
def chosen(token: str, score: int) -> Response:
    """The page with one score chosen (an HTML button's link); records nothing."""
    form = FeedbackForm(formdata=None, score=score if 0 <= score <= 10 else None)
    return _page(_link(token), form)


@bp.post("/<token>")
def answer(token: str) -> Response:
    """Record (or change) the score of this link's message, and thank the patient."""
    link, form = _link(token), FeedbackForm()
    if link.state != LinkState.VALID:
        return _page(link, form)
    if not form.validate():
        return _page(link, form, status=422)
    address = request.remote_addr or "unknown"
    if not FeedbackLimiter(get_redis(), clock()).allow(address, token):
        return _page(link, form, status=429, limited=True)
    score = int(form.score.data)
    db = get_session()
    record_score(db, link, score, clock().now())
    db.commit()
    return _page(link, form, thanked=True, score=score, group=category(score))
