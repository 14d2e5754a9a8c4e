"""Automations: the list with on/off and counts, the editor with preview and test send, the send log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.automations.editing import describe_trigger, save_automation, set_enabled
from oncord.automations.enablement import asks_first, matching_now, switch_on
from oncord.automations.journeys.versions import current_version
from oncord.automations.manage import delete_automation, deleted_automations, duplicate_automation
from oncord.automations.preview import preview, send_test
from oncord.automations.queries import list_automations, preview_contacts, send_counts, send_log
from oncord.automations.reasons import reason_text
from oncord.context import clock, settings
from oncord.db import get_database, get_session
from oncord.forms.automations import MAX_SMS_TEMPLATE, AutomationForm, ToggleForm
from oncord.messaging.blocks import BLOCK_SYNTAX
from oncord.messaging.profile import load_profile, sms_backend
from oncord.messaging.templates import MERGE_FIELDS, check_email_body, check_template
from oncord.models import AppointmentType, Automation, Backfill, Contact, Practitioner, SendState
from oncord.web.auth import require_login
from oncord.web.htmx import redirect_to, render_fragment, render_page, wants_fragment
from oncord.web.security import id_arg

bp = Blueprint("automations", __name__, url_prefix="/automations")
bp.before_request(require_login)

STATE_LABELS = {
    SendState.PENDING.value: "Waiting",
    SendState.QUEUED.value: "Queued",
    SendState.SENDING.value: "Sending",
    SendState.SENT.value: "Sent",
    SendState.SKIPPED.value: "Skipped",
    SendState.FAILED.value: "Failed",
}


def get_automation_or_404(session: Session, automation_id: int, *, deleted: bool = False) -> Automation:
    """The automation, or a 404 page (also for a deleted one, unless `deleted`: its send log stays)."""
    automation = session.get(Automation, automation_id)
    if automation is None or (automation.deleted_at is not None and not deleted):
        abort(404)
    return automation


@bp.app_template_global()
def automation_state_label(state: str) -> str:
    """A send state in words."""
    return STATE_LABELS.get(state, state)


@bp.app_template_global()
def automation_reason(code: str | None) -> str:
    """A skip or wait reason in words."""
    return reason_text(code)


def _list_context(**extra: Any) -> dict[str, Any]:
    db = get_session()
    automations = list_automations(db)
    return {
        "automations": automations,
        "counts": send_counts(db, [a.id for a in automations]),
        "toggle_form": ToggleForm(),
        "describe_trigger": describe_trigger,
        "deleted": deleted_automations(db),
        **extra,
    }


@bp.get("")
def index() -> Response:
    """Every automation with its switch and counts of sent, skipped and failed messages."""
    return render_page("automations/index.html", "automations/_list.html", **_list_context())


@bp.post("/<int:automation_id>/toggle")
def toggle(automation_id: int) -> Response:
    """Turn an automation on or off; answers with its row."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    form = ToggleForm()
    if not form.validate():
        abort(400)
    enabled = bool(form.enabled.data)
    problem = _enable_problem(automation) if enabled else None
    if problem is None and enabled and asks_first(automation):
        # Recall and birthday match people already: nobody starts without staff's choice.
        if matching_now(db, automation, clock().now(), settings()):
            return redirect_to(url_for("switch_on.confirm", automation_id=automation.id))
        switch_on(db, automation, Backfill.NEW, clock(), settings())
        db.commit()
    elif problem is None:
        set_enabled(automation, enabled, clock())
        db.commit()
    return render_fragment(
        "automations/_row.html", automation=automation, counts=send_counts(db, [automation.id]),
        toggle_form=ToggleForm(), describe_trigger=describe_trigger, problem=problem,
    )


def _enable_problem(automation: Automation) -> str | None:
    if automation.send_email and not load_profile(get_session(), settings()).email_ready:
        return ("E-mails need a sender name and address first. An admin can set them in "
                "Settings → Messaging.")
    # A template that cannot be filled in (checked against a sample contact and appointment) is
    # never turned on: edit it first.
    parts: list[tuple[str, str | None]] = []
    if automation.send_email:
        parts += [("Subject", automation.email_subject), ("E-mail", automation.email_body)]
    if automation.send_sms:
        parts.append(("SMS", automation.sms_body))
    for label, source in parts:
        problems = (check_email_body if label == "E-mail" else check_template)(source or "")
        if problems:
            return f"It stays off: {label}: {problems[0]} Edit the automation to fix it."
    return None


def _choices(form: AutomationForm, selected_types: list[int], selected_practitioners: list[int]) -> None:
    db = get_session()
    types = db.scalars(select(AppointmentType).order_by(AppointmentType.name))
    practitioners = db.scalars(select(Practitioner).order_by(Practitioner.display_name))
    form.set_choices(
        [(t.id, t.name + (" (archived)" if t.archived_at else "")) for t in types
         if t.archived_at is None or t.id in selected_types],
        [(p.id, p.display_name + ("" if p.active else " (inactive)")) for p in practitioners
         if p.active or p.id in selected_practitioners],
        [(c.id, f"{c.full_name}" + (f" <{c.email}>" if c.email else "")) for c in
         preview_contacts(db, clock().now())],
    )


def _editor(form: AutomationForm, automation: Automation | None, *, status: int = 200) -> Response:
    _choices(form, list(form.appointment_types.data or []), list(form.practitioners.data or []))
    if not form.test_email.data and g.user is not None:
        form.test_email.data = g.user.email
    profile = load_profile(get_session(), settings())
    return render_page(
        "automations/edit.html", "automations/_form.html", status=status,
        form=form, automation=automation, merge_fields=MERGE_FIELDS, email_ready=profile.email_ready,
        block_syntax=BLOCK_SYNTAX,
        sms_ready=bool(sms_backend(settings())), max_sms=MAX_SMS_TEMPLATE,
    )


