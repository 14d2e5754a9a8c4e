"""Sending needs a confirmation naming count and channel; drafts can be deleted, sent campaigns
archived (their report kept), any campaign duplicated; automations deleted (send log kept) and duplicated."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oncord.campaigns import lifecycle
from oncord.jobs.enqueue import enqueue_round
from oncord.models import Automation, AutomationSend, Campaign, CampaignRecipient
from oncord.queue import get_queue
from tests.automations.helpers import make_automation
from tests.campaigns.helpers import fresh, make_campaign
from tests.factories import make_appointment, make_contact
from tests.web.conftest import post


def _subscribed(db_session, clock, n: int) -> None:
    for i in range(n):
        make_contact(db_session, clock, first_name=f"P{i}", email=f"p{i}@example.com",
                     phone=f"0412 000 {i:03d}", email_marketing_status="subscribed",
                     sms_marketing_status="subscribed")


def test_send_now_first_asks_naming_the_count_and_channel_and_a_post_without_confirmation_sends_nothing(
    staff, messaging_app, db_session, clock
) -> None:
    """The first POST answers with the question ("3 contacts", "SMS") and leaves the draft a draft."""
    _subscribed(db_session, clock, 3)
    campaign = make_campaign(db_session, clock, name="Winter SMS", channel="sms")
    db_session.commit()
    asked = post(staff, f"/campaigns/{campaign.id}/send", htmx=True)
    assert asked.status_code == 200
    assert "Send this SMS now?" in asked.text
    assert 'data-confirm-count>3 contacts<' in asked.text and "data-confirm-channel>SMS<" in asked.text
    assert fresh(db_session, campaign.id).state == "draft"
    assert get_queue(messaging_app).get_job_ids() == []
    # Anything but the confirmation's own value only asks again.
    post(staff, f"/campaigns/{campaign.id}/send", {"confirm": "1"}, htmx=True)
    assert fresh(db_session, campaign.id).state == "draft"

    sent = post(staff, f"/campaigns/{campaign.id}/send", {"confirm": "yes"}, htmx=True)
    assert sent.status_code == 204 and fresh(db_session, campaign.id).state == "scheduled"
    assert get_queue(messaging_app).get_job_ids() == [f"campaign-{campaign.id}-r1"]


def test_a_draft_or_scheduled_campaign_can_be_deleted_and_its_job_goes_too(
    staff, messaging_app, db_session, clock
) -> None:
    """Delete removes a draft, and a scheduled one with its queued job; a started campaign is refused."""
    draft = make_campaign(db_session, clock, name="Draft")
    scheduled = make_campaign(db_session, clock, name="Later")
    db_session.commit()
    lifecycle.schedule(db_session, scheduled, clock.now() + timedelta(days=1), clock.now())
    db_session.commit()
    queue = get_queue(messaging_app)
    job_id = enqueue_round(queue, clock, scheduled)
    ids = [draft.id, scheduled.id]
    assert queue.fetch_job(job_id) is not None

    for campaign_id in ids:
        response = post(staff, f"/campaigns/{campaign_id}/delete", htmx=True)
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/campaigns"
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert queue.fetch_job(job_id) is None
    listing = staff.get("/campaigns").text
    assert "“Later” was deleted; nothing was sent." in listing
    assert f'href="/campaigns/{ids[1]}"' not in listing

    started = make_campaign(db_session, clock, name="Going", state="sending")
    db_session.commit()
    assert post(staff, f"/campaigns/{started.id}/delete", htmx=True).status_code == 409
    assert fresh(db_session, started.id) is not None


def test_a_sent_campaign_is_archived_with_its_report_kept_and_can_be_duplicated(
    staff, db_session, clock
) -> None:
    """Archive hides it from the list (shown under Archived) and keeps its recipients and report;
    Duplicate makes a new draft with the same audience and message."""
    contact = make_contact(db_session, clock, first_name="Ada", email="ada@example.com",
                           email_marketing_status="subscribed")
    campaign = make_campaign(db_session, clock, name="Spring news", state="sent", recipients_total=1,
                             finished_at=clock.now())
    db_session.add(CampaignRecipient(campaign_id=campaign.id, contact_id=contact.id, state="sent",
                                     sent_at=clock.now(), created_at=clock.now(), updated_at=clock.now()))
    draft = make_campaign(db_session, clock, name="Draft")
    db_session.commit()
    assert post(staff, f"/campaigns/{draft.id}/archive", htmx=True).status_code == 409  # drafts are deleted

    assert post(staff, f"/campaigns/{campaign.id}/archive", htmx=True).status_code == 204
    listing = staff.get("/campaigns").text
    assert f'href="/campaigns/{campaign.id}"' not in listing and "Archived campaigns (1)" in listing
    assert "Spring news" in staff.get("/campaigns?archived=1").text
    report = staff.get(f"/campaigns/{campaign.id}").text
    assert "Archived" in report and 'data-count="sent">1<' in report

    copied = post(staff, f"/campaigns/{campaign.id}/duplicate", htmx=True)
    copy = db_session.scalars(select(Campaign).where(Campaign.name == "Copy of Spring news")).one()
    assert copied.headers["HX-Redirect"] == f"/campaigns/{copy.id}/edit"
    assert (copy.state, copy.channel, copy.audience, copy.email_body, copy.archived_at) == (
        "draft", campaign.channel, campaign.audience, campaign.email_body, None)


def test_an_automation_can_be_deleted_keeping_its_send_log_and_duplicated(
    messaging_app, db_session, clock
) -> None:
    """Deleted: off, gone from the list, its send log still readable; the copy is off and the same."""
    from tests.automations.conftest import _browser

    staff = _browser(messaging_app, db_session, clock, admin=False)
    contact = make_contact(db_session, clock, first_name="Mia", email="mia@example.com")
    appointment = make_appointment(db_session, contact, clock.now() - timedelta(days=1))
    automation = make_automation(db_session, clock, name="Day-before reminder")
    db_session.add(AutomationSend(automation_id=automation.id, appointment_id=appointment.id,
                                  contact_id=contact.id, trigger_key="upcoming", channel="email",
                                  state="sent", due_at=clock.now(), sent_at=clock.now(),
                                  created_at=clock.now(), updated_at=clock.now()))
    db_session.commit()

    copied = staff.post(f"/automations/{automation.id}/duplicate")
    copy = db_session.scalars(select(Automation).where(Automation.name.startswith("Copy of"))).one()
    assert copied.headers["HX-Redirect"] == f"/automations/{copy.id}"
    assert (copy.enabled, copy.trigger, copy.offset_minutes, copy.sms_body, copy.is_service) == (
        False, automation.trigger, automation.offset_minutes, automation.sms_body, automation.is_service)

    assert staff.post(f"/automations/{automation.id}/delete").status_code == 204
    db_session.expire_all()
    gone = db_session.get(Automation, automation.id)
    assert gone.deleted_at is not None and gone.enabled is False
    listing = staff.get("/automations").get_data(as_text=True)
    assert "Deleted automations (1)" in listing and "Copy of Day-before reminder" in listing
    assert staff.get(f"/automations/{automation.id}").status_code == 404
    log = staff.get(f"/automations/{automation.id}/log").get_data(as_text=True)
    assert "Day-before reminder" in log and "Mia" in log
    assert db_session.scalar(select(func.count()).select_from(AutomationSend)) == 1
