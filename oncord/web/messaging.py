"""Messaging screens: the public unsubscribe page, the demo outbox, and Settings → Messaging."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from redis.exceptions import RedisError
from sqlalchemy import select
from werkzeug.wrappers import Response

from oncord.campaigns.unsubscribes import note_unsubscribe
from oncord.context import clock, settings
from oncord.db import get_session
from oncord.forms.automations import MessagingSettingsForm
from oncord.jobs.sync_jobs import ensure_push_scheduled
from oncord.messaging.inbound import (
    SIGNATURE_HEADER,
    empty_twiml,
    is_opt_out,
    opt_out_number,
    valid_twilio_request,
)
from oncord.messaging.profile import email_backend, load_profile, public_base_url, settings_row, sms_backend
from oncord.messaging.quiet_hours import CHANNELS, parse_hhmm
from oncord.messaging.sms import mobile_number
from oncord.messaging.unsubscribe import is_test_token, read_token, token_campaign, unsubscribe
from oncord.models import Contact, OutboxMessage
from oncord.web.auth import require_admin, require_login
from oncord.web.htmx import redirect_to, render_page
from oncord.web.security import csrf, id_arg

# Public: no login, no CSRF token (mail clients POST the one-click unsubscribe without one).
public = Blueprint("unsubscribe", __name__)

outbox = Blueprint("outbox", __name__, url_prefix="/messages")
outbox.before_request(require_login)

messaging_settings = Blueprint("messaging_settings", __name__, url_prefix="/settings/messaging")
messaging_settings.before_request(require_admin)

CHANNEL_WORDS = {"email": "e-mails", "sms": "text messages (SMS)"}
OUTBOX_PAGE = 100


def _contact_for(token: str) -> tuple[Contact, str]:
    found = read_token(settings().secret_key, token)
    if found is None:
        abort(404)
    contact = get_session().get(Contact, found[0])
    if contact is None:
        abort(404)
    return contact, found[1]


def _sender_name() -> str:
    return load_profile(get_session(), settings()).sender_name or "this clinic"


TEST_MESSAGE = "This was a test message; nobody was unsubscribed."


def _test_link(token: str, *, one_click: bool = False) -> Response | None:
    # A test message's link is inert: it shows what happened and changes no one's consent.
    if not is_test_token(settings().secret_key, token):
        return None
    if one_click:
        return make_response(TEST_MESSAGE, 200, {"Content-Type": "text/plain; charset=utf-8"})
    response = make_response(render_template(
        "messaging/unsubscribe.html", token=token, sender=_sender_name(), test_message=TEST_MESSAGE,
    ))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    """Asks to confirm with one button (links are opened by mail scanners; a GET changes nothing)."""
    inert = _test_link(token)
    if inert is not None:
        return inert
    contact, channel = _contact_for(token)
    response = make_response(render_template(
        "messaging/unsubscribe.html", token=token, channel_words=CHANNEL_WORDS[channel],
        sender=_sender_name(), done=getattr(contact, f"{channel}_marketing_status") == "unsubscribed",
    ))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public.post("/u/<token>")
@csrf.exempt
def unsubscribe_post(token: str) -> Response:
    """Unsubscribe at once: the confirm button, or a mail client's RFC 8058 one-click POST."""
    inert = _test_link(token, one_click=request.form.get("List-Unsubscribe") == "One-Click")
    if inert is not None:
        return inert
    contact, channel = _contact_for(token)
    db = get_session()
    if unsubscribe(db, contact, channel, clock()):
        note_unsubscribe(db, contact.id, channel, clock().now(),
                         campaign_id=token_campaign(settings().secret_key, token))
    db.commit()
    _push_consent_to_cliniko()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return make_response("Unsubscribed.", 200, {"Content-Type": "text/plain; charset=utf-8"})
    response = make_response(render_template(
        "messaging/unsubscribe.html", token=token, channel_words=CHANNEL_WORDS[channel],
        sender=_sender_name(), done=True,
    ))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public.post("/hooks/twilio/sms")
