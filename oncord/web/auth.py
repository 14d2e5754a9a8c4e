"""Logging in and out, session expiry, and the login/admin guards other blueprints use."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask import Response as FlaskResponse
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from oncord.accounts import sessions, users
from oncord.accounts.throttle import LoginThrottle, wait_message
from oncord.context import clock, settings
from oncord.db import get_session
from oncord.forms.auth import LoginForm, PasswordForm
from oncord.models import User
from oncord.queue import get_redis
from oncord.web.htmx import htmx, redirect_to, render_page

bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    throttle = current_app.extensions.get("oncord.login_throttle")
    if throttle is None:
        throttle = current_app.extensions["oncord.login_throttle"] = LoginThrottle(get_redis(), clock())
    return throttle


def _client_address() -> str:
    # The real client's address: ProxyFix (TRUSTED_PROXY_COUNT) has already read X-Forwarded-For.
    return request.remote_addr or "unknown"


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after login, or None for anything else."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the logged-in user on g, ending sessions that expired or whose password changed."""
    g.user = None
    if request.endpoint == "static" or "uid" not in session:
        return
    age = clock().now().timestamp() - float(session.get("auth_at", 0))
    if age > settings().session_lifetime_minutes * 60:
        session.clear()
        flash("Your session ended. Log in again to carry on.", "info")
        return
    db = get_session()
    user = db.get(User, session["uid"])
    if user is None or not user.active or session.get("fp") != users.session_fingerprint(user):
        session.clear()
        return
    # The signed cookie alone proves nothing after logout: its session row must still be live.
    if not sessions.is_live(db, session.get("sid"), user.id):
        session.clear()
        return
    g.user = user


def _login_url_for_here() -> str:
    if htmx and htmx.current_url:
        # The fragment URL is no place to return to; the page the user was on is.
        here = urlsplit(htmx.current_url)
        back = safe_next(here.path + (f"?{here.query}" if here.query else ""))
    else:
        back = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return url_for("auth.login", next=back) if back and back != "/" else url_for("auth.login")


def require_login() -> Response | None:
    """before_request guard: send anonymous visitors to the login page (htmx: a full-page redirect)."""
    if g.get("user") is not None:
        return None
    target = _login_url_for_here()
    if htmx:
        response = FlaskResponse("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def require_admin() -> Response | None:
    """before_request guard for admin screens: login first, then the admin role."""
    denied = require_login()
    if denied is not None:
        return denied
    if not g.user.is_admin:
        abort(403, "Only an admin can see and change this. Ask your clinic's Oncord admin.")
    return None


def _log_in(user: User) -> None:
    """Start a recorded session (the caller commits)."""
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["sid"] = sessions.start(get_session(), user, clock())
    session["uid"] = user.id
    session["fp"] = users.session_fingerprint(user)
    session["auth_at"] = clock().now().timestamp()


@bp.get("/login")
def login() -> Response:
    """The login page (or straight on for someone already logged in)."""
    if g.user is not None:
        return redirect(safe_next(request.args.get("next")) or url_for("dashboard.home"))
    form = LoginForm(next=request.args.get("next", ""))
    return render_page("auth/login.html", "auth/_login_form.html", form=form)


@bp.post("/login")
def login_post() -> Response:
    """Check the password, within the throttle; on success start a new session."""
    form = LoginForm()
    if not form.validate():
        return render_page("auth/login.html", "auth/_login_form.html", form=form, status=422)
    # DataRequired on both fields: after validate() each holds a non-empty string.
    email, password = form.email.data or "", form.password.data or ""
    throttle, address = _throttle(), _client_address()
    wait = throttle.retry_after(email, address, clock().now())
    if wait:
        form.form_errors.append(wait_message(wait))
        return _too_many(render_page("auth/login.html", "auth/_login_form.html", form=form, status=429),
                         wait)
    db = get_session()
    user = users.authenticate(db, email, password, clock())
    if user is None:
        throttle.record_failure(email, address)
        form.form_errors.append(
            "That e-mail and password do not match an active account. Check both and try again."
        )
        return render_page("auth/login.html", "auth/_login_form.html", form=form, status=422)
    throttle.reset(email, address)
    _log_in(user)
    db.commit()
    return redirect_to(safe_next(form.next.data) or url_for("dashboard.home"))


def _too_many(response: Response, wait: int) -> Response:
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/logout")
def logout() -> Response:
    """End the session, here and in the database, so a copied cookie stops working too."""
    db = get_session()
    sessions.end(db, session.get("sid"), clock())
    db.commit()
    session.clear()
    flash("You are logged out.", "info")
    return redirect_to(url_for("auth.login"))


account = Blueprint("account", __name__, url_prefix="/account")
account.before_request(require_login)


@account.get("/password")
def password() -> Response:
    """The change-password page."""
    return render_page("account/password.html", "account/_password_form.html", form=PasswordForm())


@account.post("/password")
def password_post() -> Response:
    """Change the password after checking the current one; other sessions end."""
    form = PasswordForm()
    user: User = g.user
    form.account_email = user.email
    if form.validate():
        # A stolen session must not become a way to guess the password: the current-password
        # check counts against the same throttle as the login.
        throttle, address = _throttle(), _client_address()
        wait = throttle.retry_after(user.email, address, clock().now())
        if wait:
            form.form_errors.append(wait_message(wait))
            page = render_page("account/password.html", "account/_password_form.html", form=form, status=429)
            return _too_many(page, wait)
        # DataRequired on both fields: after validate() each holds a non-empty string.
        if check_password_hash(user.password_hash, form.current_password.data or ""):
            users.set_password(user, form.new_password.data or "")
            throttle.reset(user.email, address)
            db = get_session()
            sessions.end_all(db, user, clock())
            _log_in(user)
            db.commit()
            flash("Your password was changed.", "success")
            return redirect_to(url_for("dashboard.home"))
        throttle.record_failure(user.email, address)
        form.current_password.errors = ["That is not your current password."]
    return render_page("account/password.html", "account/_password_form.html", form=form, status=422)
