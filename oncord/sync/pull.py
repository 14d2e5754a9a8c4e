"""A pull: stream every Cliniko resource page by page into the database, committing per page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oncord.attribution.rules import DEFAULT_WINDOW, attribute_new_bookings
from oncord.cliniko import payloads
from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import ClinikoError, MalformedRecord
from oncord.clock import Clock
from oncord.db import Database
from oncord.models import AppointmentType, Business, Practitioner, SyncCursor, SyncRun, SyncRunStatus
from oncord.sync.activity import record_events_for_appointment_ids, record_finished_since
from oncord.sync.reference import (
    ReferenceIds,
    appointment_type_columns,
    business_columns,
    practitioner_columns,
    upsert_reference,
)
from oncord.sync.upsert_appointments import upsert_appointments
from oncord.sync.upsert_classes import mark_missed_classes, upsert_attendees, upsert_group_appointments
from oncord.sync.upsert_patients import PageCounts, upsert_patients

log = logging.getLogger(__name__)

FINISHED_EVENTS_CURSOR = "finished_events"
# A run keeps only this many skipped-record notes; the counts still say how many there were.
MAX_PROBLEMS = 50


@dataclass
class StoreContext:
    """What a resource's store function gets besides the records: the session, the time, links."""

    session: Session
    now: datetime
    # How a phone number without a country code is read (SMS_DEFAULT_REGION).
    default_region: str = "AU"
    # A new booking is credited to a message clicked or delivered at most this long before it.
    attribution_window: timedelta = DEFAULT_WINDOW
    _refs: ReferenceIds | None = None

    @property
    def refs(self) -> ReferenceIds:
        """Cliniko id -> local id maps, read once per resource listing (after the lists are in)."""
        if self._refs is None:
            self._refs = ReferenceIds.load(self.session)
        return self._refs


StoreFunction = Callable[[StoreContext, list[Any]], PageCounts]


@dataclass(frozen=True)
class Resource:
    """One Cliniko list the pull walks: how to read it, parse it, store it and name it to staff.

    Adding a resource to the pull is one entry in RESOURCES (plus its model and migration).
    """

    name: str
    label: str
    pages: Callable[[ClinikoClient, datetime | None], Iterator[Any]]
    parse: Callable[[dict[str, Any]], Any]
    store: StoreFunction
    incremental: bool
    # Tables a first pull grows fast enough to need fresh planner statistics (PostgreSQL).
    analyze: tuple[str, ...] = ()
    # A slow-moving list (no updated_at filter, rarely edited): a poll reads it only every
    # SYNC_LISTS_MINUTES; everything else is read by every poll.
    slow: bool = False


def _reference(model: Any, columns: Callable[[Any], dict[str, Any]]) -> StoreFunction:
    return lambda ctx, records: upsert_reference(ctx.session, model, columns, records)


def _store_patients(ctx: StoreContext, records: list[Any]) -> PageCounts:
    counts = upsert_patients(ctx.session, records, ctx.now, link_by_email=True,
                             default_region=ctx.default_region)
    # Appointments pulled before their patient get their feed entries once linked.
    record_events_for_appointment_ids(ctx.session, counts.linked_ids, ctx.now)
    return counts


def _store_appointments(ctx: StoreContext, records: list[Any]) -> PageCounts:
    counts = upsert_appointments(ctx.session, records, ctx.refs, ctx.now)
    attribute_new_bookings(ctx.session, counts.created_ids, ctx.now, ctx.attribution_window)
    return counts


def _store_group_appointments(ctx: StoreContext, records: list[Any]) -> PageCounts:
    return upsert_group_appointments(ctx.session, records, ctx.refs, ctx.now)


def _store_attendees(ctx: StoreContext, records: list[Any]) -> PageCounts:
    counts = upsert_attendees(ctx.session, records, ctx.now)
    attribute_new_bookings(ctx.session, counts.created_ids, ctx.now, ctx.attribution_window)
    return counts


