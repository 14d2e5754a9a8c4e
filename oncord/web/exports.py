"""Admins' downloads: every contact, and the whole consent ledger, as CSV for spreadsheets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, stream_with_context
from sqlalchemy.orm import Session

from oncord.contacts.export import CONTACT_FIELDS, iter_contacts
from oncord.contacts.ledger_export import LEDGER_COLUMNS, iter_ledger
from oncord.context import clock
from oncord.csv_safe import csv_chunks
from oncord.db import get_database
from oncord.web.auth import require_admin

bp = Blueprint("exports", __name__, url_prefix="/exports")
bp.before_request(require_admin)

Records = Callable[[Session], Iterable[dict[str, Any]]]


def _download(records: Records, columns: Iterable[str], name: str) -> Response:
    def chunks() -> Iterator[str]:
        # A session of its own: the request's session is closed as soon as the view returns,
        # before the first row of a streamed body is read.
        with get_database().session() as session:
            yield from csv_chunks(records(session), columns)

    stamp = clock().now().strftime("%Y-%m-%d")
    response = Response(stream_with_context(chunks()), mimetype="text/csv")
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
