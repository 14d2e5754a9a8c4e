"""Typed settings read from the environment, with test overrides on top."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

MODES = ("production", "demo", "test")

# Demo and test runs may use this well-known key; production must bring its own.
INSECURE_DEMO_SECRET = "oncord-demo-secret-not-for-production"

# Published in this repository (demo, docs, tests): anyone could forge sessions and unsubscribe
# tokens with them, or decrypt a Cliniko key derived from them.
PUBLISHED_SECRETS = frozenset({INSECURE_DEMO_SECRET, "known-answer-secret", "changeme", "secret"})
MIN_SECRET_KEY_LENGTH = 32
_GENERATE_HINT = "python -c \"import secrets; print(secrets.token_urlsafe(48))\""


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads, with its default."""

    mode: str = "production"
    secret_key: str = ""
    # Fernet key (urlsafe base64, 32 bytes) for secrets at rest; derived from
    # secret_key when empty so a demo needs nothing extra.
    encryption_key: str = ""
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    rq_queue: str = "oncord"
    cliniko_api_base_url: str = ""
    cliniko_app_name: str = "Oncord for clinics"
    cliniko_contact_email: str = "support@oncord.example"
    # The request budget every process shares (Redis): at most this many per window in all, and
    # bulk pulls at most the second figure, so staff actions and pre-send refreshes find room.
    cliniko_requests_per_minute: int = 190
    cliniko_bulk_requests_per_minute: int = 150
    cliniko_rate_window_seconds: int = 60
    session_lifetime_minutes: int = 12 * 60
    # How many reverse proxies in front of the app append to X-Forwarded-For (0: none, the
    # client's address is the connection's). Login throttling counts by the address this yields.
    trusted_proxy_count: int = 0
    # Host names requests may name (comma-separated); empty: in production the host of
    # PUBLIC_BASE_URL, plus loopback for health checks and the bench. Outside production any host.
    trusted_hosts: str = ""
    sync_push_delay_seconds: int = 120
    sync_push_max_wait_seconds: int = 600
    # Auto-sync polls what changes often this often, and the slow-moving lists every N minutes.
    sync_poll_seconds: int = 60
    sync_lists_minutes: int = 15
    sync_overlap_seconds: int = 120
    # The daily full reconcile runs at this hour (UTC); 16:00 UTC is 2-3 am on Australia's east coast.
    sync_daily_full_hour_utc: int = 16
    # How long a sync lock outlives a worker that died holding it (renewed while work goes on).
    sync_lock_seconds: int = 180
    clinic_time_zone: str = "Australia/Melbourne"
    # Messaging (automations, campaigns). Links in e-mails and SMS (unsubscribe) start with this.
    public_base_url: str = ""
    # "smtp" or "outbox" (stores e-mails in the database, shown in the UI); empty: smtp in
    # production, outbox in demo and test.
    email_backend: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay only).
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: int = 30
    # A PEM file of CA certificates to trust for the SMTP server (empty: the system's, or SSL_CERT_FILE).
    smtp_ca_file: str = ""
    # "twilio" or "outbox"; empty: not set up in production, outbox in demo and test.
    sms_provider: str = ""
    sms_from: str = ""
    sms_default_region: str = "AU"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    automation_batch_size: int = 500
    # Campaigns: recipients per batch (pause and cancel take effect between batches), and how long
    # a campaign's send lock outlives a worker that died holding it.
    campaign_batch_size: int = 50
    campaign_lock_seconds: int = 120
    # A new booking is credited to a message whose link was clicked (or, counted apart, that was
    # delivered) at most this many days before it.
    attribution_window_days: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cliniko_user_agent(self) -> str:
        """The User-Agent Cliniko requires: app name and a contact e-mail."""
        return f"{self.cliniko_app_name} ({self.cliniko_contact_email})"

    @property
    def is_production(self) -> bool:
        """Whether secrets must come from the environment."""
        return self.mode == "production"


