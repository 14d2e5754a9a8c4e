"""The sandbox's patients: compact seeded columns, an overlay of edits, and Cliniko's JSON shape."""

from __future__ import annotations

import json
import random
from array import array
from json.encoder import encode_basestring as encode_string
from typing import Any

from oncord.sandbox import pools
from oncord.sandbox.ids import CONCESSION_TYPE_BASE, CONTACT_BASE, IdCodec
from oncord.sandbox.query import Column, TableView
from oncord.sandbox.timeutil import DAY, iso, iso_date

_NO_DOB = -(1 << 40)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_MASK64 = (1 << 64) - 1
_YEAR = 365 * DAY

# Fields a new patient starts with before the request body is applied (Cliniko's defaults).
NEW_PATIENT_DEFAULTS: dict[str, Any] = {
    "title": "", "first_name": "", "last_name": "", "preferred_first_name": None,
    "pronouns": None, "date_of_birth": None, "sex": None, "gender": None,
    "gender_identity": None, "email": None, "patient_phone_numbers": [],
    "address_1": "", "address_2": "", "address_3": "", "city": "", "state": "",
    "post_code": "", "country": None, "country_code": None, "time_zone": None,
    "accepted_privacy_policy": None, "accepted_email_marketing": False,
    "accepted_sms_marketing": False, "receives_confirmation_emails": True,
    "receives_cancellation_emails": True, "reminder_type": "SMS & Email", "notes": "",
    "appointment_notes": "", "occupation": "", "emergency_contact": "",
    "referral_source": "", "old_reference_id": "", "medicare": "",
    "medicare_reference_number": "", "dva_card_number": None, "invoice_default_to": "",
    "invoice_email": None, "invoice_extra_information": "", "custom_fields": None,
    "concession_type_id": None, "referring_doctor_id": None, "merged_at": None,
    "merged_with": None,
}
# Internal keys of a record that become link objects or timestamps, not plain fields.
_INTERNAL = ("concession_type_id", "referring_doctor_id", "merged_at", "merged_with")

_FIRST_SLUGS = tuple(pools.ascii_slug(name) for name, _ in pools.FIRST_NAMES)
_LAST_SLUGS = tuple(pools.ascii_slug(name) for name in pools.LAST_NAMES)
_FIRST_INDEX = {name: k for k, (name, _) in enumerate(pools.FIRST_NAMES)}
_LAST_INDEX = {name: k for k, name in enumerate(pools.LAST_NAMES)}
_CONCESSIONS = IdCodec(CONCESSION_TYPE_BASE)
_CONTACTS = IdCodec(CONTACT_BASE)


def _mix(value: int) -> int:
    # splitmix64's finaliser: a second, independent-looking 64 bits from the stored ones.
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def normalize_phone(number: str) -> str:
    """Cliniko-style normalized number: digits only, Australian 0X prefixes turned into 61X."""
    digits = "".join(ch for ch in number if ch.isascii() and ch.isdigit())
    if number.strip().startswith("+"):
        return digits
    if len(digits) == 10 and digits.startswith("0"):
        return "61" + digits[1:]
    return digits


def link(url: str) -> dict[str, dict[str, str]]:
    """A Cliniko link object."""
    return {"links": {"self": url}}


def _link(name: str, url: str) -> str:
    # A link member followed by its comma, for splicing into a JSON object's text.
    return f'"{name}":{{"links":{{"self":"{url}"}}}},'


def _timestamp(ts: int | None) -> str:
    return f'"{iso(ts)}"' if ts else "null"


def apply_malformation(text: str, set_fields: dict[str, Any], drop: tuple[str, ...]) -> str:
    """Re-encode a record with fields replaced or removed (the sandbox's bad-record control)."""
    record = json.loads(text)
    record.update(set_fields)
    for name in drop:
        record.pop(name, None)
    return _ENCODER.encode(record)


