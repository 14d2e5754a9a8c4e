"""A campaign's state changes (oncord.campaigns.lifecycle) as functions of the state and the time:
which states each move accepts, what it writes, and that Cancel stops the rest while running too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from oncord.campaigns import lifecycle
from oncord.campaigns.audience import Audience
from oncord.campaigns.lifecycle import CampaignData
from oncord.jobs.enqueue import send_job_id
from oncord.models import Campaign, CampaignRecipient, CampaignState, Contact, RecipientState

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
EARLIER = NOW - timedelta(hours=2)
STATES = list(CampaignState)


def a_campaign(session: Session, state: CampaignState = CampaignState.DRAFT, **fields: object) -> Campaign:
    """An e-mail campaign in `state`, changed by `fields`."""
    values: dict[str, object] = {
        "name": "Pool",
        "channel": "email",
        "state": state.value,
        "audience": {},
        "created_at": EARLIER,
        "updated_at": EARLIER,
        "send_round": 3,
    }
    values.update(fields)
    campaign = Campaign(**values)
    session.add(campaign)
    session.commit()
    return campaign


def a_recipient(
    session: Session, campaign: Campaign, state: RecipientState = RecipientState.PENDING
) -> CampaignRecipient:
    """One recipient row of `campaign` in `state`, for a new contact."""
    contact = Contact(first_name="Ada", email="ada@example.com", created_at=EARLIER, updated_at=EARLIER)
    session.add(contact)
    session.flush()
    row = CampaignRecipient(
        campaign_id=campaign.id,
        contact_id=contact.id,
        state=state.value,
        attempts=0,
        created_at=EARLIER,
        updated_at=EARLIER,
    )
    session.add(row)
    session.commit()
    return row


def at(value: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC."""
    return None if value is None else value.replace(tzinfo=UTC)


def reread(session: Session, row: CampaignRecipient) -> CampaignRecipient:
    """The row as the database has it."""
    session.expire_all()
    found = session.get(CampaignRecipient, row.id)
    assert found is not None
    return found


DATA = CampaignData(
    name="  Winter offer  ",
    channel="sms",
    audience=Audience(),
    email_subject="S",
    email_body="B",
    sms_body="T",
)


# --- create, edit, is_editable ------------------------------------------------------------------


def test_create_makes_a_draft_with_the_editors_values(session: Session) -> None:
    """A new campaign is a draft, owned by its author, with the name trimmed."""
    campaign = lifecycle.create_campaign(session, DATA, NOW, user_id=None)
    assert campaign.id is not None
    assert campaign.state == CampaignState.DRAFT.value
    assert campaign.created_by_id is None
    assert (campaign.name, campaign.channel) == ("Winter offer", "sms")
    assert (campaign.email_subject, campaign.email_body, campaign.sms_body) == ("S", "B", "T")
    assert campaign.audience == Audience().to_json()
    assert at(campaign.created_at) == NOW and at(campaign.updated_at) == NOW


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("when", [None, EARLIER, NOW, LATER])
def test_editable_only_as_a_draft_or_scheduled_for_later(state: CampaignState, when: datetime | None) -> None:
    """A draft, or scheduled for a time still to come (a due "send now" is already starting)."""
    campaign = Campaign(state=state.value, scheduled_at=when)
    expected = state == CampaignState.DRAFT or (
        state == CampaignState.SCHEDULED and when is not None and when > NOW
    )
    assert lifecycle.is_editable(campaign, NOW) is expected


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("when", [None, EARLIER, NOW, LATER])
def test_update_saves_only_before_the_start(
    session: Session, state: CampaignState, when: datetime | None
) -> None:
    """Saved exactly when the campaign is still editable; otherwise nothing changes."""
    campaign = a_campaign(session, state, scheduled_at=when)
    editable = lifecycle.is_editable(campaign, NOW)
    assert lifecycle.update_campaign(session, campaign, DATA, NOW) is editable
    if editable:
        assert (campaign.name, campaign.email_subject, campaign.email_body, campaign.sms_body) == (
            "Winter offer",
            "S",
            "B",
            "T",
        )
        assert campaign.audience == Audience().to_json()
        assert at(campaign.updated_at) == NOW
        assert campaign.channel == "email"  # the channel is fixed once created
    else:
        assert (campaign.name, at(campaign.updated_at)) == ("Pool", EARLIER)


