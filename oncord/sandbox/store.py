"""The sandbox's account data and test controls: queries, Cliniko-side edits, faults, clock."""

from __future__ import annotations

import json
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from oncord.sandbox.appointments import (
    ARRIVED,
    CLEARED,
    DID_NOT_ARRIVE,
    PLAIN,
    AppointmentTable,
)
from oncord.sandbox.catalog import Catalog, build_catalog
from oncord.sandbox.faults import Fault, FaultInjector, RequestLog
from oncord.sandbox.groups import AttendeeTable, GroupAppointmentTable, seed_weekly_class
from oncord.sandbox.holds import Hold, HoldBoard
from oncord.sandbox.ids import (
    APPOINTMENT_BASE,
    ATTENDEE_BASE,
    GROUP_APPOINTMENT_BASE,
    PATIENT_BASE,
    IdCodec,
    parse_id,
)
from oncord.sandbox.patients import PatientTable
from oncord.sandbox.query import Filter, TableView, matches, parse_filters, parse_sort, select
from oncord.sandbox.ratelimit import RateLimiter
from oncord.sandbox.spec import CANCELLATION_REASONS, Q_FILTERS
from oncord.sandbox.timeutil import DAY, epoch_of, parse_timestamp
from oncord.sandbox.validation import ValidationFailed, validate_patient

_CACHE_SIZE = 16


class Table(Protocol):
    """What the store needs of every resource table."""

    codec: IdCodec
    view: TableView

    def __len__(self) -> int: ...

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as the API's JSON object."""
        ...

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as the API's JSON text."""
        ...


@dataclass(frozen=True)
class Resource:
    """A served collection: its JSON key, singular name and the rows it hides by default."""

    kind: str
    noun: str
    hidden: tuple[str, ...]


RESOURCES: dict[str, Resource] = {
    "patients": Resource("patients", "Patient", ("archived_at",)),
    "individual_appointments": Resource(
        "individual_appointments", "IndividualAppointment",
        ("archived_at", "cancelled_at", "deleted_at"),
    ),
    "group_appointments": Resource("group_appointments", "GroupAppointment", ("archived_at", "deleted_at")),
    # `_absent` hides interleaved rows with no attendee behind them (see sandbox.groups).
    "attendees": Resource("attendees", "Attendee", ("archived_at", "cancelled_at", "deleted_at", "_absent")),
    "appointment_types": Resource("appointment_types", "AppointmentType", ("archived_at",)),
    "practitioners": Resource("practitioners", "Practitioner", ()),
    "businesses": Resource("businesses", "Business", ("archived_at", "deleted_at")),
}


_FOLLOWERS: dict[str, tuple[str, ...]] = {
    "individual_appointments": ("attendees",),
    "attendees": ("group_appointments",),
}


class NotFound(LookupError):
    """No visible record has that id; `noun` names the resource, `record_id` the id asked for."""

    def __init__(self, noun: str, record_id: object) -> None:
        super().__init__(f"Couldn't find {noun} with 'id'={record_id}")
        self.noun = noun
        self.record_id = record_id