_ENV_NAMES = {
    "mode": "ONCORD_MODE",
    "secret_key": "SECRET_KEY",
    "encryption_key": "ONCORD_ENCRYPTION_KEY",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "rq_queue": "ONCORD_QUEUE",
    "cliniko_api_base_url": "CLINIKO_API_BASE_URL",
    "cliniko_app_name": "CLINIKO_APP_NAME",
    "cliniko_contact_email": "CLINIKO_CONTACT_EMAIL",
    "cliniko_requests_per_minute": "CLINIKO_REQUESTS_PER_MINUTE",
    "cliniko_bulk_requests_per_minute": "CLINIKO_BULK_REQUESTS_PER_MINUTE",
    "cliniko_rate_window_seconds": "CLINIKO_RATE_WINDOW_SECONDS",
    "session_lifetime_minutes": "SESSION_LIFETIME_MINUTES",
    "trusted_proxy_count": "TRUSTED_PROXY_COUNT",
    "trusted_hosts": "TRUSTED_HOSTS",
    "sync_push_delay_seconds": "SYNC_PUSH_DELAY_SECONDS",
    "sync_push_max_wait_seconds": "SYNC_PUSH_MAX_WAIT_SECONDS",
    "sync_poll_seconds": "SYNC_POLL_SECONDS",
    "sync_lists_minutes": "SYNC_LISTS_MINUTES",
    "sync_overlap_seconds": "SYNC_OVERLAP_SECONDS",
    "sync_daily_full_hour_utc": "SYNC_DAILY_FULL_HOUR_UTC",
    "sync_lock_seconds": "SYNC_LOCK_SECONDS",
    "clinic_time_zone": "CLINIC_TIME_ZONE",
    "public_base_url": "PUBLIC_BASE_URL",
    "email_backend": "EMAIL_BACKEND",
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_tls": "SMTP_TLS",
    "smtp_username": "SMTP_USERNAME",
    "smtp_password": "SMTP_PASSWORD",
    "smtp_timeout_seconds": "SMTP_TIMEOUT_SECONDS",
    "smtp_ca_file": "SMTP_CA_FILE",
    "sms_provider": "SMS_PROVIDER",
    "sms_from": "SMS_FROM",
    "sms_default_region": "SMS_DEFAULT_REGION",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_messaging_service_sid": "TWILIO_MESSAGING_SERVICE_SID",
    "twilio_api_base_url": "TWILIO_API_BASE_URL",
    "automation_batch_size": "AUTOMATION_BATCH_SIZE",
    "campaign_batch_size": "CAMPAIGN_BATCH_SIZE",
    "campaign_lock_seconds": "CAMPAIGN_LOCK_SECONDS",
    "attribution_window_days": "ATTRIBUTION_WINDOW_DAYS",
}


def default_sqlite_url(instance_path: str | os.PathLike[str]) -> str:
    """The embedded database used when DATABASE_URL is not set."""
    path = Path(instance_path) / "oncord.db"
    return f"sqlite:///{path}"


def load_settings(
    instance_path: str | os.PathLike[str],
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build settings from defaults, then the environment, then explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for name, var in _ENV_NAMES.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        values[name] = int(raw) if types[name] in ("int", int) else raw
    settings = replace(Settings(), **values)
    if overrides:
        settings = replace(settings, **overrides)
    if settings.mode not in MODES:
        raise ConfigError(f"ONCORD_MODE must be one of {', '.join(MODES)}, not {settings.mode!r}.")
    if not settings.secret_key:
        if settings.is_production:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set ONCORD_MODE=demo for a local demo."
            )
        settings = replace(settings, secret_key=INSECURE_DEMO_SECRET)
    if settings.is_production:
        check_secrets(settings)
    if not settings.database_url:
        settings = replace(settings, database_url=default_sqlite_url(instance_path))
    return settings


def check_secrets(settings: Settings) -> None:
    """Stop a production start with a SECRET_KEY or ONCORD_ENCRYPTION_KEY that others could know."""
    key = settings.secret_key
    if key in PUBLISHED_SECRETS:
        raise ConfigError(
            "SECRET_KEY is a published value (the demo's or an example's), so anyone could forge "
            f"logins and unsubscribe links. Generate your own with: {_GENERATE_HINT}"
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY has {len(key)} characters; production needs at least "
            f"{MIN_SECRET_KEY_LENGTH}. Generate one with: {_GENERATE_HINT}"
        )
    if settings.encryption_key:
        try:
            Fernet(settings.encryption_key.encode())
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "ONCORD_ENCRYPTION_KEY is not a valid Fernet key (32 bytes, url-safe base64). "
                "Generate one with: python -c \"from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())\", or leave it empty to derive it from "
                "SECRET_KEY."
            ) from exc
