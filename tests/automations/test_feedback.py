"""Feedback (NPS) end to end: the recipe's e-mail carries signed 0-10 links, opening one records
nothing, only the public page's POST records (one row per message), the feed and the dashboard show
it, and a low score enrols the patient in the follow-up journey whose e-mail goes out (in-process
RQ worker, real Redis, the sandbox over HTTP, the test's clock)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oncord.automations.journeys.recipes import BY_KEY, turn_on
from oncord.models import FeedbackResponse, JourneyEnrolment
from tests.automations.conftest import contact_of, iso

_LINK = re.compile(r"/f/([A-Za-z0-9_.\-]+)/(\d+)\"")
_PAGE = re.compile(r"/f/([A-Za-z0-9_.\-]+)\s")


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "the feedback page carries no CSRF token"
    return match.group(1)


def _responses(db_session) -> list[tuple[str, int]]:
    db_session.expire_all()
    return [(r.message_ref, r.score) for r in db_session.scalars(select(FeedbackResponse))]


@pytest.fixture
def asked(connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink):
    """Olivia saw a practitioner, arrived, and got the NPS recipe's e-mail; the follow-up is on."""
    olivia = make_patient("Olivia")
    pull()
    turn_on(db_session, BY_KEY["feedback-nps"], clock)
    turn_on(db_session, BY_KEY["feedback-low-score"], clock)
    db_session.commit()
    starts = clock.now() + timedelta(hours=2)
    booking = sandbox.store.add_appointment(patient_id=olivia.cliniko_id, starts_at=iso(starts))
    clock.advance(minutes=10)
    pull()
    clock.set(starts + timedelta(hours=1))
    sandbox.store.mark_arrived(booking)
    pull()
    clock.advance(hours=3, minutes=5)
    dispatch()
    dispatch()
    assert [m.rcpt_tos for m in smtp_sink.received] == [(olivia.email,)]
    return olivia, smtp_sink.received[0]


def test_the_email_has_ten_buttons_and_the_text_part_one_link(asked) -> None:
    """HTML: a link per score 0-10 with one token; text: one short link to the page listing them."""
    _, email = asked
    links = _LINK.findall(email.html())
    assert [int(score) for _, score in links] == list(range(11))
    assert len({token for token, _ in links}) == 1
    assert _PAGE.findall(email.text()) == [links[0][0]]


def test_opening_a_link_records_nothing_and_only_the_post_records_once(
    asked, connected, db_session, staff, clock
) -> None:
    """GET (what a mail scanner does) records nothing; POST records; a second POST changes the one row."""
    olivia, email = asked
    token = _LINK.findall(email.html())[9][0]
    patient = connected.test_client()

    opened = patient.get(f"/f/{token}/9")
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert re.search(r'<input checked[^>]*value="9"|<input[^>]*value="9"[^>]*checked', page)
    assert patient.get(f"/f/{token}").status_code == 200
    assert _responses(db_session) == []

    # Without the page's CSRF token the POST is refused.
    assert patient.post(f"/f/{token}", data={"score": "9"}).status_code == 400
    assert _responses(db_session) == []

    thanked = patient.post(f"/f/{token}", data={"score": "9", "csrf_token": _csrf(page)})
    assert thanked.status_code == 200
    assert 'data-feedback-score="9"' in thanked.get_data(as_text=True)
    [(ref, score)] = _responses(db_session)
    assert ref.startswith("automation-send:") and score == 9

    clock.advance(minutes=2)
    again = patient.post(f"/f/{token}", data={"score": "7", "csrf_token": _csrf(page)})
    assert again.status_code == 200
    assert _responses(db_session) == [(ref, 7)]

    contact = contact_of(db_session, olivia)
    feed = staff.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Gave 7/10 (passive)" in feed
    assert feed.count("Gave ") == 1


