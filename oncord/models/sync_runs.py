"""A record of each sync: what it did, how far it got, and why it failed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class SyncRunStatus(enum.StrEnum):
    """Where a sync run is."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    # Finished, but some records were skipped (they are listed in problems).
    PARTIAL = "partial"
    FAILED = "failed"


class SyncRun(Base):
    """One pull or push; the UI reads progress from it while a job runs."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    job_id: Mapped[str | None] = mapped_column(String(64))
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    current_resource: Mapped[str | None] = mapped_column(String(64))
    pages_done: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requests_made: Mapped[int] = mapped_column(default=0)
    rate_limit_waits: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    # Polls that found nothing new, one after another, are kept as one row (a poll a minute
    # would otherwise bury the runs that did something): how many, and when the first ran.
    checks: Mapped[int] = mapped_column(default=1, server_default="1")
    first_checked_at: Mapped[datetime | None]

    @property
    def is_finished(self) -> bool:
        """Whether the run has ended, well or badly."""
        return self.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL, SyncRunStatus.FAILED)