# Order matters: reference lists first (appointments link to them), then patients (contacts),
# and classes before their attendees (an attendee is stored only once its class is known).
RESOURCES: tuple[Resource, ...] = (
    Resource("businesses", "clinic locations", lambda c, _since: c.iter_businesses(),
             payloads.parse_business, _reference(Business, business_columns), False, slow=True),
    Resource(
        "practitioners",
        "practitioners",
        lambda c, _since: _chain(c.iter_practitioners(), c.iter_inactive_practitioners()),
        payloads.parse_practitioner,
        _reference(Practitioner, practitioner_columns),
        False,
        slow=True,
    ),
    Resource("appointment_types", "appointment types", lambda c, _since: c.iter_appointment_types(),
             payloads.parse_appointment_type, _reference(AppointmentType, appointment_type_columns), False,
             slow=True),
    Resource("patients", "patients", lambda c, since: c.iter_patients(updated_since=since),
             payloads.parse_patient, _store_patients, True, analyze=("contacts", "consent_changes")),
    Resource(
        "appointments",
        "appointments",
        lambda c, since: c.iter_individual_appointments(updated_since=since),
        payloads.parse_individual_appointment,
        _store_appointments,
        True,
        analyze=("appointments", "activity_events"),
    ),
    Resource("group_appointments", "classes", lambda c, since: c.iter_group_appointments(updated_since=since),
             payloads.parse_group_appointment, _store_group_appointments, True),
    Resource("attendees", "class attendees", lambda c, since: c.iter_attendees(updated_since=since),
             payloads.parse_attendee, _store_attendees, True),
)
RESOURCE_LABELS: dict[str, str] = {resource.name: resource.label for resource in RESOURCES}


def _chain(*iterators: Iterator[Any]) -> Iterator[Any]:
    for iterator in iterators:
        yield from iterator


class PullSync:
    """Runs one pull for a SyncRun row; safe to interrupt anywhere and run again."""

    def __init__(
        self,
        database: Database,
        client: ClinikoClient,
        clock: Clock,
        *,
        overlap: timedelta,
        heartbeat: Callable[[], object] | None = None,
        default_region: str = "AU",
        lists_every: timedelta | None = None,
        attribution_window: timedelta = DEFAULT_WINDOW,
    ) -> None:
        self.database = database
        self.client = client
        self.clock = clock
        self.overlap = overlap
        self.default_region = default_region
        self.attribution_window = attribution_window
        # A poll (auto-sync) reads the slow lists only when their last read is this old.
        self.lists_every = lists_every
        # Called after each committed page, e.g. to renew the pull lock.
        self.heartbeat = heartbeat or (lambda: None)

    def run(self, run_id: int, *, full: bool) -> SyncRun:
        """Pull everything (full) or what changed since the stored cursors, then finish the run."""
        with self.database.session() as session:
            _relax_durability(session)
            run = session.get(SyncRun, run_id)
            if run is None:
                raise LookupError(f"sync run {run_id} does not exist")
            run.status = SyncRunStatus.RUNNING.value
            run.started_at = self.clock.now()
            # RQ may re-run a job whose worker died; the run then starts over cleanly.
            run.error = None
            run.finished_at = None
            session.commit()
            try:
                for resource in RESOURCES:
                    if self._due(session, resource, full=full):
                        self._pull_resource(session, run, resource, full=full)
                self._finish_events(session, run)
            except ClinikoError as exc:
                session.rollback()
                self._fail(session, run, exc.user_message)
                raise
            except BaseException:
                session.rollback()
                self._fail(
                    session,
                    run,
                    "The sync stopped unexpectedly. It will resume from where it "
                    "got to on the next run; if it keeps failing, contact support.",
                )
                raise
            run.status = (SyncRunStatus.PARTIAL if run.problems else SyncRunStatus.SUCCEEDED).value
            run.current_resource = None
            run.finished_at = self.clock.now()
            self._copy_stats(run)
            session.commit()
            return run

    def _due(self, session: Session, resource: Resource, *, full: bool) -> bool:
        if full or self.lists_every is None or not resource.slow:
            return True
        last = _cursor(session, resource.name).synced_through
        return last is None or self.clock.now() - last >= self.lists_every

    def _pull_resource(self, session: Session, run: SyncRun, resource: Resource, *, full: bool) -> None:
        cursor = _cursor(session, resource.name)
        since = None
        if resource.incremental and not full and cursor.synced_through is not None:
            since = cursor.synced_through - self.overlap
        listing_started = self.clock.now()
        run.current_resource = resource.name
        session.commit()
        context = StoreContext(session, self.clock.now(), self.default_region, self.attribution_window)
        pages = 0
        for page in resource.pages(self.client, since):
            records, problems = _parse_page(resource, page.items)
            self._store_page(session, run, resource, context, records, problems)
            self.heartbeat()
            pages += 1
            if pages in _ANALYZE_AFTER_PAGES:
                _refresh_planner_statistics(session, resource.analyze)
        # A poll and the daily reconcile run side by side; the later listing start wins, so a
        # reconcile that began long ago never moves the cursor back past what a poll stored.
        session.refresh(cursor)
        if cursor.synced_through is None or cursor.synced_through < listing_started:
            cursor.synced_through = listing_started
        if full or not resource.incremental:
            cursor.last_full_sync_at = listing_started
        session.commit()

    def _store_page(
        self,
        session: Session,
        run: SyncRun,
        resource: Resource,
        context: StoreContext,
        records: list[Any],
        problems: list[dict[str, Any]],
    ) -> None:
        """Store and commit one page; a page that meets a concurrent pull's insert is stored again."""
        for attempt in (1, 2):
            context.now = self.clock.now()
            try:
                counts = resource.store(context, records)
                counts.skipped += len(problems)
                counts.fetched += len(problems)
                _add_counts(run, resource.name, counts)
                if problems:
                    run.problems = (list(run.problems) + problems)[:MAX_PROBLEMS]
                run.pages_done += 1
                self._copy_stats(run)
                session.commit()
                return
            except (IntegrityError, psycopg.IntegrityError):
                # A poll and the reconcile met the same new record; its row now exists, so the
                # second attempt updates it instead.
                session.rollback()
                context._refs = None
                if attempt == 2:
                    raise

    def _finish_events(self, session: Session, run: SyncRun) -> None:
        cursor = _cursor(session, FINISHED_EVENTS_CURSOR)
        now = self.clock.now()
        # The first pull stored every appointment's entries page by page already.
        since = cursor.synced_through or run.started_at
        # Classes that ended with attendees never marked arrived: no Cliniko record changes then.
        record_events_for_appointment_ids(session, mark_missed_classes(session, now), now)
        record_finished_since(session, since, now)
        cursor.synced_through = now
        session.commit()

    def _fail(self, session: Session, run: SyncRun, message: str) -> None:
        run.status = SyncRunStatus.FAILED.value
        run.error = message
        run.finished_at = self.clock.now()
        self._copy_stats(run)
        session.commit()

    def _copy_stats(self, run: SyncRun) -> None:
        run.requests_made = self.client.stats.requests_made
        run.rate_limit_waits = self.client.stats.rate_limit_waits


