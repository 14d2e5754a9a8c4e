"""The clinic's connection to its Cliniko account, and the incremental-sync cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class ClinikoConnection(Base):
    """The one Cliniko account this install syncs with; the API key is encrypted."""

    __tablename__ = "cliniko_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    shard: Mapped[str] = mapped_column(String(16))
    account_subdomain: Mapped[str | None] = mapped_column(String(255))
    account_name: Mapped[str | None] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255))
    time_zone_identifier: Mapped[str | None] = mapped_column(String(64))
    # Automations fire only for activity after this moment.
    enabled_at: Mapped[datetime]
    disconnected_at: Mapped[datetime | None]
    auto_sync: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def is_active(self) -> bool:
        """Connected and holding a key."""
        return self.disconnected_at is None and self.api_key_encrypted is not None


class SyncCursor(Base):
    """How far a resource has been pulled: the newest Cliniko updated_at fully stored."""

    __tablename__ = "sync_cursors"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), unique=True)
    synced_through: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]
