"""RQ entry points for syncing with Cliniko."""

from __future__ import annotations

from oncord import context
from oncord.jobs.runtime import job_app
from oncord.sync import service


def pull(run_id: int, full: bool) -> str:
    """Run a queued pull; Cliniko failures are recorded on the run and re-raised for RQ."""
    run = service.run_pull(job_app(), run_id, full=full)
    _after_pull(run.status, f"sync-{run_id}")
    return run.status


def scheduled_pull(full: bool) -> str:
    """The auto-sync schedule's pull: schedules the next slot, then pulls if auto-sync is on."""
    status = service.run_scheduled_pull(job_app(), full=full)
    _after_pull(status, f"sync-{context.clock(job_app()).now():%Y%m%d%H%M%S}")
    return status


def _after_pull(status: str, reason: str) -> None:
    # Automations react to what a pull brought in without waiting for the next minute.
    if status not in ("succeeded", "partial"):
        return
    from oncord.jobs.automation_jobs import enqueue_dispatch
    from oncord.queue import get_queue

    enqueue_dispatch(get_queue(job_app()), reason)


def push() -> str:
    """Push pending contact edits when due; re-schedules itself when woken early."""
    return service.run_push(job_app())
