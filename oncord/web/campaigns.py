"""Campaigns: the list, the editor with its live audience count, sending with progress, the report."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, request, url_for
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.attribution.figures import campaign_bookings
from oncord.campaigns import lifecycle
from oncord.campaigns.audience import (
    OUTCOMES,
    PERIODS,
    RECEIVE,
    AppointmentCondition,
    Audience,
    Period,
    count_and_sample,
    describe,
    reason_text,
    recipients_query,
)
from oncord.campaigns.compose import (
    CAMPAIGN_MERGE_FIELDS,
    Content,
    content_problems,
    preview,
    send_test,
    sms_count,
)
from oncord.campaigns.report import (
    archived_count,
    list_campaigns,
    progress,
    progress_of,
    reasons,
    recipients_page,
    reference_choices,
    reference_names,
)
from oncord.campaigns.sending import recipient_reason
from oncord.context import clock, settings
from oncord.db import get_database, get_session
from oncord.forms.campaigns import MAX_CONDITIONS, CampaignForm, ScheduleForm
from oncord.jobs.enqueue import drop_job, enqueue_round
from oncord.messaging.blocks import BLOCK_SYNTAX
from oncord.messaging.frequency import capped_count
from oncord.messaging.profile import load_profile, sms_backend
from oncord.models import (
    Campaign,
    CampaignState,
    Contact,
    RecipientState,
)
from oncord.queue import get_queue
from oncord.timezones import clock_time
from oncord.web.auth import require_login
from oncord.web.htmx import redirect_to, render_fragment, render_page, wants_fragment, with_alert
from oncord.web.security import id_arg
from oncord.web.timefmt import request_zone

log = logging.getLogger(__name__)

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
bp.before_request(require_login)

STATE_LABELS = {
    CampaignState.DRAFT.value: "Draft",
    CampaignState.SCHEDULED.value: "Scheduled",
    CampaignState.SENDING.value: "Sending",
    CampaignState.PAUSED.value: "Paused",
    CampaignState.CANCELLED.value: "Cancelled",
    CampaignState.SENT.value: "Sent",
}
RECIPIENT_LABELS = {
    RecipientState.PENDING.value: "Waiting",
    RecipientState.SENDING.value: "Sending",
    RecipientState.SENT.value: "Sent",
    RecipientState.FAILED.value: "Failed",
    RecipientState.SKIPPED.value: "Skipped",
    RecipientState.CANCELLED.value: "Not sent (cancelled)",
}
SAMPLE_PER_GROUP = 5


@bp.app_template_global()
def campaign_state_label(state: str) -> str:
    """A campaign state in words."""
    return STATE_LABELS.get(state, state)


@bp.app_template_global()
def campaign_recipient_label(state: str) -> str:
    """A recipient state in words."""
    return RECIPIENT_LABELS.get(state, state)


@bp.app_template_global()
def campaign_reason(code: str | None) -> str:
    """A recipient's skip or failure reason in words."""
    return recipient_reason(code)


@bp.app_template_filter("clinic_time")
def clinic_time(moment: datetime | None) -> str:
    """A moment in the clinic's time zone, with its abbreviation: "Tue 24 Nov 2026, 9:30 am AEDT"."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(_zone()))
    return f"{local:%a} {local.day} {local:%b %Y}, {clock_time(local)} {local:%Z}"


def get_campaign_or_404(session: Session, campaign_id: int) -> Campaign:
    """The campaign, or a 404 page."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _zone() -> str:
    return request_zone()


# --- List -----------------------------------------------------------------------------------------


@bp.get("")
def index() -> Response:
    """Every campaign with its state and counts."""
    db = get_session()
    archived = request.args.get("archived") == "1"
    campaigns = list_campaigns(db, archived=archived)
    return render_page(
        "campaigns/index.html",
        "campaigns/_list.html",
        campaigns=campaigns,
        archived=archived,
        archived_count=archived_count(db),
        progress=progress_of(db, [c.id for c in campaigns]),
    )


# --- Editor ---------------------------------------------------------------------------------------


def _reference_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]], list[tuple[int, str]]]:
    return reference_choices(get_session())


def _audience_view(form: CampaignForm) -> dict[str, Any]:
    """The live count and sample for the editor's (unsaved) conditions."""
    db = get_session()
    audience = form.to_audience()
    channel = form.channel.data or "email"
    now, zone = clock().now(), _zone()
    counts, people = count_and_sample(db, audience, channel, now, zone, per_group=SAMPLE_PER_GROUP)
    return {
        "counts": counts,
        "people": people,
        "channel": channel,
        "reason_text": reason_text,
        "receive": RECEIVE,
        **_frequency_view(audience, channel, now, zone),
    }


