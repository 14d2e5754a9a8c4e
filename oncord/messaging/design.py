"""The clinic's e-mail design: its logo, name and brand colour, read once per batch.

The one owner of the brand colour: admins set it beside the logo (Settings → Online bookings),
checked here as #rrggbb, and every designed e-mail takes its button, link and accent colours from
the `EmailDesign` built here. Text on the brand colour is white or near-black, whichever contrasts
more, so any colour an admin picks keeps a readable Book Now button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from oncord.bookings.settings import SETTINGS_ID, clinic_name
from oncord.clinic_profile import LOGO_PATH
from oncord.clock import Clock
from oncord.models import ClinicLogo, ClinicSettings

DEFAULT_BRAND_COLOUR = "#1d5c7a"
_HEX = re.compile(r"#[0-9a-f]{6}")
_LIGHT_TEXT, _DARK_TEXT = "#ffffff", "#111827"
# A link in body text must read on white (WCAG AA for body text); a paler brand colour is not used there.
_DEFAULT_LINK = "#1d4ed8"
_MIN_TEXT_CONTRAST = 4.5


class InvalidBrandColour(ValueError):
    """The brand colour was refused; the message says how to write one."""


def check_brand_colour(value: str | None) -> str | None:
    """A colour as #rrggbb (lower case), or None when left empty (the default design colour)."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if not text.startswith("#"):
        text = "#" + text
    if len(text) == 4 and re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not _HEX.fullmatch(text):
        raise InvalidBrandColour("Write the brand colour as # and six hex digits, e.g. #1d5c7a.")
    return text


def _luminance(colour: str) -> float:
    # WCAG 2 relative luminance of an sRGB #rrggbb colour.
    channels = []
    for start in (1, 3, 5):
        c = int(colour[start:start + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class EmailDesign:
    """What every designed e-mail of a batch shows of the clinic (hashable: the compiled layout is
    cached per design)."""

    clinic_name: str = ""
    # The logo's versioned path on this app (oncord.clinic_profile.LOGO_PATH), or None.
    logo_path: str | None = None
    brand_colour: str = DEFAULT_BRAND_COLOUR

    @property
    def button_text_colour(self) -> str:
        """White or near-black, whichever reads better on the brand colour."""
        light, dark = contrast(self.brand_colour, _LIGHT_TEXT), contrast(self.brand_colour, _DARK_TEXT)
        return _LIGHT_TEXT if light >= dark else _DARK_TEXT

    @property
    def link_colour(self) -> str:
        """The brand colour for links in text when it reads on white, else a standard blue."""
        readable = contrast(self.brand_colour, "#ffffff") >= _MIN_TEXT_CONTRAST
        return self.brand_colour if readable else _DEFAULT_LINK


@lru_cache(maxsize=16)
def _has_tables(engine: Engine) -> bool:
    names = inspect(engine).get_table_names()
    return "clinic_settings" in names and "clinic_logos" in names


def load_design(session: Session) -> EmailDesign:
    """The clinic's design from its settings (nothing is written); the default before any is set."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if not _has_tables(engine):  # a database from before the clinic profile: the plain default
        return EmailDesign()
    row = session.get(ClinicSettings, SETTINGS_ID)
    digest = session.scalar(select(ClinicLogo.digest).where(ClinicLogo.id == SETTINGS_ID))
    return EmailDesign(
        clinic_name=clinic_name(session),
        logo_path=f"{LOGO_PATH}?v={digest[:16]}" if digest else None,
        brand_colour=(row.brand_colour if row is not None and row.brand_colour else DEFAULT_BRAND_COLOUR),
    )


def store_brand_colour(session: Session, colour: str | None, *, clock: Clock) -> None:
    """Store a checked brand colour, or None for the default (the caller commits)."""
    row = session.get(ClinicSettings, SETTINGS_ID)
    if row is None:
        row = ClinicSettings(id=SETTINGS_ID)
        session.add(row)
    row.brand_colour = colour or None  # an empty field (Optional stops the check) is the default
    row.updated_at = clock.now()
