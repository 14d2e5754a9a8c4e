"""The sandbox's individual appointments: one compact column per field, in creation order."""

from __future__ import annotations

import json
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta
from json.encoder import encode_basestring as encode_string
from typing import Any
from zoneinfo import ZoneInfo

from oncord.sandbox import pools
from oncord.sandbox.catalog import SUBDOMAIN, Catalog
from oncord.sandbox.ids import IdCodec
from oncord.sandbox.patients import PatientTable, apply_malformation
from oncord.sandbox.query import Column, TableView
from oncord.sandbox.spec import (
    CANCELLATION_REASONS,
    INVOICE_OPEN,
    INVOICE_PAID,
    TREATMENT_NOTE_DRAFT,
    TREATMENT_NOTE_FINAL,
)
from oncord.sandbox.timeutil import DAY, iso

# Arrival states: Cliniko's (patient_arrived, did_not_arrive) pairs, null/null once unticked.
PLAIN, ARRIVED, DID_NOT_ARRIVE, CLEARED = 0, 1, 2, 3
_ARRIVAL = {PLAIN: (False, False), ARRIVED: (True, False), DID_NOT_ARRIVE: (False, True),
            CLEARED: (None, None)}
_SMS_SENT, _EMAIL_SENT, _ONLINE, _NOTES = 1, 2, 4, 8
# Reason codes weighted by how often clinics see them ("Sick" most, COVID-19 rarely now).
_REASONS = (30,) * 30 + (10,) * 15 + (40,) * 15 + (60,) * 15 + (50,) * 15 + (20,) * 8 + (31,) * 2
_APPOINTMENT_SPAN = 540 * DAY
_BOOL = {True: "true", False: "false", None: "null"}
_EPOCH = datetime(1970, 1, 1)


