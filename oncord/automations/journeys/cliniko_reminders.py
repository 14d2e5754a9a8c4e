"""Cliniko's own reminders: which per-patient reminder types mean Cliniko already reminds them."""

from __future__ import annotations

# Cliniko's reminder_type values (None, "SMS", "Email", "SMS & Email"; see cliniko-api.md).
CLINIKO_REMINDS = ("SMS", "Email", "SMS & Email")
