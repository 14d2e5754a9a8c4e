"""The editor's preview with a real contact's data, and "send me a test"."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from oncord.automations.editing import AutomationData
from oncord.automations.queries import preview_appointment
from oncord.automations.reasons import Reason, reason_text
from oncord.automations.rules import check_contact
from oncord.automations.spec import AutomationSpec, skip
from oncord.automations.triggers import Option, Timing, trigger_def
from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database
from oncord.messaging.errors import MessageProblem, NotConfigured, SendError
from oncord.messaging.pipeline import RenderedMessage, build_email, build_sms
from oncord.messaging.profile import (
    MessagingProfile,
    appointment_time_zone,
    load_profile,
    make_email_sender,
    make_sms_provider,
    public_base_url,
)
from oncord.messaging.sms import OutgoingSms, mobile_number
from oncord.messaging.sms_segments import SegmentCount, count_segments
from oncord.messaging.templates import merge_data
from oncord.models import Appointment, Contact, MarketingStatus


@dataclass(frozen=True)
class ChannelPreview:
    """One channel's message as the chosen contact would get it, and whether they would."""

    channel: str
    would_send: bool
    verdict: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    segments: SegmentCount | None = None
    problem: str | None = None


def spec_from_data(data: AutomationData) -> AutomationSpec:
    """A spec for unsaved editor data (used for consent and rendering only)."""
    channels = tuple(c for c, on in (("email", data.send_email), ("sms", data.send_sms)) if on)
    return AutomationSpec(
        id=0, name=data.name, enabled=True, trigger=data.trigger,
        offset=timedelta(minutes=data.offset_minutes),
        require_arrived=data.require_arrived, send_when_booked_late=data.send_when_booked_late,
        is_service=data.is_service and Option.SERVICE in trigger_def(data.trigger).options, channels=channels,
        appointment_type_ids=frozenset(data.appointment_type_ids),
        practitioner_ids=frozenset(data.practitioner_ids), email_subject=data.email_subject,
        email_body=data.email_body, sms_body=data.sms_body, cutoff=None, planned_through=None,
    )


def matching_appointment(session: Session, spec: AutomationSpec, contact_id: int,
                         now: datetime) -> Appointment | None:
    """The contact's appointment the automation's filters and timing would use, if any."""
    return preview_appointment(
        session, contact_id, now, appointment_type_ids=spec.appointment_type_ids,
        practitioner_ids=spec.practitioner_ids,
        upcoming_only=trigger_def(spec.trigger).timing is Timing.BEFORE_START,
    )


def _no_match(spec: AutomationSpec, contact: Contact) -> str:
    ahead = trigger_def(spec.trigger).timing is Timing.BEFORE_START
    kind = "upcoming appointment" if ahead else "appointment"
    narrowed = " of the chosen appointment types and practitioners" if (
        spec.appointment_type_ids or spec.practitioner_ids) else ""
    return (f"Would not be sent: {contact.full_name} has no {kind}{narrowed}. The text below uses sample "
            "appointment details; choose another contact to check one who has.")


def sample_contact() -> Contact:
    """Who the preview shows when no real contact is chosen."""
    return Contact(id=0, first_name="Olivia", last_name="Example", email="olivia@example.com",
                   phone="0412 345 678", phone_e164="+61412345678", phone_is_mobile=True,
                   email_marketing_status=MarketingStatus.SUBSCRIBED.value,
                   sms_marketing_status=MarketingStatus.SUBSCRIBED.value)


def _merge(contact: Contact, appointment: Appointment | None, profile: MessagingProfile,
           now: datetime) -> dict[str, str]:
    return merge_data(
        first_name=contact.first_name,
        last_name=contact.last_name,
        starts_at=appointment.starts_at if appointment else now + timedelta(days=1),
        time_zone=appointment_time_zone(appointment, profile),
        clinic_zone=profile.default_time_zone,
        appointment_type=(appointment.appointment_type.name if appointment and appointment.appointment_type
                          else "Initial consultation"),
        practitioner=(appointment.practitioner.display_name if appointment and appointment.practitioner
                      else "Dr Jane Smith"),
        business=(appointment.business.name if appointment and appointment.business
                  else (profile.sender_name or "")),
        book_now_url=profile.book_now_url,
        book_now_problem=profile.book_now_problem,
        review_url=profile.review_url,
    )