# A first pull grows tables from empty faster than autovacuum re-plans them; without fresh
# statistics PostgreSQL keeps choosing sequential scans for the per-page id look-ups.
_ANALYZE_AFTER_PAGES = frozenset({5, 50, 500})


def _refresh_planner_statistics(session: Session, tables: tuple[str, ...]) -> None:
    if not tables or session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(text(f"ANALYZE {table}"))
    session.commit()


def _relax_durability(session: Session) -> None:
    """On PostgreSQL, commit sync pages without waiting for the disk flush.

    Safe here: a crash can lose only the last pages, whose cursor never moved, so the next
    pull reads them again; ordering and consistency are unaffected.
    """
    if session.get_bind().dialect.name != "postgresql":
        return

    @event.listens_for(session, "after_begin")
    def _no_sync_commit(_session: Session, _transaction: Any, connection: Any) -> None:
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _cursor(session: Session, resource: str) -> SyncCursor:
    cursor = session.scalars(select(SyncCursor).where(SyncCursor.resource == resource)).first()
    if cursor is None:
        cursor = SyncCursor(resource=resource)
        session.add(cursor)
        session.flush()
    return cursor


def _parse_page(resource: Resource, items: list[dict[str, Any]]) -> tuple[list[Any], list[dict[str, Any]]]:
    records, problems = [], []
    seen: set[str] = set()
    for raw in items:
        try:
            record = resource.parse(raw)
        except MalformedRecord as exc:
            log.warning("skipped malformed %s %s: %s", exc.resource, exc.record_id, exc.reason)
            problems.append({"resource": resource.name, "id": exc.record_id, "reason": exc.reason})
            continue
        # A record moving between pages while we read can appear twice; keep the first.
        if record.id not in seen:
            seen.add(record.id)
            records.append(record)
    return records, problems


def _add_counts(run: SyncRun, resource: str, counts: PageCounts) -> None:
    totals = dict(run.counts or {})
    current = dict(totals.get(resource, {}))
    for key, value in asdict(counts).items():
        if key not in ("linked_ids", "created_ids"):
            current[key] = current.get(key, 0) + value
    totals[resource] = current
    run.counts = totals
