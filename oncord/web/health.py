"""A liveness endpoint for load balancers and the demo launcher."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from oncord.db import get_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 when the database answers."""
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}, 200
