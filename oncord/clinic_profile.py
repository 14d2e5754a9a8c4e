"""The clinic as visitors and patients see it: name, address, phone, privacy link and logo.

The one owner of these details. Public pages read them with ``clinic_profile``; designed e-mails
will too, linking the logo at ``LOGO_PATH`` (a stable address the app serves from the database,
so an e-mail sent today still shows the logo next year). The logo is checked here once, on
upload: only PNG, JPEG and WebP that Pillow decodes completely, within a size limit. SVG is
refused rather than sanitised: it can carry script, and many e-mail programs do not show it.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from io import BytesIO

import phonenumbers
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.bookings.blocks import check_link, clean_text
from oncord.bookings.settings import SETTINGS_ID, clinic_name, clinic_settings
from oncord.bookings.urls import BookingsValidationError
from oncord.clock import Clock
from oncord.models import ClinicLogo, ClinicSettings

LOGO_PATH = "/clinic-logo"
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 4000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MAX_ADDRESS, MAX_PHONE, MAX_PRIVACY_URL, MAX_REVIEW_URL = 300, 40, 500, 500
# Where staff set the review link, for messages that need it and it is not set.
REVIEW_URL_SETTING = "Settings → Online bookings, “Google review link”"

_PHONE_CHARS = re.compile(r"\+?[0-9(][0-9 ()./-]{3,38}", re.ASCII)
_SVG_START = re.compile(rb"\s*(?:<\?xml|<!--|<!doctype svg|<svg)", re.IGNORECASE)


class InvalidClinicDetail(ValueError):
    """A clinic detail or logo was refused; the message says why and what to do."""


@dataclass(frozen=True)
class Logo:
    """A checked logo image."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        """SHA-256 of the image, hex."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ClinicProfile:
    """What a public page or e-mail shows about the clinic; empty details are None."""

    name: str
    address: str | None = None
    phone: str | None = None
    privacy_url: str | None = None
    logo_digest: str | None = None
    review_url: str | None = None

    @property
    def address_lines(self) -> list[str]:
        """The address as it was typed, one entry per line."""
        return [line.strip() for line in (self.address or "").split("\n") if line.strip()]

    @property
    def phone_href(self) -> str | None:
        """A tel: link for the phone number (digits and a leading + only)."""
        if not self.phone:
            return None
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone)

    @property
    def logo_path(self) -> str | None:
        """The logo's address on this app, versioned so caches may keep each version for good."""
        return f"{LOGO_PATH}?v={self.logo_digest[:16]}" if self.logo_digest else None


def clinic_profile(session: Session) -> ClinicProfile:
    """The clinic's name and contact details, and which logo (if any) is stored."""
    row = clinic_settings(session)
    logo_digest = session.scalar(select(ClinicLogo.digest).where(ClinicLogo.id == SETTINGS_ID))
    return ClinicProfile(name=clinic_name(session), address=row.address, phone=row.phone,
                         privacy_url=row.privacy_url, logo_digest=logo_digest, review_url=row.review_url)


def review_url(session: Session) -> str | None:
    """The clinic's review link ({{ review_url }}), or None when no admin has set it."""
    return session.scalar(select(ClinicSettings.review_url).where(ClinicSettings.id == SETTINGS_ID)) or None


def clinic_logo(session: Session) -> ClinicLogo | None:
    """The stored logo with its bytes, or None."""
    return session.get(ClinicLogo, SETTINGS_ID)


def check_address(value: str | None) -> str | None:
    """A postal address of a few lines of plain text, or None when left empty."""
    if not (value or "").strip():
        return None
    try:
        return clean_text(value, label="The address", limit=MAX_ADDRESS, multiline=True)
    except BookingsValidationError as exc:
        raise InvalidClinicDetail(str(exc)) from exc


