"""Sending a batch of due sends: re-check everything, claim each send once, hand it over, record.

Per chunk of sends: read the appointments, the contacts and their consent again (and the
appointments from Cliniko when the last pull is stale); skip or postpone what no longer
qualifies; claim the rest with a compare-and-set to `sending` and commit *before* talking to the
provider. A send is claimed at most once, so a retried job or a second worker never sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from oncord.automations.journeys.sending import step_spec
from oncord.automations.reasons import Reason
from oncord.automations.refresh import AppointmentRefresher
from oncord.automations.rules import (
    check_appointment,
    check_contact,
    check_without_appointment,
    spec_of,
    too_late,
)
from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, Verdict, skip, wait
from oncord.automations.status import add_outcome_events, transition
from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database, table_of
from oncord.integration import active_connection
from oncord.logredact import personal_of
from oncord.messaging.errors import MessageProblem, NotConfigured, SendError, as_send_error, failure_text
from oncord.messaging.frequency import release_slot, take_slot
from oncord.messaging.pipeline import (
    HALT_RETRY,
    RenderedMessage,
    RetryPolicy,
    Transports,
    build_email,
    build_sms,
)
from oncord.messaging.profile import MessagingProfile, appointment_time_zone, load_profile, public_base_url
from oncord.messaging.templates import merge_data, zone_problem
from oncord.models import Appointment, Automation, AutomationSend, Contact, SendState, Trigger

log = logging.getLogger(__name__)

# A reminder refused for now is tried five times in all, waiting longer each time.
MESSAGE_RETRY = RetryPolicy(
    5, (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
)
# Sends claimed and recorded together; a worker dying mid-chunk strands at most this many.
CHUNK_SIZE = 25
OPEN_STATES = (SendState.PENDING.value, SendState.QUEUED.value)


@dataclass
class BatchResult:
    """What happened to each send of a batch."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    waiting: int = 0
    retrying: int = 0
    # Already taken or finished by someone else (another worker, an earlier run of this job).
    not_ours: int = 0

    def as_dict(self) -> dict[str, int]:
        """For the job result."""
        return dict(self.__dict__)


@dataclass
class _Claim:
    """A send this worker claimed, with its rendered message."""

    send: AutomationSend
    spec: AutomationSpec
    contact_id: int
    message: RenderedMessage
    attempts: int


