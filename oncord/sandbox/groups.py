"""The sandbox's group appointments (classes) and attendees, in Cliniko's shapes.

Cliniko's `/attendees` lists one attendee per patient per booking: every individual
appointment has one too. The sandbox serves those from the appointment table, interleaved
with the group attendees (even rows: individual appointment k's attendee at 2k; odd rows:
group attendee g at 2g+1), so a client reading the whole listing meets both kinds, as it
would against Cliniko. Rows that do not exist yet (past the end of either kind) are hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oncord.sandbox.catalog import SUBDOMAIN, Catalog
from oncord.sandbox.ids import IdCodec
from oncord.sandbox.patients import PatientTable, link
from oncord.sandbox.query import Column, TableView
from oncord.sandbox.spec import CANCELLATION_REASONS
from oncord.sandbox.timeutil import DAY, iso

if TYPE_CHECKING:
    from oncord.sandbox.appointments import AppointmentTable

# Cliniko's attendee `arrived` for an individual appointment's (patient_arrived, did_not_arrive).
_ARRIVED_OF = {(True, False): True, (False, True): False, (False, False): False, (None, None): None}
_CLASS_WEEKS_BACK, _CLASS_WEEKS_AHEAD = 8, 4
_CLASS_SIZE = 8
_CLASS_LOCAL_MINUTES = 18 * 60  # 6 pm local time


@dataclass(frozen=True)
class BookingCodec(IdCodec):
    """Booking ids over the attendee table's interleaved rows: appointments even, classes odd.

    Equality filters decode exactly; range filters on booking_id compare within each kind.
    """

    appointments: IdCodec = IdCodec(0)
    groups: IdCodec = IdCodec(0)

    def encode(self, index: int) -> int:
        """The booking id of interleaved booking index `index`."""
        kind, k = divmod(index, 2)[::-1]
        return (self.groups if kind else self.appointments).encode(k)

    def decode(self, value: int) -> int | None:
        """The interleaved booking index of a booking id, or None."""
        k = self.appointments.decode(value)
        if k is not None:
            return 2 * k
        g = self.groups.decode(value)
        return None if g is None else 2 * g + 1

    def count_at_most(self, value: int) -> int:
        """Approximate for mixed kinds: ids of each kind grow with their own index."""
        return 2 * max(self.appointments.count_at_most(value), self.groups.count_at_most(value))


class GroupAppointmentTable:
    """Group appointments, one dict per row; refs are row indices of the catalog tables."""

    kind = "group_appointments"

    def __init__(self, codec: IdCodec, catalog: Catalog, patients: PatientTable) -> None:
        self.codec = codec
        self.catalog = catalog
        self.patients = patients
        self.rows: list[dict[str, Any]] = []
        self.attendees: AttendeeTable | None = None
        self.view = TableView(
            size=self.__len__,
            columns={
                "id": Column(get=lambda i: i, codec=codec),
                "appointment_type_id": Column(
                    get=lambda i: self.rows[i]["appointment_type"], codec=catalog.appointment_types.codec
                ),
                "business_id": Column(get=lambda i: self.rows[i]["business"], codec=catalog.businesses.codec),
                "practitioner_id": Column(
                    get=lambda i: self.rows[i]["practitioner"], codec=catalog.practitioners.codec
                ),
                "repeated_from_id": Column(get=lambda i: self.rows[i]["repeated_from"], codec=codec),
                "patient_ids": Column(get=lambda i: self.patient_ids(i)),
                **{
                    name: Column(get=self._field(name))
                    for name in (
                        "created_at", "updated_at", "starts_at", "ends_at", "archived_at", "deleted_at"
                    )
                },
            },
            sort_keys={
                "created_at": None, "id": None,
                "updated_at": lambda i: self.rows[i]["updated_at"],
                "starts_at": lambda i: self.rows[i]["starts_at"],
                "ends_at": lambda i: self.rows[i]["ends_at"],
            },
        )

    def _field(self, name: str) -> Any:
        return lambda i: self.rows[i][name]

    def __len__(self) -> int:
        return len(self.rows)

    def patient_ids(self, i: int) -> list[int]:
        """Ids of the patients booked into class `i` (not archived attendees)."""
        if self.attendees is None:
            return []
        codec = self.patients.codec
        rows = self.attendees.of_group(i)
        return [codec.encode(row["patient"]) for row in rows if row["archived_at"] is None]

    def create(self, **fields: Any) -> int:
        """Append a class; return its row index."""
        self.rows.append({"repeated_from": None, "archived_at": None, "deleted_at": None,
                          "notes": None, "repeat_rule": None, **fields})
        return len(self.rows) - 1

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as Cliniko's GroupAppointment JSON object."""
        row = self.rows[i]
        gid = self.codec.encode(i)
        url = f"{base}/group_appointments/{gid}"
        catalog = self.catalog
        first = row["repeated_from"]
        record: dict[str, Any] = {
            "id": str(gid),
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "archived_at": iso(row["archived_at"]),
            "deleted_at": iso(row["deleted_at"]),
            "starts_at": iso(row["starts_at"]),
            "ends_at": iso(row["ends_at"]),
            "max_attendees": row["max_attendees"],
            "notes": row["notes"],
            "patient_ids": [str(p) for p in self.patient_ids(i)],
            "repeat_rule": row["repeat_rule"] or {},
            "repeats": link(f"{base}/group_appointments?q[]=repeated_from_id:={gid}")
            if row["repeat_rule"] and first is None else None,
            "telehealth_url": f"https://{SUBDOMAIN}.cliniko.com/appointments/{gid}/connect",
            "appointment_type": link(
                f"{base}/appointment_types/{catalog.appointment_types.codec.encode(row['appointment_type'])}"
            ),
            "business": link(f"{base}/businesses/{catalog.businesses.codec.encode(row['business'])}"),
            "practitioner": link(
                f"{base}/practitioners/{catalog.practitioners.codec.encode(row['practitioner'])}"
            ),
            "attendees": link(f"{url}/attendees"),
            "conflicts": link(f"{url}/conflicts"),
            "links": {"self": url},
        }
        if first is not None:
            record["repeated_from"] = link(f"{base}/group_appointments/{self.codec.encode(first)}")
        return record

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as JSON text."""
        return json.dumps(self.render(i, base), ensure_ascii=False, separators=(",", ":"))


class AttendeeTable:
    """Attendees: individual appointments' (derived) at even rows, class attendees' at odd rows."""

    kind = "attendees"

    def __init__(
        self, codec: IdCodec, appointments: AppointmentTable, groups: GroupAppointmentTable,
        patients: PatientTable,
    ) -> None:
        self.codec = codec
        self.appointments = appointments
        self.groups = groups
        self.patients = patients
        self.rows: list[dict[str, Any]] = []  # class attendees only
        self._by_group: dict[int, list[int]] = {}
        groups.attendees = self
        self.bookings = BookingCodec(0, 0, appointments.codec, groups.codec)
        columns = {
            "id": Column(get=lambda i: i, codec=codec),
            "booking_id": Column(get=lambda i: i if i % 2 == 0 else 2 * self.rows[i // 2]["group"] + 1,
                                 codec=self.bookings),
            "patient_id": Column(get=self._patient, codec=patients.codec),
            "patient_case_id": Column(get=lambda i: None, codec=codec),
            "_absent": Column(get=lambda i: None if self.exists(i) else True),
        }
        columns["appointment_id"] = columns["booking_id"]
        for name in ("created_at", "updated_at", "archived_at", "cancelled_at", "deleted_at"):
            columns[name] = Column(get=self._getter(name))
        self.view = TableView(
            size=self.__len__, columns=columns,
            # Interleaved rows are not in creation order, so created_at sorts by the timestamp.
            sort_keys={
                "created_at": self._created_order, "id": None, "updated_at": self._getter("updated_at")
            },
        )

    def __len__(self) -> int:
        return 2 * max(len(self.appointments), len(self.rows))

    @property
    def record_count(self) -> int:
        """How many attendees there are (the interleaved table has gaps)."""
        return len(self.appointments) + len(self.rows)

    def exists(self, i: int) -> bool:
        """Whether row `i` holds an attendee (the interleaved table has gaps)."""
        return i // 2 < (len(self.rows) if i % 2 else len(self.appointments))

    def _patient(self, i: int) -> int | None:
        if not self.exists(i):
            return None
        return self.rows[i // 2]["patient"] if i % 2 else self.appointments.patient[i // 2]

    def _getter(self, name: str) -> Any:
        def get(i: int) -> Any:
            if not self.exists(i):
                return None
            return self._state(i)[name]

        return get

    def _created_order(self, i: int) -> tuple[int, int]:
        created = self._getter("created_at")(i)
        return (0 if created is None else created, self.codec.encode(i))

    def of_group(self, group: int) -> list[dict[str, Any]]:
        """The attendee rows of class `group`."""
        return [self.rows[g] for g in self._by_group.get(group, ())]

    def row_of(self, attendee_id: str | int) -> int | None:
        """The class-attendee row of an attendee id (None for others)."""
        index = self.codec.decode(int(attendee_id))
        return None if index is None or index % 2 == 0 or index // 2 >= len(self.rows) else index // 2

    def create(self, **fields: Any) -> int:
        """Append a class attendee; return its attendee table index."""
        row = {"arrived": False, "cancelled_at": None, "cancellation_reason": None,
               "cancellation_note": None, "archived_at": None, "deleted_at": None,
               "notes": None, "online": False, **fields}
        self.rows.append(row)
        g = len(self.rows) - 1
        self._by_group.setdefault(row["group"], []).append(g)
        return 2 * g + 1

    def _state(self, i: int) -> dict[str, Any]:
        """The fields of attendee `i` that both kinds share, timestamps as epoch seconds."""
        k = i // 2
        if i % 2:
            return self.rows[k]
        a = self.appointments
        over = a.overrides.get(k) or {}
        arrival = a.arrival_flags(k)
        reason = a.reason[k]
        return {
            "arrived": _ARRIVED_OF.get(arrival), "cancelled_at": a.cancelled_at[k] or None,
            "cancellation_reason": reason or None, "cancellation_note": over.get("cancellation_note"),
            "archived_at": a.archived_at[k] or None, "deleted_at": over.get("deleted_at"),
            "notes": None, "created_at": a.created_at[k], "updated_at": a.updated_at[k],
            "online": a.booked_online(k),
        }

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as Cliniko's Attendee JSON object."""
        state = self._state(i)
        aid = self.codec.encode(i)
        url = f"{base}/attendees/{aid}"
        booking = self.bookings.encode(i if i % 2 == 0 else 2 * state["group"] + 1)
        patient = self.patients.codec.encode(self._patient(i) or 0)
        reason = state["cancellation_reason"]
        cancelled = state["cancelled_at"]
        arrived = state["arrived"]
        return {
            "id": str(aid),
            "created_at": iso(state["created_at"]),
            "updated_at": iso(state["updated_at"]),
            "archived_at": iso(state["archived_at"]),
            "deleted_at": iso(state["deleted_at"]),
            "cancelled_at": iso(cancelled),
            "arrived": arrived,
            # Set only when the patient booked on the online booking page, as Cliniko does.
            "booking_ip_address": f"203.0.113.{i % 254 + 1}" if state.get("online") else None,
            "cancellation_note": state["cancellation_note"],
            "cancellation_reason": reason,
            "cancellation_reason_description": CANCELLATION_REASONS.get(reason or 0, ""),
            "cancellation_url": None if cancelled else f"https://{SUBDOMAIN}.cliniko.com/bookings/{booking}/cancel",
            "email_reminder_sent": False,
            "sms_reminder_sent": False,
            "sent_email_reminders_count": 0,
            "sent_sms_reminders_count": 0,
            "sent_email_follow_ups_count": 0,
            "sent_sms_follow_ups_count": 0,
            "invoice_status": 20 if arrived else None,
            "treatment_note_status": None,
            "notes": state["notes"],
            "online_booking_policy_accepted": True if state.get("online") else None,
            "telehealth_url": f"https://{SUBDOMAIN}.cliniko.com/c/{aid}",
            "booking": link(f"{base}/bookings/{booking}"),
            "patient": link(f"{base}/patients/{patient}"),
            "invoices": link(f"{url}/invoices"),
            "patient_forms": link(f"{url}/patient_forms"),
            "links": {"self": url},
        }

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as JSON text."""
        return json.dumps(self.render(i, base), ensure_ascii=False, separators=(",", ":"))


def seed_weekly_class(
    groups: GroupAppointmentTable, attendees: AttendeeTable, patients: PatientTable, now: int, seed: int
) -> None:
    """A weekly class (Clinical Pilates, else Hydrotherapy) with a few regulars, past and coming.

    Past classes have mostly arrived attendees, one did not arrive (`arrived: false`) and one
    cancelled now and then; coming ones are booked (`arrived: false`, as Cliniko starts them).
    """
    catalog = groups.catalog
    types = catalog.appointment_types.rows
    names = [row["name"] for row in types]
    kind = next((names.index(n) for n in ("Clinical Pilates", "Hydrotherapy Session") if n in names), None)
    regulars = [p for p in range(min(len(patients), 40)) if patients.archived_at[p] == 0][:5]
    if kind is None or len(regulars) < 3:
        return
    practitioner = next(k for k, row in enumerate(catalog.practitioners.rows) if row["active"])
    business = catalog.practitioners.rows[practitioner]["business"]
    minutes = types[kind]["duration_in_minutes"]
    # The class runs on the weekday of `now`, a week apart, at 6 pm UTC-ish local evening.
    first_start = now - _CLASS_WEEKS_BACK * 7 * DAY + _CLASS_LOCAL_MINUTES * 60 - 10 * 3600
    created = first_start - 14 * DAY
    weeks = _CLASS_WEEKS_BACK + _CLASS_WEEKS_AHEAD + 1
    rule = {"number_of_repeats": weeks - 1, "repeat_type": "Weekly", "repeating_interval": 1}
    first = None
    for week in range(weeks):
        starts = first_start + week * 7 * DAY
        group = groups.create(
            appointment_type=kind, practitioner=practitioner, business=business,
            starts_at=starts, ends_at=starts + minutes * 60, max_attendees=_CLASS_SIZE,
            repeat_rule=rule, repeated_from=first, created_at=created, updated_at=created,
        )
        first = group if first is None else first
        past = starts + minutes * 60 <= now
        for n, patient in enumerate(regulars):
            booked = created + n * 60
            pick = (seed + week * 7 + n * 3) % 10
            fields: dict[str, Any] = {"group": group, "patient": patient,
                                      "created_at": booked, "updated_at": booked}
            if pick == 0:
                cancelled = max(booked + 60, min(starts - DAY, now - 3600))
                fields.update(cancelled_at=cancelled, cancellation_reason=30, updated_at=cancelled)
            elif past:
                fields.update(arrived=pick != 1, updated_at=starts + minutes * 60)
            attendees.create(**fields)
