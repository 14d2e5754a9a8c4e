"""Response policies for public pages: only the clinic's Cliniko bookings host may be framed."""

from __future__ import annotations

from collections.abc import Iterable


def public_page_csp(frame_origins: Iterable[str]) -> str:
    """A Content-Security-Policy that frames only these origins and runs only our own scripts.

    The resize listener is a static file (script-src 'self'), so no inline script is allowed;
    the booking widget's own scripts run inside Cliniko's frame under Cliniko's policy.
    """
    frames = " ".join(sorted(set(frame_origins))) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"frame-src {frames}",
            "connect-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


def public_page_permissions(payment_origins: Iterable[str]) -> str:
    """A Permissions-Policy that lets only Cliniko's frame take online payments, when it asks to."""
    origins = " ".join(f'"{origin}"' for origin in sorted(set(payment_origins)))
    return f"camera=(), microphone=(), geolocation=(), payment=({origins})"
