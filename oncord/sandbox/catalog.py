"""The account's small tables: businesses, practitioners, appointment types, the user, settings."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oncord.sandbox import pools
from oncord.sandbox.ids import (
    ACCOUNT_ID,
    APPOINTMENT_TYPE_BASE,
    BUSINESS_BASE,
    PRACTITIONER_BASE,
    TEMPLATE_BASE,
    USER_BASE,
    IdCodec,
)
from oncord.sandbox.patients import link
from oncord.sandbox.query import Column, TableView
from oncord.sandbox.timeutil import DAY, iso

SUBDOMAIN = "northside-allied-health"
ACCOUNT_NAME = "Northside Allied Health"
_TEMPLATES = IdCodec(TEMPLATE_BASE)


@dataclass
class RowTable:
    """A small table kept as one dict per row; timestamps are epoch seconds, refs are indices."""

    kind: str
    codec: IdCodec
    rows: list[dict[str, Any]]
    renderer: Callable[[RowTable, int, str], dict[str, Any]]
    ref_codecs: dict[str, IdCodec]

    def _getter(self, name: str) -> Callable[[int], Any]:
        """Read field `name` of row `i` (bound per field, unlike a closure over the loop variable)."""

        def get(i: int) -> Any:
            return self.rows[i][name]

        return get

    def __post_init__(self) -> None:
        columns = {"id": Column(get=lambda i: i, codec=self.codec)}
        for name in self.rows[0]:
            columns[name] = Column(
                get=self._getter(name),
                codec=self.ref_codecs.get(name),
            )
        self.view = TableView(
            size=self.__len__,
            columns=columns,
            sort_keys={
                "created_at": None, "id": None,
                "updated_at": lambda i: self.rows[i]["updated_at"],
            },
        )

    def __len__(self) -> int:
        return len(self.rows)

    def render(self, i: int, base: str) -> dict[str, Any]:
        """Row `i` as Cliniko's JSON, links built on `base`."""
        return self.renderer(self, i, base)

    def render_json(self, i: int, base: str) -> str:
        """Row `i` as JSON text."""
        return json.dumps(self.render(i, base), ensure_ascii=False, separators=(",", ":"))


@dataclass
class Catalog:
    """The generated account: its small tables plus the API key owner."""

    businesses: RowTable
    practitioners: RowTable
    appointment_types: RowTable
    user: dict[str, Any]
    users: IdCodec


def build_catalog(seed: int, now: int) -> Catalog:
    """Generate 2-4 businesses, 5-8 practitioners (one inactive), 6-10 types (one archived)."""
    rng = random.Random(f"catalog:{seed}")
    users = IdCodec(USER_BASE, seed)
    types = _appointment_types(rng, now, IdCodec(APPOINTMENT_TYPE_BASE, seed))
    offered = [types.codec.encode(k) for k, row in enumerate(types.rows) if not row["archived_at"]]
    businesses = _businesses(rng, now, IdCodec(BUSINESS_BASE, seed), offered)
    practitioners = _practitioners(
        rng, now, IdCodec(PRACTITIONER_BASE, seed), users, len(businesses.rows), offered[1]
    )
    user = {
        "title": "Ms", "first_name": "Priya", "last_name": "Raman",
        "email": "priya.raman@example.com", "role": "administrator",
        "created_at": now - 7 * 365 * DAY, "updated_at": now - 30 * DAY,
    }
    return Catalog(businesses, practitioners, types, user, users)


def _businesses(rng: random.Random, now: int, codec: IdCodec, offered: list[int]) -> RowTable:
    count = 2 + rng.randrange(3)
    rows = []
    for k, (name, address, city, state, postcode, zone, label) in enumerate(
        pools.BUSINESSES[:count]
    ):
        created = now - (7 * 365 - 400 * k) * DAY + rng.randrange(DAY)
        rows.append({
            "business_name": name, "address_1": address, "address_2": None, "city": city,
            "state": state, "post_code": postcode, "time_zone_identifier": zone,
            "time_zone": label, "created_at": created,
            "updated_at": created + rng.randrange(300 * DAY), "archived_at": None,
            "deleted_at": None, "show_in_online_bookings": True,
            "appointment_type_ids": list(offered),
        })
    return RowTable("businesses", codec, rows, _render_business, {})