def _frequency_view(audience: Audience, channel: str, now: datetime, zone: str) -> dict[str, Any]:
    # With a frequency cap on, the preview says so and how many would be skipped by it right now.
    db = get_session()
    cap = load_profile(db, settings()).frequency_cap
    if cap is None:
        return {"frequency_cap": None, "frequency_capped": 0}
    receivers = recipients_query(audience, channel, now, zone)
    return {"frequency_cap": cap.label, "frequency_capped": capped_count(db, cap, receivers, now)}


def _editor(form: CampaignForm, campaign: Campaign | None, *, status: int = 200) -> Response:
    db = get_session()
    audience_view = _audience_view(form)
    contacts = [
        (p.id, p.full_name + (f" <{p.email}>" if p.email and form.channel.data == "email" else ""))
        for p in audience_view["people"]
        if p.reason == RECEIVE
    ]
    form.set_choices(*_reference_choices(), contacts)
    if not form.test_email.data and g.user is not None:
        form.test_email.data = g.user.email
    profile = load_profile(db, settings())
    return render_page(
        "campaigns/edit.html",
        "campaigns/_form.html",
        status=status,
        form=form,
        campaign=campaign,
        merge_fields=CAMPAIGN_MERGE_FIELDS,
        block_syntax=BLOCK_SYNTAX,
        profile=profile,
        sms_ready=bool(sms_backend(settings())),
        periods=PERIODS,
        outcomes=OUTCOMES,
        max_conditions=MAX_CONDITIONS,
        time_zone=_zone(),
        sms=_sms_counter(form, audience_view["people"]) if form.channel.data == "sms" else None,
        **audience_view,
    )


# A new condition starts as "has an appointment in the last 180 days", ready to adjust.
NEW_CONDITION = AppointmentCondition(period=Period("last_days", days=180))


def _new_form(channel: str) -> CampaignForm:
    data = CampaignForm.data_for("", channel, Audience(appointments=(NEW_CONDITION,)))
    return CampaignForm(formdata=None, data=data)


@bp.get("/new")
def new() -> Response:
    """The editor for a new e-mail or SMS campaign."""
    channel = request.args.get("channel", "email")
    if channel not in ("email", "sms"):
        abort(400)
    return _editor(_new_form(channel), None)


@bp.post("/new")
def create() -> Response:
    """Save a new draft; problems come back on the form (422)."""
    form = CampaignForm()
    if not form.validate():
        return _editor(form, None, status=422)
    db = get_session()
    campaign = lifecycle.create_campaign(db, form.to_data(), clock().now(), user_id=g.user.id)
    db.commit()
    flash(
        f"“{campaign.name}” was saved as a draft. Check the audience and message, then send or schedule it.",
        "success",
    )
    return redirect_to(url_for("campaigns.show", campaign_id=campaign.id))


def _editable(campaign: Campaign) -> None:
    if not lifecycle.is_editable(campaign, clock().now()):
        abort(409, "This campaign has started, so it can no longer be changed.")


@bp.get("/<int:campaign_id>/edit")
def edit(campaign_id: int) -> Response:
    """The editor for a draft or scheduled campaign."""
    campaign = get_campaign_or_404(get_session(), campaign_id)
    if not lifecycle.is_editable(campaign, clock().now()):
        return redirect_to(url_for("campaigns.show", campaign_id=campaign.id))
    return _editor(CampaignForm.for_campaign(campaign), campaign)


@bp.post("/<int:campaign_id>/edit")
def update(campaign_id: int) -> Response:
    """Save changes to a draft or scheduled campaign."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    _editable(campaign)
    form = CampaignForm()
    form.channel.data = campaign.channel  # fixed when the campaign was created
    if not form.validate():
        return _editor(form, campaign, status=422)
    if not lifecycle.update_campaign(db, campaign, form.to_data(), clock().now()):
        abort(409, "This campaign has started, so it can no longer be changed.")
    db.commit()
    flash(f"“{campaign.name}” was saved.", "success")
    return redirect_to(url_for("campaigns.show", campaign_id=campaign.id))


@bp.post("/audience")
def audience() -> Response:
    """The live count and sample for the editor's conditions (htmx, as they change)."""
    form = CampaignForm()
    form.validate()
    return render_fragment("campaigns/_audience.html", **_audience_view(form))