class BatchSender:
    """Processes sends by id, a chunk at a time; everything it needs is passed in (no Flask).

    Per chunk: one read of the sends with their appointments and contacts, the decisions, one
    compare-and-set claim committed before anything is handed over, the sends, then one write of
    the outcomes. A worker that dies mid-chunk leaves its claims in `sending`, which the
    dispatcher later fails as "may have gone" rather than sending again.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        transports: Transports,
        *,
        worker_id: str,
        refresher: AppointmentRefresher | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.transports = transports
        self.worker_id = worker_id
        self.refresher = refresher
        self.chunk_size = chunk_size

    def run(self, send_ids: Sequence[int]) -> BatchResult:
        """Process each send; a send that is not open (pending/queued) any more is left alone."""
        result = BatchResult()
        try:
            with self.database.session() as session:
                profile = load_profile(session, self.settings)
                specs = self._specs(session, send_ids)
                refresh = self.refresher is not None and self.refresher.needed(session, self.clock.now())
                session.commit()
                for start in range(0, len(send_ids), self.chunk_size):
                    chunk = list(send_ids[start : start + self.chunk_size])
                    self._chunk(session, chunk, specs, profile, refresh, result)
        finally:
            self.transports.close()
            if self.refresher is not None:
                self.refresher.close()
        return result

    def _specs(self, session: Session, send_ids: Sequence[int]) -> dict[int, AutomationSpec]:
        connection = active_connection(session)
        ids = set(
            session.scalars(select(AutomationSend.automation_id).where(AutomationSend.id.in_(send_ids)))
        )
        automations = session.scalars(select(Automation).where(Automation.id.in_(ids)))
        return {a.id: spec_of(a, connection) for a in automations}

    def _chunk(
        self,
        session: Session,
        send_ids: list[int],
        specs: dict[int, AutomationSpec],
        profile: MessagingProfile,
        refresh: bool,
        result: BatchResult,
    ) -> None:
        now = self.clock.now()
        # Read again just before sending: the appointment as synced and the contact's consent now.
        rows = session.execute(
            select(AutomationSend, Appointment, Contact)
            .outerjoin(Appointment, Appointment.id == AutomationSend.appointment_id)
            # The appointment's contact as synced now; a send without an appointment has its own.
            .outerjoin(Contact, Contact.id == case(
                (AutomationSend.appointment_id.is_(None), AutomationSend.contact_id),
                else_=Appointment.contact_id,
            ))
            .where(AutomationSend.id.in_(send_ids))
            .order_by(AutomationSend.id)
            .execution_options(populate_existing=True)
        ).all()
        result.not_ours += len(send_ids) - len(rows)
        not_due: list[int] = []
        skips: dict[str, list[AutomationSend]] = {}
        waits: list[tuple[AutomationSend, Verdict]] = []
        failures: list[tuple[AutomationSend, str]] = []
        ready: list[tuple[AutomationSend, AutomationSpec, Contact, RenderedMessage]] = []
        step_specs: dict[tuple[int, int], AutomationSpec] = {}
        appointment: Appointment | None
        contact: Contact | None
        for send, appointment, contact in rows:
            if send.state not in OPEN_STATES:
                result.not_ours += 1
                continue
            if send.due_at > now:
                # Postponed (quiet hours, a reschedule) after it was queued: the dispatcher requeues it.
                not_due.append(send.id)
                continue
            spec = step_spec(session, specs[send.automation_id], send, step_specs)
            if refresh and appointment is not None and self.refresher is not None:
                appointment = self.refresher.refresh(session, appointment, now)
                linked = appointment.contact_id if appointment is not None else None
                contact = session.get(Contact, linked) if linked else None
            # One message's problem (its template, its address, its location's zone) fails that
            # message alone; the rest of the chunk goes on.
            try:
                verdict, address = self._decide(spec, send, appointment, contact, profile, now)
                if verdict.action == "skip":
                    skips.setdefault(verdict.reason or "", []).append(send)
                elif verdict.action == "wait":
                    waits.append((send, verdict))
                else:
                    assert contact is not None and address is not None
                    message = self._render(spec, send, appointment, contact, address, profile)
                    ready.append((send, spec, contact, message))
            except (MessageProblem, NotConfigured) as exc:
                failures.append((send, failure_text(exc)))
            except Exception as exc:  # noqa: BLE001 - logged with its traceback, shown as this message's failure
                with personal_of(contact):  # the traceback may quote the contact's details
                    log.exception("automation send %s could not be prepared", send.id)
                failures.append((send, failure_text(exc)))
        claims = self._settle(session, now, specs, not_due, skips, waits, failures, ready, result)
        claims = self._frequency_cap(session, claims, profile, now, result)
        session.commit()
        outcomes = [self._deliver(claim) for claim in claims]
        self._record(session, outcomes, result)
        session.commit()

    def _decide(
        self,
        spec: AutomationSpec,
        send: AutomationSend,
        appointment: Appointment | None,
        contact: Contact | None,
        profile: MessagingProfile,
        now: datetime,
    ) -> tuple[Verdict, str | None]:
        zone = appointment_time_zone(appointment, profile)
        quiet = ChannelQuiet(profile.quiet_hours.get(send.channel), zone)
        if send.appointment_id is None:
            verdict = check_without_appointment(spec)
        else:
            verdict = check_appointment(spec, appointment, now, quiet)
        if verdict.go and too_late(spec, send.event_at, now):
            verdict = skip(Reason.TOO_LATE)
        if not verdict.go:
            return verdict, None
        verdict, address = check_contact(spec, contact, send.channel, self.settings.sms_default_region)
        if not verdict.go:
            return verdict, None
        return self._quiet_hours(spec, send.channel, appointment, profile, now), address

    def _settle(
        self,
        session: Session,
        now: datetime,
        specs: dict[int, AutomationSpec],
        not_due: list[int],
        skips: dict[str, list[AutomationSend]],
        waits: list[tuple[AutomationSend, Verdict]],
        failures: list[tuple[AutomationSend, str]],
        ready: list[tuple[AutomationSend, AutomationSpec, Contact, RenderedMessage]],
        result: BatchResult,
    ) -> list[_Claim]:
        """Write every decision with compare-and-set; return the claims this worker won."""
        table = table_of(AutomationSend)
        if not_due:
            session.execute(
                update(table)
                .where(table.c.id.in_(not_due), table.c.state == SendState.QUEUED.value)
                .values(state=SendState.PENDING.value, updated_at=now)
            )
            result.waiting += len(not_due)
        by_id = {send.id: send for group in skips.values() for send in group}
        for reason, group in skips.items():
            won = set(session.scalars(
                update(table)
                .where(table.c.id.in_([s.id for s in group]), table.c.state.in_(OPEN_STATES))
                .values(state=SendState.SKIPPED.value, reason=reason, finished_at=now, updated_at=now)
                .returning(table.c.id)
            ))
            result.skipped += len(won)
            result.not_ours += len(group) - len(won)
            skipped = [by_id[i] for i in sorted(won)]
            for automation_id in {s.automation_id for s in skipped}:
                rows = [_Row(s.id, SendState.SKIPPED.value, s.contact_id, s.appointment_id, s.channel,
                             reason=reason) for s in skipped if s.automation_id == automation_id]
                add_outcome_events(session, specs[automation_id], rows, now)
        for send, verdict in waits:
            assert verdict.until is not None
            moved = transition(session, send.id, OPEN_STATES, now, state=SendState.PENDING.value,
                               due_at=verdict.until, reason=verdict.reason, queued_at=None)
            if moved:
                result.waiting += 1
            else:
                result.not_ours += 1
        for send, error in failures:
            if transition(session, send.id, OPEN_STATES, now, state=SendState.FAILED.value, error=error,
                          finished_at=now, reason=None):
                row = _Row(send.id, SendState.FAILED.value, send.contact_id, send.appointment_id,
                           send.channel, error=error)
                add_outcome_events(session, specs[send.automation_id], [row], now)
                result.failed += 1
            else:
                result.not_ours += 1
        if not ready:
            return []
        won = set(session.scalars(
            update(table)
            .where(table.c.id.in_([send.id for send, *_ in ready]), table.c.state.in_(OPEN_STATES))
            .values(state=SendState.SENDING.value, attempts=table.c.attempts + 1, claimed_at=now,
                    claimed_by=self.worker_id, reason=None, updated_at=now)
            .returning(table.c.id)
        ))
        result.not_ours += len(ready) - len(won)
        return [_Claim(send, spec, contact.id, message, send.attempts + 1)
                for send, spec, contact, message in ready if send.id in won]

    def _frequency_cap(
        self, session: Session, claims: list[_Claim], profile: MessagingProfile, now: datetime,
        result: BatchResult,
    ) -> list[_Claim]:
        """Each marketing claim takes a frequency-cap slot in the claim's transaction; without one it
        is skipped ("frequency cap"). Service reminders never count."""
        cap = profile.frequency_cap
        if cap is None:
            return claims
        kept = []
        for claim in claims:
            if claim.spec.is_service or take_slot(session, cap, claim.contact_id, _reference(claim), now):
                kept.append(claim)
                continue
            send = claim.send
            if transition(session, send.id, (SendState.SENDING.value,), now, state=SendState.SKIPPED.value,
                          reason=Reason.FREQUENCY_CAP.value, finished_at=now):
                row = _Row(send.id, SendState.SKIPPED.value, claim.contact_id, send.appointment_id,
                           send.channel, reason=Reason.FREQUENCY_CAP.value)
                add_outcome_events(session, claim.spec, [row], now)
                result.skipped += 1
        return kept

    def _quiet_hours(
        self,
        spec: AutomationSpec,
        channel: str,
        appointment: Appointment | None,
        profile: MessagingProfile,
        now: datetime,
    ) -> Verdict:
        quiet = profile.quiet_hours.get(channel)
        if quiet is None:
            return SEND
        zone = appointment_time_zone(appointment, profile)
        problem = zone_problem(zone)
        if problem is not None:
            raise MessageProblem(problem)
        ends = quiet.ends_at(now, zone)
        if ends is None:
            return SEND
        if spec.trigger == Trigger.UPCOMING and appointment is not None and ends >= appointment.starts_at:
            return skip(Reason.QUIET_HOURS_TOO_LONG)
        return wait(Reason.QUIET_HOURS, ends)

    def _render(
        self,
        spec: AutomationSpec,
        send: AutomationSend,
        appointment: Appointment | None,
        contact: Contact,
        address: str,
        profile: MessagingProfile,
    ) -> RenderedMessage:
        if appointment is None:
            # A birthday of a contact who never had an appointment: its fields are blank, and the
            # business is the clinic.
            starts_at, appointment_type, practitioner = None, None, None
            business = profile.design.clinic_name or None
        else:
            starts_at = appointment.starts_at
            appointment_type = appointment.appointment_type.name if appointment.appointment_type else None
            practitioner = appointment.practitioner.display_name if appointment.practitioner else None
            business = appointment.business.name if appointment.business else None
        data = merge_data(
            first_name=contact.first_name,
            last_name=contact.last_name,
            starts_at=starts_at,
            time_zone=appointment_time_zone(appointment, profile),
            clinic_zone=profile.default_time_zone,
            appointment_type=appointment_type,
            practitioner=practitioner,
            business=business,
            book_now_url=profile.book_now_url,
            book_now_problem=profile.book_now_problem,
            review_url=profile.review_url,
        )
        reference = f"automation-send:{send.id}"
        base = public_base_url(self.settings)
        if send.channel == "email":
            return build_email(spec.email_subject, spec.email_body, data, address=address, contact=contact,
                               profile=profile, base_url=base, secret_key=self.settings.secret_key,
                               reference=reference)
        return build_sms(spec.sms_body, data, address=address, contact=contact, marketing=not spec.is_service,
                         base_url=base, secret_key=self.settings.secret_key, reference=reference)

    def _deliver(self, claim: _Claim) -> tuple[_Claim, str, dict[str, Any]]:
        """Hand one claimed message over; (claim, outcome state, values to store)."""
        message = claim.message
        values: dict[str, Any] = {"to_address": message.to, "subject": message.subject, "body": message.body,
                                  "contact_id": claim.contact_id}
        try:
            provider_id = self.transports.send(message)
        except Exception as raised:  # noqa: BLE001 - a provider bug fails this message, not the batch
            exc = as_send_error(raised)
            if not isinstance(raised, SendError):
                with personal_of(message):  # a provider's message may quote the recipient
                    log.exception("automation send %s: unexpected error from the provider", claim.send.id)
            now = self.clock.now()
            if exc.halts:
                # Nothing can go until an admin fixes the login: wait, without using up an attempt.
                return claim, SendState.PENDING.value, {
                    **values, "due_at": now + HALT_RETRY, "reason": Reason.RETRY.value, "error": exc.message,
                    "queued_at": None, "updated_at": now, "attempts": claim.attempts - 1}
            delay = MESSAGE_RETRY.delay_after(claim.attempts) if exc.retryable else None
            if delay is not None:
                return claim, SendState.PENDING.value, {
                    **values, "due_at": now + delay, "reason": Reason.RETRY.value, "error": exc.message,
                    "queued_at": None, "updated_at": now}
            error = exc.message
            if exc.retryable:
                error = f"{error} (gave up after {claim.attempts} attempts)"
            return claim, SendState.FAILED.value, {
                **values, "error": error, "finished_at": now, "updated_at": now}
        now = self.clock.now()
        return claim, SendState.SENT.value, {
            **values, "sent_at": now, "finished_at": now, "provider_message_id": provider_id[:255],
            "error": None, "updated_at": now}

    def _record(self, session: Session, outcomes: list[tuple[_Claim, str, dict[str, Any]]],
                result: BatchResult) -> None:
        """Store the outcomes (only over this worker's own `sending` claims) and their feed entries."""
        table = table_of(AutomationSend)
        groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        for claim, state, values in outcomes:
            key = (state, tuple(sorted(values)))
            params = {"b_id": claim.send.id, **{f"b_{k}": v for k, v in values.items()}}
            groups.setdefault(key, []).append(params)
        for (state, columns), batch in groups.items():
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"), table.c.state == SendState.SENDING.value,
                       table.c.claimed_by == self.worker_id)
                .values(state=state, **{c: bindparam(f"b_{c}") for c in columns})
            )
            session.execute(statement, batch)
        now = self.clock.now()
        finished: dict[int, tuple[AutomationSpec, list[_Row]]] = {}
        for claim, state, values in outcomes:
            if state == SendState.PENDING.value:
                result.retrying += 1
                continue
            if state == SendState.SENT.value:
                result.sent += 1
            else:
                result.failed += 1
                if not claim.spec.is_service:
                    release_slot(session, _reference(claim))  # not sent: it does not count
            send = claim.send
            row = _Row(send.id, state, claim.contact_id, send.appointment_id, send.channel,
                       error=values.get("error"), to_address=values["to_address"], subject=values["subject"],
                       body=values["body"])
            finished.setdefault(claim.spec.id, (claim.spec, []))[1].append(row)
        for spec, rows in finished.values():
            add_outcome_events(session, spec, rows, now)


