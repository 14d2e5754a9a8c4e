"""What a receptionist and a clinic owner do, in a real browser."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_appointment_type,
    make_connection,
    make_contact,
    make_event,
    make_practitioner,
    make_user,
)
from tests.fixtures.worker import ROOT, worker_env

pytestmark = pytest.mark.browser

FIRST = ["Olivia", "Noah", "Charlotte", "Oliver", "Amelia", "Jack", "Isla", "William", "Mia", "Leo"]
LAST = ["Smith", "Nguyen", "Williams", "Brown", "Smithson", "Taylor", "Jones", "Martin"]


def log_in(page: Page, live_server: str, email: str, path: str = "/") -> None:
    """Log in through the form and land on `path`."""
    page.goto(live_server + path)
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live_server + path)


def seed_clinic(db_session, clock) -> None:
    """Forty contacts with appointments over the last weeks, and a connected account."""
    make_connection(db_session, clock)
    jane = make_practitioner(db_session, "Dr Jane Smith")
    kind = make_appointment_type(db_session, "Standard consultation")
    for i in range(40):
        contact = make_contact(db_session, clock, first_name=FIRST[i % 10], last_name=LAST[i % 8],
                               email=f"patient{i}@example.com", phone=f"04{i:02d} 555 {100 + i}",
                               email_marketing_status=["subscribed", "pending", "unsubscribed"][i % 3],
                               cliniko_patient_id=str(5000 + i) if i % 3 else None)
        for week in range(i % 12):
            starts = clock.now() - timedelta(days=7 * week + i % 5)
            make_appointment(db_session, contact, starts, practitioner_id=jane.id,
                             appointment_type_id=kind.id, patient_arrived=week % 3 != 2,
                             did_not_arrive=week % 5 == 4 or None,
                             cancelled_at=starts - timedelta(days=1) if week % 3 == 2 else None)
    db_session.commit()


def test_login_required_and_logout(page: Page, live_server, db_session, clock) -> None:
    """A staff page asks for a login, then shows the page asked for; logging out ends it."""
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    page.goto(live_server + "/contacts")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("E-mail").fill("reception@clinic.example")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match an active account")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live_server + "/contacts")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_dashboard(page: Page, live_server, db_session, clock) -> None:
    """The dashboard shows the counts and draws the weekly chart."""
    make_user(db_session, clock, email="owner@clinic.example", admin=True)
    seed_clinic(db_session, clock)
    log_in(page, live_server, "owner@clinic.example")
    expect(page.locator('[data-stat="contacts"]')).to_have_text("40")
    expect(page.locator("svg.chart rect.seg-attended").first).to_be_visible()
    screenshot(page, "dashboard")


def test_search_updates_only_the_results(page: Page, live_server, db_session, clock) -> None:
    """Typing filters the table in place, the URL follows, and back/reload give the same list."""
    make_user(db_session, clock, email="reception@clinic.example")
    seed_clinic(db_session, clock)
    log_in(page, live_server, "reception@clinic.example", "/contacts")
    expect(page.locator(".result-count")).to_contain_text("of 40 contacts")
    page.evaluate("window.__samePage = true")
    page.get_by_placeholder("Search by name, e-mail or phone").press_sequentially("smith", delay=40)
    expect(page).to_have_url(live_server + "/contacts?q=smith")
    rows = page.locator("#contact-results tbody tr")
    expect(rows).to_have_count(10)  # Smith and Smithson
    assert page.evaluate("window.__samePage") is True  # swapped by htmx, not a page load
    screenshot(page, "contacts-search")
    page.locator("#email_status").select_option("subscribed")
    expect(page).to_have_url(re.compile(r"q=smith&email_status=subscribed"))
    count = rows.count()
    assert 0 < count < 10
    page.go_back()
    expect(page).to_have_url(live_server + "/contacts?q=smith")
    expect(rows).to_have_count(10)
    expect(page.get_by_placeholder("Search by name, e-mail or phone")).to_have_value("smith")
    page.reload()
    expect(rows).to_have_count(10)
    page.get_by_placeholder("Search by name, e-mail or phone").fill("")
    expect(page).to_have_url(live_server + "/contacts")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(live_server + "/contacts?page=2")
    expect(page.locator(".result-count")).to_contain_text("Showing 26–40 of 40")


def test_contact_page_load_more_and_edit(page: Page, live_server, db_session, clock) -> None:
    """Open a contact, load older activity, fix a wrong e-mail after seeing the field error."""
    make_user(db_session, clock, email="reception@clinic.example")
    make_connection(db_session, clock, subdomain="sunnyside", shard="au1")
    contact = make_contact(db_session, clock, first_name="Grace", last_name="Hopper", email="grace@example",
                           phone="0412 345 678", cliniko_patient_id="777",
                           email_marketing_status="subscribed")
    practitioner = make_practitioner(db_session, "Dr Jane Smith")
    kind = make_appointment_type(db_session, "Hydrotherapy")
    for day in range(22):
        appointment = make_appointment(db_session, contact, clock.now() - timedelta(days=day * 3),
                                       practitioner_id=practitioner.id, appointment_type_id=kind.id,
                                       patient_arrived=True)
        make_event(db_session, contact, "appointment_arrived", appointment.starts_at, appointment=appointment)
    db_session.commit()
    log_in(page, live_server, "reception@clinic.example", "/contacts")
    page.get_by_role("link", name="Grace Hopper").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    cliniko = page.get_by_role("link", name="View in Cliniko (opens in a new tab)")
    expect(cliniko).to_have_attribute("href", "https://sunnyside.au1.cliniko.com/patients/777")
    expect(cliniko).to_have_attribute("target", "_blank")
    items = page.locator("#feed .feed-item")
    expect(items).to_have_count(15)
    screenshot(page, "contact")
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(22)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("E-mail", exact=True).fill("grace@")
    page.get_by_label("E-mail marketing").select_option("unsubscribed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("This is not a valid e-mail address")).to_be_visible()
    screenshot(page, "contact-edit-error")
    page.get_by_label("E-mail", exact=True).fill("grace@example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator('[data-channel="email"]')).to_have_text("Unsubscribed")
    expect(page.get_by_text("grace@example.com").first).to_be_visible()


def test_expired_session_during_search_goes_to_login(page: Page, live_server, app, db_session, clock) -> None:
    """When the session has ended, typing in the search box takes the whole page to the login form."""
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    log_in(page, live_server, "reception@clinic.example", "/contacts")
    clock.advance(minutes=app.extensions["oncord.settings"].session_lifetime_minutes + 1)
    page.get_by_placeholder("Search by name, e-mail or phone").fill("ann")
    expect(page).to_have_url(re.compile(r"/login\?next=/contacts"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.locator("#contact-results").count() == 0


def test_tablet_width_has_no_sideways_scrolling(page: Page, live_server, db_session, clock) -> None:
    """At tablet width (820 px) the contacts list fits the screen."""
    make_user(db_session, clock, email="reception@clinic.example")
    seed_clinic(db_session, clock)
    page.set_viewport_size({"width": 820, "height": 1100})
    log_in(page, live_server, "reception@clinic.example", "/contacts")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "contacts-tablet")


def test_connect_cliniko_and_synchronise(page: Page, live_server, app, db_session, clock, cliniko) -> None:
    """An admin enables the integration with the sandbox key, presses Synchronise and watches it finish."""
    make_user(db_session, clock, email="owner@clinic.example", admin=True)
    db_session.commit()
    log_in(page, live_server, "owner@clinic.example", "/settings/integrations")
    page.get_by_label("Cliniko API key").fill("not-the-key-au1")
    page.get_by_role("button", name="Enable Integration").click()
    expect(page.get_by_text("Cliniko rejected the API key")).to_be_visible()
    page.get_by_label("Cliniko API key").fill(cliniko.api_key)
    page.get_by_role("button", name="Enable Integration").click()
    expect(page.get_by_text("Cliniko is connected to")).to_contain_text("(shard au1)")
    expect(page.locator("#cliniko-box .badge-on")).to_have_text("Connected")

    # Cliniko holds the patients page, so the sync is certainly running while the page is read.
    hold = cliniko.store.hold("/v1/patients", timeout=120)
    page.get_by_role("button", name="Synchronise").click()
    status = page.locator("#sync-status")
    expect(status).to_contain_text("Waiting for the background worker")
    worker = subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--burst"], env=worker_env(app),
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        expect(status).to_contain_text("Synchronising", timeout=30_000)
        expect(status).to_contain_text("read from Cliniko so far")
        screenshot(page, "settings-sync-running")
        cliniko.store.holds.release(hold.id)
        expect(status).to_have_attribute("data-status", re.compile("succeeded|partial"), timeout=60_000)
        expect(status).to_contain_text("Patients: 12 read, 12 new")
        expect(page.locator("#sync-history tbody tr")).to_have_count(1)
    finally:
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    screenshot(page, "settings-integrations")
    page.get_by_role("link", name="Contacts").click()
    expect(page.locator(".result-count")).to_contain_text("of 12 contacts")
