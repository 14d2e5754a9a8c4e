"""A campaign's message for one contact: merge fields, sender identification, unsubscribe link.

Everything is built from the shared messaging parts: the sandboxed templates, the e-mail with
its RFC 8058 headers, the signed unsubscribe links and the SMS segment counter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from oncord.campaigns.audience import RECEIVE, reason_text
from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database
from oncord.messaging.booking_links import with_tracked_link
from oncord.messaging.errors import MessageProblem, NotConfigured, SendError
from oncord.messaging.pipeline import RenderedMessage, build_email, build_sms, opt_out_line
from oncord.messaging.profile import (
    MessagingProfile,
    load_profile,
    make_email_sender,
    make_sms_provider,
    public_base_url,
)
from oncord.messaging.sms import mobile_number
from oncord.messaging.sms_segments import SegmentCount, count_segments
from oncord.messaging.templates import (
    MERGE_FIELDS,
    check_email_body,
    check_template,
    merge_data,
    render_text,
)
from oncord.models import Campaign, Contact, MarketingStatus

# A campaign is not about one appointment, so only the contact's own fields can be merged.
CAMPAIGN_MERGE_FIELDS: dict[str, str] = {
    name: MERGE_FIELDS[name] for name in ("first_name", "last_name", "book_now_url")
}
# Ids in unsubscribe links of the sample contact (length matters for the SMS counter).
SAMPLE_CONTACT_ID = 100_000


@dataclass(frozen=True)
class Content:
    """What a campaign says, saved or still in the editor."""

    channel: str
    email_subject: str = ""
    email_body: str = ""
    sms_body: str = ""

    @classmethod
    def of(cls, campaign: Campaign) -> Content:
        """A saved campaign's content."""
        return cls(campaign.channel, campaign.email_subject, campaign.email_body, campaign.sms_body)


def template_problems(source: str) -> list[str]:
    """Problems with a campaign template (syntax, or a merge field a campaign cannot fill in)."""
    return check_template(source, CAMPAIGN_MERGE_FIELDS)


def email_body_problems(source: str) -> list[str]:
    """Problems with a campaign's e-mail body: a template's, and its block lines'."""
    return check_email_body(source, CAMPAIGN_MERGE_FIELDS)


def content_problems(content: Content) -> list[str]:
    """What stops the campaign being sent: its channel's templates checked against the sample."""
    if content.channel == "email":
        parts: tuple[tuple[str, str], ...] = (
            ("Subject", content.email_subject), ("E-mail", content.email_body))
    else:
        parts = (("SMS", content.sms_body),)
    checks = {"E-mail": email_body_problems}
    return [f"{label}: {problem}" for label, source in parts
            for problem in checks.get(label, template_problems)(source)[:1]]


def merge_for(contact: Contact, profile: MessagingProfile) -> dict[str, str]:
    """The merge fields for a contact (appointment fields stay empty in a campaign)."""
    return merge_data(
        first_name=contact.first_name,
        last_name=contact.last_name,
        starts_at=None,
        time_zone=profile.default_time_zone,
        appointment_type=None,
        practitioner=None,
        business=profile.sender_name,
        book_now_url=profile.book_now_url,
        book_now_problem=profile.book_now_problem,
    )


def address_of(contact: Contact, channel: str, region: str) -> str | None:
    """Where the message goes: the e-mail address, or the phone as an E.164 mobile number."""
    if channel == "email":
        return (contact.email or "").strip() or None
    # `region` was applied when the number was stored (contacts.phones).
    return contact.phone_e164 if contact.phone_is_mobile else None


def sample_contact() -> Contact:
    """Who the preview shows when the audience has nobody yet."""
    return Contact(
        id=SAMPLE_CONTACT_ID,
        first_name="Olivia",
        last_name="Example",
        email="olivia@example.com",
        phone="0412 345 678",
        phone_e164="+61412345678",
        phone_is_mobile=True,
        email_marketing_status=MarketingStatus.SUBSCRIBED.value,
        sms_marketing_status=MarketingStatus.SUBSCRIBED.value,
    )


@dataclass(frozen=True)
class Preview:
    """The message as one contact would get it, and whether they would."""

    contact_name: str
    verdict: str
    would_send: bool
    subject: str | None = None
    text: str | None = None
    # The e-mail's HTML part, exactly as it would be sent.
    html: str | None = None
    from_line: str | None = None
    segments: SegmentCount | None = None
    problem: str | None = None


def render_message(
    content: Content,
    contact: Contact,
    address: str,
    profile: MessagingProfile,
    settings: Settings,
    campaign_id: int | None,
    reference: str,
    *,
    test: bool = False,
) -> RenderedMessage:
    """One contact's message on the content's channel, with the campaign's unsubscribe or opt-out link."""
    base = public_base_url(settings)
    data = merge_for(contact, profile)
    if content.channel == "email":
        return build_email(
            content.email_subject, content.email_body, data, address=address, contact=contact,
            profile=profile, base_url=base, secret_key=settings.secret_key, reference=reference,
            campaign_id=campaign_id, test=test,
        )
    return build_sms(
        content.sms_body, data, address=address, contact=contact, marketing=True, base_url=base,
        secret_key=settings.secret_key, reference=reference, test=test,
    )