def _render(spec: AutomationSpec, channel: str, data: dict[str, str], contact: Contact, address: str,
            profile: MessagingProfile, settings: Settings, *, test: bool = False) -> RenderedMessage:
    base = public_base_url(settings)
    if channel == "email":
        return build_email(spec.email_subject, spec.email_body, data, address=address, contact=contact,
                           profile=profile, base_url=base, secret_key=settings.secret_key,
                           reference="automation-preview", test=test)
    return build_sms(spec.sms_body, data, address=address, contact=contact, marketing=not spec.is_service,
                     base_url=base, secret_key=settings.secret_key, reference="automation-preview", test=test)


def preview(
    session: Session, settings: Settings, data: AutomationData, contact: Contact | None, now: datetime
) -> list[ChannelPreview]:
    """Each enabled channel's message for the contact (or a sample one), and whether it would go."""
    profile = load_profile(session, settings)
    real = contact is not None
    person = contact if contact is not None else sample_contact()
    spec = spec_from_data(data)
    appointment = matching_appointment(session, spec, person.id, now) if real else None
    merge = _merge(person, appointment, profile, now)
    results = []
    for channel in spec.channels:
        verdict, address = check_contact(spec, person, channel, settings.sms_default_region)
        if real and appointment is None:
            # Consent alone is not enough: without an appointment this automation would never fire.
            verdict, summary = skip(Reason.NO_LONGER_MATCHES), _no_match(spec, person)
        elif verdict.go:
            summary = f"Would be sent to {address}."
        else:
            summary = f"Would not be sent: {reason_text(verdict.reason)}."
        target = address or (person.email if channel == "email" else person.phone) or "(none)"
        try:
            message = _render(spec, channel, merge, person, target, profile, settings)
        except (MessageProblem, NotConfigured) as exc:
            results.append(ChannelPreview(channel, False, summary, problem=str(exc.args[0])))
            continue
        results.append(
            ChannelPreview(
                channel, verdict.go and real,
                summary if real else "Sample data: choose a contact to check consent.",
                subject=message.subject, text=message.body,
                html=message.email.html if message.email else None,
                segments=count_segments(message.body) if channel == "sms" else None,
            )
        )
    return results


def send_test(
    session: Session,
    database: Database,
    settings: Settings,
    clock: Clock,
    data: AutomationData,
    contact: Contact | None,
    *,
    to_email: str | None,
    to_phone: str | None,
) -> list[tuple[bool, str]]:
    """Send the editor's messages, filled in for the contact, to the staff member; (ok, what happened)."""
    profile = load_profile(session, settings)
    now = clock.now()
    person = contact if contact is not None else sample_contact()
    spec = spec_from_data(data)
    appointment = matching_appointment(session, spec, person.id, now) if contact is not None else None
    merge = _merge(person, appointment, profile, now)
    outcomes: list[tuple[bool, str]] = []
    for channel in spec.channels:
        address = to_email if channel == "email" else mobile_number(to_phone, settings.sms_default_region)
        if not address:
            what = "your e-mail address" if channel == "email" else "a valid mobile number for the test SMS"
            kind = "e-mail" if channel == "email" else "SMS"
            outcomes.append((False, f"No test {kind} sent: enter {what}."))
            continue
        try:
            # A test's unsubscribe link is inert: the patient shown is not unsubscribed by it.
            message = _render(spec, channel, merge, person, address, profile, settings, test=True)
            if message.email is not None:
                email = replace(message.email, subject=f"[Test] {message.email.subject}", message_id=None,
                                reference="automation-test")
                sender = make_email_sender(settings, database, clock)
                try:
                    sender.send(email)
                finally:
                    sender.close()
                outcomes.append((True, f"Test e-mail sent to {address}."))
            else:
                provider = make_sms_provider(settings, database, clock)
                try:
                    provider.send(OutgoingSms(to=address, body=message.body, reference="automation-test"))
                finally:
                    provider.close()
                outcomes.append((True, f"Test SMS sent to {address}."))
        except (MessageProblem, SendError) as exc:
            kind = "e-mail" if channel == "email" else "SMS"
            outcomes.append((False, f"The test {kind} was not sent: {exc}"))
    return outcomes
