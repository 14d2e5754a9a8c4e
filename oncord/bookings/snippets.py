"""HTML a clinic copies into its own website: a "Book Now" button and a plain link.

These are for the clinic's other website, where our stylesheet does not exist, so the button
carries its own inline style. The address is rebuilt from validated parts and escaped.
"""

from __future__ import annotations

from html import escape

from oncord.bookings.urls import BookingsUrl

BUTTON_LABEL = "Book Now"
LINK_TEXT = "Book an appointment online"
BUTTON_STYLE = (
    "display:inline-block;padding:12px 24px;border-radius:6px;background:#1b6ad8;color:#ffffff;"
    "font:600 16px/1.2 system-ui,sans-serif;text-decoration:none"
)


def button_snippet(url: BookingsUrl, label: str = BUTTON_LABEL) -> str:
    """A self-styled "Book Now" button linking to the clinic's Cliniko bookings page."""
    return f'<a href="{escape(url.link_url)}" style="{BUTTON_STYLE}">{escape(label)}</a>'


def link_snippet(url: BookingsUrl, text: str = LINK_TEXT) -> str:
    """A plain text link to the clinic's Cliniko bookings page."""
    return f'<a href="{escape(url.link_url)}">{escape(text)}</a>'
