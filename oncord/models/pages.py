"""Website pages staff build from blocks, and the clinic-wide settings the public site uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class Page(Base):
    """A public page at /<slug>; `blocks` holds validated block values (never raw HTML)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    published: Mapped[bool] = mapped_column(default=False)
    blocks: Mapped[list[Any]]
    # Bumped on every save; the editor sends the one it loaded so a second editor cannot
    # silently overwrite the first.
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClinicSettings(Base):
    """Clinic-wide settings, one row (id 1): the name shown on public pages, the bookings address.

    Named generically so other clinic-wide settings (sender name, ...) can join it.
    """

    __tablename__ = "clinic_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    clinic_name: Mapped[str | None] = mapped_column(String(200))
    # The canonical address rebuilt from validated parts (oncord.bookings.urls).
    bookings_url: Mapped[str | None] = mapped_column(String(2000))
    # The clinic's contact details for public pages and designed e-mails (oncord.clinic_profile).
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    # The colour of designed e-mails' buttons and accents, #rrggbb (oncord.messaging.design); None: default.
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    # Where a review request sends patients ({{ review_url }}), e.g. the clinic's Google review link.
    review_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class ClinicLogo(Base):
    """The clinic's logo, one row (id 1): a checked PNG, JPEG or WebP (oncord.clinic_profile).

    A table of its own so that reading the clinic settings, which every public page does, never
    loads the image.
    """

    __tablename__ = "clinic_logos"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(40))
    # SHA-256 of data: the ETag, and the version in the logo's address that lets caches keep it.
    digest: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    updated_at: Mapped[datetime]
