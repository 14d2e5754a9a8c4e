"""Each once-only promise is a unique key in the migrated database, not only a check in code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import UniqueConstraint, insert, select
from sqlalchemy.exc import IntegrityError

from oncord.db import Base, get_database

# (table, the columns that must be unique together, why).
PROMISES = [
    ("campaign_recipients", ("campaign_id", "contact_id"), "a campaign reaches a contact once"),
    ("automation_sends", ("automation_id", "appointment_id", "trigger_key", "channel"),
     "an automation fires once per appointment, trigger and channel"),
    ("patient_changes", ("contact_id", "field", "open_key"), "one open outbox row per contact field"),
    ("activity_events", ("dedupe_key",), "a feed entry is written once"),
    ("contacts", ("cliniko_patient_id",), "a Cliniko patient is one contact"),
    ("appointments", ("kind", "cliniko_id"),
     "a Cliniko appointment, or a class attendee, is stored once (Cliniko numbers the two apart)"),
    ("group_appointments", ("cliniko_id",), "a Cliniko class is stored once"),
    ("practitioners", ("cliniko_id",), "a Cliniko practitioner is stored once"),
    ("appointment_types", ("cliniko_id",), "a Cliniko appointment type is stored once"),
    ("businesses", ("cliniko_id",), "a Cliniko business is stored once"),
    ("sync_cursors", ("resource",), "one pull cursor per resource"),
    ("users", ("email",), "one login per e-mail address"),
    ("pages", ("slug",), "one page per public address"),
    ("frequency_slots", ("contact_id", "slot"), "a contact's cap slot is held by one message at a time"),
    ("journey_versions", ("automation_id", "number"), "a journey's version number is used once"),
    ("journey_enrolments", ("automation_id", "once_key"),
     "a journey is entered once per key: per appointment, per recall lapse, per birthday year"),
    ("journey_step_runs", ("enrolment_id", "step_index"), "each step runs once per enrolment"),
    ("booking_clicks", ("campaign_recipient_id",), "a campaign message's clicks are counted on one row"),
    ("booking_clicks", ("automation_send_id",), "an automation message's clicks are counted on one row"),
    ("booking_attributions", ("appointment_id",), "a booking is attributed at most once"),
    ("feedback_responses", ("message_ref",), "a message's feedback is one answer"),
]


@pytest.fixture
def rows(app, clock):
    """One row in each table above, inserted with plain SQL; returns {table: its values}."""
    now = clock.now()
    tables = Base.metadata.tables
    values: dict[str, dict] = {}
    with get_database(app).engine.begin() as conn:

        def add(table: str, **fields) -> int:
            result = conn.execute(insert(tables[table]).values(**fields))
            values[table] = fields
            return result.inserted_primary_key[0]

        contact = add("contacts", first_name="Ada", last_name="Lovelace", cliniko_patient_id="9001",
                      email_marketing_status="subscribed", sms_marketing_status="pending",
                      created_at=now, updated_at=now)
        appointment = add("appointments", cliniko_id="7001", contact_id=contact, cliniko_patient_id="9001",
                          starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, minutes=45))
        add("group_appointments", cliniko_id="6001", starts_at=now, ends_at=now + timedelta(hours=1))
        add("practitioners", cliniko_id="5001", display_name="Dr Smith", active=True)
        add("appointment_types", cliniko_id="4001", name="Initial", duration_in_minutes=45)
        add("businesses", cliniko_id="3001", name="Sunnyside")
        add("sync_cursors", resource="patients")
        add("users", email="owner@clinic.example", password_hash="x", role="admin", active=True,
            created_at=now)
        add("pages", title="Book now", slug="book-now", blocks=[], created_at=now, updated_at=now)
        campaign = conn.execute(insert(tables["campaigns"]).values(
            name="Launch", channel="email", created_at=now, updated_at=now)).inserted_primary_key[0]
        automation = conn.execute(insert(tables["automations"]).values(
            name="Reminder", trigger="upcoming", created_at=now, updated_at=now)).inserted_primary_key[0]
        recipient = add("campaign_recipients", campaign_id=campaign, contact_id=contact, state="pending",
                        created_at=now, updated_at=now)
        add("automation_sends", automation_id=automation, appointment_id=appointment, contact_id=contact,
            trigger_key="upcoming", channel="email", state="pending", due_at=now, created_at=now,
            updated_at=now)
        add("patient_changes", contact_id=contact, field="email", status="pending", open_key="open",
            first_changed_at=now, changed_at=now)
        add("activity_events", contact_id=contact, kind="message_sent", occurred_at=now,
            dedupe_key="campaign-recipient:1:sent", details={}, created_at=now)
        add("frequency_slots", contact_id=contact, slot=0, taken_at=now, reference="campaign-recipient:1")
        version = add("journey_versions", automation_id=automation, number=1, steps=[], created_at=now)
        enrolment = add("journey_enrolments", automation_id=automation, version_id=version,
                        appointment_id=appointment, contact_id=contact, once_key=f"appointment:{appointment}",
                        state="active", step_index=0,
                        next_run_at=now, entered_at=now, created_at=now, updated_at=now)
        add("journey_step_runs", enrolment_id=enrolment, step_index=0, kind="send", outcome="", ran_at=now)
        add("booking_clicks", campaign_recipient_id=recipient, campaign_id=campaign, contact_id=contact,
            channel="email", first_clicked_at=now, last_clicked_at=now, clicks=1)
        # A table with two unique keys has a row for each, keyed by (table, columns).
        send = conn.execute(insert(tables["automation_sends"]).values(
            automation_id=automation, appointment_id=appointment, contact_id=contact, trigger_key="finished",
            channel="sms", state="sent", due_at=now, created_at=now, updated_at=now)).inserted_primary_key[0]
        click = dict(automation_send_id=send, automation_id=automation, contact_id=contact, channel="sms",
                     first_clicked_at=now, last_clicked_at=now, clicks=1)
        conn.execute(insert(tables["booking_clicks"]).values(**click))
        values["booking_clicks:automation_send_id"] = click
        add("booking_attributions", appointment_id=appointment, contact_id=contact, kind="clicked",
            campaign_id=campaign, message_at=now, booked_at=now, created_at=now)
        add("feedback_responses", message_ref="automation-send:1", contact_id=contact,
            appointment_id=appointment, score=9, responded_at=now, updated_at=now)
    return values


def test_the_list_covers_every_unique_key_of_the_models() -> None:
    """A new unique key is added to the list above (and so gets its duplicate test)."""
    declared = {
        (table.name, tuple(c.name for c in constraint.columns))
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    assert declared == {(table, columns) for table, columns, _why in PROMISES}


@pytest.mark.parametrize(("table", "columns", "why"), PROMISES, ids=[p[0] for p in PROMISES])
def test_a_duplicate_inserted_directly_is_refused_by_the_database(app, rows, table, columns, why) -> None:
    """Inserting the same key again, bypassing every check in code, raises an integrity error."""
    engine = get_database(app).engine
    duplicate = dict(rows.get(f"{table}:{','.join(columns)}", rows[table]))
    with engine.connect() as conn:
        before = len(conn.execute(select(Base.metadata.tables[table])).all())
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(insert(Base.metadata.tables[table]).values(**duplicate))
    message = str(raised.value.orig).lower()
    named = f"uq_{table}_{'_'.join(columns)}" in message if len(columns) == 1 else f"uq_{table}_" in message
    assert named or all(f"{table}.{c}" in message for c in columns), (why, message)
    with engine.connect() as conn:
        assert len(conn.execute(select(Base.metadata.tables[table])).all()) == before


def test_closed_outbox_rows_do_not_block_a_new_edit(app, rows, clock) -> None:
    """The outbox key counts open rows only: a field pushed twice keeps both history rows."""
    engine = get_database(app).engine
    table = Base.metadata.tables["patient_changes"]
    pushed = {**rows["patient_changes"], "status": "pushed", "open_key": None}
    with engine.begin() as conn:
        conn.execute(insert(table).values(**pushed))
        conn.execute(insert(table).values(**pushed))
        assert len(conn.execute(select(table)).all()) == 3


def test_a_send_without_an_appointment_is_once_per_trigger_key_and_channel(app, rows, clock) -> None:
    """The firing key treats NULLs as distinct, so sends without an appointment (a birthday of a
    contact who never had one) have their own partial unique index: the same key twice is refused,
    another key or channel is not."""
    engine = get_database(app).engine
    table = Base.metadata.tables["automation_sends"]
    greeting = {**rows["automation_sends"], "appointment_id": None, "trigger_key": "birthday:e1:step0"}
    with engine.begin() as conn:
        conn.execute(insert(table).values(**greeting))
        conn.execute(insert(table).values(**{**greeting, "channel": "sms"}))
        conn.execute(insert(table).values(**{**greeting, "trigger_key": "birthday:e2:step0"}))
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(insert(table).values(**greeting))
    message = str(raised.value.orig).lower()
    assert "uq_automation_sends_occasion" in message or "automation_sends.trigger_key" in message, message
    with engine.connect() as conn:
        assert len(conn.execute(select(table).where(table.c.appointment_id.is_(None))).all()) == 3