@bp.post("/audience/conditions")
def conditions() -> Response:
    """Add or remove an appointment condition; answers with the audience section, count included."""
    form = CampaignForm()
    form.validate()
    audience = form.to_audience()
    rows = list(audience.appointments)
    op = request.form.get("op", "")
    if op == "add" and len(rows) < MAX_CONDITIONS:
        rows.append(NEW_CONDITION)
    elif op.startswith("remove-") and op[7:].isdigit() and int(op[7:]) < len(rows):
        rows.pop(int(op[7:]))
    changed = Audience(appointments=tuple(rows), contact=audience.contact)
    fresh = CampaignForm(
        formdata=None, data=CampaignForm.data_for(form.name.data or "", form.channel.data or "email", changed)
    )
    fresh.set_choices(*_reference_choices(), [])
    return render_fragment(
        "campaigns/_audience_section.html",
        form=fresh,
        periods=PERIODS,
        max_conditions=MAX_CONDITIONS,
        time_zone=_zone(),
        **_audience_view(fresh),
    )


def _content(form: CampaignForm) -> Content:
    return Content(
        form.channel.data or "email",
        form.email_subject.data or "",
        form.email_body.data or "",
        form.sms_body.data or "",
    )


def _preview_person(form: CampaignForm, people: list[Any] | None = None) -> tuple[Contact | None, str | None]:
    """The chosen preview contact (else the first who would receive it) and the audience's verdict."""
    db = get_session()
    if people is None:
        people = _audience_view(form)["people"]
    verdicts = {p.id: p.reason for p in people}
    contact_id = form.preview_contact.data or next((p.id for p in people if p.reason == RECEIVE), 0)
    contact = db.get(Contact, contact_id) if contact_id else None
    return contact, verdicts.get(contact_id, "outside")


def _sms_counter(form: CampaignForm, people: list[Any] | None = None) -> Any:
    # The text itself, and the range over the audience's sample of receivers (their names vary).
    if people is None:
        people = _audience_view(form)["people"]
    db = get_session()
    receiving = [db.get(Contact, p.id) for p in people if p.reason == RECEIVE]
    return sms_count(db, settings(), form.sms_body.data or "", [c for c in receiving if c is not None])


@bp.post("/sms-counter")
def sms_counter() -> Response:
    """Characters and segments of the SMS as typed, with the opt-out line (htmx, as staff type)."""
    form = CampaignForm()
    form.validate()
    return render_fragment("campaigns/_sms_counter.html", sms=_sms_counter(form))


@bp.post("/preview")
def preview_post() -> Response:
    """The message as a real contact of the audience would get it (from the editor's unsaved values)."""
    form = CampaignForm()
    form.validate()
    contact, verdict = _preview_person(form)
    if verdict == "outside":
        verdict = None if contact is None else "outside"
    shown = preview(get_session(), settings(), _content(form), contact, reason=verdict)
    if verdict == "outside" and contact is not None:
        shown = _outside(shown)
    return render_fragment("campaigns/_preview.html", item=shown, channel=form.channel.data)


def _outside(item: Any) -> Any:
    return replace(item, verdict="Would not be sent: this contact is not in the audience.", would_send=False)


@bp.post("/test-send")
def test_send() -> Response:
    """Send the message, filled in for the preview contact, to the staff member's own address or phone."""
    form = CampaignForm()
    form.validate()
    problems = [
        e
        for f in (form.email_subject, form.email_body, form.sms_body, form.test_email)
        for e in f.errors
        if not e.startswith(("Write", "Enter a subject"))
    ]
    if problems:
        return render_fragment("campaigns/_test_result.html", ok=False, text=problems[0], status=422)
    contact, _ = _preview_person(form)
    ok, text = send_test(
        get_session(),
        get_database(),
        settings(),
        clock(),
        _content(form),
        contact,
        to_email=form.test_email.data or None,
        to_phone=form.test_phone.data or None,
    )
    return render_fragment("campaigns/_test_result.html", ok=ok, text=text)


# --- One campaign: overview, sending, progress, report ---------------------------------------------


def _show_context(campaign: Campaign, **extra: Any) -> dict[str, Any]:
    db = get_session()
    context: dict[str, Any] = {
        "campaign": campaign,
        "progress": progress(db, campaign.id),
        "time_zone": _zone(),
        "now": clock().now(),
        "conditions": describe(_audience_of(campaign), reference_names(db)),
        "schedule_form": extra.pop("schedule_form", None) or ScheduleForm(formdata=None),
    }
    context["editable"] = lifecycle.is_editable(campaign, context["now"])
    if context["editable"]:
        context.update(_audience_view_for(campaign))
        content = Content.of(campaign)
        people = context["people"]
        first = next((p for p in people if p.reason == RECEIVE), None)
        contact = db.get(Contact, first.id) if first else None
        context["preview"] = preview(
            db, settings(), content, contact, campaign_id=campaign.id, reason=RECEIVE if first else None
        )
    else:
        context["reasons"] = reasons(db, campaign.id)
        context["bookings"] = campaign_bookings(db, campaign.id)
        context["attribution_window_days"] = settings().attribution_window_days
    context.update(extra)
    return context