@bp.get("/new")
def new() -> Response:
    """The editor for a new automation (a 24-hour reminder to start from)."""
    return _editor(AutomationForm(), None)


@bp.post("/new")
def create() -> Response:
    """Save a new automation; problems come back on the form (422)."""
    form = AutomationForm()
    if _valid(form, None):
        automation = save_automation(get_session(), None, form.to_data(), clock())
        get_session().commit()
        state = " and is on." if automation.enabled else ". It is off until you turn it on."
        flash(f"“{automation.name}” was saved{state}", "success")
        return redirect_to(url_for("automations.index"))
    return _editor(form, None, status=422)


def _valid(form: AutomationForm, automation: Automation | None) -> bool:
    valid = form.validate()
    if valid and form.enabled.data and form.send_email.data:
        if not load_profile(get_session(), settings()).email_ready:
            form.form_errors.append("E-mails need a sender name and address first. An admin can set them in "
                                    "Settings → Messaging; until then, save it turned off.")
            valid = False
    return valid


@bp.get("/<int:automation_id>")
def edit(automation_id: int) -> Response:
    """The editor for a saved automation."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    if current_version(db, automation.id) is not None:
        # A journey's messages are its steps, edited on the journey screen.
        return redirect_to(url_for("journeys.show", automation_id=automation.id))
    return _editor(AutomationForm.for_automation(automation), automation)


@bp.post("/<int:automation_id>")
def update(automation_id: int) -> Response:
    """Save changes; they apply to messages not yet sent."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    form = AutomationForm()
    if _valid(form, automation):
        save_automation(db, automation, form.to_data(), clock())
        db.commit()
        flash(f"“{automation.name}” was saved.", "success")
        return redirect_to(url_for("automations.index"))
    return _editor(form, automation, status=422)


@bp.post("/new/trigger")
def switch_trigger_new() -> Response:
    """The new automation's editor after the trigger changed: untouched defaults become the new trigger's."""
    return _switched(None)


@bp.post("/<int:automation_id>/trigger")
def switch_trigger(automation_id: int) -> Response:
    """A saved automation's editor after the trigger changed (nothing is saved until Save)."""
    return _switched(get_automation_or_404(get_session(), automation_id))


def _switched(automation: Automation | None) -> Response:
    form = AutomationForm()
    form.switch_trigger()
    return _editor(form, automation)

@bp.post("/<int:automation_id>/delete")
def delete(automation_id: int) -> Response:
    """Delete an automation: it never sends again; its send log is kept."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    delete_automation(automation, clock().now())
    db.commit()
    flash(f"“{automation.name}” was deleted. Its send log is kept under Deleted automations.", "success")
    return redirect_to(url_for("automations.index"))


@bp.post("/<int:automation_id>/duplicate")
def duplicate(automation_id: int) -> Response:
    """A switched-off copy to adjust in the editor."""
    db = get_session()
    copy = duplicate_automation(db, get_automation_or_404(db, automation_id), clock().now())
    db.commit()
    flash(f"“{copy.name}” was made. It is off: adjust it, then turn it on.", "success")
    return redirect_to(url_for("automations.edit", automation_id=copy.id))


def _preview_contact(form: AutomationForm) -> Contact | None:
    contact_id = form.preview_contact.data or 0
    return get_session().get(Contact, contact_id) if contact_id else None


@bp.post("/preview")
def preview_post() -> Response:
    """The messages as the chosen contact would get them (from the editor's unsaved values)."""
    form = AutomationForm()
    form.validate()
    template_errors = [e for f in (form.email_subject, form.email_body, form.sms_body) for e in f.errors
                       if not e.startswith(("Enter", "Write"))]
    previews = [] if template_errors else preview(
        get_session(), settings(), form.to_data(), _preview_contact(form), clock().now()
    )
    return render_fragment("automations/_preview.html", previews=previews, problems=template_errors)


@bp.post("/test-send")
def test_send() -> Response:
    """Send the messages, filled in for the preview contact, to the staff member's own address."""
    form = AutomationForm()
    form.validate()
    checked = (form.email_subject, form.email_body, form.sms_body, form.test_email)
    problems = [e for f in checked for e in f.errors if not e.startswith("Write")]
    if problems:
        return render_fragment("automations/_test_result.html", outcomes=[(False, p) for p in problems],
                               status=422)
    outcomes = send_test(
        get_session(), get_database(), settings(), clock(), form.to_data(), _preview_contact(form),
        to_email=form.test_email.data or None, to_phone=form.test_phone.data or None,
    )
    return render_fragment("automations/_test_result.html", outcomes=outcomes)


@bp.get("/<int:automation_id>/log")
def log(automation_id: int) -> Response:
    """The send log: every message sent, skipped (and why) or failed, newest first."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id, deleted=True)
    state = request.args.get("state") or None
    channel = request.args.get("channel") or None
    if state not in (None, *STATE_LABELS) or channel not in (None, "email", "sms"):
        abort(400)
    before = id_arg("before")
    page = send_log(db, automation.id, state=state, channel=channel, before=before)
    context: dict[str, Any] = {"automation": automation, "log_page": page, "state": state, "channel": channel,
               "counts": send_counts(db, [automation.id]).get(automation.id, {}),
               "describe_trigger": describe_trigger}
    if before is not None and wants_fragment():
        return render_fragment("automations/_log_rows.html", **context)
    response = render_page("automations/log.html", "automations/_log.html", **context)
    if wants_fragment():
        response.headers["HX-Push-Url"] = url_for("automations.log", automation_id=automation.id,
                                                  state=state, channel=channel)
    return response
