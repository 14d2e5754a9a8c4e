"""Every staff screen with data on it, for the layout and accessibility tests."""

from __future__ import annotations

from datetime import timedelta

from oncord.automations.journeys.recipes import BY_KEY
from oncord.automations.journeys.versions import save_steps
from oncord.automations.triggers.states import add_months
from oncord.models import Automation, BookingAttribution, Campaign, CampaignRecipient, MessagingSettings, Page
from tests.browser.test_staff_flows import seed_clinic
from tests.factories import make_appointment, make_contact, make_user

ADMIN = "owner.with.a.rather.long.address@sunnyside-physiotherapy.example"


def seed_every_screen(db_session, clock) -> dict[str, str]:
    """Contacts, a campaign that was sent, an automation and a page; returns each screen's path."""
    make_user(db_session, clock, email=ADMIN, admin=True)
    seed_clinic(db_session, clock)
    contact = make_contact(db_session, clock, first_name="Maximiliana", last_name="Featherstonehaugh-Smythe",
                           email="maximiliana.featherstonehaugh-smythe@longdomain-physiotherapy.example",
                           email_marketing_status="subscribed")
    db_session.add(MessagingSettings(id=1, sender_name="Sunnyside Physio",
                                     sender_email="hello@sunnyside.example",
                                     sender_details="12 Beach Road, St Kilda VIC 3182"))
    now = clock.now()
    campaign = Campaign(name="Hydrotherapy class launch", channel="email", state="sent",
                        email_subject="A new hydrotherapy class", email_body="Hello {{ first_name }}",
                        recipients_total=1, started_at=now - timedelta(hours=1), finished_at=now,
                        created_at=now - timedelta(days=1), updated_at=now)
    automation = Automation(name="Reminder the day before", trigger="upcoming", offset_minutes=1440,
                            send_email=True, email_subject="See you tomorrow",
                            email_body="Hi {{ first_name }}",
                            created_at=now, updated_at=now)
    website = Page(title="Book online", slug="book-online", published=True,
                   blocks=[{"id": "b0000000a", "type": "heading", "text": "Book an appointment", "level": 2},
                           {"id": "b0000000b", "type": "text", "text": "We are open six days a week."}],
                   created_at=now, updated_at=now)
    journey = Automation(name="Missed you", trigger="did_not_arrive", offset_minutes=0, send_email=False,
                         created_at=now, updated_at=now)
    # A recall journey not yet on, and a patient last seen seven months ago: the switch-on page
    # asks about one patient matching now.
    recall = Automation(name="Recall at 6 months", trigger="recall", offset_minutes=0, send_email=False,
                        recall_months=6, enabled=False, created_at=now, updated_at=now)
    db_session.add_all([campaign, automation, website, journey, recall])
    db_session.flush()
    save_steps(db_session, journey.id, list(BY_KEY["did-not-arrive"].steps), now)
    save_steps(db_session, recall.id, list(BY_KEY["recall"].steps), now)
    lapsed = make_contact(db_session, clock, first_name="Ruth", last_name="Lapsed-Longago",
                          email="ruth.lapsed@example.com", email_marketing_status="subscribed")
    make_appointment(db_session, lapsed, add_months(now, -7), patient_arrived=True)
    db_session.add(CampaignRecipient(campaign_id=campaign.id, contact_id=contact.id, state="sent",
                                     to_address=contact.email, sent_at=now, finished_at=now,
                                     created_at=now, updated_at=now))
    # A booking attributed to the campaign, so the dashboard's bookings chart has a bar.
    booked = make_appointment(db_session, contact, now + timedelta(days=2), cliniko_created_at=now,
                              booked_online=True)
    db_session.add(BookingAttribution(appointment_id=booked.id, contact_id=contact.id, kind="clicked",
                                      campaign_id=campaign.id, message_at=now, booked_at=now, created_at=now))
    db_session.commit()
    return {
        "dashboard": "/",
        "contacts": "/contacts",
        "contact": f"/contacts/{contact.id}",
        "contact edit": f"/contacts/{contact.id}/edit",
        "automations": "/automations",
        "automation editor": f"/automations/{automation.id}",
        "automation log": f"/automations/{automation.id}/log",
        "journey": f"/automations/{journey.id}/journey",
        "recipes": "/automations/recipes",
        "switch-on": f"/automations/{recall.id}/switch-on",
        "campaigns": "/campaigns",
        "campaign editor": "/campaigns/new?channel=email",
        "campaign report": f"/campaigns/{campaign.id}",
        "campaign recipients": f"/campaigns/{campaign.id}/recipients",
        "messaging settings": "/settings/messaging",
        "outbox": "/messages/outbox",
        "integrations": "/settings/integrations",
        "users": "/settings/users",
        "online bookings": "/settings/online-bookings/",
        "pages": "/pages/",
        "page editor": f"/pages/{website.id}/edit",
        "new page": "/pages/new",
        "account": "/account/password",
    }
