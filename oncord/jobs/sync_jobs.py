"""RQ entry points for syncing with Cliniko."""

from __future__ import annotations

from oncord.jobs.runtime import job_app
from oncord.sync import service


def pull(run_id: int, full: bool) -> str:
    """Run a queued pull; Cliniko failures are recorded on the run and re-raised for RQ."""
    run = service.run_pull(job_app(), run_id, full=full)
    return run.status


def scheduled_pull(full: bool) -> str:
    """The auto-sync schedule's pull: schedules the next slot, then pulls if auto-sync is on."""
    return service.run_scheduled_pull(job_app(), full=full)


def push() -> str:
    """Push pending contact edits when due; re-schedules itself when woken early."""
    return service.run_push(job_app())
