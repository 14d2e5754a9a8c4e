"""Automation messages in the contact's feed; the reasons themselves live in oncord.messaging.eligibility."""

from __future__ import annotations

from oncord.messaging.eligibility import REASON_TEXT, WAIT_REASONS, Reason, reason_text

__all__ = ["REASON_TEXT", "WAIT_REASONS", "Reason", "outcome_text", "reason_text"]


def outcome_text(kind: str, details: dict[str, object]) -> str:
    """A skipped or failed automation message as a feed sentence."""
    channel = "E-mail" if details.get("channel") == "email" else "SMS"
    automation = details.get("automation") or "automation"
    if kind == "message_skipped":
        return f"{channel} not sent ({automation}): {reason_text(str(details.get('reason') or ''))}"
    return f"{channel} failed ({automation}): {details.get('error') or 'the provider gave no reason'}"