def test_the_dashboard_shows_the_nps(asked, connected, db_session, staff) -> None:
    """One promoter: NPS +100 from one response, in this month's row of the figures."""
    _, email = asked
    assert 'data-stat="nps"' not in staff.get("/").get_data(as_text=True)
    token = _LINK.findall(email.html())[10][0]
    patient = connected.test_client()
    page = patient.get(f"/f/{token}/10").get_data(as_text=True)
    patient.post(f"/f/{token}", data={"score": "10", "csrf_token": _csrf(page)})

    body = staff.get("/").get_data(as_text=True)
    assert re.search(r'data-stat="nps">\+100<', body)
    assert "from 1 response: 1 promoter, 0 passive, 0 detractors" in body
    assert re.search(r'data-nps-month="5"><td>[^<]+</td><td>100</td><td>1</td>', body)


def test_a_tampered_or_expired_link_records_nothing(asked, connected, db_session, clock) -> None:
    """A changed token is refused with a clear page; so is a link older than its lifetime."""
    _, email = asked
    token = _LINK.findall(email.html())[3][0]
    patient = connected.test_client()
    page = patient.get(f"/f/{token}/3").get_data(as_text=True)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    refused = patient.get(f"/f/{tampered}/3")
    assert refused.status_code == 404
    assert "This feedback link does not work" in refused.get_data(as_text=True)
    assert patient.post(f"/f/{tampered}", data={"score": "3", "csrf_token": _csrf(page)}).status_code == 404
    assert _responses(db_session) == []

    clock.advance(days=61)
    expired = patient.post(f"/f/{token}", data={"score": "3", "csrf_token": _csrf(page)})
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    assert _responses(db_session) == []


def test_a_low_score_enrols_the_patient_in_the_follow_up_and_its_email_goes(
    asked, connected, db_session, dispatch, clock, smtp_sink
) -> None:
    """3/10 enrols Olivia in the low-feedback journey once; its e-mail reaches her; a 9 would not."""
    olivia, email = asked
    token = _LINK.findall(email.html())[3][0]
    patient = connected.test_client()
    page = patient.get(f"/f/{token}/3").get_data(as_text=True)
    dispatch()
    assert db_session.scalars(select(JourneyEnrolment)).all() == []

    patient.post(f"/f/{token}", data={"score": "3", "csrf_token": _csrf(page)})
    clock.advance(minutes=1)
    dispatch()
    dispatch()
    # Clicking again (another low score) never enrols her twice.
    patient.post(f"/f/{token}", data={"score": "2", "csrf_token": _csrf(page)})
    clock.advance(minutes=1)
    dispatch()

    db_session.expire_all()
    enrolments = db_session.scalars(select(JourneyEnrolment)).all()
    assert [e.contact_id for e in enrolments] == [contact_of(db_session, olivia).id]
    follow_ups = [m for m in smtp_sink.received[1:]]
    assert [m.rcpt_tos for m in follow_ups] == [(olivia.email,)]
    assert "Thank you for your feedback, Olivia" in follow_ups[0].message["Subject"]


def test_a_high_score_starts_no_follow_up(asked, connected, db_session, dispatch, clock, smtp_sink) -> None:
    """A promoter is not followed up."""
    _, email = asked
    token = _LINK.findall(email.html())[9][0]
    patient = connected.test_client()
    page = patient.get(f"/f/{token}/9").get_data(as_text=True)
    patient.post(f"/f/{token}", data={"score": "9", "csrf_token": _csrf(page)})
    clock.advance(minutes=1)
    dispatch()
    dispatch()
    assert db_session.scalars(select(JourneyEnrolment)).all() == []
    assert len(smtp_sink.received) == 1


def test_one_link_posted_too_often_is_held_off_for_a_while(asked, connected, db_session, clock) -> None:
    """Ten answers in ten minutes are taken; the eleventh gets 429 and changes nothing, later it works."""
    _, email = asked
    token = _LINK.findall(email.html())[5][0]
    patient = connected.test_client()
    page = patient.get(f"/f/{token}/5").get_data(as_text=True)
    for _ in range(10):
        assert patient.post(f"/f/{token}", data={"score": "5", "csrf_token": _csrf(page)}).status_code == 200
    held = patient.post(f"/f/{token}", data={"score": "1", "csrf_token": _csrf(page)})
    assert held.status_code == 429
    assert [score for _, score in _responses(db_session)] == [5]

    clock.advance(minutes=11)
    assert patient.post(f"/f/{token}", data={"score": "1", "csrf_token": _csrf(page)}).status_code == 200
    assert [score for _, score in _responses(db_session)] == [1]
