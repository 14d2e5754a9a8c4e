"""Connecting, disconnecting and talking to the clinic's Cliniko account."""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.budget import BudgetUse, budget_for
from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import AuthenticationFailed
from oncord.cliniko.shards import patient_web_url as _patient_web_url
from oncord.clock import Clock
from oncord.config import Settings
from oncord.models import ClinikoConnection
from oncord.secrets import SecretBox, SecretUnreadable


class NotConnected(RuntimeError):
    """No Cliniko account is connected."""

    user_message = "Cliniko is not connected. An admin can connect it in Settings → Integrations."


def active_connection(session: Session) -> ClinikoConnection | None:
    """The connected Cliniko account, if any."""
    return session.scalars(
        select(ClinikoConnection)
        .where(ClinikoConnection.disconnected_at.is_(None))
        .order_by(ClinikoConnection.id.desc())
        .limit(1)
    ).first()


def make_client(api_key: str, settings: Settings, *, bulk: bool = False, **options: Any) -> ClinikoClient:
    """A Cliniko client for a key, aimed at the real API or the configured override.

    Every request takes from the key's budget shared in Redis; `bulk` (pulls) keeps to the bulk
    share of it. `options` pass through to ClinikoClient (tests inject sleep and clock this way).
    """
    return ClinikoClient(
        api_key,
        user_agent=settings.cliniko_user_agent,
        # The client works out the shard and fills the override's {shard} itself.
        base_url=settings.cliniko_api_base_url or None,
        budget=budget_for(settings, api_key, bulk=bulk),
        **options,
    )


def client_for(
    connection: ClinikoConnection, settings: Settings, secret_box: SecretBox, *, bulk: bool = False,
    **options: Any,
) -> ClinikoClient:
    """A client for the stored connection (decrypts the key)."""
    if connection.api_key_encrypted is None:
        raise NotConnected()
    return make_client(secret_box.decrypt(connection.api_key_encrypted), settings, bulk=bulk, **options)


def budget_use(
    connection: ClinikoConnection | None, settings: Settings, secret_box: SecretBox
) -> BudgetUse | None:
    """What the connected key's shared budget spent in its current window (None: not connected)."""
    if connection is None or connection.api_key_encrypted is None:
        return None
    try:
        key = secret_box.decrypt(connection.api_key_encrypted)
        return budget_for(settings, key).use()
    except (SecretUnreadable, RedisError):
        return None


def connect_cliniko(
    session: Session,
    *,
    api_key: str,
    settings: Settings,
    secret_box: SecretBox,
    clock: Clock,
    client_options: dict[str, Any] | None = None,
    auto_sync: bool | None = None,
) -> ClinikoConnection:
    """Validate the key with a real request, then store it encrypted (the caller commits).

    `auto_sync` None keeps the choice the clinic made last time (reconnecting after a
    Disconnect offers it again); the sync history and cursors are never touched.

    Raises a ClinikoError subclass (with .user_message) when Cliniko rejects the key or
    cannot be reached; nothing is stored then.
    """
    api_key = api_key.strip()
    if not api_key:
        raise AuthenticationFailed("empty API key", user_message="Enter the API key from Cliniko.")
    # A key travels in an HTTP header, which carries printable ASCII only (Cliniko's keys are).
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise AuthenticationFailed(
            "malformed API key",
            user_message="That is not a Cliniko API key: it has spaces or characters Cliniko's keys "
            "never have. Copy the key again from Cliniko (My Info → Manage API keys) and paste it alone.",
        )
    with make_client(api_key, settings, **(client_options or {})) as client:
        info = client.check_connection()
    now = clock.now()
    existing = active_connection(session)
    if existing is not None:
        existing.disconnected_at = now
    connection = ClinikoConnection(
        api_key_encrypted=secret_box.encrypt(api_key),
        shard=info.shard,
        account_subdomain=info.account_subdomain,
        account_name=info.account_name,
        user_name=info.user_name,
        time_zone_identifier=info.time_zone_identifier,
        enabled_at=now,
        auto_sync=previous_auto_sync(session) if auto_sync is None else auto_sync,
        created_at=now,
        updated_at=now,
    )
    session.add(connection)
    session.flush()
    return connection


def disconnect_cliniko(session: Session, clock: Clock) -> None:
    """Forget the key and stop syncing; contacts and appointments stay (the caller commits)."""
    connection = active_connection(session)
    if connection is None:
        return
    connection.api_key_encrypted = None
    # auto_sync stays as chosen, for the next Connect to offer; a disconnected row syncs nothing,
    # because every schedule looks at the active connection only.
    connection.disconnected_at = clock.now()
    connection.updated_at = clock.now()


def previous_auto_sync(session: Session) -> bool:
    """The auto-sync choice of the latest connection, connected or not (False if there was none)."""
    latest = session.scalars(select(ClinikoConnection).order_by(ClinikoConnection.id.desc()).limit(1)).first()
    return bool(latest and latest.auto_sync)


def set_auto_sync(session: Session, enabled: bool, clock: Clock) -> None:
    """Turn scheduled syncing on or off (the caller commits)."""
    connection = active_connection(session)
    if connection is None:
        raise NotConnected()
    connection.auto_sync = enabled
    connection.updated_at = clock.now()


def patient_web_url(connection: ClinikoConnection | None, cliniko_patient_id: str | None) -> str | None:
    """The patient's page in Cliniko's web app, when the account's subdomain is known."""
    if connection is None or not cliniko_patient_id or not connection.account_subdomain:
        return None
    return _patient_web_url(connection.account_subdomain, connection.shard, cliniko_patient_id)
