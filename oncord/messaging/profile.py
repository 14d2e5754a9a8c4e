"""The clinic's messaging profile (sender, quiet hours, links) and the configured transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from oncord.clinic_profile import review_url
from oncord.cliniko.shards import web_base_url
from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database
from oncord.integration import active_connection
from oncord.messaging import quiet_hours
from oncord.messaging.design import EmailDesign, load_design
from oncord.messaging.email import EmailSender, OutboxEmailSender, SmtpSender
from oncord.messaging.errors import NotConfigured
from oncord.messaging.frequency import FrequencyCap
from oncord.messaging.quiet_hours import QuietHours
from oncord.messaging.sms import OutboxSmsProvider, SmsProvider, TwilioProvider
from oncord.models import Appointment, ClinikoConnection, MessagingSettings
from oncord.timezones import account_time_zone, appointment_zone

SETTINGS_ID = 1
DEMO_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class MessagingProfile:
    """What every message needs to know about the clinic, read once per batch."""

    sender_name: str | None = None
    sender_email: str | None = None
    reply_to: str | None = None
    sender_details: str | None = None
    book_now_url: str | None = None
    # Why the Book Now link cannot be made (e.g. the Cliniko subdomain is not a DNS label).
    book_now_problem: str | None = None
    # The clinic's review link ({{ review_url }}; oncord.clinic_profile), None when not set.
    review_url: str | None = None
    default_time_zone: str = "Australia/Melbourne"
    quiet_hours: dict[str, QuietHours] = field(default_factory=dict)
    # Marketing messages per contact per window (None: no cap, the default).
    frequency_cap: FrequencyCap | None = None
    # The logo, name and brand colour every e-mail of the batch is designed with.
    design: EmailDesign = EmailDesign()

    @property
    def email_ready(self) -> bool:
        """Whether e-mails can be sent: a sender name and address are set."""
        return bool(self.sender_name and self.sender_email)

    @property
    def footer(self) -> list[str]:
        """Sender identification for every e-mail (Spam Act): name, then the clinic's details."""
        lines = [self.sender_name or ""]
        if self.sender_details:
            lines.extend(line.strip() for line in self.sender_details.splitlines() if line.strip())
        return [line for line in lines if line]


def settings_row(session: Session) -> MessagingSettings:
    """The messaging settings row, created empty on first use (the caller commits)."""
    row = session.get(MessagingSettings, SETTINGS_ID)
    if row is None:
        row = MessagingSettings(id=SETTINGS_ID)
        session.add(row)
        session.flush()
    return row


def load_profile(session: Session, settings: Settings) -> MessagingProfile:
    """Read the profile from the database (nothing is written)."""
    row = session.get(MessagingSettings, SETTINGS_ID)
    connection = active_connection(session)
    quiet = quiet_hours.effective(row)
    try:
        link, link_problem = book_now_url(session, connection), None
    except ValueError:
        link, link_problem = None, (
            "The Book Now link cannot be made: the Cliniko account's subdomain "
            f"({connection.account_subdomain if connection else ''!r}) is not a valid web address part. "
            "Set the bookings address in Settings, or reconnect Cliniko."
        )
    return MessagingProfile(
        sender_name=row.sender_name if row else None,
        sender_email=row.sender_email if row else None,
        reply_to=row.reply_to_email if row else None,
        sender_details=row.sender_details if row else None,
        book_now_url=link,
        book_now_problem=link_problem,
        review_url=_review_url(session),
        default_time_zone=account_time_zone(connection, settings),
        quiet_hours=quiet,
        frequency_cap=FrequencyCap.of(row.frequency_cap_messages, row.frequency_cap_days) if row else None,
        design=load_design(session),
    )


@lru_cache(maxsize=16)
def _has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)


def book_now_url(session: Session, connection: ClinikoConnection | None) -> str | None:
    """The Book Now link: the clinic's bookings address (Settings), else its Cliniko bookings page."""
    url = _clinic_bookings_url(session)
    if url:
        return url
    if connection is not None and connection.account_subdomain:
        return web_base_url(connection.account_subdomain, connection.shard) + "/bookings"
    return None


def _clinic_bookings_url(session: Session) -> str | None:
    # The bookings settings live with the public-site feature; tolerate a database or a build
    # without them rather than fail every message.
    try:
        from oncord.bookings.settings import bookings_url
    except ImportError:
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if not _has_table(engine, "clinic_settings"):
        return None
    found = bookings_url(session)
    return found.link_url if found is not None else None


def _review_url(session: Session) -> str | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if not _has_table(engine, "clinic_settings"):
        return None
    return review_url(session)


def appointment_time_zone(appointment: Appointment | None, profile: MessagingProfile) -> str:
    """The zone an appointment is shown in: its business's, else the clinic's."""
    return appointment_zone(appointment, profile.default_time_zone)


def public_base_url(settings: Settings) -> str:
    """Where links in messages point (unsubscribe); production must configure PUBLIC_BASE_URL."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    if settings.is_production:
        raise NotConfigured(
            "PUBLIC_BASE_URL is not set, so messages cannot carry a working unsubscribe link. "
            "Ask Oncord support to set it to the address staff use to open Oncord."
        )
    return DEMO_BASE_URL


def email_backend(settings: Settings) -> str:
    """"smtp" or "outbox": the configured one, else smtp in production and outbox otherwise."""
    return settings.email_backend or ("smtp" if settings.is_production else "outbox")


def sms_backend(settings: Settings) -> str:
    """"twilio", "outbox", or "" (not set up): the configured one, else outbox outside production."""
    return settings.sms_provider or ("" if settings.is_production else "outbox")


def make_email_sender(settings: Settings, database: Database, clock: Clock) -> EmailSender:
    """The e-mail sender the settings ask for; raises NotConfigured when it cannot work."""
    backend = email_backend(settings)
    if backend == "outbox":
        return OutboxEmailSender(database, clock)
    if backend == "smtp":
        return SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
            clock=clock,
            ca_file=settings.smtp_ca_file,
        )
    raise NotConfigured(f"EMAIL_BACKEND must be smtp or outbox, not {backend!r}.")


def make_sms_provider(settings: Settings, database: Database, clock: Clock, **options: Any) -> SmsProvider:
    """The SMS provider the settings ask for; raises NotConfigured when none is set up."""
    backend = sms_backend(settings)
    if backend == "outbox":
        return OutboxSmsProvider(database, clock, settings.sms_from)
    if backend == "twilio":
        return TwilioProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            sender=settings.sms_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_api_base_url,
            **options,
        )
    if not backend:
        raise NotConfigured(
            "SMS is not set up for this clinic (no SMS provider is configured). Ask Oncord support to "
            "connect an SMS provider."
        )
    raise NotConfigured(f"SMS_PROVIDER must be twilio or outbox, not {backend!r}.")