def _audience_of(campaign: Campaign) -> Audience:
    return Audience.from_json(campaign.audience)


def _audience_view_for(campaign: Campaign) -> dict[str, Any]:
    db = get_session()
    now, zone = clock().now(), _zone()
    counts, people = count_and_sample(
        db, _audience_of(campaign), campaign.channel, now, zone, per_group=SAMPLE_PER_GROUP,
    )
    return {
        "counts": counts,
        "people": people,
        "channel": campaign.channel,
        "reason_text": reason_text,
        "receive": RECEIVE,
        **_frequency_view(_audience_of(campaign), campaign.channel, now, zone),
    }


@bp.get("/<int:campaign_id>")
def show(campaign_id: int) -> Response:
    """A draft's summary with send and schedule, or a started campaign's progress and report."""
    campaign = get_campaign_or_404(get_session(), campaign_id)
    return render_page("campaigns/show.html", "campaigns/_show.html", **_show_context(campaign))


def _enqueue(campaign: Campaign) -> str | None:
    """Queue the campaign's round after the commit; a problem with Redis is shown, not raised."""
    try:
        enqueue_round(get_queue(), clock(), campaign)
    except RedisError:
        log.exception("Could not queue campaign %s", campaign.id)
        return (
            "The campaign is saved, but the background worker could not be reached. It starts as "
            "soon as the worker is back; if it does not, contact Oncord support."
        )
    return None


def _template_problem(campaign: Campaign) -> str | None:
    # A template that cannot be filled in is never sent: fix it first (shown as the flash).
    problems = content_problems(Content.of(campaign))
    if not problems:
        return None
    return "Not sent: " + " ".join(problems) + " Edit the campaign to fix it."


def _after_action(campaign: Campaign, message: str, problem: str | None = None) -> Response:
    if problem:
        flash(problem, "error")
    else:
        flash(message, "success")
    return redirect_to(url_for("campaigns.show", campaign_id=campaign.id))


CHANNEL_WORDS = {"email": "e-mail", "sms": "SMS"}


@bp.post("/<int:campaign_id>/send")
def send_now(campaign_id: int) -> Response:
    """Start sending now (a worker picks it up within seconds), once staff have confirmed the count
    and channel: a POST without `confirm` only asks, naming both, and sends nothing."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    old_job = campaign.job_id
    now = clock().now()
    blocked = _template_problem(campaign)
    if blocked:
        return _after_action(campaign, "", blocked)
    if request.form.get("confirm") != "yes":
        _editable(campaign)
        context = _show_context(campaign)
        return render_page("campaigns/show.html", "campaigns/_show.html", confirm_send=True,
                           channel_words=CHANNEL_WORDS[campaign.channel], **context)
    if not lifecycle.schedule(db, campaign, now, now):
        abort(409, "This campaign has already started.")
    db.commit()
    _drop(old_job)
    return _after_action(campaign, f"“{campaign.name}” is being sent.", _enqueue(campaign))


@bp.post("/<int:campaign_id>/schedule")
def schedule(campaign_id: int) -> Response:
    """Send at a day and time in the clinic's time zone."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    _editable(campaign)
    form = ScheduleForm()
    now = clock().now()
    if form.validate():
        when = form.moment(_zone())
        if when <= now:
            form.send_time.errors = [*form.send_time.errors, "Choose a time in the future, or use Send now."]
        elif blocked := _template_problem(campaign):
            return _after_action(campaign, "", blocked)
        else:
            old_job = campaign.job_id
            if not lifecycle.schedule(db, campaign, when, now):
                abort(409, "This campaign has already started.")
            db.commit()
            _drop(old_job)
            return _after_action(campaign, f"“{campaign.name}” is scheduled.", _enqueue(campaign))
    response = render_page(
        "campaigns/show.html",
        "campaigns/_show.html",
        status=422,
        **_show_context(campaign, schedule_form=form),
    )
    return response


def _drop(job_id: str | None) -> None:
    try:
        drop_job(get_queue(), job_id)
    except RedisError:
        log.exception("Could not drop campaign job %s", job_id)


