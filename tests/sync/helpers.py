"""Reading the sandbox through its public API, independently of the code under test."""

from __future__ import annotations

from typing import Any

import requests

USER_AGENT = "Oncord tests (tests@oncord.example)"


def list_all(sandbox, path: str, filters: list[str]) -> list[dict[str, Any]]:
    """Every record of a Cliniko list, read page by page with plain requests."""
    url = f"{sandbox.base_url}/{path}"
    params: list[tuple[str, str | int]] = [("per_page", 100), *(("q[]", f) for f in filters)]
    records: list[dict[str, Any]] = []
    while url:
        response = requests.get(
            url,
            params=params,
            auth=(sandbox.api_key, ""),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        records.extend(body[path.split("/")[0]])
        url = body["links"].get("next")
        params = []
    return records


def all_patients(sandbox) -> list[dict[str, Any]]:
    """Every patient, archived ones included."""
    return list_all(sandbox, "patients", ["archived_at:*"])


def all_appointments(sandbox) -> list[dict[str, Any]]:
    """Every individual appointment, archived and cancelled ones included."""
    return list_all(sandbox, "individual_appointments", ["archived_at:*", "cancelled_at:*"])


def all_group_appointments(sandbox) -> list[dict[str, Any]]:
    """Every class (group appointment), archived ones included."""
    return list_all(sandbox, "group_appointments", ["archived_at:*"])


def all_attendees(sandbox) -> list[dict[str, Any]]:
    """Every attendee (of classes and of individual appointments), archived and cancelled included."""
    return list_all(sandbox, "attendees", ["archived_at:*", "cancelled_at:*"])


def appointment_rows(sandbox) -> int:
    """How many appointments rows a full pull stores: individual appointments and class attendees."""
    classes = {g["id"] for g in all_group_appointments(sandbox)}
    attendees = [a for a in all_attendees(sandbox) if booking_id(a) in classes]
    return len(all_appointments(sandbox)) + len(attendees)


def booking_id(attendee: dict[str, Any]) -> str:
    """The id of the booking (class or individual appointment) an attendee belongs to."""
    return attendee["booking"]["links"]["self"].rsplit("/", 1)[1]
