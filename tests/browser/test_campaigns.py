"""A receptionist builds a campaign's audience, watches the count, sends it and watches it go, in Chromium."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from oncord.models import Campaign, MessagingSettings
from oncord.sandbox.holds import Hold
from tests.browser.conftest import screenshot
from tests.browser.test_staff_flows import log_in
from tests.campaigns.helpers import HoldingSmtpSink
from tests.factories import (
    make_appointment,
    make_appointment_type,
    make_contact,
    make_practitioner,
    make_user,
)
from tests.fixtures.worker import ROOT, worker_env

pytestmark = pytest.mark.browser


@pytest.fixture
def holding_sink():
    """An SMTP server that can hold a message, so the campaign stays mid-send while the page is read."""
    sink = HoldingSmtpSink()
    yield sink
    sink.stop()


def _seed(db_session, clock) -> None:
    """Twelve subscribed patients of Dr Lee, eight of Dr Patel, four who never said yes; a sender."""
    lee, patel = make_practitioner(db_session, "Dr Lee"), make_practitioner(db_session, "Dr Patel")
    massage = make_appointment_type(db_session, "Sports massage")
    for i in range(24):
        practitioner = lee if i < 12 or i >= 20 else patel
        contact = make_contact(
            db_session,
            clock,
            first_name=f"Pat{i:02d}",
            last_name="Example",
            email=f"pat{i}@example.com",
            email_marketing_status="subscribed" if i < 20 else "pending",
        )
        make_appointment(
            db_session,
            contact,
            clock.now() - timedelta(days=10 + i),
            practitioner_id=practitioner.id,
            appointment_type_id=massage.id,
            patient_arrived=True,
        )
    db_session.add(
        MessagingSettings(
            id=1,
            sender_name="Sunnyside Physio",
            sender_email="hello@sunnyside.example",
            sender_details="12 Beach Road, St Kilda VIC 3182",
            email_quiet_off=True,  # worker.py runs on the wall clock here
        )
    )
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()


def test_build_an_audience_send_and_watch_progress(
    page: Page, live_server, app, db_session, clock, holding_sink
) -> None:
    """The count changes as conditions change; after Send now the widget polls until all are sent."""
    _seed(db_session, clock)
    log_in(page, live_server, "reception@clinic.example", "/campaigns")
    page.get_by_role("link", name="New e-mail campaign").first.click()
    count = page.locator("[data-receive-count]")
    expect(count).to_have_text("20")  # everyone subscribed, seen in the last 180 days
    page.get_by_label("Name (staff only)").fill("Sports massage recall")

    page.locator("summary", has_text="Practitioners").click()
    page.get_by_label("Dr Lee").check()
    expect(count).to_have_text("12")
    expect(page.locator(".excluded-counts")).to_contain_text("4 left out: Not subscribed to e-mails")
    page.get_by_label("Days").fill("15")
    expect(count).to_have_text("6")  # Pat00-Pat05 were seen 10-15 days ago
    page.get_by_label("Days").fill("180")
    expect(count).to_have_text("12")
    page.get_by_role("button", name="Add an appointment condition").click()
    expect(page.locator("fieldset.condition legend", has_text="Appointment condition 2")).to_be_visible()
    page.get_by_role("button", name="Remove this condition").nth(1).click()
    expect(page.locator("fieldset.condition legend", has_text="Appointment condition 2")).to_have_count(0)
    expect(count).to_have_text("12")
    screenshot(page, "campaign-audience")

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Would be sent to pat0@example.com")
    page.get_by_role("button", name="Save draft").click()
    send = page.get_by_role("button", name="Send now to 12 contacts")
    expect(send).to_be_visible()
    send.click()
    # The server asks first, naming the count and the channel; nothing is sent until confirmed.
    question = page.get_by_role("alertdialog")
    expect(question).to_contain_text("Send this e-mail now?")
    expect(question.locator("[data-confirm-count]")).to_have_text("12 contacts")
    expect(question.locator("[data-confirm-channel]")).to_have_text("e-mail")
    campaign = db_session.scalars(select(Campaign)).one()
    db_session.refresh(campaign)
    assert campaign.state == "draft"
    question.get_by_role("button", name="Yes, send the e-mail to 12 contacts").click()

    widget = page.locator("#campaign-progress")
    expect(widget).to_contain_text("Waiting for the background worker")
    # The fourth message waits in the sink until the page has shown the campaign sending.
    hold = holding_sink.holds.add(Hold(skip=3, timeout=120))
    env = {
        **worker_env(app),
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": holding_sink.host,
        "SMTP_PORT": str(holding_sink.port),
        "SMTP_TLS": "none",
        "CAMPAIGN_BATCH_SIZE": "3",
    }
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py"), "--burst"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        expect(widget).to_have_attribute("data-state", "sending", timeout=30_000)
        expect(widget.locator("progress")).to_be_visible()
        screenshot(page, "campaign-sending")
        holding_sink.holds.release(hold.id)
        expect(widget).to_have_attribute("data-state", "sent", timeout=30_000)
    finally:
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    expect(widget.locator('[data-count="sent"]')).to_have_text("12")
    assert widget.get_attribute("data-hx-get") is None  # it stopped polling
    assert sorted(m.rcpt_tos[0] for m in holding_sink.received) == sorted(
        f"pat{i}@example.com" for i in range(12)
    )
    screenshot(page, "campaign-sent")


def test_a_draft_is_deleted_after_the_browser_asks(page: Page, live_server, app, db_session, clock) -> None:
    """Delete asks in a dialog; dismissed, the draft stays; accepted, it is gone from the list."""
    from tests.campaigns.helpers import make_campaign

    make_user(db_session, clock, email="reception@clinic.example")
    campaign_id = make_campaign(db_session, clock, name="Autumn recall").id
    db_session.commit()
    log_in(page, live_server, "reception@clinic.example", f"/campaigns/{campaign_id}")
    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Autumn recall")).to_be_visible()
    assert messages and "Delete “Autumn recall”?" in messages[0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{live_server}/campaigns")
    expect(page.locator(".flash-success")).to_contain_text("“Autumn recall” was deleted; nothing was sent.")
    db_session.expire_all()
    assert db_session.get(Campaign, campaign_id) is None