def _render_business(table: RowTable, i: int, base: str) -> dict[str, Any]:
    row = table.rows[i]
    bid = str(table.codec.encode(i))
    slug = row["business_name"].lower().replace(" & ", "-").replace(" ", "-")
    return {
        "id": bid,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "archived_at": iso(row["archived_at"]),
        "deleted_at": iso(row["deleted_at"]),
        "business_name": row["business_name"],
        "display_name": row["business_name"],
        "label": row["business_name"],
        "address_1": row["address_1"],
        "address_2": row["address_2"],
        "city": row["city"],
        "state": row["state"],
        "post_code": row["post_code"],
        "country": "Australia",
        "country_code": "AU",
        "contact_information": f"Phone: (03) 5550 {1000 + i * 111}",
        "email_reply_to": f"reception@{slug}.example.com",
        "website_address": f"https://{slug}.example.com",
        "business_registration_name": "ABN",
        "business_registration_value": f"{51_824_753_556 + i * 7_919}",
        "additional_information": None,
        "additional_invoice_information": None,
        "appointment_reminders_enabled": True,
        "appointment_type_ids": [str(t) for t in row["appointment_type_ids"]],
        "show_in_online_bookings": row["show_in_online_bookings"],
        "time_zone": row["time_zone"],
        "time_zone_identifier": row["time_zone_identifier"],
        "appointments": link(f"{base}/businesses/{bid}/appointments"),
        "practitioners": link(f"{base}/businesses/{bid}/practitioners"),
        "links": {"self": f"{base}/businesses/{bid}"},
    }


def _practitioners(
    rng: random.Random,
    now: int,
    codec: IdCodec,
    users: IdCodec,
    business_count: int,
    default_type: int,
) -> RowTable:
    count = 5 + rng.randrange(4)
    chosen = rng.sample(range(len(pools.PRACTITIONERS)), count)
    rows = []
    for k, pick in enumerate(chosen):
        title, first, last, designation, _category = pools.PRACTITIONERS[pick]
        created = now - (6 * 365 - 150 * k) * DAY + rng.randrange(DAY)
        # The second practitioner left the clinic about seven months ago.
        inactive_since = now - 210 * DAY if k == 1 else None
        rows.append({
            "title": title or None, "first_name": first, "last_name": last,
            "designation": designation, "active": inactive_since is None,
            "show_in_online_bookings": inactive_since is None,
            "business": k % business_count, "user_id": k + 1,
            "inactive_since": inactive_since, "default_appointment_type_id": default_type,
            "created_at": created,
            "updated_at": inactive_since or created + rng.randrange(200 * DAY),
        })
    return RowTable("practitioners", codec, rows, _render_practitioner, {"user_id": users})


