"""Sending a campaign: take the audience once, then work through it in batches, each message once.

Starting turns the audience query into one `campaign_recipients` row per contact who can
receive it (INSERT ... SELECT, in the transaction that moves the campaign to "sending"). Then,
batch by batch: the campaign's state is read again (pause and cancel take effect here), each
contact's consent and address are checked again just before sending, and each message is
claimed (pending -> sending, committed) before it is handed to the provider and recorded after.

One worker sends a campaign at a time (a Redis lock with expiry, renewed as it goes), so when
the lock holder finds a row still "sending", the worker that claimed it died mid-hand-over: the
message may have gone, so it is marked failed ("outcome unknown") and never sent again. A
worker killed anywhere else loses nothing: the next run carries on with the pending rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock
from sqlalchemy import exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from oncord.campaigns.audience import Audience, recipients_query
from oncord.campaigns.compose import Content, render_message
from oncord.clock import Clock, utc
from oncord.config import Settings
from oncord.db import Database, UTCDateTime, table_of
from oncord.logredact import personal_of
from oncord.messaging.eligibility import Reason, check_recipient, reason_text
from oncord.messaging.errors import (
    InvalidAddress,
    MessageProblem,
    NotConfigured,
    SendError,
    as_send_error,
    failure_text,
)
from oncord.messaging.frequency import release_slot, take_slot
from oncord.messaging.pipeline import RenderedMessage, RetryPolicy, Transports, fail_stuck
from oncord.messaging.profile import MessagingProfile, load_profile, public_base_url
from oncord.models import (
    ActivityEvent,
    ActivityKind,
    Campaign,
    CampaignRecipient,
    CampaignState,
    Contact,
    MarketingStatus,
    RecipientState,
)
from oncord.timezones import clinic_time_zone

log = logging.getLogger(__name__)

# A campaign message refused for now is tried three times in all.
MESSAGE_RETRY = RetryPolicy(3, (timedelta(minutes=1), timedelta(minutes=5)))
LOCK_PREFIX = "oncord:lock:campaign:"
NO_SENDER = "No sender name and address are set for e-mails. An admin can set them in Settings → Messaging."

def recipient_reason(code: str | None) -> str:
    """A skip or failure reason in words (the one vocabulary of oncord.messaging.eligibility)."""
    words = reason_text(code)
    return words[:1].upper() + words[1:]


# --- Domain steps (a session passed in, the caller commits) ---------------------------------------


def start(session: Session, campaign: Campaign, now: datetime, time_zone: str, *, region: str = "AU") -> int:
    """Move a scheduled campaign to sending and take its audience as recipient rows; return how many.

    Compare-and-set on the state, so two workers starting it at once add the rows once. An SMS
    campaign leaves out numbers that cannot receive SMS (landlines), as its audience count did.
    """
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state == CampaignState.SCHEDULED.value)
        .values(state=CampaignState.SENDING.value, started_at=now, updated_at=now, error=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        session.refresh(campaign)
        return 0
    audience = Audience.from_json(campaign.audience)
    contacts = recipients_query(audience, campaign.channel, now, time_zone).subquery()
    stamp = literal(now, UTCDateTime())
    rows = select(
        literal(campaign.id), contacts.c.id, literal(RecipientState.PENDING.value), literal(0), stamp, stamp
    )
    session.execute(
        insert(CampaignRecipient).from_select(
            ["campaign_id", "contact_id", "state", "attempts", "created_at", "updated_at"], rows
        )
    )
    total = (
        session.scalar(
            select(func.count())
            .select_from(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign.id)
        )
        or 0
    )
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(recipients_total=total)
        .execution_options(synchronize_session=False)
    )
    session.refresh(campaign)
    return total


def resolve_strays(session: Session, campaign: Campaign, now: datetime) -> int:
    """Fail rows a dead worker left "sending" (only the lock holder may call this); return how many."""
    table = table_of(CampaignRecipient)
    rows = fail_stuck(session, table, table.c.campaign_id == campaign.id, now,
                      table.c.id, table.c.contact_id, table.c.error)
    for row in rows:
        session.add(_event(campaign, row, ActivityKind.MESSAGE_FAILED.value, now, error=row.error))
    return len(rows)


def _reference(recipient: CampaignRecipient) -> str:
    return f"campaign-recipient:{recipient.id}"


def give_up(database: Database, clock: Clock, campaign_id: int, error: str) -> bool:
    """Pause a campaign whose job kept failing for an unexpected reason (after its last retry), with
    the reason for staff, instead of showing "Sending" forever; the messages stay pending for Resume."""
    now = clock.now()
    with database.session() as session:
        moved = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id,
                   Campaign.state.in_([CampaignState.SCHEDULED.value, CampaignState.SENDING.value]))
            .values(state=CampaignState.PAUSED.value, paused_at=now, updated_at=now,
                    error=f"Sending stopped: {error} Then press Resume.")
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return moved == 1


def cancel_pending(session: Session, campaign_id: int, now: datetime) -> int:
    """Mark every message not yet sent as cancelled; return how many."""
    return session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state == RecipientState.PENDING.value,
        )
        .values(state=RecipientState.CANCELLED.value, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]


def _event(campaign: Campaign, row: Any, kind: str, now: datetime, **details: Any) -> ActivityEvent:
    state = {ActivityKind.MESSAGE_FAILED.value: "failed"}.get(kind, "sent")
    return ActivityEvent(
        contact_id=row.contact_id,
        kind=kind,
        occurred_at=now,
        created_at=now,
        dedupe_key=f"campaign-recipient:{row.id}:{state}",
        details={
            "campaign_id": campaign.id,
            "campaign": campaign.name,
            "channel": campaign.channel,
            **details,
        },
    )


def skip_reason(contact: Contact, channel: str, region: str) -> tuple[str | None, str | None]:
    """(reason to skip, None) or (None, address): the one eligibility rule, marketing only."""
    found = check_recipient(contact, channel, allow_pending=False, region=region)
    return (found.reason.value if found.reason else None), found.address


# --- The sender -----------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What one run of the sender did, and why it stopped."""

    outcome: str = ""
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    not_ours: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """For the job result."""
        return {
            "outcome": self.outcome,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "retrying": self.retrying,
            "not_ours": self.not_ours,
        }


