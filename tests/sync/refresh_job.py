"""An RQ job for tests: the pre-send refresh (AppointmentRefresher, as a send batch uses it) of
some appointments, run by a real worker process so it takes its requests from the shared budget."""

from __future__ import annotations

from oncord import context
from oncord.automations.refresh import AppointmentRefresher
from oncord.db import get_database
from oncord.jobs.runtime import job_app
from oncord.models import Appointment

REFRESH_JOB = "tests.sync.refresh_job.refresh_appointments"


def refresh_appointments(appointment_ids: list[int]) -> int:
    """Re-read each appointment from Cliniko; return how many came back."""
    app = job_app()
    clock = context.clock(app)
    refresher = AppointmentRefresher(context.settings(app), context.secret_box(app), {})
    refreshed = 0
    try:
        with get_database(app).session() as session:
            for appointment_id in appointment_ids:
                appointment = session.get(Appointment, appointment_id)
                assert appointment is not None
                if refresher.refresh(session, appointment, clock.now()) is not None:
                    refreshed += 1
    finally:
        refresher.close()
    return refreshed