def _render_practitioner(table: RowTable, i: int, base: str) -> dict[str, Any]:
    row = table.rows[i]
    pid = str(table.codec.encode(i))
    url = f"{base}/practitioners/{pid}"
    name = f"{row['first_name']} {row['last_name']}"
    return {
        "id": pid,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "title": row["title"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "display_name": name,
        "label": f"{row['title']} {name}" if row["title"] else name,
        "designation": row["designation"],
        "description": None,
        "active": row["active"],
        "show_in_online_bookings": row["show_in_online_bookings"],
        "default_appointment_type": link(
            f"{base}/appointment_types/{row['default_appointment_type_id']}"
        ),
        "user": link(f"{base}/users/{table.ref_codecs['user_id'].encode(row['user_id'])}"),
        "appointment_types": link(f"{url}/appointment_types"),
        "appointments": link(f"{url}/appointments"),
        "invoices": link(f"{url}/invoices"),
        "practitioner_reference_numbers": link(f"{url}/practitioner_reference_numbers"),
        "links": {"self": url},
    }


def _appointment_types(rng: random.Random, now: int, codec: IdCodec) -> RowTable:
    count = 6 + rng.randrange(5)
    templates = list(pools.APPOINTMENT_TYPES[: count - 1]) + [pools.ARCHIVED_APPOINTMENT_TYPE]
    rows = []
    for k, (name, category, minutes, color, telehealth) in enumerate(templates):
        created = now - (6 * 365 - 90 * k) * DAY + rng.randrange(DAY)
        archived = now - 300 * DAY if k == len(templates) - 1 else None
        rows.append({
            "name": name, "category": category, "color": color,
            "duration_in_minutes": minutes, "telehealth_enabled": telehealth,
            "show_in_online_bookings": archived is None and k != 2,
            "online_payments_mode": "optional" if k == 0 else None,
            "appointment_confirmation_template_ids": [_TEMPLATES.encode(0)],
            "appointment_reminder_template_ids": [_TEMPLATES.encode(1 + k % 2)],
            "appointment_follow_up_template_ids": [_TEMPLATES.encode(3)] if k == 0 else [],
            "archived_at": archived, "created_at": created,
            "updated_at": archived or created + rng.randrange(100 * DAY),
        })
    return RowTable("appointment_types", codec, rows, _render_appointment_type, {})


def _render_appointment_type(table: RowTable, i: int, base: str) -> dict[str, Any]:
    row = table.rows[i]
    tid = str(table.codec.encode(i))
    url = f"{base}/appointment_types/{tid}"
    return {
        "id": tid,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "archived_at": iso(row["archived_at"]),
        "name": row["name"],
        "category": row["category"],
        "color": row["color"],
        "description": None,
        "duration_in_minutes": row["duration_in_minutes"],
        "max_attendees": 1,
        "show_in_online_bookings": row["show_in_online_bookings"],
        "online_bookings_lead_time_hours": 2 if row["show_in_online_bookings"] else None,
        "online_payments_enabled": row["online_payments_mode"] is not None,
        "online_payments_mode": row["online_payments_mode"],
        "deposit_price": "25.00" if row["online_payments_mode"] else None,
        "add_deposit_to_account_credit": False,
        "telehealth_enabled": row["telehealth_enabled"],
        "appointment_confirmation_template_ids": [
            str(t) for t in row["appointment_confirmation_template_ids"]
        ],
        "appointment_reminder_template_ids": [
            str(t) for t in row["appointment_reminder_template_ids"]
        ],
        "appointment_follow_up_template_ids": [
            str(t) for t in row["appointment_follow_up_template_ids"]
        ],
        "practitioners": link(f"{url}/practitioners"),
        "appointment_type_billable_items": link(f"{url}/appointment_type_billable_items"),
        "appointment_type_products": link(f"{url}/appointment_type_products"),
        "links": {"self": url},
    }


def render_user(catalog: Catalog, base: str) -> dict[str, Any]:
    """The API key's owner as Cliniko's User JSON."""
    user = catalog.user
    uid = str(catalog.users.encode(0))
    return {
        "id": uid,
        "created_at": iso(user["created_at"]),
        "updated_at": iso(user["updated_at"]),
        "title": user["title"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "email": user["email"],
        "role": user["role"],
        "active": True,
        "user_active": True,
        "time_zone": "Melbourne",
        "time_zone_identifier": "Australia/Melbourne",
        "phone_numbers": [
            {"number": "0491 570 156", "phone_type": "Mobile", "normalized_number": "61491570156"}
        ],
        "links": {"self": f"{base}/users/{uid}"},
    }


def render_settings(catalog: Catalog, *, admin: bool) -> dict[str, Any]:
    """`GET /settings` (admin) or `GET /settings/public` as Cliniko shapes them."""
    account: dict[str, Any] = {
        "id": ACCOUNT_ID, "name": ACCOUNT_NAME, "subdomain": SUBDOMAIN,
        "country": "Australia", "country_code": "AU", "currency_symbol": "$",
        "has_time_travelers": False, "time_zone_support": len(catalog.businesses) > 1,
    }
    if admin:
        account.update({
            "email_from": catalog.user["email"], "first_name": catalog.user["first_name"],
            "last_name": catalog.user["last_name"],
            "compliance": {"has_hipaa_compliance_conflicts": False,
                           "hipaa_compliance-conflict_messages": []},
        })
    practitioners = catalog.practitioners
    return {
        "account": account,
        "calendar": {
            "start_hour": 7, "end_hour": 20, "timeslot_height_in_pixels": 15,
            "timeslot_size_in_minutes": 15, "show_current_time_indicator": True,
            "multiple_appointments_gap": False,
        },
        "online_bookings": {
            **({"adroll": {"advertiser_id": None, "pixel_id": None},
                "google_analytics": {"tracking_id": None},
                "google_tag_manager": {"container_id": None}} if admin else {}),
            "enabled": True, "calendar_info": None, "logo_url": None,
            "max_appointments_per_day_segment": 5, "min_hours_advance_required_to_book": 2,
            "min_hours_notice_for_patient_cancellation": 24,
            "notify_practitioner_by_email": True, "notify_practitioner_by_sms": False,
            "policy": "Please give 24 hours' notice if you need to cancel.",
            "practitioner_order": [
                str(practitioners.codec.encode(k)) for k in range(len(practitioners))
                if practitioners.rows[k]["active"]
            ],
            "require_patient_address": False, "show_appointment_duration": True,
            "show_prices": False, "allow_bookings_days_in_advance": 90,
            "allow_online_bookings_time_zone_choice": False, "booking_reservation_minutes": 10,
            "daily_bookings_limit": 0, "disabled_text": None, "disabled_title": None,
            "notice_enabled": False, "notice_text": None, "notice_title": None,
            "privacy_policy_url": None,
        },
        "documents_and_printing": {"logo_height": 60, "logo_url": None},
        "integrations": {"mail_chimp": {"enabled": False}, "xero": {"enabled": False},
                         **({"medipass": {"enabled": False}} if admin else {})},
        "online_payments": {"activated": False},
        "patient_custom_fields_definition": None,
        "patient_privacy": {
            "browser_title_name_format": "full_name", "ical_patient_name_option": "initials",
            "prevent_sending_financial_data_by_email": False, "requires_hipaa_compliance": False,
            **({"anonymise_appointments_on_deletion": False,
                "anonymise_booking_notifications": False,
                "anonymise_invoices_and_payments_on_deletion": False,
                "baa_requested": False} if admin else {}),
        },
        "reminders": {"default_reminder_type": "SMS & Email"},
        "sms": {
            "alphanumeric_source_number_required": False,
            "default_alphanumeric_source_number": "Northside",
            "max_message_length": 612, "number_of_usable_characters_per_message": 153,
            "replies_supported": True,
        },
        "terminology": {"patient": "patient", "titles": ["Mr", "Mrs", "Ms", "Miss", "Dr", "Mx"]},
        "wait_list": {"default_wait_list_expiry_period": 14},
    }
