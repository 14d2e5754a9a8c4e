"""Audience queries agree with a brute-force evaluation in Python, on both databases, at time-zone edges."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from oncord.campaigns.audience import (
    RECEIVE,
    AppointmentCondition,
    Audience,
    ContactConditions,
    Period,
    breakdown,
    count_and_sample,
    day_start,
    recipients_query,
)
from oncord.messaging.sms import mobile_number
from oncord.models import Appointment, Business, Contact
from tests.factories import make_appointment, make_appointment_type, make_contact, make_practitioner

MELBOURNE = "Australia/Melbourne"
LOS_ANGELES = "America/Los_Angeles"
STATUSES = ("subscribed", "pending", "unsubscribed")
# Melbourne's daylight saving ended on 5 April 2026 (03:00 -> 02:00) and began on 4 October 2026
# (02:00 -> 03:00); Los Angeles changed on 8 March and 1 November 2026.
KEY_DATES = (
    date(2026, 4, 5),
    date(2026, 10, 4),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 6, 1),
    date(2026, 11, 14),
    date(2026, 11, 21),
    date(2026, 11, 22),
    date(2026, 12, 1),
    date(2025, 12, 25),
)


# --- The brute force: local calendar days, worked out one appointment at a time -------------------


def _period_holds(period: Period, starts_at: datetime, now: datetime, zone: ZoneInfo) -> bool:
    day = starts_at.astimezone(zone).date()
    today = now.astimezone(zone).date()
    if period.kind == "last_days":
        return day >= today - timedelta(days=period.days) and starts_at < now
    if period.kind == "next_days":
        return starts_at >= now and day <= today + timedelta(days=period.days)
    if period.kind == "between":
        return period.start <= day <= period.end
    if period.kind == "since":
        return day >= period.start
    if period.kind == "before":
        return day < period.start
    return True


def _outcome(appointment: Appointment) -> str:
    return {"arrived": "attended"}.get(appointment.outcome, appointment.outcome)


def _appointment_matches(cond: AppointmentCondition, a: Appointment, now: datetime, zone: ZoneInfo) -> bool:
    return (
        a.archived_at is None
        and _period_holds(cond.period, a.starts_at, now, zone)
        and (not cond.appointment_type_ids or a.appointment_type_id in cond.appointment_type_ids)
        and (not cond.practitioner_ids or a.practitioner_id in cond.practitioner_ids)
        and (not cond.business_ids or a.business_id in cond.business_ids)
        and (not cond.outcomes or _outcome(a) in cond.outcomes)
    )


def _filled(value: str | None) -> bool:
    return bool((value or "").strip())


def _contact_matches(c: Contact, conditions: ContactConditions) -> bool:
    return (
        (not conditions.email_statuses or c.email_marketing_status in conditions.email_statuses)
        and (not conditions.sms_statuses or c.sms_marketing_status in conditions.sms_statuses)
        and (conditions.has_email is None or _filled(c.email) == conditions.has_email)
        and (conditions.has_phone is None or _filled(c.phone) == conditions.has_phone)
        and (not conditions.post_codes or (c.post_code or "").strip() in conditions.post_codes)
        and (
            not conditions.suburbs
            or (c.city or "").strip().lower() in {s.lower() for s in conditions.suburbs}
        )
    )


def _reason(c: Contact, channel: str) -> str:
    status = c.email_marketing_status if channel == "email" else c.sms_marketing_status
    if status == "unsubscribed":
        return "unsubscribed"
    if c.archived_at is not None:
        return "contact_archived"
    if status != "subscribed":
        return "no_consent"
    if channel == "email" and not _filled(c.email):
        return "no_email"
    # Parsed here, independently of the mobile flag the query reads: a landline gets no SMS.
    if channel == "sms" and mobile_number(c.phone, "AU") is None:
        return "no_mobile"
    return RECEIVE


def brute_force(
    contacts, appointments, audience: Audience, channel: str, now: datetime, time_zone: str
) -> dict[int, str]:
    """contact id -> "receive" or the reason, for every matching contact."""
    zone = ZoneInfo(time_zone)
    by_contact: dict[int, list[Appointment]] = {}
    for a in appointments:
        if a.contact_id is not None:
            by_contact.setdefault(a.contact_id, []).append(a)
    result = {}
    for c in contacts:
        mine = by_contact.get(c.id, [])
        if all(
            any(_appointment_matches(cond, a, now, zone) for a in mine) == cond.has
            for cond in audience.appointments
        ) and _contact_matches(c, audience.contact):
            result[c.id] = _reason(c, channel)
    return result


# --- Seeded data ----------------------------------------------------------------------------------


def _edge_moments(now: datetime, rng: random.Random) -> list[datetime]:
    """Moments where off-by-one and time-zone mistakes show: around local midnights, DST and now."""
    moments = [now, now - timedelta(seconds=1), now + timedelta(seconds=1)]
    for zone_name in (MELBOURNE, LOS_ANGELES):
        zone = ZoneInfo(zone_name)
        today = now.astimezone(zone).date()
        days = [*KEY_DATES, *(today + timedelta(days=k) for k in (-181, -180, -30, -7, -1, 0, 1, 7, 8, 30))]
        for day in days:
            start = day_start(day, zone)
            moments += [
                start,
                start - timedelta(seconds=1),
                start + timedelta(hours=rng.choice((1, 2, 3, 23))),
            ]
    return moments


@pytest.fixture
def clinic(db_session, clock):
    """About 120 contacts and 1,300 appointments, many of them on the edges that matter."""
    rng = random.Random(6)
    now = clock.now()
    practitioners = [make_practitioner(db_session, f"Dr {name}") for name in ("Lee", "Patel", "Nguyen")]
    kinds = [make_appointment_type(db_session, name) for name in ("Sports massage", "Initial", "Review")]
    businesses = []
    for n, (name, zone) in enumerate((("St Kilda", MELBOURNE), ("Venice", LOS_ANGELES))):
        business = Business(cliniko_id=f"b{n}", name=name, time_zone_identifier=zone)
        db_session.add(business)
        businesses.append(business)
    db_session.flush()
    cities = ["St Kilda", " st kilda", "Elwood", "ELWOOD ", None, "Brighton"]
    post_codes = ["3182", " 3182", "3184", None, "3186"]
    emails = [None, "", "  ", "x@example.com"]
    contacts = []
    for i in range(120):
        email = rng.choice(emails)
        email = email.replace("x@", f"p{i}@") if email else email
        contacts.append(
            make_contact(
                db_session,
                clock,
                first_name=f"P{i}",
                last_name=rng.choice(["Smith", "Lee", "Ng"]),
                email=email,
                phone=rng.choice([None, "", "0412 345 678", "03 9000 0000"]),
                email_marketing_status=rng.choice(STATUSES),
                sms_marketing_status=rng.choice(STATUSES),
                post_code=rng.choice(post_codes),
                city=rng.choice(cities),
                archived_at=now - timedelta(days=3) if i % 17 == 0 else None,
            )
        )
    edges = _edge_moments(now, rng)
    for i in range(1300):
        contact = rng.choice(contacts) if i % 50 else None
        starts = (
            rng.choice(edges) if i % 2 else now + timedelta(minutes=rng.randint(-600 * 24 * 60, 90 * 24 * 60))
        )
        cancelled = rng.random() < 0.15
        make_appointment(
            db_session,
            contact,
            starts,
            practitioner_id=rng.choice(practitioners).id,
            appointment_type_id=rng.choice(kinds).id,
            business_id=rng.choice(businesses).id if rng.random() < 0.8 else None,
            cancelled_at=starts - timedelta(days=1) if cancelled else None,
            did_not_arrive=rng.choice([None, False, True]),
            patient_arrived=rng.choice([None, False, True]),
            archived_at=now if rng.random() < 0.04 else None,
        )
    db_session.commit()
    return {
        "practitioners": [p.id for p in practitioners],
        "types": [k.id for k in kinds],
        "businesses": [b.id for b in businesses],
    }


def _random_period(rng: random.Random) -> Period:
    kind = rng.choice(["any", "last_days", "next_days", "between", "since", "before"])
    if kind in ("last_days", "next_days"):
        return Period(kind, days=rng.choice([1, 7, 30, 180]))
    start = rng.choice(KEY_DATES)
    if kind == "between":
        return Period(kind, start=start, end=start + timedelta(days=rng.choice([0, 1, 6, 60])))
    if kind in ("since", "before"):
        return Period(kind, start=start)
    return Period()


def _subset(rng: random.Random, values: list, chance: float = 0.4) -> tuple:
    return tuple(v for v in values if rng.random() < 0.5) if rng.random() < chance else ()


def random_audience(rng: random.Random, ids: dict[str, list[int]]) -> Audience:
    """Up to three appointment conditions and some contact conditions."""
    conditions = tuple(
        AppointmentCondition(
            has=rng.random() < 0.7,
            period=_random_period(rng),
            practitioner_ids=_subset(rng, ids["practitioners"]),
            appointment_type_ids=_subset(rng, ids["types"]),
            business_ids=_subset(rng, ids["businesses"], 0.25),
            outcomes=_subset(rng, ["attended", "booked", "did_not_arrive", "cancelled"]),
        )
        for _ in range(rng.choice([0, 1, 1, 2, 3]))
    )
    contact = ContactConditions(
        email_statuses=_subset(rng, list(STATUSES), 0.2),
        sms_statuses=_subset(rng, list(STATUSES), 0.2),
        has_email=rng.choice([None, None, True, False]),
        has_phone=rng.choice([None, None, True, False]),
        post_codes=("3182",) if rng.random() < 0.15 else (),
        suburbs=("St Kilda", "elwood") if rng.random() < 0.15 else (),
    )
    return Audience(conditions, contact)


@pytest.mark.parametrize("time_zone", [MELBOURNE, LOS_ANGELES])
def test_random_audiences_match_brute_force(clinic, db_session, clock, time_zone) -> None:
    """For 70 random audiences, the queries find exactly who the brute force finds, with the same reasons."""
    contacts = list(db_session.scalars(select(Contact)))
    appointments = list(db_session.scalars(select(Appointment)))
    rng = random.Random(time_zone)
    now = clock.now()
    non_empty = 0
    for _ in range(70):
        audience = Audience.from_json(random_audience(rng, clinic).to_json())  # through storage too
        channel = rng.choice(["email", "sms"])
        expected = brute_force(contacts, appointments, audience, channel, now, time_zone)
        got = set(db_session.scalars(recipients_query(audience, channel, now, time_zone)))
        assert got == {i for i, r in expected.items() if r == RECEIVE}, audience
        counts = breakdown(db_session, audience, channel, now, time_zone)
        tally = Counter(expected.values())
        assert counts.receive == tally.pop(RECEIVE, 0)
        assert counts.excluded == dict(tally)
        # The editor's count also takes landlines out of an SMS audience (only mobiles receive SMS).
        by_id = {c.id: c for c in contacts}
        exact = {i: "no_mobile" if r == RECEIVE and channel == "sms"
                 and mobile_number(by_id[i].phone, "AU") is None else r for i, r in expected.items()}
        both, picked = count_and_sample(db_session, audience, channel, now, time_zone, per_group=3)
        tally = Counter(exact.values())
        assert both.receive == tally.pop(RECEIVE, 0) and both.excluded == dict(tally)
        assert all(exact[p.id] == p.reason for p in picked)
        assert Counter(p.reason for p in picked) == {
            r: min(3, n) for r, n in Counter(exact.values()).items()
        }
        non_empty += bool(got)
    assert non_empty > 20  # the random audiences are not all empty


def test_lapsed_patients_have_no_appointment_since_a_date(db_session, clock) -> None:
    """ "No appointment since 1 June": earlier visits only, however cancelled ones and bookings fall."""
    zone = ZoneInfo(MELBOURNE)
    june = date(2026, 6, 1)
    lapsed = make_contact(db_session, clock, email="lapsed@example.com", email_marketing_status="subscribed")
    booked_again = make_contact(
        db_session, clock, email="back@example.com", email_marketing_status="subscribed"
    )
    cancelled_only = make_contact(
        db_session, clock, email="cx@example.com", email_marketing_status="subscribed"
    )
    never = make_contact(db_session, clock, email="never@example.com", email_marketing_status="subscribed")
    make_appointment(
        db_session, lapsed, day_start(june, zone) - timedelta(seconds=1)
    )  # 31 May 23:59:59 local
    make_appointment(db_session, booked_again, datetime(2026, 3, 1, tzinfo=UTC))
    make_appointment(db_session, booked_again, day_start(june, zone))  # 1 June 00:00 local
    make_appointment(db_session, cancelled_only, datetime(2026, 3, 1, tzinfo=UTC))
    make_appointment(db_session, cancelled_only, clock.now() + timedelta(days=3), cancelled_at=clock.now())
    db_session.commit()
    since_june = Period("since", start=june)
    seen_before = AppointmentCondition(has=True, period=Period("before", start=june))
    no_visit_since = AppointmentCondition(has=False, period=since_june, outcomes=("attended", "booked"))
    audience = Audience((seen_before, no_visit_since))
    got = set(db_session.scalars(recipients_query(audience, "email", clock.now(), MELBOURNE)))
    assert got == {lapsed.id, cancelled_only.id}
    anything_since = Audience((AppointmentCondition(has=False, period=since_june),))
    got = set(db_session.scalars(recipients_query(anything_since, "email", clock.now(), MELBOURNE)))
    assert got == {lapsed.id, never.id}


def test_period_bounds_follow_the_clinic_calendar_across_daylight_saving() -> None:
    """Local midnights become the right UTC moments on both sides of a DST change."""
    zone = ZoneInfo(MELBOURNE)
    now = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)  # 14:00 on Monday 5 October in Melbourne (AEDT, +11)
    start, until = Period("last_days", days=2).bounds(now, zone)
    assert start == datetime(2026, 10, 2, 14, 0, tzinfo=UTC)  # 3 October 00:00 AEST (+10)
    assert until == now
    start, until = Period("next_days", days=1).bounds(now, zone)
    assert (start, until) == (now, datetime(2026, 10, 6, 13, 0, tzinfo=UTC))  # 7 October 00:00 AEDT
    start, until = Period("between", start=date(2026, 4, 5), end=date(2026, 4, 5)).bounds(now, zone)
    assert until - start == timedelta(hours=25)  # the day daylight saving ended is 25 hours long
    assert Period("since", start=date(2026, 6, 1)).bounds(now, zone) == (
        datetime(2026, 5, 31, 14, tzinfo=UTC),
        None,
    )
    assert Period().bounds(now, zone) == (None, None)


def test_last_days_counts_from_the_local_midnight_not_the_utc_one(db_session, clock) -> None:
    """At 10:00 in Melbourne (23:00 UTC the day before), "the last 1 day" starts at yesterday's midnight."""
    zone = ZoneInfo(MELBOURNE)
    today = clock.now().astimezone(zone).date()
    inside = make_contact(db_session, clock, email="in@example.com", email_marketing_status="subscribed")
    outside = make_contact(db_session, clock, email="out@example.com", email_marketing_status="subscribed")
    make_appointment(db_session, inside, day_start(today - timedelta(days=1), zone))
    make_appointment(db_session, outside, day_start(today - timedelta(days=1), zone) - timedelta(seconds=1))
    db_session.commit()
    audience = Audience((AppointmentCondition(period=Period("last_days", days=1)),))
    assert set(db_session.scalars(recipients_query(audience, "email", clock.now(), MELBOURNE))) == {inside.id}
