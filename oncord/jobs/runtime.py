"""The app a worker process runs jobs in, safe across RQ's fork per job."""

from __future__ import annotations

import logging
import os

from flask import Flask
from rq import get_current_job

from oncord import create_app
from oncord.db import get_database

_app: Flask | None = None
_pid: int | None = None


def set_app(app: Flask) -> None:
    """Register the app built once by worker.py (or a test's worker)."""
    global _app, _pid
    _app, _pid = app, os.getpid()


def job_app() -> Flask:
    """The worker's app; builds one from the environment when none was registered."""
    global _app, _pid
    if _app is None:
        set_app(create_app())
    assert _app is not None
    if _pid != os.getpid():
        # RQ forked a work horse: pooled connections belong to the parent.
        get_database(_app).engine.dispose(close=False)
        _pid = os.getpid()
    return _app


class JobIdLogFilter(logging.Filter):
    """Stamps the current RQ job id on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job is not None else "-"
        return True


def last_attempt() -> bool:
    """Whether the running job has no RQ retry left (or runs outside RQ): a failure now is final."""
    job = get_current_job()
    return job is None or not job.retries_left
