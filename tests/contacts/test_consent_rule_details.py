"""The consent owner's rules one function at a time: the ledger lookups, the exact refusals staff
read, and who the ledger names (each found missing by mutation testing, issue 18)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oncord.contacts.consent import (
    SMS_STOP,
    UNSUBSCRIBE_LINK,
    ConsentActor,
    ConsentRefused,
    latest_change,
    refusal,
    set_marketing_status,
)
from oncord.models import ActivityEvent, ConsentChange, MarketingStatus
from oncord.sync.patient_fields import columns_refused
from tests.factories import make_contact, make_user, staff_actor


def _unsubscribed_by_link(db_session, clock, **fields):
    contact = make_contact(db_session, clock, email_marketing_status="subscribed",
                           sms_marketing_status="subscribed", **fields)
    set_marketing_status(db_session, contact, "email", "unsubscribed", actor=UNSUBSCRIBE_LINK,
                         now=clock.now())
    db_session.flush()
    return contact


def test_latest_change_is_this_contacts_newest_row_on_this_channel(db_session, clock) -> None:
    """Another contact's row, another channel's row and an older row are never the answer."""
    ada = make_contact(db_session, clock, email_marketing_status="pending", sms_marketing_status="pending")
    now = clock.now()
    set_marketing_status(db_session, ada, "email", "subscribed", actor=staff_actor(), now=now,
                         evidence="form")
    set_marketing_status(db_session, ada, "email", "unsubscribed", actor=UNSUBSCRIBE_LINK, now=now)
    set_marketing_status(db_session, ada, "sms", "unsubscribed", actor=SMS_STOP, now=now)
    bob = make_contact(db_session, clock, first_name="Bob", email_marketing_status="pending")
    set_marketing_status(db_session, bob, "email", "subscribed", actor=staff_actor(), now=now,
                         evidence="form")
    db_session.flush()

    newest = latest_change(db_session, ada.id, "email")
    assert (newest.contact_id, newest.channel, newest.new_status) == (ada.id, "email", "unsubscribed")
    subscribed = latest_change(db_session, ada.id, "email", to="subscribed")
    assert (subscribed.contact_id, subscribed.new_status) == (ada.id, "subscribed")
    assert latest_change(db_session, ada.id, "sms", to="subscribed") is None
    assert latest_change(db_session, bob.id, "email", to="unsubscribed") is None


def test_latest_change_with_a_target_is_the_newest_of_several(db_session, clock) -> None:
    """Twice unsubscribed by the patient: the newer row (its source and time) is the one shown."""
    contact = _unsubscribed_by_link(db_session, clock)
    set_marketing_status(db_session, contact, "email", "subscribed", actor=staff_actor(admin=True),
                         now=clock.now(), evidence="signed form")
    clock.advance(days=1)
    set_marketing_status(db_session, contact, "email", "unsubscribed", actor=SMS_STOP, now=clock.now())
    db_session.flush()
    row = latest_change(db_session, contact.id, "email", to="unsubscribed")
    assert (row.source, row.occurred_at) == ("sms_stop", clock.now())


@pytest.mark.parametrize(("new", "actor", "evidence", "expected"), [
    ("nonsense", staff_actor(admin=True), "x", "Choose Subscribed, Pending or Unsubscribed."),
    ("subscribed", staff_actor(), "signed form",
     "The patient unsubscribed themselves, so only an admin can subscribe them again, "
     "recording how the patient gave consent. Ask your clinic's Oncord admin."),
    ("pending", staff_actor(admin=True), "signed form",
     "The patient unsubscribed themselves: it stays Unsubscribed unless they consent again "
     "(then choose Subscribed)."),
    ("subscribed", staff_actor(admin=True), None,
     "The patient unsubscribed themselves. To subscribe them again, record how they gave "
     "consent, e.g. \"signed form at front desk, 3 Dec\"."),
    ("subscribed", staff_actor(admin=True), "   ",
     "The patient unsubscribed themselves. To subscribe them again, record how they gave "
     "consent, e.g. \"signed form at front desk, 3 Dec\"."),
    ("subscribed", staff_actor(admin=True), "signed form at front desk", None),
    # Only staff are held to the re-subscribe rule; an import or the patient's own action is not.
    ("subscribed", ConsentActor.importer("list.csv"), None, None),
    ("unsubscribed", staff_actor(), None, None),
])
def test_a_self_unsubscribed_contact_is_refused_in_these_words(
    db_session, clock, new, actor, evidence, expected
) -> None:
    contact = _unsubscribed_by_link(db_session, clock)
    assert refusal(db_session, contact, "email", new, actor, evidence) == expected


def test_a_refusal_carries_its_message_as_the_exception_text(db_session, clock) -> None:
    contact = _unsubscribed_by_link(db_session, clock)
    with pytest.raises(ConsentRefused) as refused:
        set_marketing_status(db_session, contact, "email", "subscribed", actor=staff_actor(), now=clock.now())
    assert str(refused.value) == refused.value.user_message
    assert refused.value.channel == "email"
    assert "only an admin" in str(refused.value)


def test_the_ledger_names_the_staff_member_by_user(db_session, clock) -> None:
    user = make_user(db_session, clock, email="owner@clinic.example", admin=True)
    contact = make_contact(db_session, clock, email_marketing_status="pending")
    set_marketing_status(db_session, contact, "email", MarketingStatus.SUBSCRIBED.value,
                         actor=ConsentActor.staff(user), now=clock.now(), evidence="verbal, 3 Dec")
    db_session.flush()
    row = db_session.scalars(select(ConsentChange).where(ConsentChange.contact_id == contact.id)).one()
    assert (row.actor_user_id, row.actor, row.source) == (user.id, "owner@clinic.example", "staff_edit")


def test_a_422_names_body_keys_that_map_back_to_columns() -> None:
    """Cliniko's keys carry an index or a sub-field; a key that is no column of ours refuses nothing."""
    errors = {"patient_phone_numbers[0].number": ["is invalid"], "email.address": ["is invalid"],
              "accepted_email_marketing": ["bad"], "phone": ["not a body key"], "notes": ["unknown"]}
    columns = {"phone", "email", "email_marketing_status", "city"}
    assert columns_refused(errors, columns) == {"phone", "email", "email_marketing_status"}
    assert columns_refused({"phone": ["x"]}, {"phone"}) == set()


def test_the_feed_entry_says_what_changed_and_who_changed_it(db_session, clock) -> None:
    contact = make_contact(db_session, clock, email_marketing_status="pending")
    set_marketing_status(db_session, contact, "email", "subscribed", actor=staff_actor("desk@clinic.example"),
                         now=clock.now(), evidence="verbal, 3 Dec")
    set_marketing_status(db_session, contact, "email", "unsubscribed", actor=UNSUBSCRIBE_LINK,
                         now=clock.now())
    db_session.flush()
    events = db_session.scalars(select(ActivityEvent).where(ActivityEvent.contact_id == contact.id)
                                .order_by(ActivityEvent.id)).all()
    assert [(e.kind, e.details) for e in events] == [
        ("consent_changed", {"channel": "email", "old": "pending", "new": "subscribed",
                             "source": "staff_edit", "actor": "desk@clinic.example"}),
        ("consent_changed", {"channel": "email", "old": "subscribed", "new": "unsubscribed",
                             "source": "unsubscribe_link"}),
    ]
