"""The dashboard: connection and last sync, headline counts, appointments per week."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from oncord.attribution.figures import weekly_by_source
from oncord.context import clock, settings
from oncord.dashboard.bookings_chart import build_bookings_chart
from oncord.dashboard.chart import LABELS, build_chart, build_nps_chart
from oncord.dashboard.nps import monthly_nps, overall
from oncord.dashboard.stats import counts, weekly_outcomes
from oncord.db import get_session
from oncord.integration import active_connection
from oncord.sync.launcher import PULL_KINDS, PUSH_KINDS, active_pull, last_finished_run
from oncord.web.auth import require_login
from oncord.web.htmx import render_page
from oncord.web.timefmt import request_zone

bp = Blueprint("dashboard", __name__)
bp.before_request(require_login)


@bp.get("/")
def home() -> Response:
    """Everything a receptionist checks first thing in the morning."""
    db, now = get_session(), clock().now()
    weeks = weekly_outcomes(db, now, request_zone())
    starts, sources = weekly_by_source(db, now, request_zone())
    months = monthly_nps(db, now, request_zone())
    return render_page(
        "dashboard/page.html",
        "dashboard/_summary.html",
        connection=active_connection(db),
        last_read=last_finished_run(db, PULL_KINDS),
        last_push=last_finished_run(db, PUSH_KINDS),
        running=active_pull(db),
        counts=counts(db, now),
        chart=build_chart(weeks),
        outcome_labels=LABELS,
        bookings_chart=build_bookings_chart(starts, sources),
        attribution_window_days=settings().attribution_window_days,
        nps_chart=build_nps_chart(months),
        nps=overall(months),
    )