def check_phone(value: str | None, region: str) -> str | None:
    """A phone number patients can dial (as typed, tidied), or None when left empty."""
    text = " ".join((value or "").split())
    if not text:
        return None
    example = "e.g. (03) 9000 1234 or +61 3 9000 1234"
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidClinicDetail(f"Enter the phone number with digits, spaces and brackets only, {example}.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidClinicDetail(f"That is not a phone number, {example}.") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidClinicDetail(f"That phone number has too few or too many digits, {example}.")
    return text


def check_privacy_url(value: str | None) -> str | None:
    """The clinic's privacy policy: an https address or one of its pages (/privacy), or None."""
    if not (value or "").strip():
        return None
    try:
        url = check_link(value)
    except BookingsValidationError as exc:
        raise InvalidClinicDetail(str(exc)) from exc
    if not url.startswith(("https://", "/")) or len(url) > MAX_PRIVACY_URL:
        raise InvalidClinicDetail("Link the privacy policy to a web page: https://… or one of your pages "
                                  "like /privacy.")
    return url


def check_review_url(value: str | None) -> str | None:
    """The page where patients leave a review: an https address on another site, or None."""
    if not (value or "").strip():
        return None
    try:
        url = check_link(value)
    except BookingsValidationError as exc:
        raise InvalidClinicDetail(str(exc)) from exc
    if not url.startswith("https://") or len(url) > MAX_REVIEW_URL:
        raise InvalidClinicDetail("Enter the review page's full https:// address, e.g. the link Google "
                                  "Business Profile gives under “Ask for reviews” (https://g.page/r/…/review).")
    return url


def read_logo(data: bytes) -> Logo:
    """Check an uploaded logo: a PNG, JPEG or WebP image that decodes, within the limits."""
    if not data:
        raise InvalidClinicDetail("The logo file is empty. Choose a PNG, JPEG or WebP image.")
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidClinicDetail(f"The logo is {len(data) / 1024:.0f} KB; keep it under "
                                  f"{MAX_LOGO_BYTES // 1024} KB (a logo for a web page needs no more).")
    if _SVG_START.match(data[:200]):
        raise InvalidClinicDetail("SVG logos are not accepted (they can carry scripts, and many e-mail "
                                  "programs do not show them). Save the logo as PNG and upload that.")
    not_an_image = InvalidClinicDetail("That file is not a PNG, JPEG or WebP image. Save the logo in one "
                                       "of those formats and upload it again.")
    try:
        with warnings.catch_warnings():
            # A tiny file may claim enormous dimensions: refuse it instead of decoding it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
                if kind in LOGO_TYPES and max(width, height) <= MAX_LOGO_SIDE:
                    image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise not_an_image from exc
    if kind not in LOGO_TYPES:
        raise not_an_image
    if max(width, height) > MAX_LOGO_SIDE:
        raise InvalidClinicDetail(f"The logo is {width}×{height} pixels; make it at most {MAX_LOGO_SIDE} "
                                  "pixels on each side.")
    return Logo(data=data, media_type=LOGO_TYPES[kind], width=width, height=height)


def update_clinic_details(
    session: Session, *, address: str | None, phone: str | None, privacy_url: str | None, clock: Clock
) -> None:
    """Store checked contact details (the caller commits)."""
    row = session.get(ClinicSettings, SETTINGS_ID)
    if row is None:
        row = ClinicSettings(id=SETTINGS_ID)
        session.add(row)
    row.address, row.phone, row.privacy_url = address, phone, privacy_url
    row.updated_at = clock.now()


def update_review_url(session: Session, url: str | None, *, clock: Clock) -> None:
    """Store a checked review link, or forget it (None); the caller commits."""
    row = session.get(ClinicSettings, SETTINGS_ID)
    if row is None:
        row = ClinicSettings(id=SETTINGS_ID)
        session.add(row)
    row.review_url = url or None  # an emptied field arrives as "" (Optional() skips the check)
    row.updated_at = clock.now()


def store_logo(session: Session, logo: Logo, *, clock: Clock) -> None:
    """Replace the logo with a checked one (the caller commits)."""
    row = session.get(ClinicLogo, SETTINGS_ID)
    if row is None:
        row = ClinicLogo(id=SETTINGS_ID)
        session.add(row)
    row.data, row.media_type, row.digest = logo.data, logo.media_type, logo.digest
    row.width, row.height, row.updated_at = logo.width, logo.height, clock.now()


def remove_logo(session: Session) -> None:
    """Forget the logo (the caller commits); its address answers 404 from then on."""
    row = session.get(ClinicLogo, SETTINGS_ID)
    if row is not None:
        session.delete(row)
