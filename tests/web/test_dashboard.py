"""The dashboard: counts, the weekly outcomes chart, the connection and last sync."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from oncord.dashboard.chart import build_chart
from oncord.dashboard.stats import counts, week_starts, weekly_outcomes
from tests.factories import make_appointment, make_connection, make_contact, make_sync_run


def test_week_starts_follow_the_clinic_clock_across_daylight_saving() -> None:
    """Weeks start at Monday midnight in Melbourne, before and after DST begins (4 Oct 2026)."""
    starts = week_starts(datetime(2026, 10, 14, 2, tzinfo=UTC), "Australia/Melbourne", weeks=3)
    assert starts == [
        datetime(2026, 9, 27, 14, tzinfo=UTC),  # Mon 28 Sep 00:00 AEST (+10)
        datetime(2026, 10, 4, 13, tzinfo=UTC),  # Mon 5 Oct 00:00 AEDT (+11)
        datetime(2026, 10, 11, 13, tzinfo=UTC),
        datetime(2026, 10, 18, 13, tzinfo=UTC),
    ]


def test_weekly_outcomes_and_counts(db_session, clock) -> None:
    """Appointments are counted in their week by outcome; upcoming and subscribed are counted."""
    now = clock.now()  # Sat 21 Nov 2026, 10:00 in Melbourne
    ann = make_contact(db_session, clock, email_marketing_status="subscribed")
    make_contact(db_session, clock, sms_marketing_status="subscribed")
    make_contact(db_session, clock)
    make_contact(db_session, clock, email_marketing_status="subscribed", archived_at=now)
    make_appointment(db_session, ann, now - timedelta(days=1), patient_arrived=True)
    make_appointment(db_session, ann, now - timedelta(days=1, hours=1), did_not_arrive=True)
    make_appointment(db_session, ann, now - timedelta(days=8), cancelled_at=now - timedelta(days=9))
    make_appointment(db_session, ann, now - timedelta(days=8), patient_arrived=True, archived_at=now)
    make_appointment(db_session, ann, now - timedelta(weeks=20), patient_arrived=True)  # too old
    make_appointment(db_session, ann, now + timedelta(days=2))
    make_appointment(db_session, ann, now + timedelta(days=30))
    make_appointment(db_session, ann, now + timedelta(days=3), cancelled_at=now)
    db_session.commit()
    figures = counts(db_session, now)
    assert (figures.contacts, figures.subscribed, figures.upcoming, figures.upcoming_week) == (3, 2, 2, 1)
    weeks = weekly_outcomes(db_session, now, "Australia/Melbourne")
    assert len(weeks) == 12
    assert (weeks[-1].attended, weeks[-1].did_not_arrive, weeks[-1].cancelled) == (1, 1, 0)
    assert (weeks[-2].attended, weeks[-2].cancelled) == (0, 1)
    assert sum(w.total for w in weeks) == 3


def test_chart_geometry() -> None:
    """Bars stack within the plot and share a rounded scale."""
    from oncord.dashboard.stats import Week

    start = datetime(2026, 11, 1, tzinfo=UTC)
    chart = build_chart([Week(start, attended=10, cancelled=5, did_not_arrive=3), Week(start)])
    assert chart.ticks[-1][1] == 20
    bar = chart.bars[0]
    assert bar.segments[0].y + bar.segments[0].height == chart.baseline
    assert bar.segments[2].y >= 10
    assert not chart.is_empty and build_chart([Week(start)]).is_empty


def test_dashboard_page(staff_client, db_session, clock) -> None:
    """The page shows counts, an inline SVG chart (no CDN), the connection and last sync."""
    contact = make_contact(db_session, clock, email_marketing_status="subscribed")
    make_appointment(db_session, contact, clock.now() - timedelta(days=1), patient_arrived=True)
    make_connection(db_session, clock, account_name="Sunnyside <Physio>")
    make_sync_run(db_session, clock, status="failed", error="Cliniko could not be reached just now.")
    db_session.commit()
    body = staff_client.get("/").get_data(as_text=True)
    assert re.search(r'data-stat="contacts">1<', body) and re.search(r'data-stat="subscribed">1<', body)
    assert "<svg class=\"chart\"" in body and 'class="seg seg-attended"' in body
    assert "Sunnyside &lt;Physio&gt;" in body
    assert "Did not finish" in body and "Cliniko could not be reached" in body
    assert "http://" not in body.replace("http://www.w3.org", "") and "https://" not in body


def test_dashboard_empty_state_for_staff(staff_client) -> None:
    """With nothing connected, staff are told to ask an admin; the chart explains its absence."""
    body = staff_client.get("/").get_data(as_text=True)
    assert "Not connected" in body and "Ask your clinic" in body
    assert "No appointments in the last 12 weeks yet" in body
    assert "Nothing has been read from Cliniko yet" in body


def test_dashboard_empty_state_for_admins(admin_client) -> None:
    """Admins get a button to connect Cliniko."""
    assert "Connect Cliniko" in admin_client.get("/").get_data(as_text=True)