def preview(
    session: Session,
    settings: Settings,
    content: Content,
    contact: Contact | None,
    *,
    campaign_id: int | None = None,
    reason: str | None = None,
) -> Preview:
    """Render the message for a real contact (or the sample one) with whether they would receive it.

    `reason` is the audience's verdict for that contact (RECEIVE or an exclusion reason).
    """
    profile = load_profile(session, settings)
    person = contact if contact is not None else sample_contact()
    address = address_of(person, content.channel, settings.sms_default_region)
    if contact is None:
        verdict, would = "Sample data: the audience has nobody yet.", False
    elif reason not in (None, RECEIVE):
        verdict, would = f"Would not be sent: {reason_text(reason or '', content.channel)}.", False
    elif address is None:
        what = "no e-mail address" if content.channel == "email" else "no valid mobile number"
        verdict, would = f"Would not be sent: {what}.", False
    else:
        verdict, would = f"Would be sent to {address}.", True
    from_line = None
    if content.channel == "email" and profile.email_ready:
        from_line = f"{profile.sender_name} <{profile.sender_email}>"
    try:
        rendered = render_message(
            content, person, address or "(none)", profile, settings, campaign_id, "campaign-preview"
        )
    except (MessageProblem, NotConfigured) as exc:
        return Preview(person.full_name, verdict, False, from_line=from_line, problem=str(exc.args[0]))
    return Preview(
        person.full_name,
        verdict,
        would,
        subject=rendered.subject,
        text=rendered.body,
        html=rendered.html,
        from_line=from_line,
        segments=count_segments(rendered.body) if content.channel == "sms" else None,
    )


@dataclass(frozen=True)
class SmsCount:
    """The SMS counter: the text itself with its opt-out line (merge fields filled with the plain
    sample), the range over real contacts when their names change it, or why it cannot be counted."""

    count: SegmentCount | None
    opt_out_length: int
    problem: str | None = None
    # Fewest and most segments over the sample of the audience, when that differs from `count`.
    low: int | None = None
    high: int | None = None
    # Some contact's name takes the message out of the GSM-7 alphabet.
    names_need_ucs2: bool = False

    @property
    def varies(self) -> bool:
        """Whether the contacts' own messages cost other than the text itself."""
        return self.count is not None and self.low is not None and (
            (self.low, self.high) != (self.count.segments, self.count.segments) or self.names_need_ucs2
        )


def _segments_for(body: str, person: Contact, profile: MessagingProfile, settings: Settings) -> SegmentCount:
    base = public_base_url(settings)
    opt_out = opt_out_line(base, settings.secret_key, person.id)
    # Counted with a tracked Book Now link of a real message's length, as each recipient gets one.
    data = with_tracked_link(merge_for(person, profile), f"campaign-recipient:{SAMPLE_CONTACT_ID}",
                             base_url=base, secret_key=settings.secret_key)
    return count_segments(f"{render_text(body, data)}\n{opt_out}")


def sms_count(
    session: Session, settings: Settings, body: str, contacts: list[Contact] | None = None
) -> SmsCount:
    """Characters and segments of the SMS, opt-out included: for the text itself (merge fields from the
    plain sample, so an accent in one patient's name never makes it "UCS-2"), and the range the
    given contacts' own messages fall in."""
    sample = sample_contact()
    opt_out = opt_out_line(public_base_url(settings), settings.secret_key, sample.id)
    problems = template_problems(body)
    if problems:
        return SmsCount(None, len(opt_out) + 1, problems[0])
    profile = load_profile(session, settings)
    try:
        own = _segments_for(body, sample, profile, settings)
        theirs = [_segments_for(body, person, profile, settings) for person in contacts or []]
    except MessageProblem as exc:
        return SmsCount(None, len(opt_out) + 1, str(exc))
    if not theirs:
        return SmsCount(own, len(opt_out) + 1)
    counts = [c.segments for c in theirs]
    return SmsCount(own, len(opt_out) + 1, low=min(counts), high=max(counts),
                    names_need_ucs2=own.encoding == "GSM-7" and any(c.encoding == "UCS-2" for c in theirs))


def send_test(
    session: Session,
    database: Database,
    settings: Settings,
    clock: Clock,
    content: Content,
    contact: Contact | None,
    *,
    to_email: str | None,
    to_phone: str | None,
) -> tuple[bool, str]:
    """Send the message, filled in for the contact (or the sample), to the staff member; (ok, what happened).

    Its unsubscribe link is a test's: following it shows "nobody was unsubscribed" and changes nothing.
    """
    profile = load_profile(session, settings)
    person = replace_id(contact if contact is not None else sample_contact(), 0)
    kind = "e-mail" if content.channel == "email" else "SMS"
    address = to_email if content.channel == "email" else mobile_number(to_phone, settings.sms_default_region)
    if not address:
        what = "your e-mail address" if content.channel == "email" else "a valid mobile number"
        return False, f"No test {kind} sent: enter {what}."
    try:
        rendered = render_message(
            content, person, address, profile, settings, None, "campaign-test", test=True
        )
        if rendered.email is not None:
            email = replace(rendered.email, subject=f"[Test] {rendered.email.subject}", message_id=None)
            sender = make_email_sender(settings, database, clock)
            try:
                sender.send(email)
            finally:
                sender.close()
        else:
            assert rendered.sms is not None
            provider = make_sms_provider(settings, database, clock)
            try:
                provider.send(rendered.sms)
            finally:
                provider.close()
    except (MessageProblem, SendError) as exc:
        return False, f"The test {kind} was not sent: {exc}"
    return True, f"Test {kind} sent to {address}."


def replace_id(contact: Contact, contact_id: int) -> Contact:
    """A detached copy of the contact's merge fields under another id (for test sends)."""
    return Contact(
        id=contact_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        phone_e164=contact.phone_e164,
        phone_is_mobile=contact.phone_is_mobile,
        email_marketing_status=contact.email_marketing_status,
        sms_marketing_status=contact.sms_marketing_status,
    )
