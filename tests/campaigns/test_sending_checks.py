"""The send-time rules of oncord.campaigns.sending as functions of their inputs: the re-check of
consent and address, the compare-and-set claim, cancelling the rest, and the skip reasons' words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from oncord.campaigns.sending import CampaignSender, RunResult, cancel_pending, recipient_reason, skip_reason
from oncord.clock import FrozenClock
from oncord.messaging.eligibility import Reason, reason_text
from oncord.models import Campaign, CampaignRecipient, Contact, MarketingStatus, RecipientState

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CHANNELS = ("email", "sms")
NOT_SUBSCRIBED = [s for s in MarketingStatus if s != MarketingStatus.SUBSCRIBED]


def a_contact(**fields: object) -> Contact:
    """A contact subscribed on both channels with an e-mail address and a mobile, changed by `fields`."""
    values: dict[str, object] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone_e164": "+61412345678",
        "phone_is_mobile": True,
        "email_marketing_status": MarketingStatus.SUBSCRIBED.value,
        "sms_marketing_status": MarketingStatus.SUBSCRIBED.value,
        "archived_at": None,
        "cliniko_reminder_type": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Contact(**values)


def _status_field(channel: str) -> str:
    return f"{channel}_marketing_status"


# --- skip_reason ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_subscribed_contact_is_sent_to_its_address(channel: str) -> None:
    """A subscribed, live contact with an address gets no skip reason and the channel's address."""
    reason, address = skip_reason(a_contact(), channel, "AU")
    assert reason is None
    assert address == ("ada@example.com" if channel == "email" else "+61412345678")


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", NOT_SUBSCRIBED)
def test_every_status_but_subscribed_is_skipped_at_send_time(channel: str, status: MarketingStatus) -> None:
    """Pending, unsubscribed (and any other non-subscribed status) on the campaign's channel: skipped."""
    reason, address = skip_reason(a_contact(**{_status_field(channel): status.value}), channel, "AU")
    assert reason is not None
    assert address is None


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", NOT_SUBSCRIBED)
def test_the_other_channels_consent_does_not_matter(channel: str, status: MarketingStatus) -> None:
    """Only the campaign's own channel's consent counts."""
    other = "sms" if channel == "email" else "email"
    reason, _address = skip_reason(a_contact(**{_status_field(other): status.value}), channel, "AU")
    assert reason is None


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_archived_contact_is_skipped(channel: str) -> None:
    """An archived contact is skipped whatever its consent."""
    reason, address = skip_reason(a_contact(archived_at=NOW), channel, "AU")
    assert reason is not None
    assert address is None


@pytest.mark.parametrize(("channel", "fields"), [("email", {"email": None}), ("sms", {"phone_e164": None})])
def test_no_address_is_skipped(channel: str, fields: dict[str, object]) -> None:
    """No address on the campaign's channel: skipped."""
    reason, _address = skip_reason(a_contact(**fields), channel, "AU")
    assert reason is not None


@given(
    channel=st.sampled_from(CHANNELS),
    status=st.sampled_from(list(MarketingStatus)),
    archived=st.booleans(),
)
def test_only_subscribed_live_contacts_are_sent_to(
    channel: str, status: MarketingStatus, archived: bool
) -> None:
    """Sent exactly when the channel's status is Subscribed and the contact is not archived."""
    contact = a_contact(**{_status_field(channel): status.value, "archived_at": NOW if archived else None})
    reason, address = skip_reason(contact, channel, "AU")
    should_send = status == MarketingStatus.SUBSCRIBED and not archived
    assert (reason is None) == should_send
    assert (address is not None) == should_send


# --- recipient_reason -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [r.value for r in Reason] + [None])
def test_a_reason_reads_as_a_sentence(code: str | None) -> None:
    """The reason in the eligibility vocabulary's words, with a capital first letter only."""
    words = reason_text(code)
    assert recipient_reason(code) == words[:1].upper() + words[1:]


def test_only_the_first_letter_is_capitalised() -> None:
    """The rest of the words keep their case."""
    text = recipient_reason(Reason.UNSUBSCRIBED.value)
    assert text[0].isupper()
    assert text[1:] == reason_text(Reason.UNSUBSCRIBED.value)[1:]


