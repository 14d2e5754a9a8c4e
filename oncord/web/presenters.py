"""Words staff read for sync runs and activity events (template globals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from oncord.automations.reasons import outcome_text
from oncord.campaigns.report import feed_sentence
from oncord.contacts.queries import FeedItem
from oncord.context import clock
from oncord.feedback.responses import feed_sentence as feedback_sentence
from oncord.models import SyncRun
from oncord.sync.pull import RESOURCE_LABELS
from oncord.web.timefmt import localtime

RUN_STATUS_LABELS = {
    "queued": "Waiting to start",
    "running": "Running",
    "succeeded": "Finished",
    "partial": "Finished with skipped records",
    "failed": "Did not finish",
}
TRIGGER_LABELS = {"manual": "Started by staff", "schedule": "Automatic", "auto": "Automatic",
                  "demo": "Demo start-up", "cli": "Command line", "connect": "After connecting",
                  "edit": "After edits in Oncord"}
CONSENT_SOURCE_LABELS = {
    "cliniko_sync": "from Cliniko",
    "unsubscribe_link": "unsubscribe link",
    "sms_stop": "SMS STOP reply",
    "staff_edit": "staff",
    "import": "import",
}
STATUS_WORDS = {"subscribed": "Subscribed", "pending": "Pending", "unsubscribed": "Unsubscribed"}


def resource_label(name: str | None) -> str:
    """"appointment_types" -> "appointment types"."""
    return RESOURCE_LABELS.get(name or "", (name or "").replace("_", " "))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def run_lines(run: SyncRun) -> list[str]:
    """What a run did, in words staff read.

    A pull: one line per resource with real changes ("Patients: 120 read, 20 new, 3 updated");
    records read again but unchanged are not changes, and a finished pull that changed nothing
    says so. A push: what it sent ("2 fields for 1 patient"), or that there was nothing to send.
    """
    if run.kind == "push":
        return _push_lines(run)
    lines = []
    read = 0
    for name, tally in (run.counts or {}).items():
        if not isinstance(tally, dict):
            continue
        read += tally.get("fetched", 0)
        if not any(tally.get(key) for key in ("created", "updated", "skipped")):
            continue
        parts = [f"{tally.get('fetched', 0):,} read"]
        for key, word in (("created", "new"), ("updated", "updated"), ("skipped", "skipped"),
                          ("ignored", "of individual appointments, already read")):
            if tally.get(key):
                parts.append(f"{tally[key]:,} {word}")
        lines.append(f"{resource_label(name).capitalize()}: {', '.join(parts)}")
    if not lines and run.is_finished and not run.error:
        checked = f" ({_plural(read, 'record')} read again, all the same)" if read else ""
        if run.checks > 1:
            checked = f" (checked {run.checks:,} times in a row)"
        lines.append(f"Nothing had changed in Cliniko{checked}.")
    return lines


def _push_lines(run: SyncRun) -> list[str]:
    tally = (run.counts or {}).get("contacts") or {}
    fields, patients = tally.get("fields_pushed", 0), tally.get("pushed", 0)
    failed = tally.get("fields_failed", 0)
    lines = []
    if fields:
        lines.append(f"Sent {_plural(fields, 'field')} for {_plural(patients, 'patient')} to Cliniko")
    if failed:
        lines.append(f"{_plural(failed, 'field')} refused by Cliniko (see the contact)")
    if not lines and run.is_finished and not run.error:
        lines.append("Nothing to send.")
    return lines


def problem_text(problem: Any) -> str:
    """A skipped record, in words: "Patient 123: date of birth is not a date"."""
    if not isinstance(problem, dict):
        return str(problem)
    what = resource_label(problem.get("resource")).rstrip("s").capitalize() or "Record"
    record = f" {problem['id']}" if problem.get("id") else ""
    return f"{what}{record}: {problem.get('reason') or 'could not be read'}"


def run_kind(run: SyncRun) -> str:
    """"Everything" for a full pull, "Changes" for an incremental one, "Edits to Cliniko" for a push."""
    if run.kind == "push":
        return "Edits sent to Cliniko"
    return "Everything" if run.kind.endswith("full") else "Changes since last sync"


def feed_text(item: FeedItem) -> str:
    """One activity event as a sentence (escaped by the template like any other text)."""
    event, appointment = item.event, item.appointment
    details = event.details or {}
    what = "appointment"
    if appointment is not None:
        kind = appointment.appointment_type.name if appointment.appointment_type else "Appointment"
        if appointment.is_class:
            kind += " class"
        who = f" with {appointment.practitioner.display_name}" if appointment.practitioner else ""
        what = f"{kind}{who}"
    texts = {
        "appointment_booked": f"Booked: {what}",
        "appointment_arrived": f"Arrived: {what}",
        "appointment_cancelled": f"Cancelled: {what}",
        "appointment_did_not_arrive": f"Did not arrive: {what}",
        "appointment_finished": f"Finished: {what}",
    }
    if event.kind in texts:
        text = texts[event.kind]
        if event.kind == "appointment_cancelled" and details.get("reason"):
            text += f" ({details['reason']})"
        if event.kind == "appointment_booked" and appointment is not None and appointment.booked_online:
            text = f"Booked online: {what}"
        return text
    if event.kind == "appointment_rescheduled":
        return f"Rescheduled from {_moment(details.get('from'))} to {_moment(details.get('to'))}: {what}"
    if event.kind == "feedback_given":
        return feedback_sentence(details)
    if details.get("campaign_id") is not None:
        return feed_sentence(event.kind, details)
    if event.kind == "email_sent":
        return f"E-mail sent: {details.get('subject') or '(no subject)'}"
    if event.kind == "sms_sent":
        return f"SMS sent: {details.get('body') or details.get('text') or ''}".rstrip(": ")
    if event.kind in ("message_skipped", "message_failed"):
        return outcome_text(event.kind, details)
    if event.kind == "consent_changed":
        channel = "E-mail" if details.get("channel") == "email" else "SMS"
        old = STATUS_WORDS.get(details.get("old") or "", "not set")
        new = STATUS_WORDS.get(details.get("new") or "", details.get("new") or "?")
        source = CONSENT_SOURCE_LABELS.get(details.get("source") or "", details.get("source") or "")
        if details.get("actor"):
            source = f"{source}: {details['actor']}" if source else details["actor"]
        return f"{channel} marketing: {old} → {new}" + (f" ({source})" if source else "")
    return event.kind.replace("_", " ").capitalize()


def _moment(value: object) -> str:
    try:
        return localtime(datetime.fromisoformat(str(value)))
    except ValueError:
        return "an unknown time"


def queued_too_long(run: SyncRun) -> bool:
    """Whether a run has waited for a worker for more than two minutes."""
    return run.status == "queued" and (clock().now() - run.queued_at).total_seconds() > 120


def init_app(app: Flask) -> None:
    """Make the helpers and label tables available in every template."""
    for helper in (resource_label, run_lines, problem_text, run_kind, feed_text, queued_too_long):
        app.add_template_global(helper)
    # Tables, not callables: add_template_global is typed for functions, so set the globals directly.
    app.jinja_env.globals.update(
        run_status_labels=RUN_STATUS_LABELS,
        trigger_labels=TRIGGER_LABELS,
        consent_source_labels=CONSENT_SOURCE_LABELS,
        status_words=STATUS_WORDS,
    )