def test_duplicate_copies_the_message_as_a_new_draft(session: Session) -> None:
    """ "Copy of …", the same channel, audience and message, a new draft."""
    original = a_campaign(
        session,
        CampaignState.SENT,
        channel="sms",
        email_subject="S",
        email_body="B",
        sms_body="T",
        name="x" * 255,
    )
    copy = lifecycle.duplicate(session, original, NOW, user_id=None)
    assert copy.id != original.id
    assert copy.name == ("Copy of " + "x" * 255)[:255]
    assert (copy.state, copy.channel) == ("draft", "sms")
    assert (copy.email_subject, copy.email_body, copy.sms_body) == ("S", "B", "T")
    assert copy.audience == Audience.from_json(original.audience).to_json()


# --- schedule, unschedule ------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("when", [None, EARLIER, NOW, LATER])
def test_schedule_only_before_the_start(
    session: Session, state: CampaignState, when: datetime | None
) -> None:
    """Scheduling is accepted exactly when the campaign is still editable."""
    campaign = a_campaign(session, state, scheduled_at=when)
    editable = lifecycle.is_editable(campaign, NOW)
    assert lifecycle.schedule(session, campaign, LATER, NOW) is editable
    assert campaign.state == (CampaignState.SCHEDULED.value if editable else state.value)
    assert campaign.send_round == (4 if editable else 3)


def test_schedule_for_later_opens_a_round_with_its_time(session: Session) -> None:
    """Later: scheduled at that time, a new round, a job id with the time, no error."""
    campaign = a_campaign(session, error="old")
    assert lifecycle.schedule(session, campaign, LATER, NOW)
    assert at(campaign.scheduled_at) == LATER
    assert campaign.send_round == 4
    assert campaign.job_id == send_job_id(campaign.id, 4, LATER)
    assert campaign.error is None
    assert at(campaign.updated_at) == NOW


@pytest.mark.parametrize("when", [EARLIER, NOW])
def test_schedule_for_now_or_the_past_sends_now(session: Session, when: datetime) -> None:
    """Now or a past time: scheduled for now, with the round's plain job id."""
    campaign = a_campaign(session)
    assert lifecycle.schedule(session, campaign, when, NOW)
    assert at(campaign.scheduled_at) == NOW
    assert campaign.job_id == send_job_id(campaign.id, 4)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("when", [None, EARLIER, NOW, LATER])
def test_unschedule_only_while_scheduled_for_later(
    session: Session, state: CampaignState, when: datetime | None
) -> None:
    """Back to draft only from scheduled for a time still to come; the time and job id are cleared."""
    campaign = a_campaign(session, state, scheduled_at=when, job_id="j")
    expected = state == CampaignState.SCHEDULED and when == LATER
    assert lifecycle.unschedule(session, campaign, NOW) is expected
    if expected:
        assert (campaign.state, campaign.scheduled_at, campaign.job_id) == ("draft", None, None)
        assert at(campaign.updated_at) == NOW
    else:
        assert (campaign.state, campaign.job_id) == (state.value, "j")


# --- pause, resume, cancel ------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_pause_only_while_sending(session: Session, state: CampaignState) -> None:
    """Only a sending campaign pauses, with the time."""
    campaign = a_campaign(session, state)
    moved = lifecycle.pause(session, campaign, NOW)
    assert moved is (state == CampaignState.SENDING)
    if moved:
        assert (campaign.state, at(campaign.paused_at), at(campaign.updated_at)) == ("paused", NOW, NOW)
    else:
        assert (campaign.state, campaign.paused_at, at(campaign.updated_at)) == (state.value, None, EARLIER)