@bp.post("/<int:campaign_id>/delete")
def delete(campaign_id: int) -> Response:
    """Delete a draft or a scheduled campaign that has not started (nothing is sent)."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    old_job, name = campaign.job_id, campaign.name
    if not lifecycle.delete_draft(db, campaign, clock().now()):
        abort(409, "This campaign has started, so it cannot be deleted. Archive it once it has finished.")
    db.commit()
    _drop(old_job)
    flash(f"“{name}” was deleted; nothing was sent.", "success")
    return redirect_to(url_for("campaigns.index"))


@bp.post("/<int:campaign_id>/archive")
def archive(campaign_id: int) -> Response:
    """Take a sent or cancelled campaign off the list; its report stays under Archived."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    if not lifecycle.archive(db, campaign, clock().now()):
        abort(409, "Only a sent or cancelled campaign can be archived.")
    db.commit()
    flash(f"“{campaign.name}” was archived. Its report is kept under Archived campaigns.", "success")
    return redirect_to(url_for("campaigns.index"))


@bp.post("/<int:campaign_id>/duplicate")
def duplicate(campaign_id: int) -> Response:
    """A new draft with the same audience and message, opened in the editor."""
    db = get_session()
    copy = lifecycle.duplicate(db, get_campaign_or_404(db, campaign_id), clock().now(), user_id=g.user.id)
    db.commit()
    flash(f"“{copy.name}” was saved as a draft. Adjust it, then send or schedule it.", "success")
    return redirect_to(url_for("campaigns.edit", campaign_id=copy.id))


@bp.post("/<int:campaign_id>/unschedule")
def unschedule(campaign_id: int) -> Response:
    """Back to draft: nothing is sent at the scheduled time."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    old_job = campaign.job_id
    if not lifecycle.unschedule(db, campaign, clock().now()):
        abort(409, "This campaign has already started.")
    db.commit()
    _drop(old_job)
    return _after_action(campaign, f"“{campaign.name}” is a draft again; nothing will be sent.")


@bp.post("/<int:campaign_id>/pause")
def pause(campaign_id: int) -> Response:
    """Pause after the current batch; answers with the progress widget."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    if lifecycle.pause(db, campaign, clock().now()):
        db.commit()
    return _progress(campaign)


@bp.post("/<int:campaign_id>/resume")
def resume(campaign_id: int) -> Response:
    """Carry on where it stopped; nobody gets a second copy."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    problem = None
    if lifecycle.resume(db, campaign, clock().now()):
        db.commit()
        problem = _enqueue(campaign)
    response = _progress(campaign)
    return with_alert(response, problem) if problem else response


@bp.post("/<int:campaign_id>/cancel")
def cancel(campaign_id: int) -> Response:
    """Stop for good: messages not yet sent are not sent."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    old_job = campaign.job_id if campaign.state == CampaignState.SCHEDULED else None
    if lifecycle.cancel(db, campaign, clock().now()):
        db.commit()
        _drop(old_job)
    if wants_fragment():
        return _progress(campaign)
    return _after_action(campaign, f"“{campaign.name}” was cancelled.")


def _progress(campaign: Campaign) -> Response:
    db = get_session()
    return render_fragment(
        "campaigns/_progress.html",
        campaign=campaign,
        progress=progress(db, campaign.id),
        reasons=reasons(db, campaign.id),
        time_zone=_zone(),
        now=clock().now(),
    )


@bp.get("/<int:campaign_id>/progress")
def progress_widget(campaign_id: int) -> Response:
    """The progress widget: it polls itself while the campaign sends and stops when it is done."""
    campaign = get_campaign_or_404(get_session(), campaign_id)
    return _progress(campaign)


@bp.get("/<int:campaign_id>/recipients")
def recipients(campaign_id: int) -> Response:
    """Who the campaign went to, by state (sent, failed with the reason, ...), 50 at a time."""
    db = get_session()
    campaign = get_campaign_or_404(db, campaign_id)
    state = request.args.get("state") or None
    if state not in (None, *RECIPIENT_LABELS, "unsubscribed"):
        abort(400)
    after = id_arg("after")
    page = recipients_page(
        db,
        campaign.id,
        state=None if state == "unsubscribed" else state,
        unsubscribed=state == "unsubscribed",
        after=after,
    )
    context: dict[str, Any] = {"campaign": campaign, "listing": page, "state": state,
                               "progress": progress(db, campaign.id)}
    if after is not None and wants_fragment():
        return render_fragment("campaigns/_recipient_rows.html", **context)
    return render_page("campaigns/recipients.html", "campaigns/_recipients.html", **context)
