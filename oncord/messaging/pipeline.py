"""The send machine automations and campaigns share: transports, rendering, retries, stuck sends.

Automations decide who and when (triggers, timing, filters); campaigns decide the audience,
the schedule, pause and cancel. Both then hand each message to these parts:

- `build_email` / `build_sms` render one contact's message (sender identification, the
  unsubscribe link or the SMS opt-out line, the message's own tracked Book Now link
  (oncord.messaging.booking_links), headers that cannot be injected) into one
  `RenderedMessage`; anything wrong with that one message raises a MessageProblem, which the flow
  records as that message's failure and goes on;
- `Transports` opens the e-mail sender and SMS provider on first use, once per batch;
- `RetryPolicy` says how often and how long apart a temporary refusal is tried again (each flow
  states its values) and builds RQ's `Retry` for job-level retries;
- `fail_stuck` is the one recovery of a message claimed by a worker that died mid-hand-over: it may
  or may not have been delivered, so it is failed with that reason and never sent again.

Exactly-once stays in each flow's rows: a compare-and-set claim to "sending" committed before the
provider is called, and outcomes written only over this worker's own claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rq import Retry
from sqlalchemy import ColumnElement, Table, update
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database
from oncord.feedback.links import feedback_links
from oncord.messaging.booking_links import with_tracked_link
from oncord.messaging.eligibility import Reason
from oncord.messaging.email import (
    EmailSender,
    OutgoingEmail,
    clean_display_name,
    message_id_for,
    valid_mailbox,
)
from oncord.messaging.errors import NotConfigured
from oncord.messaging.profile import MessagingProfile, make_email_sender, make_sms_provider
from oncord.messaging.sms import OutgoingSms, SmsProvider
from oncord.messaging.templates import render_email, render_text
from oncord.messaging.unsubscribe import unsubscribe_url
from oncord.models import Contact

STUCK_MESSAGE = (
    "The worker stopped while sending this message. It may or may not have been delivered; it was "
    "not sent again so that nobody gets it twice."
)


# --- Retries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts in all, and the wait after each failed one (the last repeats), as RQ's Retry."""

    max_attempts: int
    intervals: tuple[timedelta, ...]

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not self.intervals:
            raise ValueError("a retry policy needs at least one attempt and one interval")

    def delay_after(self, attempt: int) -> timedelta | None:
        """The wait before trying again after failed attempt number `attempt` (1-based); None: give up."""
        if attempt >= self.max_attempts:
            return None
        return self.intervals[min(attempt, len(self.intervals)) - 1]

    def rq_retry(self) -> Retry:
        """The same policy for an RQ job (RQ counts retries, not attempts)."""
        return Retry(max=self.max_attempts - 1, interval=[int(i.total_seconds()) for i in self.intervals])


# A halted channel (the login refused) is tried again after this long; the messages wait.
HALT_RETRY = timedelta(minutes=5)

# A job that fails for an unexpected reason (not one message's problem: those fail that message)
# is tried this often by RQ, then the flow shows it as failed.
JOB_RETRY = RetryPolicy(3, (timedelta(minutes=1), timedelta(minutes=5)))


# --- Transports ------------------------------------------------------------------------------------


@dataclass
class Transports:
    """The e-mail sender and SMS provider of one batch, opened on first use and closed at the end.

    A channel that is not set up raises NotConfigured, remembered for the rest of the batch.
    """

    make_email: Callable[[], EmailSender]
    make_sms: Callable[[], SmsProvider]
    _open: dict[str, Any] = field(default_factory=dict)
    _errors: dict[str, NotConfigured] = field(default_factory=dict)

    @classmethod
    def configured(cls, settings: Settings, database: Database, clock: Clock) -> Transports:
        """The transports the settings ask for (the one factory both flows use)."""
        return cls(
            make_email=lambda: make_email_sender(settings, database, clock),
            make_sms=lambda: make_sms_provider(settings, database, clock),
        )

    def get(self, channel: str) -> Any:
        """The channel's transport."""
        if channel in self._errors:
            raise self._errors[channel]
        if channel not in self._open:
            try:
                self._open[channel] = self.make_email() if channel == "email" else self.make_sms()
            except NotConfigured as exc:
                self._errors[channel] = exc
                raise
        return self._open[channel]

    def email(self) -> EmailSender:
        """The e-mail sender."""
        return self.get("email")

    def sms(self) -> SmsProvider:
        """The SMS provider."""
        return self.get("sms")

    def send(self, message: RenderedMessage) -> str:
        """Hand one message to its channel's transport; the provider's id for it.

        A refusal that halts (the login or the certificate refused) is remembered: the rest of the
        batch gets it at once without trying the server again.
        """
        channel = "email" if message.email is not None else "sms"
        try:
            if message.email is not None:
                return self.email().send(message.email)
            assert message.sms is not None
            return self.sms().send(message.sms)
        except NotConfigured as exc:
            if exc.halts:
                self._errors[channel] = exc
            raise

    def close(self) -> None:
        """Close whatever was opened."""
        opened, self._open = self._open, {}
        for transport in opened.values():
            if transport is not None:
                transport.close()


