"""Run an RQ worker (with its scheduler) for Oncord's queue: `python worker.py`."""

from __future__ import annotations

import logging
import sys

from rq import Worker

from oncord import create_app
from oncord.jobs.automation_jobs import ensure_daily_schedule, ensure_dispatch_schedule
from oncord.jobs.campaign_jobs import resume_campaigns
from oncord.jobs.runtime import JobIdLogFilter, set_app
from oncord.jobs.sync_jobs import ensure_schedules
from oncord.queue import get_queue, get_redis


def main(argv: list[str]) -> int:
    """Build the app once, then work the queue until stopped."""
    handler = logging.StreamHandler()
    handler.addFilter(JobIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    app = create_app()
    set_app(app)
    # Schedules live in Redis; re-create them if Redis lost them (idempotent per slot).
    ensure_schedules(app)
    ensure_dispatch_schedule(app)
    ensure_daily_schedule(app)
    # Campaigns a killed worker left sending carry on; scheduled ones keep their job.
    resume_campaigns(app)
    burst = "--burst" in argv
    worker = Worker([get_queue(app)], connection=get_redis(app))
    worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
