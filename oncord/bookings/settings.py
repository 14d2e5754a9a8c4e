"""The clinic's name and Cliniko bookings address, and which Cliniko accounts embeds may use."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oncord.bookings.urls import Account, BookingsUrl, InvalidBookingsUrl, account_of, parse_bookings_url
from oncord.clock import Clock
from oncord.integration import active_connection
from oncord.models import ClinicSettings

SETTINGS_ID = 1


def clinic_settings(session: Session) -> ClinicSettings:
    """The settings row, or unsaved defaults when none was stored yet."""
    row = session.get(ClinicSettings, SETTINGS_ID)
    if row is None:
        row = ClinicSettings(id=SETTINGS_ID, clinic_name=None, bookings_url=None)
    return row


def update_clinic_settings(
    session: Session, *, clinic_name: str | None, bookings_url: BookingsUrl | None, clock: Clock
) -> ClinicSettings:
    """Store the clinic name and a validated bookings address (the caller commits)."""
    row = session.get(ClinicSettings, SETTINGS_ID)
    if row is None:
        row = ClinicSettings(id=SETTINGS_ID)
        session.add(row)
    row.clinic_name = (clinic_name or "").strip() or None
    row.bookings_url = bookings_url.link_url if bookings_url else None
    row.updated_at = clock.now()
    return row


def bookings_url(session: Session) -> BookingsUrl | None:
    """The clinic's bookings address, re-validated; None when not set (or no longer valid)."""
    stored = clinic_settings(session).bookings_url
    if not stored:
        return None
    try:
        return parse_bookings_url(stored)
    except InvalidBookingsUrl:
        return None


def clinic_name(session: Session) -> str:
    """The name public pages show: the setting, else the Cliniko account's name, else empty."""
    name = clinic_settings(session).clinic_name
    if name:
        return name
    connection = active_connection(session)
    return (connection.account_name or "") if connection else ""


def allowed_accounts(session: Session) -> frozenset[Account] | None:
    """The Cliniko accounts embeds may point at: the bookings address's and the connected one's.

    None when neither is known yet; any Cliniko bookings host is then accepted, and the editor
    says which host each widget books with.
    """
    accounts: set[Account] = set()
    url = bookings_url(session)
    if url is not None:
        accounts.add(url.account)
    connection = active_connection(session)
    if connection is not None:
        account = account_of(connection.account_subdomain, connection.shard)
        if account is not None:
            accounts.add(account)
    return frozenset(accounts) or None