class CampaignSender:
    """Sends one campaign until it is done, paused, cancelled or has to wait (no Flask inside).

    `schedule(campaign_id, when, key)` asks the job layer to run again at `when` (quiet hours,
    retries, woken early, lock busy); `key` makes the job id, and a job already waiting under it is kept.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        redis: Redis,
        transports: Transports,
        *,
        schedule: Callable[[int, datetime, str], None],
        worker_id: str,
        batch_size: int = 50,
        lock_seconds: float = 120,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.redis = redis
        self.transports = transports
        self.schedule = schedule
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lock_seconds = lock_seconds

    def run(self, campaign_id: int) -> RunResult:
        """Send what is due; a second sender of the same campaign stands aside and looks again
        once the lock would have expired (so a sender that died is taken over)."""
        with self.database.session() as session:
            state = session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
        if state not in (CampaignState.SCHEDULED, CampaignState.SENDING):
            return RunResult(outcome=f"campaign is {state or 'gone'}")
        key = f"{LOCK_PREFIX}{campaign_id}"
        lock = self.redis.lock(key, timeout=self.lock_seconds)
        if not lock.acquire(blocking=False):
            ttl_ms = self.redis.pttl(key)
            later = self.clock.now() + timedelta(milliseconds=max(int(ttl_ms), 0) + 1000)
            later = later.replace(second=0, microsecond=0) + timedelta(minutes=1)
            self.schedule(campaign_id, later, f"lock-{later:%Y%m%dT%H%M}")
            return RunResult(outcome="another worker is sending this campaign")
        try:
            with self.database.session() as session:
                return self._run(session, campaign_id, lock)
        except LockNotOwnedError:
            # Paused longer than the lock lives (e.g. a frozen VM): another worker has taken over.
            return RunResult(outcome="another worker took the campaign over")
        finally:
            self.transports.close()
            try:
                lock.release()
            except LockError:  # expired meanwhile
                pass

    def _run(self, session: Session, campaign_id: int, lock: Lock) -> RunResult:
        result = RunResult()
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            result.outcome = "no such campaign"
            return result
        now = self.clock.now()
        time_zone = clinic_time_zone(session, self.settings)
        if campaign.state == CampaignState.SCHEDULED:
            if campaign.scheduled_at is not None and campaign.scheduled_at > now:
                when = campaign.scheduled_at
                self.schedule(campaign.id, when, f"due-{when:%Y%m%dT%H%M%S}-from-{now:%Y%m%dT%H%M%S}")
                result.outcome = "not due yet"
                return result
            region = self.settings.sms_default_region
            result.extra["recipients"] = start(session, campaign, now, time_zone, region=region)
            session.commit()
            session.refresh(campaign)
        if campaign.state != CampaignState.SENDING:
            result.outcome = f"campaign is {campaign.state}"
            return result
        if resolve_strays(session, campaign, now):
            session.commit()
        profile = load_profile(session, self.settings)
        session.commit()
        problem = self._preflight(campaign, profile)
        if problem is not None:
            self._pause_with_error(session, campaign, problem)
            result.outcome = "paused: " + problem
            return result
        while True:
            lock.reacquire()
            session.refresh(campaign)
            if campaign.state == CampaignState.CANCELLED:
                cancel_pending(session, campaign.id, self.clock.now())
                session.commit()
                result.outcome = "cancelled"
                return result
            if campaign.state != CampaignState.SENDING:
                result.outcome = f"campaign is {campaign.state}"
                return result
            now = self.clock.now()
            quiet = profile.quiet_hours.get(campaign.channel)
            quiet_end = quiet.ends_at(now, time_zone) if quiet is not None else None
            if quiet_end is not None:
                self._wait(session, campaign, quiet_end)
                result.outcome = "waiting for the end of quiet hours"
                return result
            batch = self._next_batch(session, campaign.id, now)
            if not batch:
                self._finish_or_wait(session, campaign, result)
                return result
            try:
                transport = self.transports.get(campaign.channel)
            except NotConfigured as exc:
                self._pause_with_error(session, campaign, exc.message)
                result.outcome = "paused: " + exc.message
                return result
            if campaign.waiting_until is not None:
                campaign.waiting_until = None
            self._batch(session, campaign, batch, transport, profile, lock, result)

    def _preflight(self, campaign: Campaign, profile: MessagingProfile) -> str | None:
        """What stops every message of the campaign, in words staff can act on (None: all set)."""
        try:
            public_base_url(self.settings)
        except NotConfigured as exc:
            return exc.message
        if campaign.channel == "email" and not profile.email_ready:
            return NO_SENDER
        return None

    def _next_batch(
        self, session: Session, campaign_id: int, now: datetime
    ) -> list[tuple[CampaignRecipient, Contact]]:
        rows = session.execute(
            select(CampaignRecipient, Contact)
            .join(Contact, Contact.id == CampaignRecipient.contact_id)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == RecipientState.PENDING.value,
                or_(CampaignRecipient.next_attempt_at.is_(None), CampaignRecipient.next_attempt_at <= now),
            )
            .order_by(CampaignRecipient.id)
            .limit(self.batch_size)
            .execution_options(populate_existing=True)
        ).all()
        return [(recipient, contact) for recipient, contact in rows]

    def _finish_or_wait(self, session: Session, campaign: Campaign, result: RunResult) -> None:
        retry_at = session.scalar(
            select(func.min(CampaignRecipient.next_attempt_at)).where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.state == RecipientState.PENDING.value,
            )
        )
        if retry_at is not None:
            self._wait(session, campaign, utc(retry_at))
            result.outcome = "waiting to retry temporary failures"
            return
        now = self.clock.now()
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id, Campaign.state == CampaignState.SENDING.value)
            .values(state=CampaignState.SENT.value, finished_at=now, waiting_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        result.outcome = "sent"

    def _wait(self, session: Session, campaign: Campaign, until: datetime) -> None:
        campaign.waiting_until = until
        campaign.updated_at = self.clock.now()
        session.commit()
        self.schedule(campaign.id, until, f"wait-{until:%Y%m%dT%H%M%S}-from-{self.clock.now():%Y%m%dT%H%M%S}")

    def _pause_with_error(self, session: Session, campaign: Campaign, message: str) -> None:
        now = self.clock.now()
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id, Campaign.state == CampaignState.SENDING.value)
            .values(
                state=CampaignState.PAUSED.value,
                paused_at=now,
                updated_at=now,
                error=f"Sending paused: {message} Then press Resume.",
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()

    def _batch(
        self,
        session: Session,
        campaign: Campaign,
        batch: list[tuple[CampaignRecipient, Contact]],
        transport: Any,
        profile: MessagingProfile,
        lock: Lock,
        result: RunResult,
    ) -> None:
        """Skip who no longer qualifies, then claim, send and record the rest one by one."""
        now = self.clock.now()
        content = Content.of(campaign)
        ready: list[tuple[CampaignRecipient, RenderedMessage]] = []
        for recipient, contact in batch:
            # One recipient's problem (the template, a hostile name or address) fails that message
            # alone; the rest of the batch goes on.
            try:
                reason, address = skip_reason(contact, campaign.channel, self.settings.sms_default_region)
                if reason is None:
                    assert address is not None
                    reference = f"campaign-recipient:{recipient.id}"
                    rendered = render_message(
                        content, contact, address, profile, self.settings, campaign.id, reference
                    )
                    ready.append((recipient, rendered))
                    continue
            except Exception as exc:  # noqa: BLE001 - shown as this message's failure
                if not isinstance(exc, MessageProblem | NotConfigured):
                    with personal_of(contact):  # the traceback may quote the contact's details
                        log.exception("campaign recipient %s could not be prepared", recipient.id)
                error = failure_text(exc)
                code = (Reason.INVALID_ADDRESS if isinstance(exc, InvalidAddress) else
                        Reason.TEMPLATE if isinstance(exc, MessageProblem) else Reason.UNEXPECTED).value
                if self._close(
                    session, recipient, RecipientState.PENDING, RecipientState.FAILED, now,
                    reason=code, error=error,
                ):
                    failed = ActivityKind.MESSAGE_FAILED.value
                    session.add(_event(campaign, recipient, failed, now, error=error))
                    result.failed += 1
                continue
            if self._close(
                session, recipient, RecipientState.PENDING, RecipientState.SKIPPED, now, reason=reason
            ):
                result.skipped += 1
            else:
                result.not_ours += 1
        session.commit()
        for recipient, message in ready:
            lock.reacquire()
            claimed = self._claim(session, recipient, campaign.channel, profile)
            if claimed is None:
                result.not_ours += 1
                continue
            if not claimed:
                result.skipped += 1  # frequency cap
                continue
            if self._deliver(session, campaign, recipient, message, transport, result):
                return  # halted: the campaign is paused with the reason

    def _close(
        self,
        session: Session,
        recipient: CampaignRecipient,
        from_state: RecipientState,
        to_state: RecipientState,
        now: datetime,
        **values: Any,
    ) -> bool:
        moved = session.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == recipient.id, CampaignRecipient.state == from_state.value)
            .values(state=to_state.value, finished_at=now, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return moved == 1

    def _claim(
        self, session: Session, recipient: CampaignRecipient, channel: str, profile: MessagingProfile
    ) -> bool | None:
        """pending -> sending with its frequency-cap slot, committed before anything is handed over.

        None if someone else has it, or if the contact stopped qualifying since the batch was checked
        (the next batch skips it, with the reason): an unsubscribe during a batch counts for every
        message not yet handed over. False if the cap left no slot (skipped, "frequency cap").
        """
        now = self.clock.now()
        status = Contact.email_marketing_status if channel == "email" else Contact.sms_marketing_status
        still_subscribed = exists().where(
            Contact.id == CampaignRecipient.contact_id,
            status == MarketingStatus.SUBSCRIBED.value,
            Contact.archived_at.is_(None),
        )
        moved = session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.id == recipient.id,
                CampaignRecipient.state == RecipientState.PENDING.value,
                still_subscribed,
            )
            .values(
                state=RecipientState.SENDING.value,
                attempts=CampaignRecipient.attempts + 1,
                claimed_at=now,
                claimed_by=self.worker_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            session.commit()
            return None
        cap = profile.frequency_cap
        if cap is not None and not take_slot(session, cap, recipient.contact_id, _reference(recipient), now):
            self._record(session, recipient, RecipientState.SKIPPED, now,
                         {"reason": Reason.FREQUENCY_CAP.value, "finished_at": now})
            session.commit()
            return False
        session.commit()
        # The row already says so (the claim's UPDATE); marking it dirty cost another UPDATE per message.
        set_committed_value(recipient, "attempts", recipient.attempts + 1)
        return True

    def _deliver(
        self,
        session: Session,
        campaign: Campaign,
        recipient: CampaignRecipient,
        message: RenderedMessage,
        transport: Any,
        result: RunResult,
    ) -> bool:
        """Hand one claimed message over and record the outcome (only over this worker's own claim);
        True when the channel halted (the login refused): the campaign is paused, nothing failed."""
        values: dict[str, Any] = {"to_address": message.to}
        try:
            provider_id = transport.send(message.email if message.email is not None else message.sms)
        except Exception as raised:  # noqa: BLE001 - a provider bug fails this message, not the campaign
            exc = as_send_error(raised)
            if not isinstance(raised, SendError):
                with personal_of(message):  # a provider's message may quote the recipient
                    log.exception("campaign recipient %s: unexpected error from the provider", recipient.id)
            now = self.clock.now()
            if exc.halts:
                self._record(session, recipient, RecipientState.PENDING, now,
                             {"attempts": recipient.attempts - 1, "claimed_by": None, "error": exc.message})
                release_slot(session, _reference(recipient))
                session.commit()
                self._pause_with_error(session, campaign, exc.message)
                return True
            delay = MESSAGE_RETRY.delay_after(recipient.attempts) if exc.retryable else None
            if delay is not None:
                state = RecipientState.PENDING
                values.update(next_attempt_at=now + delay, error=exc.message, claimed_by=None)
                result.retrying += 1
            else:
                state = RecipientState.FAILED
                code = "refused" if not exc.retryable else "gave_up"
                code = "outcome_unknown" if exc.ambiguous else code
                values.update(reason=code, error=exc.message, finished_at=now)
                result.failed += 1
            recorded = self._record(session, recipient, state, now, values)
            if recorded and state == RecipientState.FAILED:
                release_slot(session, _reference(recipient))  # not sent: it does not count
                session.add(
                    _event(campaign, recipient, ActivityKind.MESSAGE_FAILED.value, now, error=exc.message)
                )
            session.commit()
            return False
        now = self.clock.now()
        values.update(
            provider_message_id=str(provider_id)[:255],
            sent_at=now,
            finished_at=now,
            error=None,
            next_attempt_at=None,
        )
        if self._record(session, recipient, RecipientState.SENT, now, values):
            kind = ActivityKind.EMAIL_SENT if campaign.channel == "email" else ActivityKind.SMS_SENT
            extra = {"subject": message.subject} if campaign.channel == "email" else {"body": message.body}
            session.add(_event(campaign, recipient, kind.value, now, to=message.to, **extra))
            result.sent += 1
        session.commit()
        return False

    def _record(
        self,
        session: Session,
        recipient: CampaignRecipient,
        state: RecipientState,
        now: datetime,
        values: dict[str, Any],
    ) -> bool:
        moved = session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.id == recipient.id,
                CampaignRecipient.state == RecipientState.SENDING.value,
                CampaignRecipient.claimed_by == self.worker_id,
            )
            .values(state=state.value, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return moved == 1
