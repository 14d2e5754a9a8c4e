"""The outbox (oncord.sync.outbox) as functions of the edits made: which changes are recorded, how a
burst coalesces into one open row per contact field, when a push is due, what a pull must leave alone,
and the in-flight edit rule (an edit made while its PATCH is in flight stays open), in every order."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import permutations

import pytest
from sqlalchemy import select

from oncord.cliniko.errors import ValidationFailed
from oncord.clock import utc
from oncord.models import Contact, PatientChange
from oncord.sync.outbox import open_changes, protected_fields, push_due_at, record_changes
from tests.factories import make_contact
from tests.sync.test_push_rules_checks import FakeCliniko, linked, push

DELAY, MAX_WAIT = timedelta(minutes=2), timedelta(minutes=10)


def all_rows(session, contact: Contact) -> list[tuple[str, str, datetime, datetime, int, str | None, bool]]:
    """Every row of the contact, oldest first: field, status, first and last change, attempts,
    error, open."""
    session.expire_all()
    found = session.scalars(
        select(PatientChange).where(PatientChange.contact_id == contact.id).order_by(PatientChange.id)
    )
    return [
        (
            r.field,
            r.status,
            utc(r.first_changed_at),
            utc(r.changed_at),
            r.attempts,
            r.error,
            r.open_key == "open",
        )
        for r in found
    ]


def edit(session, clock, contact: Contact, **values: object) -> bool:
    for name, value in values.items():
        setattr(contact, name, value)
    owed = record_changes(session, contact, values, clock.now())
    session.commit()
    return owed


# --- recording ------------------------------------------------------------------------------------


def test_an_unlinked_contact_records_nothing(db_session, clock) -> None:
    contact = make_contact(db_session, clock)
    assert edit(db_session, clock, contact, city="Fitzroy") is False
    assert all_rows(db_session, contact) == []


@pytest.mark.parametrize(
    "fields", [[], ["country"], ["phone_e164", "phone_is_mobile", "cliniko_reminder_type"]]
)
def test_only_pushable_fields_are_recorded(db_session, clock, fields: list[str]) -> None:
    """A derived or local column is never a change of its own."""
    contact = linked(db_session, clock)
    assert record_changes(db_session, contact, fields, clock.now()) is False
    assert record_changes(db_session, contact, [*fields, "country_code"], clock.now()) is True
    db_session.commit()
    now = clock.now()
    assert all_rows(db_session, contact) == [("country_code", "pending", now, now, 0, None, True)]


def test_a_burst_coalesces_into_one_open_row_per_field(db_session, clock) -> None:
    contact = linked(db_session, clock)
    other = linked(db_session, clock, "502")
    start = clock.now()
    assert edit(db_session, clock, contact, city="Fitzroy", email="a@example.com") is True
    clock.advance(seconds=60)
    assert edit(db_session, clock, contact, city="Carlton") is True
    clock.advance(seconds=30)
    assert edit(db_session, clock, contact, email="b@example.com", city="Kew") is True
    assert edit(db_session, clock, other, city="Elsewhere") is True
    end = clock.now()
    assert sorted(all_rows(db_session, contact)) == [
        ("city", "pending", start, end, 0, None, True),
        ("email", "pending", start, end, 0, None, True),
    ]
    assert all_rows(db_session, other) == [("city", "pending", end, end, 0, None, True)]


def test_a_new_edit_of_a_refused_value_starts_over(app, db_session, clock) -> None:
    """A failed row edited again is pending, its error cleared, its wait counted from the new edit."""
    contact = linked(db_session, clock)
    start = clock.now()
    edit(db_session, clock, contact, email="bad")
    refusal = ValidationFailed(None, {"email": "is invalid"})
    push(app, FakeCliniko(refuse={"501": [refusal]}), clock)
    assert all_rows(db_session, contact) == [("email", "failed", start, start, 1, refusal.user_message, True)]
    clock.advance(minutes=5)
    edit(db_session, clock, contact, email="worse")
    later = clock.now()
    assert all_rows(db_session, contact) == [("email", "pending", later, later, 1, None, True)]
    push(app, FakeCliniko(refuse={"501": [ValidationFailed(None, {"email": "is invalid"})]}), clock)
    assert all_rows(db_session, contact) == [("email", "failed", later, later, 2, refusal.user_message, True)]


def test_after_a_push_a_new_edit_opens_a_new_row(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    start = clock.now()
    edit(db_session, clock, contact, city="Fitzroy")
    push(app, FakeCliniko(), clock)
    clock.advance(minutes=1)
    edit(db_session, clock, contact, city="Kew")
    later = clock.now()
    assert all_rows(db_session, contact) == [
        ("city", "pushed", start, start, 1, None, False),
        ("city", "pending", later, later, 0, None, True),
    ]


# --- when a push is due -----------------------------------------------------------------------------


def test_nothing_pending_is_never_due(app, db_session, clock) -> None:
    assert push_due_at(db_session, delay=DELAY, max_wait=MAX_WAIT) is None
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, email="bad", city="Fitzroy")
    push(app, FakeCliniko(refuse={"501": [ValidationFailed(None, {"email": "is invalid"})]}), clock)
    # One pushed, one failed: neither waits for a push.
    assert push_due_at(db_session, delay=DELAY, max_wait=MAX_WAIT) is None


@pytest.mark.parametrize(
    ("gaps", "due_after_start"),
    [
        ([0], DELAY),  # one edit: the delay after it
        ([0, 60], timedelta(seconds=60) + DELAY),  # a burst: the delay after its last edit
        ([0, 400, 500], MAX_WAIT),  # a long burst: never later than max_wait after the first
        ([0, 480], MAX_WAIT),  # exactly both: the same moment
        ([0, 479], timedelta(seconds=479) + DELAY),
    ],
)
def test_a_push_is_due_a_delay_after_the_last_edit_but_within_max_wait(
    db_session, clock, gaps: list[int], due_after_start: timedelta
) -> None:
    start = clock.now()
    contacts = [linked(db_session, clock, str(600 + i)) for i in range(len(gaps))]
    for contact, gap in zip(contacts, gaps, strict=True):
        clock.set(start + timedelta(seconds=gap))
        edit(db_session, clock, contact, city=f"City {gap}")
    assert push_due_at(db_session, delay=DELAY, max_wait=MAX_WAIT) == start + due_after_start


def test_the_wait_counts_from_the_first_edit_of_a_field_edited_again(db_session, clock) -> None:
    contact = linked(db_session, clock)
    start = clock.now()
    edit(db_session, clock, contact, city="A")
    for _ in range(9):
        clock.advance(minutes=1)
        edit(db_session, clock, contact, city=f"A{clock.now().minute}")
    assert push_due_at(db_session, delay=DELAY, max_wait=MAX_WAIT) == start + MAX_WAIT
    assert push_due_at(db_session, delay=DELAY, max_wait=timedelta(hours=1)) == clock.now() + DELAY


# --- what a pull leaves alone ------------------------------------------------------------------------


def test_open_changes_are_protected_and_listed_until_pushed(app, db_session, clock) -> None:
    first = linked(db_session, clock, "501")
    second = linked(db_session, clock, "502")
    third = linked(db_session, clock, "503")
    edit(db_session, clock, first, email="bad", city="Fitzroy", post_code="3065")
    edit(db_session, clock, third, state="NSW")
    push(app, FakeCliniko(refuse={"501": [ValidationFailed(None, {"email": "is invalid"})]}), clock)
    edit(db_session, clock, first, post_code="3066")
    edit(db_session, clock, second, last_name="Hopper")
    ids = [first.id, second.id, third.id]
    assert protected_fields(db_session, ids) == {first.id: {"email", "post_code"}, second.id: {"last_name"}}
    assert protected_fields(db_session, [third.id]) == {}
    assert protected_fields(db_session, []) == {}
    assert [(c.field, c.status) for c in open_changes(db_session, first.id)] == [
        ("email", "failed"),
        ("post_code", "pending"),
    ]
    assert [c.field for c in open_changes(db_session, second.id)] == ["last_name"]
    assert open_changes(db_session, third.id) == []


# --- the in-flight edit rule ---------------------------------------------------------------------

EVENTS = ("edit", "push starts", "edit again", "push answers")
ORDERINGS = [
    order
    for order in permutations(EVENTS)
    if order.index("edit") < order.index("edit again")
    and order.index("push starts") < order.index("push answers")
]


@pytest.mark.parametrize("order", ORDERINGS, ids=lambda order: "-".join(e.replace(" ", "_") for e in order))
def test_an_edit_after_the_push_started_stays_open(app, db_session, clock, order: tuple[str, ...]) -> None:
    """The push closes the value it sent; an edit made after it read the outbox (in flight or after
    the answer) stays pending and goes out with the next push."""
    contact = linked(db_session, clock)
    values = {"edit": "Fitzroy", "edit again": "Carlton"}
    started = order.index("push starts")
    before = [e for e in order[:started] if e in values]
    in_flight = [e for e in order[started : order.index("push answers")] if e in values]
    after = [e for e in order[order.index("push answers") :] if e in values]

    def do(events: list[str]) -> None:
        for event in events:
            clock.advance(seconds=10)
            edit(db_session, clock, contact, city=values[event])

    do(before)
    clock.advance(seconds=10)
    cliniko = FakeCliniko(during=lambda: do(in_flight))
    push(app, cliniko, clock)
    if cliniko.during is not None:  # nothing was sent: the edits simply follow the push
        do(in_flight)
    do(after)

    sent = [values[before[-1]]] if before else []
    assert [body["city"] for _, body in cliniko.patches] == sent
    later = "edit again" not in before
    opened = [(r[1], r[4]) for r in all_rows(db_session, contact) if r[6]]
    assert opened == ([("pending", 0)] if later else [])
    closed = [(r[1], r[4]) for r in all_rows(db_session, contact) if not r[6]]
    assert closed == ([("pushed", 1)] if before and (not in_flight) else [])
    assert protected_fields(db_session, [contact.id]) == ({contact.id: {"city"}} if later else {})

    follow_up = FakeCliniko()
    push(app, follow_up, clock)
    assert follow_up.patches == ([("501", {"city": "Carlton"})] if later else [])
    assert [r for r in all_rows(db_session, contact) if r[6]] == []