@pytest.mark.parametrize("state", STATES)
def test_resume_only_while_paused(session: Session, state: CampaignState) -> None:
    """Only a paused campaign resumes: sending again in a new round, its error and pause cleared."""
    campaign = a_campaign(session, state, paused_at=EARLIER, error="Sending paused: x", job_id="j")
    moved = lifecycle.resume(session, campaign, NOW)
    assert moved is (state == CampaignState.PAUSED)
    if moved:
        assert (campaign.state, campaign.paused_at, campaign.error) == ("sending", None, None)
        assert campaign.send_round == 4
        assert campaign.job_id == send_job_id(campaign.id, 4)
        assert at(campaign.updated_at) == NOW
    else:
        assert (campaign.state, campaign.send_round, campaign.job_id) == (state.value, 3, "j")


CANCELLABLE = {CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED}


@pytest.mark.parametrize("state", STATES)
def test_cancel_while_scheduled_sending_or_paused(session: Session, state: CampaignState) -> None:
    """Scheduled, sending (running) or paused: cancelled with the time, every pending message with it;
    a draft, a sent or an already cancelled campaign is left as it is."""
    campaign = a_campaign(session, state, waiting_until=LATER)
    pending = a_recipient(session, campaign)
    sent = a_recipient(session, campaign, RecipientState.SENT)
    moved = lifecycle.cancel(session, campaign, NOW)
    session.commit()
    assert moved is (state in CANCELLABLE)
    if moved:
        assert campaign.state == "cancelled"
        assert (at(campaign.cancelled_at), at(campaign.finished_at), at(campaign.updated_at)) == (
            NOW,
            NOW,
            NOW,
        )
        assert campaign.waiting_until is None
        assert reread(session, pending).state == RecipientState.CANCELLED.value
        assert at(reread(session, pending).finished_at) == NOW
    else:
        assert (campaign.state, campaign.cancelled_at, at(campaign.waiting_until)) == (
            state.value,
            None,
            LATER,
        )
        assert reread(session, pending).state == RecipientState.PENDING.value
    assert reread(session, sent).state == RecipientState.SENT.value


def test_cancel_while_running_leaves_the_claimed_message_to_its_sender(session: Session) -> None:
    """Cancel during a send: the message being handed over stays with its sender, the rest stop."""
    campaign = a_campaign(session, CampaignState.SENDING)
    claimed = a_recipient(session, campaign, RecipientState.SENDING)
    rest = [a_recipient(session, campaign) for _ in range(3)]
    assert lifecycle.cancel(session, campaign, NOW)
    session.commit()
    assert reread(session, claimed).state == RecipientState.SENDING.value
    assert {reread(session, row).state for row in rest} == {RecipientState.CANCELLED.value}


def test_cancel_leaves_other_campaigns_alone(session: Session) -> None:
    """Only this campaign's messages are cancelled."""
    campaign = a_campaign(session, CampaignState.SENDING)
    other = a_campaign(session, CampaignState.SENDING)
    theirs = a_recipient(session, other)
    assert lifecycle.cancel(session, campaign, NOW)
    session.commit()
    assert reread(session, theirs).state == RecipientState.PENDING.value
    session.refresh(other)
    assert other.state == "sending"


# --- delete, archive ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("when", [None, EARLIER, NOW, LATER])
def test_delete_only_before_the_start(session: Session, state: CampaignState, when: datetime | None) -> None:
    """A draft or a campaign scheduled for later is deleted; anything else is kept."""
    campaign = a_campaign(session, state, scheduled_at=when)
    campaign_id = campaign.id
    editable = lifecycle.is_editable(campaign, NOW)
    assert lifecycle.delete_draft(session, campaign, NOW) is editable
    session.commit()
    session.expire_all()
    assert (session.get(Campaign, campaign_id) is None) is editable


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("archived", [False, True])
def test_archive_only_a_finished_campaign_once(
    session: Session, state: CampaignState, archived: bool
) -> None:
    """Sent or cancelled, and not yet archived: archived with the time."""
    campaign = a_campaign(session, state, archived_at=EARLIER if archived else None)
    expected = state in (CampaignState.SENT, CampaignState.CANCELLED) and not archived
    assert lifecycle.archive(session, campaign, NOW) is expected
    if expected:
        assert (at(campaign.archived_at), at(campaign.updated_at)) == (NOW, NOW)
    else:
        assert at(campaign.updated_at) == EARLIER