@csrf.exempt
def twilio_inbound() -> Response:
    """Twilio's incoming-message webhook: a signed STOP (or other opt-out word) unsubscribes from SMS."""
    config = settings()
    if sms_backend(config) != "twilio":
        abort(404)
    params = list(request.form.items(multi=True))
    signature = request.headers.get(SIGNATURE_HEADER, "")
    query = f"?{request.query_string.decode()}" if request.query_string else ""
    # Twilio signs the URL set in its console: the public address, or this one behind no proxy.
    urls = {public_base_url(config) + request.path + query, request.url}
    if not any(valid_twilio_request(config.twilio_auth_token, url, params, signature) for url in urls):
        abort(403)
    if request.form.get("AccountSid") != config.twilio_account_sid:
        abort(403)
    number = mobile_number(request.form.get("From"), config.sms_default_region)
    if number and is_opt_out(request.form.get("Body", ""), request.form.get("OptOutType")):
        db = get_session()
        now = clock().now()
        for contact in opt_out_number(db, number, config.sms_default_region, clock()):
            note_unsubscribe(db, contact.id, "sms", now)
        db.commit()
        _push_consent_to_cliniko()
    return make_response(empty_twiml(), 200, {"Content-Type": "text/xml; charset=utf-8"})


def _push_consent_to_cliniko() -> None:
    # The outbox rows are committed; a missed schedule is caught up at the next worker start.
    try:
        # The real app, not the proxy; flask types current_app as Flask, which hides the
        # LocalProxy's _get_current_object, hence the ignore.
        ensure_push_scheduled(current_app._get_current_object())  # type: ignore[attr-defined]
    except RedisError:
        logging.getLogger(__name__).exception("Could not schedule the Cliniko push after an unsubscribe")


@outbox.get("/outbox")
def outbox_index() -> Response:
    """Messages the demo's outbox backend "sent" (nothing leaves the machine)."""
    channel = request.args.get("channel") or None
    if channel not in ("email", "sms"):
        channel = None
    before = id_arg("before")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(OUTBOX_PAGE + 1)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    messages = list(get_session().scalars(query))
    # One more than a page tells whether there are older messages to link to.
    older = messages[OUTBOX_PAGE - 1].id if len(messages) > OUTBOX_PAGE else None
    return render_page("messaging/outbox.html", "messaging/_outbox_list.html",
                       messages=messages[:OUTBOX_PAGE], channel=channel, before=before, older=older,
                       email_backend=email_backend(settings()),
                       sms_backend=sms_backend(settings()))


def _settings_page(form: MessagingSettingsForm, status: int = 200) -> Response:
    config = settings()
    return render_page("messaging/settings.html", "messaging/_settings_form.html", status=status, form=form,
                       email_backend=email_backend(config), sms_backend=sms_backend(config), config=config)


@messaging_settings.get("")
def edit() -> Response:
    """Sender identity and quiet hours (admins)."""
    row = settings_row(get_session())
    form = MessagingSettingsForm(data={
        "sender_name": row.sender_name, "sender_email": row.sender_email,
        "reply_to_email": row.reply_to_email,
        "sender_details": row.sender_details, **MessagingSettingsForm.quiet_data(row),
        "frequency_cap_messages": row.frequency_cap_messages, "frequency_cap_days": row.frequency_cap_days,
    })
    return _settings_page(form)


@messaging_settings.post("")
def save() -> Response:
    """Store the sender and quiet hours; they apply to the next message sent."""
    form = MessagingSettingsForm()
    if not form.validate():
        return _settings_page(form, status=422)
    db = get_session()
    row = settings_row(db)
    row.sender_name = (form.sender_name.data or "").strip() or None
    row.sender_email = (form.sender_email.data or "").strip() or None
    row.reply_to_email = (form.reply_to_email.data or "").strip() or None
    row.sender_details = (form.sender_details.data or "").strip() or None
    for channel in CHANNELS:
        # Switched off is stored as such (never as empty times, which mean "the defaults"); the
        # times are kept, so switching back on restores them.
        setattr(row, f"{channel}_quiet_off", not getattr(form, f"{channel}_quiet_on").data)
        start, end = (getattr(form, f"{channel}_quiet_{end}").data for end in ("start", "end"))
        if start and end:
            setattr(row, f"{channel}_quiet_start", parse_hhmm(start))
            setattr(row, f"{channel}_quiet_end", parse_hhmm(end))
    row.frequency_cap_messages = form.frequency_cap_messages.data
    row.frequency_cap_days = form.frequency_cap_days.data
    row.updated_at = clock().now()
    db.commit()
    flash("Messaging settings saved. They apply to the next message sent.", "success")
    return redirect_to(url_for("messaging_settings.edit"))
