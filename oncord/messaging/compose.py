"""Building one contact's outgoing e-mail or SMS text, as automations and campaigns both send them."""

from __future__ import annotations

from oncord.messaging.email import OutgoingEmail, clean_display_name, message_id_for, valid_mailbox
from oncord.messaging.errors import NotConfigured
from oncord.messaging.profile import MessagingProfile
from oncord.messaging.templates import render_email
from oncord.messaging.unsubscribe import unsubscribe_url
from oncord.models import Contact


def build_outgoing_email(
    subject_source: str,
    body_source: str,
    data: dict[str, str],
    *,
    address: str,
    contact: Contact,
    profile: MessagingProfile,
    base_url: str,
    secret_key: str,
    reference: str,
    campaign_id: int | None = None,
    test: bool = False,
) -> OutgoingEmail:
    """Render an e-mail to a contact with sender identification, its unsubscribe link and headers."""
    if not profile.email_ready:
        raise NotConfigured(
            "No sender name and address are set for e-mails. An admin can set them in Settings → Messaging."
        )
    assert profile.sender_email is not None and profile.sender_name is not None
    address = valid_mailbox(address)
    link = unsubscribe_url(base_url, secret_key, contact.id, "email", campaign_id, test=test)
    rendered = render_email(
        subject_source,
        body_source,
        data,
        sender_name=profile.sender_name,
        footer=profile.footer,
        unsubscribe_url=link,
    )
    return OutgoingEmail(
        to_address=address,
        to_name=clean_display_name(contact.full_name) if (contact.first_name or contact.last_name) else None,
        from_address=profile.sender_email,
        from_name=clean_display_name(profile.sender_name),
        reply_to=profile.reply_to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        unsubscribe_url=link,
        message_id=message_id_for(reference, profile.sender_email),
        reference=reference,
    )


def opt_out_line(base_url: str, secret_key: str, contact_id: int, *, test: bool = False) -> str:
    """The last line of a marketing SMS (sender ids cannot take replies, so a link)."""
    return f"Opt out: {unsubscribe_url(base_url, secret_key, contact_id, 'sms', test=test)}"