class SandboxStore:
    """All data of one sandboxed Cliniko account plus its fault, rate-limit and request controls."""

    def __init__(
        self,
        *,
        patients: int = 200,
        appointments: int | None = None,
        seed: int = 1,
        shard: str = "au1",
        clock: Callable[[], datetime] | None = None,
        rate_limit: int | None = 200,
        rate_window_seconds: float = 60.0,
    ) -> None:
        if patients < 0 or (appointments is not None and appointments < 0):
            raise ValueError("patients and appointments must not be negative")
        if clock is not None and not callable(clock):
            clock = clock.now  # also take a clock object such as oncord.clock.FrozenClock
        self.clock = clock or (lambda: datetime.now(UTC))
        self.clock_offset = 0.0
        self.seed = seed
        self.shard = shard
        self.lock = threading.RLock()
        # Seed data is laid out around the start of today (UTC), so the same options give the
        # same account all day long; later edits are stamped with the real clock.
        now = self.now()
        anchor = now - now % DAY
        self.catalog: Catalog = build_catalog(seed, anchor)
        self.patients = PatientTable(
            count=patients, seed=seed, now=anchor, codec=IdCodec(PATIENT_BASE, seed)
        )
        self.appointments = AppointmentTable(
            count=10 * patients if appointments is None else appointments,
            seed=seed, now=anchor, shard=shard, codec=IdCodec(APPOINTMENT_BASE, seed),
            patients=self.patients, catalog=self.catalog,
        )
        self.groups = GroupAppointmentTable(
            IdCodec(GROUP_APPOINTMENT_BASE, seed), self.catalog, self.patients
        )
        self.attendees = AttendeeTable(
            IdCodec(ATTENDEE_BASE, seed), self.appointments, self.groups, self.patients
        )
        if len(self.appointments):
            # Only an account with booking history has a class; appointments=0 means a blank diary.
            seed_weekly_class(self.groups, self.attendees, self.patients, anchor, seed)
        self.tables: dict[str, Table] = {
            "patients": self.patients,
            "individual_appointments": self.appointments,
            "group_appointments": self.groups,
            "attendees": self.attendees,
            "appointment_types": self.catalog.appointment_types,
            "practitioners": self.catalog.practitioners,
            "businesses": self.catalog.businesses,
        }
        self.faults = FaultInjector()
        self.holds = HoldBoard()
        self.requests = RequestLog()
        self.rate_limiter = RateLimiter(rate_limit, rate_window_seconds)
        self._versions = dict.fromkeys(self.tables, 0)
        self._cache: OrderedDict[tuple, array] = OrderedDict()

    # ---- time -------------------------------------------------------------------------

    def now(self) -> int:
        """The sandbox's current time in whole epoch seconds (the clock plus any advance)."""
        return epoch_of(self.clock()) + int(self.clock_offset)

    def now_float(self) -> float:
        """The sandbox's current time in fractional epoch seconds."""
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (for controlling a sandbox in another process)."""
        self.clock_offset += seconds

    # ---- queries ----------------------------------------------------------------------

    def select(
        self,
        kind: str,
        filters: Sequence[Filter] = (),
        sort: Sequence[tuple[str, bool]] = (),
        *,
        active: bool | None = None,
    ) -> array:
        """Matching row indices in order; cached per filter set until the table changes."""
        key = (kind, active, self._versions[kind], tuple(sorted(f.raw for f in filters)),
               tuple(sort))
        with self.lock:
            rows = self._cache.get(key)
            if rows is not None:
                self._cache.move_to_end(key)
                return rows
            table = self.tables[kind]
            rows = select(
                table.view, filters, hidden=RESOURCES[kind].hidden, sort=sort,
                base=self._active_filter(active),
            )
            self._cache[key] = rows
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return rows

    def _active_filter(self, active: bool | None) -> Callable[[int], bool] | None:
        if active is None:
            return None
        rows = self.catalog.practitioners.rows
        return lambda i: rows[i]["active"] is active

    def page(
        self,
        kind: str,
        filters: Sequence[Filter],
        sort: Sequence[tuple[str, bool]],
        *,
        page: int,
        per_page: int,
        base: str,
        active: bool | None = None,
    ) -> tuple[list[str], int]:
        """One page of records as JSON texts, and the total over all pages."""
        with self.lock:
            rows = self.select(kind, filters, sort, active=active)
            start = (page - 1) * per_page
            table = self.tables[kind]
            return [table.render_json(i, base) for i in rows[start:start + per_page]], len(rows)

    def find(self, kind: str, record_id: str, filters: Sequence[Filter] = ()) -> int:
        """The row of a visible record by id, following the list's hiding rules; or NotFound."""
        table = self.tables[kind]
        parsed = parse_id(record_id)
        index = None if parsed is None else table.codec.decode(parsed)
        with self.lock:
            if (
                index is None
                or index >= len(table)
                or not matches(table.view, filters, index, hidden=RESOURCES[kind].hidden)
            ):
                raise NotFound(RESOURCES[kind].noun, record_id)
        return index

    def _row(self, kind: str, record_id: str) -> int:
        # Cliniko-side controls see every record, hidden or not.
        table = self.tables[kind]
        parsed = parse_id(record_id)
        index = None if parsed is None else table.codec.decode(parsed)
        # The attendee table has gaps (see sandbox.groups); other tables have none.
        if index is None or index >= len(table) or not getattr(table, "exists", lambda _i: True)(index):
            raise NotFound(RESOURCES[kind].noun, record_id)
        return index

    def ids(self, kind: str, q: Iterable[str] = (), sort: str | None = None) -> list[str]:
        """Ids of the records a list request with these `q[]` filters would return."""
        filters = parse_filters(list(q), Q_FILTERS[f"GET /{kind}"])
        order = parse_sort(sort, None, self.tables[kind].view.sort_keys)
        codec = self.tables[kind].codec
        return [str(codec.encode(i)) for i in self.select(kind, filters, order)]

    def get(self, kind: str, record_id: str, base: str | None = None) -> dict[str, Any]:
        """Any record (hidden ones too) rendered as the API would send it."""
        base = base or f"https://api.{self.shard}.cliniko.com/v1"
        with self.lock:
            return self.tables[kind].render(self._row(kind, record_id), base)

    def counts(self) -> dict[str, int]:
        """How many records each table holds, hidden ones included."""
        return {kind: getattr(table, "record_count", len(table)) for kind, table in self.tables.items()}

    def _changed(self, kind: str) -> None:
        self._versions[kind] += 1
        # Attendees mirror individual appointments, and a class lists its attendees' patients.
        for follower in _FOLLOWERS.get(kind, ()):
            self._versions[follower] += 1

    # ---- patients: API writes and Cliniko-side edits ----------------------------------

    def create_patient(self, fields: Mapping[str, Any]) -> str:
        """Create a patient as POST /patients would; raise ValidationFailed on bad fields."""
        changes, errors = validate_patient(dict(fields), creating=True)
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            index = self.patients.create(changes, self.now())
            self._changed("patients")
        return str(self.patients.codec.encode(index))

    def update_patient(self, record_id: str, fields: Mapping[str, Any], *, visible_only: bool = False) -> int:
        """Apply a PATCH body to a patient; raise ValidationFailed or NotFound."""
        changes, errors = validate_patient(dict(fields), creating=False)
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            index = self.find("patients", record_id) if visible_only else self._row(
                "patients", record_id
            )
            self.patients.update(index, changes, self.now())
            self._changed("patients")
        return index

    def edit_patient(self, record_id: str, **fields: Any) -> dict[str, Any]:
        """Change a patient on the Cliniko side (any field, incl. accepted_sms_marketing)."""
        archived = fields.pop("archived", None)
        sms = fields.pop("accepted_sms_marketing", ...)
        if sms is not ... and sms is not None and not isinstance(sms, bool):
            raise ValidationFailed({"accepted_sms_marketing": "must be true or false"})
        with self.lock:
            index = self.update_patient(record_id, fields)
            if sms is not ...:
                self.patients.update(index, {"accepted_sms_marketing": sms}, self.now())
            if archived is not None:
                self.patients.set_archived(index, bool(archived), self.now())
            self._changed("patients")
            return self.get("patients", record_id)

    def set_patient_archived(self, record_id: str, archived: bool, *, visible_only: bool = False) -> int:
        """Archive or unarchive a patient (bumping updated_at); return its row."""
        with self.lock:
            if visible_only:
                index = self.find("patients", record_id)
            else:
                index = self._row("patients", record_id)
            self.patients.set_archived(index, archived, self.now())
            self._changed("patients")
        return index

    def archive_patient(self, record_id: str) -> None:
        """Archive a patient on the Cliniko side."""
        self.set_patient_archived(record_id, True)

    def unarchive_patient(self, record_id: str) -> None:
        """Unarchive a patient on the Cliniko side."""
        self.set_patient_archived(record_id, False)

    def malform_patient(
        self, record_id: str, *, set: Mapping[str, Any] | None = None, drop: Iterable[str] = ()
    ) -> None:
        """Make a patient render with fields replaced (`set`) or missing (`drop`)."""
        _check_json(set)
        with self.lock:
            self.patients.malform(
                self._row("patients", record_id), dict(set or {}), tuple(drop), self.now()
            )
            self._changed("patients")

    # ---- appointments: Cliniko-side edits ---------------------------------------------

    def add_appointment(
        self,
        *,
        patient_id: str,
        starts_at: datetime | str,
        ends_at: datetime | str | None = None,
        practitioner_id: str | None = None,
        appointment_type_id: str | None = None,
        business_id: str | None = None,
        notes: str | None = None,
        online: bool = False,
    ) -> str:
        """Book an appointment in Cliniko (online: through its online bookings, so it carries
        booking_ip_address and online_booking_policy_accepted); unset links default to the first
        active ones."""
        with self.lock:
            patient = self._row("patients", patient_id)
            practitioner = self._row("practitioners", practitioner_id) if practitioner_id else next(
                k for k, row in enumerate(self.catalog.practitioners.rows) if row["active"]
            )
            # Type 1 is always the standard consultation (see pools.APPOINTMENT_TYPES).
            kind = self._row("appointment_types", appointment_type_id) if appointment_type_id else 1
            business = self._row("businesses", business_id) if business_id else (
                self.catalog.practitioners.rows[practitioner]["business"]
            )
            starts = _epoch(starts_at, "starts_at")
            minutes = self.catalog.appointment_types.rows[kind]["duration_in_minutes"]
            ends = starts + minutes * 60 if ends_at is None else _epoch(ends_at, "ends_at")
            if ends <= starts:
                raise ValidationFailed({"ends_at": "must be after starts_at"})
            index = self.appointments.create(
                patient=patient, practitioner=practitioner, appointment_type=kind,
                business=business, starts_at=starts, ends_at=ends, notes=notes, now=self.now(),
                online=online,
            )
            self._changed("individual_appointments")
        return str(self.appointments.codec.encode(index))

    def update_appointment(
        self,
        record_id: str,
        *,
        starts_at: datetime | str | None = None,
        ends_at: datetime | str | None = None,
        notes: Any = ...,
    ) -> None:
        """Reschedule an appointment and/or change its notes (ends_at keeps the duration)."""
        with self.lock:
            index = self._row("individual_appointments", record_id)
            table = self.appointments
            if starts_at is not None or ends_at is not None:
                old_start, old_end = table.starts_at[index], table.ends_at[index]
                starts = old_start if starts_at is None else _epoch(starts_at, "starts_at")
                if ends_at is None:
                    ends = starts + (old_end - old_start)
                else:
                    ends = _epoch(ends_at, "ends_at")
                if ends <= starts:
                    raise ValidationFailed({"ends_at": "must be after starts_at"})
                table.reschedule(index, starts, ends, self.now())
            if notes is not ...:
                if notes is not None and not isinstance(notes, str):
                    raise ValidationFailed({"notes": "must be a string"})
                table.set_notes(index, notes, self.now())
            self._changed("individual_appointments")

    def cancel_appointment(self, record_id: str, reason: int = 50, note: str | None = None) -> None:
        """Cancel an appointment with a Cliniko reason code (10-60)."""
        if reason not in CANCELLATION_REASONS or isinstance(reason, bool):
            raise ValidationFailed({"cancellation_reason": "is not included in the list"})
        if note is not None and not isinstance(note, str):
            raise ValidationFailed({"cancellation_note": "must be a string"})
        self._appointment_change(record_id, lambda t, i, now: t.cancel(i, reason, note, now))

    def mark_arrived(self, record_id: str) -> None:
        """Tick "arrived": patient_arrived true, did_not_arrive false."""
        self._set_arrival(record_id, ARRIVED)

    def mark_did_not_arrive(self, record_id: str) -> None:
        """Tick "did not arrive": patient_arrived false, did_not_arrive true."""
        self._set_arrival(record_id, DID_NOT_ARRIVE)

    def clear_arrival(self, record_id: str) -> None:
        """Untick arrival: Cliniko then reports both flags as null."""
        self._set_arrival(record_id, CLEARED)

    def reset_arrival(self, record_id: str) -> None:
        """Back to a fresh booking's state: both flags false."""
        self._set_arrival(record_id, PLAIN)

    def _set_arrival(self, record_id: str, state: int) -> None:
        self._appointment_change(record_id, lambda t, i, now: t.set_arrival(i, state, now))

    def archive_appointment(self, record_id: str, archived: bool = True) -> None:
        """Archive (or unarchive) an appointment."""
        self._appointment_change(record_id, lambda t, i, now: t.set_archived(i, archived, now))

    def delete_appointment(self, record_id: str) -> None:
        """Mark an appointment deleted (hidden unless `deleted_at:*`)."""
        self._appointment_change(record_id, lambda t, i, now: t.set_deleted(i, now))

    def malform_appointment(
        self, record_id: str, *, set: Mapping[str, Any] | None = None, drop: Iterable[str] = ()
    ) -> None:
        """Make an appointment render with fields replaced (`set`) or missing (`drop`)."""
        _check_json(set)
        fields, names = dict(set or {}), tuple(drop)
        self._appointment_change(record_id, lambda t, i, now: t.malform(i, fields, names, now))

    def _appointment_change(
        self, record_id: str, change: Callable[[AppointmentTable, int, int], None]
    ) -> None:
        with self.lock:
            change(self.appointments, self._row("individual_appointments", record_id), self.now())
            self._changed("individual_appointments")

    # ---- classes: Cliniko-side edits ---------------------------------------------------

    def add_group_appointment(
        self,
        *,
        starts_at: datetime | str,
        ends_at: datetime | str | None = None,
        appointment_type_id: str | None = None,
        practitioner_id: str | None = None,
        business_id: str | None = None,
        max_attendees: int = 8,
    ) -> str:
        """Schedule a class; unset links default to the seeded class's (or the first active ones)."""
        with self.lock:
            template = self.groups.rows[0] if self.groups.rows else None
            practitioner = self._row("practitioners", practitioner_id) if practitioner_id else (
                template["practitioner"] if template else next(
                    k for k, row in enumerate(self.catalog.practitioners.rows) if row["active"])
            )
            kind = self._row("appointment_types", appointment_type_id) if appointment_type_id else (
                template["appointment_type"] if template else 1
            )
            business = self._row("businesses", business_id) if business_id else (
                self.catalog.practitioners.rows[practitioner]["business"]
            )
            starts = _epoch(starts_at, "starts_at")
            minutes = self.catalog.appointment_types.rows[kind]["duration_in_minutes"]
            ends = starts + minutes * 60 if ends_at is None else _epoch(ends_at, "ends_at")
            if ends <= starts:
                raise ValidationFailed({"ends_at": "must be after starts_at"})
            now = self.now()
            index = self.groups.create(
                appointment_type=kind, practitioner=practitioner, business=business,
                starts_at=starts, ends_at=ends, max_attendees=max_attendees,
                created_at=now, updated_at=now,
            )
            self._changed("group_appointments")
        return str(self.groups.codec.encode(index))

    def update_group_appointment(
        self, record_id: str, *, starts_at: datetime | str | None = None, archived: bool | None = None
    ) -> None:
        """Move a class (keeping its length) and/or archive or unarchive it."""
        with self.lock:
            index = self._row("group_appointments", record_id)
            row = self.groups.rows[index]
            now = self.now()
            if starts_at is not None:
                starts = _epoch(starts_at, "starts_at")
                row["ends_at"] = starts + row["ends_at"] - row["starts_at"]
                row["starts_at"] = starts
            if archived is not None:
                row["archived_at"] = now if archived else None
            row["updated_at"] = now
            self._changed("group_appointments")

    def add_attendee(self, *, group_appointment_id: str, patient_id: str) -> str:
        """Book a patient into a class (`arrived: false`, as Cliniko starts an attendee)."""
        with self.lock:
            group = self._row("group_appointments", group_appointment_id)
            patient = self._row("patients", patient_id)
            now = self.now()
            index = self.attendees.create(group=group, patient=patient, created_at=now, updated_at=now)
            self._changed("attendees")
        return str(self.attendees.codec.encode(index))

    def cancel_attendee(self, record_id: str, reason: int = 50, note: str | None = None) -> None:
        """Cancel a class attendee with a Cliniko reason code (10-60)."""
        if reason not in CANCELLATION_REASONS or isinstance(reason, bool):
            raise ValidationFailed({"cancellation_reason": "is not included in the list"})
        now = self.now()
        self._attendee_change(record_id, cancelled_at=now, cancellation_reason=reason,
                              cancellation_note=note, arrived=False)

    def set_attendee_arrived(self, record_id: str, arrived: bool | None) -> None:
        """Set a class attendee's `arrived` (true, false or null)."""
        self._attendee_change(record_id, arrived=arrived)

    def archive_attendee(self, record_id: str, archived: bool = True) -> None:
        """Archive (or unarchive) a class attendee."""
        self._attendee_change(record_id, archived_at=self.now() if archived else None)

    def _attendee_change(self, record_id: str, **fields: Any) -> None:
        with self.lock:
            parsed = parse_id(record_id)
            row = None if parsed is None else self.attendees.row_of(parsed)
            if row is None:
                raise NotFound("Attendee", record_id)
            self.attendees.rows[row].update(fields, updated_at=self.now())
            self._changed("attendees")

    # ---- faults, rate limit, request log ----------------------------------------------

    def inject_fault(self, kind: str, times: int = 1, **options: Any) -> Fault:
        """Make the next `times` matching API requests fail: see Fault for the options."""
        return self.faults.add(Fault(kind=kind, times=times, **options))

    def clear_faults(self) -> None:
        """Drop every pending injected fault."""
        self.faults.clear()

    def hold(self, path: str | None = None, *, count: int = 1, **options: Any) -> Hold:
        """Hold the next `count` matching API requests until released: see Hold for the options."""
        return self.holds.add(Hold(path=path, count=count, **options))

    def set_rate_limit(self, limit: int | None, window_seconds: float = 60.0) -> None:
        """Change the per-key budget (None: no limit); every window restarts."""
        self.rate_limiter.configure(limit, window_seconds)

    @property
    def request_count(self) -> int:
        """How many /v1 requests the sandbox has answered since the last reset."""
        return self.requests.count

    def request_log(self) -> list[dict[str, Any]]:
        """The most recent /v1 requests: method, path, query, status, at."""
        return self.requests.entries()

    def reset_requests(self) -> None:
        """Forget logged requests and restart the count."""
        self.requests.reset()


def _check_json(fields: Mapping[str, Any] | None) -> None:
    # Replacement values are sent as they are, so they must be JSON themselves.
    try:
        json.dumps(dict(fields or {}), ensure_ascii=False).encode()
    except (TypeError, ValueError) as error:
        raise ValueError(f"set must hold JSON values: {error}") from None


def _epoch(value: datetime | str, name: str) -> int:
    if isinstance(value, datetime):
        return epoch_of(value)
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationFailed({name: "must be a date-time such as 2024-01-31T09:00:00Z"})
    return int(parsed // 1)