class PatientTable:
    """Patients in creation order: seeded rows derive from columns, edits live in an overlay."""

    kind = "patients"

    def __init__(self, *, count: int, seed: int, now: int, codec: IdCodec) -> None:
        self.codec = codec
        self.seeded = count
        self.created_at = array("q")
        self.updated_at = array("q")
        self.archived_at = array("q")  # 0 = not archived
        self.first = array("H")
        self.last = array("H")
        self.dob = array("q")
        self.bits = array("Q")
        self.latest_booking = array("i", [-1]) * count  # appointment index, set by appointments
        self.appointment_codec: IdCodec | None = None
        self.overrides: dict[int, dict[str, Any]] = {}
        self.malformed: dict[int, tuple[dict[str, Any], tuple[str, ...]]] = {}
        self._generate(count, seed, now)
        self.view = TableView(
            size=self.__len__,
            columns={
                "id": Column(get=lambda i: i, codec=codec),
                "created_at": Column(get=self.created_at.__getitem__),
                "updated_at": Column(get=self.updated_at.__getitem__),
                "archived_at": Column(get=lambda i: self.archived_at[i] or None),
                "first_name": Column(get=lambda i: self.value(i, "first_name")),
                "last_name": Column(get=lambda i: self.value(i, "last_name")),
                "preferred_first_name": Column(
                    get=lambda i: self.value(i, "preferred_first_name")
                ),
                "email": Column(get=lambda i: self.value(i, "email")),
                "old_reference_id": Column(get=lambda i: self.value(i, "old_reference_id")),
                "date_of_birth": Column(get=lambda i: self.value(i, "date_of_birth")),
                "accepted_privacy_policy": Column(
                    get=lambda i: self.value(i, "accepted_privacy_policy")
                ),
            },
            sort_keys={
                "created_at": None, "id": None, "updated_at": self.updated_at.__getitem__,
            },
        )

    def __len__(self) -> int:
        return len(self.created_at)

    # ---- generation -------------------------------------------------------------------

    def _generate(self, count: int, seed: int, now: int) -> None:
        rng = random.Random(f"patients:{seed}")
        start = now - 6 * _YEAR
        span = 6 * _YEAR - DAY
        today = now // DAY
        n_first, n_last = len(pools.FIRST_NAMES), len(pools.LAST_NAMES)
        featured = {
            k * count // len(pools.FEATURED_NAMES): name
            for k, name in enumerate(pools.FEATURED_NAMES[:count])
        }
        for i in range(count):
            bits = rng.getrandbits(64)
            jitter = rng.getrandbits(16)
            # (i + jitter/65536) * span / count grows with i: creation order is row order.
            created = start + (i * span + ((jitter * span) >> 16)) // count
            if rng.random() < 0.55:
                updated = created + rng.randrange(3)  # created/updated may differ by a second
            else:
                updated = created + int((now - created) * rng.random())
            archived = 0
            if rng.random() < 0.03:
                archived = created + int((now - created) * (0.2 + 0.8 * rng.random()))
                updated = max(updated, archived)
            if rng.random() < 0.05:
                dob = _NO_DOB
            else:
                age = min(95, max(1, int(rng.gauss(44, 19))))
                dob = today - age * 365 - rng.randrange(365)
            if i in featured:
                first_name, last_name = featured[i]
                first, last = _FIRST_INDEX[first_name], _LAST_INDEX[last_name]
            else:
                first, last = rng.randrange(n_first), rng.randrange(n_last)
            self.created_at.append(created)
            self.updated_at.append(min(updated, now))
            self.archived_at.append(archived)
            self.first.append(first)
            self.last.append(last)
            self.dob.append(dob)
            self.bits.append(bits)
        self._merge_duplicates(rng, count, now, set(featured))

    def _merge_duplicates(self, rng: random.Random, count: int, now: int, keep: set[int]) -> None:
        # A merged-away patient is a newer duplicate of an older one: same name, archived.
        if count < 3:
            return
        wanted = max(1, count // 2000)
        for _ in range(20 * wanted):
            if len(self.overrides) == wanted:
                return
            survivor = rng.randrange(count // 2)
            duplicate = rng.randrange(count // 2, count)
            if duplicate in keep or duplicate in self.overrides or survivor in self.overrides:
                continue
            merged_at = self.created_at[duplicate] + int(
                (now - self.created_at[duplicate]) * rng.random()
            )
            self.archived_at[survivor] = 0
            self.first[duplicate] = self.first[survivor]
            self.last[duplicate] = self.last[survivor]
            self.archived_at[duplicate] = merged_at
            self.updated_at[duplicate] = max(self.updated_at[duplicate], merged_at)
            self.overrides[duplicate] = {"merged_at": merged_at, "merged_with": survivor}

    # ---- field values -----------------------------------------------------------------

    def value(self, i: int, name: str) -> Any:
        """The current value of one plain field of row `i` (overlay first, then seeded data)."""
        over = self.overrides.get(i)
        if over is not None and name in over:
            return over[name]
        return _BASE_FIELDS[name](self, i)

    def _first_name(self, i: int) -> str:
        return pools.FIRST_NAMES[self.first[i]][0]

    def _last_name(self, i: int) -> str:
        return pools.LAST_NAMES[self.last[i]]

    def _email(self, i: int) -> str | None:
        bits = self.bits[i]
        sel = bits & 0x7F
        if sel < 15:
            return None  # about one patient in nine has no e-mail address
        first, last = _FIRST_SLUGS[self.first[i]], _LAST_SLUGS[self.last[i]]
        number = (bits >> 56) % 90 + 10
        domain = pools.EMAIL_DOMAINS[(bits >> 8) % len(pools.EMAIL_DOMAINS)]
        style = sel % 5
        if style == 0:
            local = f"{first}.{last}"
        elif style == 1:
            local = f"{first}{last}{number}"
        elif style == 2:
            local = f"{first[:1]}{last}"
        elif style == 3:
            local = f"{first}_{last}{number}"
        else:
            local = f"{last}.{first}{number}"
        if sel < 22:
            # Mixed case, as people type it: e-mail handling must be case-insensitive.
            return f"{local.title()}@{domain.capitalize()}"
        return f"{local}@{domain}"

    def _preferred_first_name(self, i: int) -> str | None:
        bits = self.bits[i]
        if (bits >> 57) & 31:
            return None
        return pools.NICKNAMES[(bits >> 40) % len(pools.NICKNAMES)]

    def _old_reference_id(self, i: int) -> str:
        bits = self.bits[i]
        return "" if (bits >> 49) & 7 else f"CL-{(bits >> 20) % 90000 + 10000}"

    def _date_of_birth(self, i: int) -> str | None:
        dob = self.dob[i]
        return None if dob == _NO_DOB else iso_date(dob)

    def _accepted_privacy_policy(self, i: int) -> bool | None:
        sel = (self.bits[i] >> 35) & 0x7F
        return None if sel < 38 else sel >= 45

    def _seeded_record(self, i: int) -> dict[str, Any]:
        bits = self.bits[i]
        mixed = _mix(bits)
        first_name, pool_sex = pools.FIRST_NAMES[self.first[i]]
        last_name = pools.LAST_NAMES[self.last[i]]
        sex = pool_sex if pool_sex != "Unknown" else (None, "Female", "Male")[mixed % 3]
        if mixed % 97 == 0:
            sex = None
        suburb, state, state_abbr, postcode, zone = pools.SUBURBS[
            (mixed >> 8) % len(pools.SUBURBS)
        ]
        addr_sel = (bits >> 14) & 0x7F
        if addr_sel < 10:
            address = ("", "", "", "", "", "")
            country_code = None
        else:
            street = pools.STREETS[(mixed >> 16) % len(pools.STREETS)]
            unit = f"Unit {(mixed >> 24) % 12 + 1}" if addr_sel < 30 else ""
            address = (
                f"{(mixed >> 32) % 250 + 1} {street}", unit, "", suburb,
                state_abbr if addr_sel % 5 == 0 else state, postcode,
            )
            country_code = "AU"
        email_sel = (bits >> 21) & 0x7F
        sms_sel = (bits >> 28) & 0x7F
        misc = (bits >> 42) & 0x7F
        title = _title(sex, mixed)
        return {
            "title": title,
            "first_name": first_name,
            "last_name": last_name,
            "preferred_first_name": self._preferred_first_name(i),
            "pronouns": pools.PRONOUNS[mixed % 3] if misc >= 124 else None,
            "date_of_birth": self._date_of_birth(i),
            "sex": sex,
            "gender": sex if sex in ("Female", "Male") else None,
            "gender_identity": _gender_identity(sex, mixed),
            "email": self._email(i),
            "patient_phone_numbers": _phones(bits, mixed, state_abbr),
            "address_1": address[0],
            "address_2": address[1],
            "address_3": address[2],
            "city": address[3],
            "state": address[4],
            "post_code": address[5],
            "country": "Australia" if country_code else None,
            "country_code": country_code,
            "time_zone": zone if (bits >> 52) & 7 == 0 else None,
            "accepted_privacy_policy": self._accepted_privacy_policy(i),
            "accepted_email_marketing": None if email_sel < 32 else email_sel >= 77,
            "accepted_sms_marketing": None if sms_sel < 38 else sms_sel >= 76,
            "receives_confirmation_emails": (mixed >> 40) % 7 != 0,
            "receives_cancellation_emails": (mixed >> 43) % 6 != 0,
            "reminder_type": _reminder_type(misc),
            "notes": pools.PATIENT_NOTES[mixed % 4] if (mixed >> 48) % 23 == 0 else "",
            "appointment_notes": self._appointment_notes(i),
            "occupation": (
                pools.OCCUPATIONS[(mixed >> 36) % len(pools.OCCUPATIONS)]
                if (mixed >> 50) % 5 < 2 else ""
            ),
            "emergency_contact": (
                f"{pools.FIRST_NAMES[(mixed >> 12) % len(pools.FIRST_NAMES)][0]} {last_name}"
                f" (partner) 0491 57{mixed % 10}{(mixed >> 4) % 1000:03d}"
                if (mixed >> 53) % 11 == 0 else ""
            ),
            "referral_source": (
                pools.REFERRAL_SOURCES[(mixed >> 44) % len(pools.REFERRAL_SOURCES)]
                if (mixed >> 54) % 4 == 0 else ""
            ),
            "old_reference_id": self._old_reference_id(i),
            "medicare": (
                f"{2 + mixed % 5}{(mixed >> 8) % 10**9:09d}" if (bits >> 60) & 3 == 0 else ""
            ),
            "medicare_reference_number": (
                str((mixed >> 40) % 5 + 1) if (bits >> 60) & 3 == 0 else ""
            ),
            "dva_card_number": (
                f"NX{(mixed >> 20) % 900000 + 100000}" if mixed % 211 == 0 else None
            ),
            "invoice_default_to": "",
            "invoice_email": None,
            "invoice_extra_information": "",
            "custom_fields": None,
            "concession_type_id": (
                _CONCESSIONS.encode((mixed >> 5) % 3) if (mixed >> 56) % 19 == 0 else None
            ),
            "referring_doctor_id": (
                _CONTACTS.encode((mixed >> 7) % 5) if (mixed >> 58) % 17 == 0 else None
            ),
            "merged_at": None,
            "merged_with": None,
        }

    def _appointment_notes(self, i: int) -> str:
        mixed = _mix(self.bits[i] ^ 0x5A5A)
        return pools.APPOINTMENT_NOTES[mixed % 3] if (mixed >> 8) % 29 == 0 else ""

    def has_appointment_notes(self, i: int) -> bool:
        """Whether the patient has appointment notes (shown on each of their appointments)."""
        over = self.overrides.get(i)
        if over is not None and "appointment_notes" in over:
            return bool(over["appointment_notes"])
        return bool(self._appointment_notes(i))

    def reminder_type(self, i: int) -> str | None:
        """The patient's reminder type, used to say which reminders were sent."""
        return self.value(i, "reminder_type")

    def label(self, i: int) -> str:
        """The patient's display name, as on an appointment's `patient_name`."""
        return f"{self.value(i, 'first_name')} {self.value(i, 'last_name')}"

    # ---- rendering --------------------------------------------------------------------

    def record(self, i: int) -> dict[str, Any]:
        """All plain fields of row `i` with edits applied (no timestamps or links)."""
        if i < self.seeded:
            record = self._seeded_record(i)
            over = self.overrides.get(i)
            if over:
                record.update(over)
            return record
        return dict(self.overrides[i])

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as Cliniko's Patient JSON object, links built on `base` (http://host/v1)."""
        return json.loads(self.render_json(i, base))

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as Patient JSON text; built as text because pages of 100 must be cheap."""
        record = self.record(i)
        concession, referrer, merged_at, merged_with = (record.pop(k) for k in _INTERNAL)
        pid = self.codec.encode(i)
        url = f"{base}/patients/{pid}"
        label = encode_string(f"{record['first_name']} {record['last_name']}")
        optional = []
        if merged_with is not None:
            survivor = self.codec.encode(merged_with)
            optional.append(_link("merged_with_patient", f"{base}/patients/{survivor}"))
        if concession is not None:
            optional.append(_link("concession_type", f"{base}/concession_types/{concession}"))
        if referrer is not None:
            optional.append(_link("referring_doctor", f"{base}/contacts/{referrer}"))
        latest = self.latest_booking[i]
        if latest >= 0 and self.appointment_codec is not None:
            booking = self.appointment_codec.encode(latest)
            optional.append(_link("latest_booking", f"{base}/bookings/{booking}"))
        fields = _ENCODER.encode(record)[1:-1]
        text = (
            f'{{"id":"{pid}","created_at":"{iso(self.created_at[i])}",'
            f'"updated_at":"{iso(self.updated_at[i])}",'
            f'"archived_at":{_timestamp(self.archived_at[i])},"deleted_at":null,'
            f'"merged_at":{_timestamp(merged_at)},"label":{label},{fields},'
            f'{"".join(optional)}'
            f'"appointments":{{"links":{{"self":"{url}/appointments"}}}},'
            f'"attendees":{{"links":{{"self":"{base}/attendees?q%5B%5D=patient_id%3A%3D{pid}"}}}},'
            f'"invoices":{{"links":{{"self":"{url}/invoices"}}}},'
            f'"medical_alerts":{{"links":{{"self":"{url}/medical_alerts"}}}},'
            f'"patient_attachments":{{"links":{{"self":"{url}/patient_attachments"}}}},'
            f'"relationships":{{"links":{{"self":"{base}/relationships?q%5B%5D=patient_id%3A%3D{pid}"}}}},'
            f'"links":{{"self":"{url}"}}}}'
        )
        bad = self.malformed.get(i)
        return text if bad is None else apply_malformation(text, *bad)

    # ---- changes ----------------------------------------------------------------------

    def create(self, fields: dict[str, Any], now: int) -> int:
        """Append a new patient with `fields` over Cliniko's defaults; return its row index."""
        index = len(self)
        self.overrides[index] = {**NEW_PATIENT_DEFAULTS, **fields}
        self.created_at.append(now)
        self.updated_at.append(now)
        self.archived_at.append(0)
        self.latest_booking.append(-1)
        return index

    def update(self, i: int, fields: dict[str, Any], now: int) -> None:
        """Apply field changes to row `i` and bump its updated_at."""
        self.overrides.setdefault(i, {}).update(fields)
        self.updated_at[i] = now

    def set_archived(self, i: int, archived: bool, now: int) -> None:
        """Archive (or unarchive) row `i` and bump its updated_at."""
        self.archived_at[i] = now if archived else 0
        self.updated_at[i] = now

    def malform(self, i: int, set_fields: dict[str, Any], drop: tuple[str, ...], now: int) -> None:
        """Make row `i` render with fields replaced or missing, to test a client's defences."""
        self.malformed[i] = (dict(set_fields), tuple(drop))
        self.updated_at[i] = now


_BASE_FIELDS = {
    "first_name": PatientTable._first_name,
    "last_name": PatientTable._last_name,
    "email": PatientTable._email,
    "preferred_first_name": PatientTable._preferred_first_name,
    "old_reference_id": PatientTable._old_reference_id,
    "date_of_birth": PatientTable._date_of_birth,
    "accepted_privacy_policy": PatientTable._accepted_privacy_policy,
    "reminder_type": lambda self, i: _reminder_type((self.bits[i] >> 42) & 0x7F),
    "appointment_notes": PatientTable._appointment_notes,
}


def _title(sex: str | None, mixed: int) -> str:
    choice = (mixed >> 60) % 8
    if choice == 0:
        return "Dr"
    if sex == "Female":
        return ("Ms", "Mrs", "Miss", "", "Ms", "Mrs", "")[choice - 1]
    if sex == "Male":
        return ("Mr", "Mr", "", "Mr", "", "Mr", "Mr")[choice - 1]
    return ("Mx", "", "")[choice % 3]


def _gender_identity(sex: str | None, mixed: int) -> str | None:
    choice = (mixed >> 33) % 40
    if choice == 0:
        return "Non-binary"
    if choice < 12:
        return {"Female": "Woman", "Male": "Man"}.get(sex or "")
    return None


def _reminder_type(sel: int) -> str:
    if sel < 58:
        return "SMS & Email"
    if sel < 90:
        return "SMS"
    return "Email" if sel < 115 else "None"


def _phones(bits: int, mixed: int, state: str) -> list[dict[str, str]]:
    sel = (bits >> 7) & 0x7F
    if sel < 13:
        return []  # about one patient in ten has no phone number
    tail = f"{(mixed >> 12) % 10000:04d}"
    mobile_local = f"049157{tail}"
    style = (mixed >> 28) % 3
    mobile = (
        f"0491 57{tail[0]} {tail[1:]}", mobile_local, f"+61 491 57{tail[0]} {tail[1:]}"
    )[style]
    area = pools.STATE_AREA_CODES.get(state, "3")
    landline = f"5550{(mixed >> 20) % 10000:04d}"
    home = {"number": f"(0{area}) {landline[:4]} {landline[4:]}", "phone_type": "Home",
            "normalized_number": f"61{area}{landline}"}
    cell = {"number": mobile, "phone_type": "Mobile", "normalized_number": f"61{mobile_local[1:]}"}
    if sel < 103:
        return [cell]
    if sel < 121:
        return [cell, home]
    work = f"7010{(mixed >> 36) % 10000:04d}"
    return [home, {"number": f"(0{area}) {work[:4]} {work[4:]}", "phone_type": "Work",
                   "normalized_number": f"61{area}{work}"}]
