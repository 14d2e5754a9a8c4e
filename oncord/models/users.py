"""Clinic staff who log in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class Role(enum.StrEnum):
    """Admins manage integrations and users; staff do the daily work."""

    ADMIN = "admin"
    STAFF = "staff"


class User(Base):
    """A staff login; e-mail stored lower-case."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'staff')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF.value)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    @property
    def is_admin(self) -> bool:
        """Whether the user may change integration settings and users."""
        return self.role == Role.ADMIN


class StaffSession(Base):
    """One login: the cookie carries a random token, this row its hash; no row (or ended) = logged out."""

    __tablename__ = "staff_sessions"

    # sha256 of the cookie's token, so a copy of the database opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