class AppointmentTable:
    """Individual appointments; filterable fields are columns, rarer edits an overlay."""

    kind = "individual_appointments"

    def __init__(
        self,
        *,
        count: int,
        seed: int,
        now: int,
        shard: str,
        codec: IdCodec,
        patients: PatientTable,
        catalog: Catalog,
    ) -> None:
        self.codec = codec
        self.shard = shard
        self.patients = patients
        self.catalog = catalog
        self.created_at = array("q")
        self.updated_at = array("q")
        self.starts_at = array("q")
        self.ends_at = array("q")
        self.cancelled_at = array("q")  # 0 = not cancelled
        self.archived_at = array("q")  # 0 = not archived
        self.patient = array("i")
        self.practitioner = bytearray()
        self.appointment_type = bytearray()
        self.business = bytearray()
        self.arrival = bytearray()
        self.reason = bytearray()
        self.flags = bytearray()
        self.bits = array("Q")
        self.overrides: dict[int, dict[str, Any]] = {}
        self.malformed: dict[int, tuple[dict[str, Any], tuple[str, ...]]] = {}
        self._by_patient: dict[int, list[int]] | None = None
        self._generate(count, seed, now)
        patients.appointment_codec = codec
        self.view = self._view()

    def __len__(self) -> int:
        return len(self.created_at)

    def _view(self) -> TableView:
        practitioners = self.catalog.practitioners.codec
        types = self.catalog.appointment_types.codec
        businesses = self.catalog.businesses.codec

        def did_not_arrive(i: int) -> bool | None:
            return _ARRIVAL[self.arrival[i]][1]

        return TableView(
            size=self.__len__,
            columns={
                "id": Column(get=lambda i: i, codec=self.codec),
                "patient_id": Column(
                    get=self.patient.__getitem__, codec=self.patients.codec,
                    rows_for=self._rows_for_patients,
                ),
                "practitioner_id": Column(get=self.practitioner.__getitem__, codec=practitioners),
                "appointment_type_id": Column(get=self.appointment_type.__getitem__, codec=types),
                "business_id": Column(get=self.business.__getitem__, codec=businesses),
                "repeated_from_id": Column(get=lambda i: None, codec=self.codec),
                "created_at": Column(get=self.created_at.__getitem__),
                "updated_at": Column(get=self.updated_at.__getitem__),
                "starts_at": Column(get=self.starts_at.__getitem__),
                "ends_at": Column(get=self.ends_at.__getitem__),
                "cancelled_at": Column(get=lambda i: self.cancelled_at[i] or None),
                "archived_at": Column(get=lambda i: self.archived_at[i] or None),
                "deleted_at": Column(get=lambda i: self._override(i, "deleted_at")),
                "did_not_arrive": Column(get=did_not_arrive),
            },
            sort_keys={
                "created_at": None, "id": None,
                "updated_at": self.updated_at.__getitem__,
                "starts_at": self.starts_at.__getitem__,
                "ends_at": self.ends_at.__getitem__,
            },
        )

    def arrival_flags(self, i: int) -> tuple[bool | None, bool | None]:
        """Row `i`'s (patient_arrived, did_not_arrive)."""
        return _ARRIVAL[self.arrival[i]]

    def _override(self, i: int, name: str) -> Any:
        over = self.overrides.get(i)
        return None if over is None else over.get(name)

    def _rows_for_patients(self, patients: set[int]) -> Iterable[int]:
        if self._by_patient is None:
            # Built on first use only: most callers never filter by patient.
            index: dict[int, list[int]] = {}
            for row, patient in enumerate(self.patient):
                index.setdefault(patient, []).append(row)
            self._by_patient = index
        return [row for p in patients for row in self._by_patient.get(p, ())]

    # ---- generation -------------------------------------------------------------------

    def _generate(self, count: int, seed: int, now: int) -> None:
        if count <= 0 or len(self.patients) == 0:
            return
        rng = random.Random(f"appointments:{seed}")
        catalog = self.catalog
        prac_rows = catalog.practitioners.rows
        type_rows = catalog.appointment_types.rows
        active = [k for k, row in enumerate(prac_rows) if row["active"]]
        follow_ups = _follow_up_types(type_rows)
        zones = [_ZoneDays(row["time_zone_identifier"]) for row in catalog.businesses.rows]
        durations = [row["duration_in_minutes"] * 60 for row in type_rows]
        patients = self.patients
        p_created, p_bits, p_count = patients.created_at, patients.bits, patients.seeded
        latest = patients.latest_booking
        seen = bytearray(len(patients))
        start = now - _APPOINTMENT_SPAN
        span = _APPOINTMENT_SPAN - 3600
        for j in range(count):
            r = rng.getrandbits(64)
            r2 = rng.getrandbits(64)
            created = start + (j * span + (((r & 0xFFFF) * span) >> 16)) // count
            eligible = bisect_right(p_created, created, 0, p_count) or 1
            pick = (r >> 16) & 0xFFFFFFFF
            if (r >> 48) & 0xFF < 150:
                p = pick % eligible
            else:
                # About 40% of bookings go to recently registered patients, as in a real clinic.
                low = eligible - max(1, eligible // 8)
                p = low + pick % (eligible - low)
            preferred = active[(p_bits[p] >> 3) % len(active)] if p < p_count else active[0]
            prac = preferred if (r2 & 0xF) < 11 else (r2 >> 4) % len(prac_rows)
            lead_sel = (r2 >> 12) & 0xFF
            spread = r2 >> 20
            if lead_sel < 100:
                lead = spread % 7
            elif lead_sel < 200:
                lead = 7 + spread % 35
            else:
                lead = 42 + spread % 79
            minutes = 480 + ((r2 >> 28) % 40) * 15
            starts = zones[prac_rows[prac]["business"]].slot(created, lead, minutes)
            gone = prac_rows[prac]["inactive_since"]
            if gone is not None and starts >= gone:
                prac = preferred
                starts = zones[prac_rows[prac]["business"]].slot(created, lead, minutes)
            if not seen[p] and (r2 >> 36) % 100 < 85:
                kind = 0  # a patient's first visit is usually an initial consultation
            else:
                kind = follow_ups[(r2 >> 36) % len(follow_ups)]
                archived_type = type_rows[kind]["archived_at"]
                if archived_type is not None and starts >= archived_type:
                    kind = 1
            seen[p] = 1
            ends = starts + durations[kind]
            outcome = (r2 >> 44) & 0x3FF
            arrival = PLAIN
            reason = 0
            cancelled = 0
            if starts < now:
                if outcome < 72:
                    cancelled = created + ((min(starts, now) - created) * ((r >> 56) + 1) >> 8)
                elif outcome < 123:
                    arrival = DID_NOT_ARRIVE
                elif outcome < 143:
                    arrival = CLEARED
                elif outcome < 860:
                    arrival = ARRIVED
            elif outcome < 51:
                cancelled = created + ((now - created) * ((r >> 56) + 1) >> 8)
            if cancelled:
                reason = _REASONS[(r >> 24) % len(_REASONS)]
                updated = cancelled
            elif arrival != PLAIN:
                updated = min(now, ends + (r2 >> 54) % 7200)
            else:
                updated = created + (r >> 40) % 3
            archived = 0
            if (r >> 32) & 0xFF == 0:
                archived = min(now, updated + DAY)
                updated = archived
            flags = 0
            if (r2 >> 62) == 0:
                flags |= _ONLINE
            if (r >> 41) % 25 == 0:
                flags |= _NOTES
            if starts - DAY <= now and not (cancelled and cancelled < starts - DAY):
                reminder = patients.reminder_type(p) or ""
                flags |= (_SMS_SENT if "SMS" in reminder else 0) | (
                    _EMAIL_SENT if "Email" in reminder else 0
                )
            if not cancelled and (latest[p] < 0 or self.starts_at[latest[p]] < starts):
                latest[p] = j
            self.created_at.append(created)
            self.updated_at.append(updated)
            self.starts_at.append(starts)
            self.ends_at.append(ends)
            self.cancelled_at.append(cancelled)
            self.archived_at.append(archived)
            self.patient.append(p)
            self.practitioner.append(prac)
            self.appointment_type.append(kind)
            self.business.append(prac_rows[prac]["business"])
            self.arrival.append(arrival)
            self.reason.append(reason)
            self.flags.append(flags)
            self.bits.append(r ^ r2)

    # ---- rendering --------------------------------------------------------------------

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as Cliniko's IndividualAppointment JSON object, links built on `base`."""
        return json.loads(self.render_json(i, base))

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as IndividualAppointment JSON text; built as text to serve pages cheaply."""
        catalog = self.catalog
        aid = self.codec.encode(i)
        url = f"{base}/individual_appointments/{aid}"
        bits = self.bits[i]
        flags = self.flags[i]
        reason = self.reason[i]
        arrived, did_not_arrive = _ARRIVAL[self.arrival[i]]
        online = flags & _ONLINE
        patient = self.patient[i]
        over = self.overrides.get(i) or {}
        if "notes" in over:
            notes = _json(over["notes"])
        elif flags & _NOTES:
            notes = _json(pools.APPOINTMENT_BOOKING_NOTES[bits % len(pools.APPOINTMENT_BOOKING_NOTES)])
        else:
            notes = "null"
        if "cancellation_note" in over:
            cancellation_note = _json(over["cancellation_note"])
        elif reason and (bits >> 14) % 5 >= 2:
            cancellation_note = _json(pools.CANCELLATION_NOTES[(bits >> 17) % len(pools.CANCELLATION_NOTES)])
        else:
            cancellation_note = "null"
        invoice: int | str
        note_status: int | str
        if arrived:
            invoice = INVOICE_PAID if (bits >> 8) % 5 else INVOICE_OPEN
            note_status = TREATMENT_NOTE_FINAL if (bits >> 11) % 6 else TREATMENT_NOTE_DRAFT
        else:
            invoice = note_status = "null"
        ip_address = f'"203.0.113.{bits % 254 + 1}"' if online else "null"
        type_id = catalog.appointment_types.codec.encode(self.appointment_type[i])
        business_id = catalog.businesses.codec.encode(self.business[i])
        practitioner_id = catalog.practitioners.codec.encode(self.practitioner[i])
        text = (
            f'{{"id":"{aid}","created_at":"{iso(self.created_at[i])}",'
            f'"updated_at":"{iso(self.updated_at[i])}","starts_at":"{iso(self.starts_at[i])}",'
            f'"ends_at":"{iso(self.ends_at[i])}","archived_at":{_timestamp(self.archived_at[i])},'
            f'"cancelled_at":{_timestamp(self.cancelled_at[i])},'
            f'"deleted_at":{_timestamp(over.get("deleted_at"))},'
            f'"booking_ip_address":{ip_address},'
            f'"cancellation_note":{cancellation_note},'
            f'"cancellation_reason":{reason or "null"},'
            f'"cancellation_reason_description":"{CANCELLATION_REASONS.get(reason, "")}",'
            f'"did_not_arrive":{_BOOL[did_not_arrive]},"patient_arrived":{_BOOL[arrived]},'
            f'"email_reminder_sent":{_BOOL[bool(flags & _EMAIL_SENT)]},'
            f'"sms_reminder_sent":{_BOOL[bool(flags & _SMS_SENT)]},'
            f'"has_patient_appointment_notes":'
            f'{_BOOL[self.patients.has_appointment_notes(patient)]},'
            f'"invoice_status":{invoice},"treatment_note_status":{note_status},'
            f'"notes":{notes},"online_booking_policy_accepted":{"true" if online else "null"},'
            f'"patient_name":{encode_string(self.patients.label(patient))},'
            f'"repeat_rule":{{}},"repeats":null,'
            f'"telehealth_url":"https://{SUBDOMAIN}.{self.shard}.cliniko.com/appointments/{aid}/connect",'
            f'"appointment_type":{{"links":{{"self":"{base}/appointment_types/{type_id}"}}}},'
            f'"business":{{"links":{{"self":"{base}/businesses/{business_id}"}}}},'
            f'"practitioner":{{"links":{{"self":"{base}/practitioners/{practitioner_id}"}}}},'
            f'"patient":{{"links":{{"self":"{base}/patients/{self.patients.codec.encode(patient)}"}}}},'
            f'"attendees":{{"links":{{"self":"{url}/attendees"}}}},'
            f'"conflicts":{{"links":{{"self":"{url}/conflicts"}}}},'
            f'"links":{{"self":"{url}"}}}}'
        )
        bad = self.malformed.get(i)
        return text if bad is None else apply_malformation(text, *bad)

    # ---- changes ----------------------------------------------------------------------

    def create(
        self,
        *,
        patient: int,
        practitioner: int,
        appointment_type: int,
        business: int,
        starts_at: int,
        ends_at: int,
        notes: str | None,
        now: int,
        online: bool = False,
    ) -> int:
        """Append a booking made in Cliniko (or through its online bookings); return its row index."""
        index = len(self)
        for column, value in (
            (self.created_at, now), (self.updated_at, now), (self.starts_at, starts_at),
            (self.ends_at, ends_at), (self.cancelled_at, 0), (self.archived_at, 0),
            (self.patient, patient), (self.practitioner, practitioner),
            (self.appointment_type, appointment_type), (self.business, business),
            (self.arrival, PLAIN), (self.reason, 0), (self.flags, _ONLINE if online else 0),
            (self.bits, index),
        ):
            column.append(value)
        if notes is not None:
            self.overrides[index] = {"notes": notes}
        if self._by_patient is not None:
            self._by_patient.setdefault(patient, []).append(index)
        latest = self.patients.latest_booking
        if latest[patient] < 0 or self.starts_at[latest[patient]] < starts_at:
            latest[patient] = index
        return index

    def reschedule(self, i: int, starts_at: int, ends_at: int, now: int) -> None:
        """Move row `i` to a new time."""
        self.starts_at[i] = starts_at
        self.ends_at[i] = ends_at
        self.updated_at[i] = now

    def set_notes(self, i: int, notes: str | None, now: int) -> None:
        """Replace row `i`'s booking notes."""
        self.overrides.setdefault(i, {})["notes"] = notes
        self.updated_at[i] = now

    def cancel(self, i: int, reason: int, note: str | None, now: int) -> None:
        """Cancel row `i` with a Cliniko reason code (a cancellation cannot be undone)."""
        self.cancelled_at[i] = now
        self.reason[i] = reason
        self.arrival[i] = PLAIN
        self.overrides.setdefault(i, {})["cancellation_note"] = note
        self.updated_at[i] = now

    def set_arrival(self, i: int, state: int, now: int) -> None:
        """Mark row `i` arrived, did-not-arrive, plain or cleared (both flags null)."""
        self.arrival[i] = state
        self.updated_at[i] = now

    def set_archived(self, i: int, archived: bool, now: int) -> None:
        """Archive (or unarchive) row `i`."""
        self.archived_at[i] = now if archived else 0
        self.updated_at[i] = now

    def set_deleted(self, i: int, now: int) -> None:
        """Mark row `i` deleted; it is then hidden unless `deleted_at:*` is asked for."""
        self.overrides.setdefault(i, {})["deleted_at"] = now
        self.updated_at[i] = now

    def malform(self, i: int, set_fields: dict[str, Any], drop: tuple[str, ...], now: int) -> None:
        """Make row `i` render with fields replaced or missing, to test a client's defences."""
        self.malformed[i] = (dict(set_fields), tuple(drop))
        self.updated_at[i] = now


def _timestamp(ts: int | None) -> str:
    return f'"{iso(ts)}"' if ts else "null"


def _json(value: Any) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _follow_up_types(type_rows: list[dict[str, Any]]) -> list[int]:
    # Weighted pool of return-visit types: standard consultations dominate.
    weights = {"Standard Consultation": 40, "Extended Consultation": 10, "Clinical Pilates": 12,
               "Hydrotherapy Session": 8, "Telehealth Review": 8, "Dry Needling": 8,
               "Remedial Massage": 8, "Running Assessment": 3, "Shockwave Therapy": 4}
    pool = []
    for k, row in enumerate(type_rows):
        pool += [k] * weights.get(row["name"], 0)
    return pool or [0]


class _ZoneDays:
    """Local business hours to UTC for one time zone, with the UTC offset cached per day."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.offsets: dict[int, int] = {}

    def offset(self, day: int) -> int:
        cached = self.offsets.get(day)
        if cached is None:
            # Offset at local noon: DST switches at 2-3 am never move business hours.
            noon = _EPOCH + timedelta(days=day, hours=12)
            delta = self.zone.utcoffset(noon)
            cached = int(delta.total_seconds()) if delta is not None else 0
            self.offsets[day] = cached
        return cached

    def slot(self, created: int, lead_days: int, minutes: int) -> int:
        """UTC start of a slot `minutes` after local midnight, `lead_days` after `created`."""
        day = (created + self.offset(created // DAY)) // DAY + lead_days
        while True:
            if (day + 3) % 7 == 6:
                day += 1  # clinics are closed on Sundays
            starts = day * DAY + minutes * 60 - self.offset(day)
            if starts > created:
                return starts
            day += 1
