"""Admins' downloads: every contact, and the whole consent ledger, as CSV for spreadsheets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from oncord.contacts.export import CONTACT_FIELDS, iter_contacts
from oncord.contacts.ledger_export import LEDGER_COLUMNS, iter_ledger
from oncord.context import clock
from oncord.csv_safe import csv_chunks
from oncord.db import get_session
from oncord.web.auth import require_admin

bp = Blueprint("exports", __name__, url_prefix="/exports")
bp.before_request(require_admin)

Records = Callable[[Session], Iterable[dict[str, Any]]]


def _download(records: Records, columns: Iterable[str], name: str) -> Response:
    # Built whole rather than streamed: a streamed body outlives the request's session and context
    # (a few MB for a large clinic, read in batches from the database all the same).
    body = "".join(csv_chunks(records(get_session()), columns))
    stamp = clock().now().strftime("%Y-%m-%d")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    # Patient data: never kept by a shared cache or the browser's.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/contacts.csv")
def contacts_csv() -> Response:
    """Every contact, the columns of `flask contacts export --format csv`."""
    return _download(lambda session: iter_contacts(session, with_appointments=False), CONTACT_FIELDS,
                     "contacts")


@bp.get("/consent-ledger.csv")
def consent_ledger_csv() -> Response:
    """Every consent change ever recorded, oldest first."""
    return _download(iter_ledger, LEDGER_COLUMNS, "consent-ledger")