def _reference(claim: _Claim) -> str:
    return f"automation-send:{claim.send.id}"


@dataclass
class _Row:
    id: int
    state: str
    contact_id: int | None
    appointment_id: int | None
    channel: str
    reason: str | None = None
    error: str | None = None
    to_address: str | None = None
    subject: str | None = None
    body: str | None = None


def give_up(database: Database, clock: Clock, send_ids: Sequence[int], error: str) -> int:
    """Fail the sends of a batch whose job kept failing for an unexpected reason (after its last
    retry), so they show as failed with why instead of staying queued; return how many.

    Only open sends: one left `sending` may have gone and is the stuck recovery's to settle.
    """
    now = clock.now()
    with database.session() as session:
        connection = active_connection(session)
        rows = list(session.scalars(
            select(AutomationSend)
            .where(AutomationSend.id.in_(send_ids), AutomationSend.state.in_(OPEN_STATES))
        ))
        failed = 0
        for send in rows:
            if transition(session, send.id, OPEN_STATES, now, state=SendState.FAILED.value, error=error,
                          finished_at=now, reason=None):
                automation = session.get(Automation, send.automation_id)
                if automation is not None:
                    row = _Row(send.id, SendState.FAILED.value, send.contact_id, send.appointment_id,
                               send.channel, error=error)
                    add_outcome_events(session, spec_of(automation, connection), [row], now)
                failed += 1
        session.commit()
    return failed
