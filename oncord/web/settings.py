"""Settings (admins only): Third Party Integrations (the Cliniko box, live sync) and Users."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, session, url_for
from werkzeug.wrappers import Response

from oncord.accounts import sessions, users
from oncord.cliniko.errors import ClinikoError
from oncord.context import cliniko_client_options, clock, secret_box, settings
from oncord.db import get_session
from oncord.forms.settings import ActionForm, AutoSyncForm, ConnectClinikoForm, EditUserForm, NewUserForm
from oncord.integration import (
    NotConnected,
    active_connection,
    budget_use,
    connect_cliniko,
    disconnect_cliniko,
    previous_auto_sync,
    set_auto_sync,
)
from oncord.jobs.sync_jobs import ensure_schedules
from oncord.models import SyncRun, User
from oncord.queue import get_queue
from oncord.sync.launcher import (
    PULL_KINDS,
    PUSH_KINDS,
    active_pull,
    last_finished_run,
    launch_pull,
    recent_runs,
)
from oncord.web.auth import require_admin
from oncord.web.htmx import redirect_to, render_fragment, render_page

bp = Blueprint("settings", __name__, url_prefix="/settings")
bp.before_request(require_admin)

HISTORY_LENGTH = 10


@bp.get("/")
def index() -> Response:
    """Settings opens on the integrations tab."""
    return redirect(url_for("settings.integrations"))


def _cliniko_context(**overrides: Any) -> dict[str, Any]:
    db = get_session()
    connection = active_connection(db)
    context: dict[str, Any] = {
        "connection": connection,
        "connect_form": ConnectClinikoForm(auto_sync=previous_auto_sync(db)),
        "auto_sync_form": AutoSyncForm(enabled=connection.auto_sync if connection else False),
        "action_form": ActionForm(),
        "running": active_pull(db),
        "runs": recent_runs(db, HISTORY_LENGTH),
        "last_read": last_finished_run(db, PULL_KINDS),
        "last_push": last_finished_run(db, PUSH_KINDS),
        "budget": budget_use(connection, settings(), secret_box()),
    }
    context.update(overrides)
    return context


@bp.get("/integrations")
def integrations() -> Response:
    """Third Party Integrations: the Cliniko box and its sync history."""
    return render_page("settings/integrations.html", "settings/_cliniko.html", **_cliniko_context())


@bp.post("/integrations/cliniko")
def connect() -> Response:
    """Check the key with Cliniko and store it; a wrong key or an outage shows on the form (422)."""
    form = ConnectClinikoForm()
    if form.validate():
        db = get_session()
        try:
            connection = connect_cliniko(db, api_key=form.api_key.data or "", settings=settings(),
                                         secret_box=secret_box(), clock=clock(),
                                         client_options=cliniko_client_options(),
                                         auto_sync=bool(form.auto_sync.data))
        except ClinikoError as exc:
            db.rollback()
            form.api_key.errors = [exc.user_message]
        else:
            db.commit()
            if connection.auto_sync:
                ensure_schedules(current_app._get_current_object())  # type: ignore[attr-defined]
            where = connection.account_name or connection.account_subdomain or "your Cliniko account"
            flash(f"Cliniko is connected to {where} (shard {connection.shard}). "
                  "Press Synchronise to bring in patients and appointments.", "success")
            return redirect_to(url_for("settings.integrations"))
    return render_page("settings/integrations.html", "settings/_cliniko.html", status=422,
                       **_cliniko_context(connect_form=form))


@bp.post("/integrations/cliniko/auto-sync")
def auto_sync() -> Response:
    """Turn scheduled syncing on or off."""
    form = AutoSyncForm()
    if not form.validate():
        abort(400)
    db = get_session()
    try:
        set_auto_sync(db, bool(form.enabled.data), clock())
    except NotConnected:
        flash(NotConnected.user_message, "error")
        return redirect_to(url_for("settings.integrations"))
    db.commit()
    if form.enabled.data:
        # The first scheduled pull is queued now, not at the next worker start.
        # The real app, not the proxy; flask types current_app as Flask, which hides the
        # LocalProxy's _get_current_object, hence the ignore.
        ensure_schedules(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_fragment("settings/_auto_sync.html", **_cliniko_context())


@bp.post("/integrations/cliniko/sync")
def synchronise() -> Response:
    """Queue a pull (or join the one under way) and answer with its live status widget."""
    db = get_session()
    if active_connection(db) is None:
        flash(NotConnected.user_message, "error")
        return redirect_to(url_for("settings.integrations"))
    run = launch_pull(db, get_queue(), full=False, trigger="manual", clock=clock())
    return render_fragment("settings/_sync_status.html", run=run)


@bp.get("/integrations/cliniko/sync-runs/<int:run_id>")
def sync_status(run_id: int) -> Response:
    """The status widget: it polls itself while the run is queued or running, then stops."""
    run = get_session().get(SyncRun, run_id)
    if run is None:
        abort(404)
    response = render_fragment("settings/_sync_status.html", run=run)
    if run.is_finished:
        # Lets the history table and the connection box refresh themselves.
        response.headers["HX-Trigger"] = "sync-finished"
    return response


@bp.get("/integrations/cliniko/sync-runs")
def sync_history() -> Response:
    """The table of recent runs."""
    return render_fragment("settings/_sync_history.html", runs=recent_runs(get_session(), HISTORY_LENGTH))


@bp.post("/integrations/cliniko/disconnect")
def disconnect() -> Response:
    """Forget the key and stop syncing; contacts and appointments stay."""
    if not ActionForm().validate():
        abort(400)
    db = get_session()
    disconnect_cliniko(db, clock())
    db.commit()
    flash("Cliniko is disconnected. Contacts and appointments already in Oncord are kept; "
          "nothing more is synchronised until you enable the integration again.", "success")
    return redirect_to(url_for("settings.integrations"))


def _users_page(form: NewUserForm | None = None, status: int = 200) -> Response:
    db = get_session()
    people = users.list_users(db)
    return render_page(
        "settings/users.html", "settings/_user_form.html", status=status,
        users=people, form=form or NewUserForm(),
        edit_forms={u.id: EditUserForm(prefix=f"u{u.id}", role=u.role, active=u.active) for u in people},
    )


@bp.get("/users")
def users_index() -> Response:
    """Everyone who can log in, and a form to add someone."""
    return _users_page()


@bp.post("/users")
def users_create() -> Response:
    """Add a user with a first password the admin hands over."""
    form = NewUserForm()
    if form.validate():
        db = get_session()
        try:
            user = users.create_user(db, email=form.email.data or "", password=form.password.data or "",
                                     role=form.role.data, clock=clock())
        except users.AccountError as exc:
            db.rollback()
            form.email.errors = [str(exc)]
        else:
            db.commit()
            flash(f"{user.email} can now log in with the password you chose. Ask them to change it "
                  "under My account.", "success")
            return redirect_to(url_for("settings.users_index"))
    return _users_page(form, status=422)


@bp.post("/users/<int:user_id>")
def users_update(user_id: int) -> Response:
    """Change someone's role or stop them logging in."""
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm(prefix=f"u{user.id}")
    if not form.validate():
        abort(400)
    try:
        users.update_user(db, user, role=form.role.data, active=bool(form.active.data))
    except users.AccountError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        if user.id == g.user.id and not user.is_admin:
            flash("You are no longer an admin.", "success")
            return redirect_to(url_for("dashboard.home"))
        flash(f"{user.email} was updated.", "success")
    return redirect_to(url_for("settings.users_index"))


@bp.post("/users/<int:user_id>/sign-out")
def users_sign_out(user_id: int) -> Response:
    """End every session of this user at once (a lost laptop, a shared computer)."""
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    keep = session.get("sid") if user.id == g.user.id else None
    ended = sessions.end_all(db, user, clock(), keep=keep)
    db.commit()
    flash(f"{user.email} was signed out of {ended} session{'s' if ended != 1 else ''}.", "success")
    return redirect_to(url_for("settings.users_index"))