# --- RunResult ------------------------------------------------------------------------------------


def test_a_run_result_reports_its_counts() -> None:
    """The job result names every count and the outcome, and nothing extra."""
    result = RunResult(outcome="sent", sent=1, failed=2, skipped=3, retrying=4, not_ours=5, extra={"x": 1})
    assert result.as_dict() == {
        "outcome": "sent",
        "sent": 1,
        "failed": 2,
        "skipped": 3,
        "retrying": 4,
        "not_ours": 5,
    }
    assert RunResult().as_dict() == {
        "outcome": "",
        "sent": 0,
        "failed": 0,
        "skipped": 0,
        "retrying": 0,
        "not_ours": 0,
    }


# --- in an in-process SQLite database ------------------------------------------------------------


def _campaign(session: Session, channel: str = "email", state: str = "sending") -> Campaign:
    campaign = Campaign(
        name="Pool", channel=channel, state=state, audience={}, created_at=NOW, updated_at=NOW
    )
    session.add(campaign)
    session.flush()
    return campaign


def _recipient(
    session: Session, campaign: Campaign, contact: Contact, state: str = "pending"
) -> CampaignRecipient:
    if contact.id is None:
        session.add(contact)
        session.flush()
    row = CampaignRecipient(
        campaign_id=campaign.id,
        contact_id=contact.id,
        state=state,
        attempts=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.commit()
    return row


def _sender(worker_id: str = "worker-1") -> CampaignSender:
    none: Any = None
    return CampaignSender(
        none, FrozenClock(NOW), none, none, none, schedule=lambda *_: None, worker_id=worker_id
    )


NO_CAP: Any = SimpleNamespace(frequency_cap=None)


def _read(session: Session, row: CampaignRecipient) -> CampaignRecipient:
    session.expire_all()
    found = session.get(CampaignRecipient, row.id)
    assert found is not None
    return found


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_pending_subscribed_recipient_is_claimed(session: Session, channel: str) -> None:
    """The claim moves pending -> sending, counts the attempt and names the worker and the time."""
    row = _recipient(session, _campaign(session, channel), a_contact())
    assert _sender("w-7")._claim(session, row, channel, NO_CAP) is True
    assert row.attempts == 1
    found = _read(session, row)
    assert (found.state, found.attempts, found.claimed_by) == (RecipientState.SENDING.value, 1, "w-7")
    assert found.claimed_at is not None and found.claimed_at.replace(tzinfo=UTC) == NOW
    assert found.updated_at.replace(tzinfo=UTC) == NOW


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("state", [s.value for s in RecipientState if s != RecipientState.PENDING])
def test_a_claim_fails_once_the_recipient_is_no_longer_pending(
    session: Session, channel: str, state: str
) -> None:
    """Cancelled (or claimed, sent, skipped, failed) meanwhile: the claim fails and changes nothing."""
    row = _recipient(session, _campaign(session, channel), a_contact(), state=state)
    assert _sender()._claim(session, row, channel, NO_CAP) is None
    found = _read(session, row)
    assert (found.state, found.attempts, found.claimed_by) == (state, 0, None)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", NOT_SUBSCRIBED)
def test_a_claim_fails_once_the_contact_stops_being_subscribed(
    session: Session, channel: str, status: MarketingStatus
) -> None:
    """An unsubscribe (or any non-subscribed status) on the campaign's channel since the batch was
    checked: no claim."""
    contact = a_contact()
    row = _recipient(session, _campaign(session, channel), contact)
    setattr(contact, _status_field(channel), status.value)
    session.commit()
    assert _sender()._claim(session, row, channel, NO_CAP) is None
    assert _read(session, row).state == RecipientState.PENDING.value


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("status", NOT_SUBSCRIBED)
def test_a_claim_reads_only_the_campaigns_channel(
    session: Session, channel: str, status: MarketingStatus
) -> None:
    """The other channel's consent does not stop the claim."""
    other = "sms" if channel == "email" else "email"
    row = _recipient(session, _campaign(session, channel), a_contact(**{_status_field(other): status.value}))
    assert _sender()._claim(session, row, channel, NO_CAP) is True


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_claim_fails_once_the_contact_is_archived(session: Session, channel: str) -> None:
    """Archived since the batch was checked: no claim."""
    contact = a_contact()
    row = _recipient(session, _campaign(session, channel), contact)
    contact.archived_at = NOW
    session.commit()
    assert _sender()._claim(session, row, channel, NO_CAP) is None


def test_a_claim_is_about_its_own_contact(session: Session) -> None:
    """Another contact's consent does not decide this recipient's claim, either way."""
    campaign = _campaign(session)
    gone = _recipient(session, campaign, a_contact(email_marketing_status="unsubscribed"))
    kept = _recipient(session, campaign, a_contact())
    sender = _sender()
    assert sender._claim(session, kept, "email", NO_CAP) is True
    assert sender._claim(session, gone, "email", NO_CAP) is None


def test_a_claim_moves_only_its_own_row(session: Session) -> None:
    """Claiming one recipient leaves the others pending."""
    campaign = _campaign(session)
    first = _recipient(session, campaign, a_contact())
    second = _recipient(session, campaign, a_contact())
    assert _sender()._claim(session, first, "email", NO_CAP) is True
    assert _read(session, second).state == RecipientState.PENDING.value


def test_a_row_is_claimed_once(session: Session) -> None:
    """A second claim of the same row (another worker) fails."""
    row = _recipient(session, _campaign(session), a_contact())
    assert _sender("a")._claim(session, row, "email", NO_CAP) is True
    assert _sender("b")._claim(session, row, "email", NO_CAP) is None
    assert _read(session, row).claimed_by == "a"


def test_cancel_pending_cancels_only_this_campaigns_pending_rows(session: Session) -> None:
    """Pending rows of the campaign become cancelled with the time; others and other campaigns stay."""
    campaign, other = _campaign(session), _campaign(session)
    pending = _recipient(session, campaign, a_contact())
    sent = _recipient(session, campaign, a_contact(), state="sent")
    elsewhere = _recipient(session, other, a_contact())
    later = NOW + timedelta(minutes=3)
    assert cancel_pending(session, campaign.id, later) == 1
    session.commit()
    found = _read(session, pending)
    assert found.state == RecipientState.CANCELLED.value
    assert found.finished_at is not None and found.finished_at.replace(tzinfo=UTC) == later
    assert found.updated_at.replace(tzinfo=UTC) == later
    assert _read(session, sent).state == "sent"
    assert _read(session, elsewhere).state == "pending"


def test_a_cancelled_recipient_can_no_longer_be_claimed(session: Session) -> None:
    """Cancel while the sender runs: its claim on a row it already read fails."""
    campaign = _campaign(session)
    row = _recipient(session, campaign, a_contact())
    cancel_pending(session, campaign.id, NOW)
    session.commit()
    assert _sender()._claim(session, row, "email", NO_CAP) is None
    assert _read(session, row).state == RecipientState.CANCELLED.value


def test_close_moves_only_from_the_expected_state(session: Session) -> None:
    """_close is a compare-and-set: it moves the row only from `from_state`, with the time and values."""
    row = _recipient(session, _campaign(session), a_contact())
    sender = _sender()
    assert not sender._close(session, row, RecipientState.SENDING, RecipientState.SKIPPED, NOW, reason="x")
    assert sender._close(
        session, row, RecipientState.PENDING, RecipientState.SKIPPED, NOW, reason="unsubscribed"
    )
    session.commit()
    found = _read(session, row)
    assert (found.state, found.reason) == ("skipped", "unsubscribed")
    assert found.finished_at is not None and found.finished_at.replace(tzinfo=UTC) == NOW


def test_record_needs_this_workers_claim(session: Session) -> None:
    """_record changes a row only while it is "sending" under this worker's claim."""
    row = _recipient(session, _campaign(session), a_contact())
    assert not _sender("a")._record(session, row, RecipientState.SENT, NOW, {})
    assert _sender("a")._claim(session, row, "email", NO_CAP) is True
    assert not _sender("b")._record(session, row, RecipientState.SENT, NOW, {})
    assert _sender("a")._record(session, row, RecipientState.SENT, NOW, {"to_address": "x@example.com"})
    session.commit()
    assert (_read(session, row).state, _read(session, row).to_address) == ("sent", "x@example.com")