# --- Rendering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMessage:
    """One contact's message, ready for its channel."""

    to: str
    subject: str | None
    body: str
    email: OutgoingEmail | None = None
    sms: OutgoingSms | None = None

    @property
    def html(self) -> str | None:
        """The e-mail's HTML part."""
        return self.email.html if self.email is not None else None


def build_email(
    subject_source: str,
    body_source: str,
    data: dict[str, Any],
    *,
    address: str,
    contact: Contact,
    profile: MessagingProfile,
    base_url: str,
    secret_key: str,
    reference: str,
    campaign_id: int | None = None,
    test: bool = False,
) -> RenderedMessage:
    """Render an e-mail to a contact with sender identification, its unsubscribe link and headers.

    The address must be one valid mailbox and names lose their control characters, so nothing from
    a synced record can add or break a header; else InvalidAddress ("invalid e-mail address").
    """
    if not profile.email_ready:
        raise NotConfigured(
            "No sender name and address are set for e-mails. An admin can set them in Settings → Messaging."
        )
    assert profile.sender_email is not None and profile.sender_name is not None
    address = valid_mailbox(address)
    data = with_tracked_link(data, reference, base_url=base_url, secret_key=secret_key)
    link = unsubscribe_url(base_url, secret_key, contact.id, "email", campaign_id, test=test)
    feedback = feedback_links(base_url, secret_key, contact.id, reference, test=test)
    rendered = render_email(subject_source, body_source, {**data, "feedback_links": feedback.text},
                            sender_name=profile.sender_name, footer=profile.footer, unsubscribe_url=link,
                            design=profile.design, base_url=base_url, swaps=[(feedback.text, feedback.html)])
    email = OutgoingEmail(
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
    return RenderedMessage(to=address, subject=email.subject, body=email.text, email=email)


def opt_out_line(base_url: str, secret_key: str, contact_id: int, *, test: bool = False) -> str:
    """The last line of a marketing SMS (sender ids cannot take replies, so a link)."""
    return f"Opt out: {unsubscribe_url(base_url, secret_key, contact_id, 'sms', test=test)}"


def build_sms(
    body_source: str,
    data: dict[str, Any],
    *,
    address: str,
    contact: Contact,
    marketing: bool,
    base_url: str,
    secret_key: str,
    reference: str,
    test: bool = False,
) -> RenderedMessage:
    """Render an SMS; a marketing SMS ends with its opt-out link (sender ids cannot take replies)."""
    data = with_tracked_link(data, reference, base_url=base_url, secret_key=secret_key)
    feedback = feedback_links(base_url, secret_key, contact.id, reference, test=test)
    body = render_text(body_source, {**data, "feedback_links": feedback.text})
    if marketing:
        body = f"{body}\n{opt_out_line(base_url, secret_key, contact.id, test=test)}"
    return RenderedMessage(to=address, subject=None, body=body,
                           sms=OutgoingSms(to=address, body=body, reference=reference))


# --- Stuck sends -----------------------------------------------------------------------------------


def fail_stuck(
    session: Session, table: Table, stuck: ColumnElement[bool], now: datetime, *returning: Any
) -> list[Any]:
    """Fail every `sending` row matching `stuck` as "may or may not have been delivered" (the caller
    commits); return the given columns of each. Never sent again: the provider may have it."""
    return list(session.execute(
        update(table)
        .where(table.c.state == "sending", stuck)
        .values(state="failed", reason=Reason.OUTCOME_UNKNOWN.value, error=STUCK_MESSAGE,
                finished_at=now, updated_at=now)
        .returning(*returning)
    ).all())
