"""Recording a score: one row per message (a second answer changes it), and the contact's feed entry.

The unique message reference in the database, not the page, keeps a message to one answer: two
clicks racing each other both end as one row with the last score.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oncord.feedback.tokens import LINK_LIFETIME, FeedbackToken, read_token
from oncord.models import (
    ActivityEvent,
    ActivityKind,
    Automation,
    AutomationSend,
    Contact,
    FeedbackResponse,
    SendState,
)


class LinkState(enum.StrEnum):
    """What a feedback link is worth when someone opens it."""

    VALID = "valid"
    # A test or preview message: the page shows, nothing is recorded.
    TEST = "test"
    # Not signed by us, or naming a message that is not this contact's sent message.
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Link:
    """A checked link: its state, and for a valid one the message and contact it belongs to."""

    state: LinkState
    token: FeedbackToken | None = None
    send: AutomationSend | None = None
    contact: Contact | None = None


def category(score: int) -> str:
    """The NPS group: promoter (9-10), passive (7-8) or detractor (0-6)."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def feed_sentence(details: dict[str, object]) -> str:
    """The feed's words for a feedback entry, e.g. "Gave 9/10 (promoter) …"."""
    score = details.get("score")
    if not isinstance(score, int):
        return "Gave feedback"
    where = f" after {details['automation']}" if details.get("automation") else ""
    return f"Gave {score}/10 ({category(score)}) on how likely they are to recommend the clinic{where}"


def check_link(session: Session, secret_key: str, token: str, now: datetime) -> Link:
    """Whether a link may record a score now, read from its message's row and the clock."""
    found = read_token(secret_key, token)
    if found is None:
        return Link(LinkState.INVALID)
    if found.is_test:
        return Link(LinkState.TEST, found)
    send = session.get(AutomationSend, found.send_id)
    contact = session.get(Contact, found.contact_id)
    if send is None or contact is None or send.contact_id != contact.id or send.state != SendState.SENT:
        return Link(LinkState.INVALID, found)
    if send.sent_at is None or now - send.sent_at > LINK_LIFETIME:
        return Link(LinkState.EXPIRED, found)
    return Link(LinkState.VALID, found, send, contact)


def _feed(session: Session, link: Link, score: int, now: datetime) -> None:
    assert link.send is not None and link.contact is not None and link.token is not None
    key = f"feedback:{link.token.message_ref}"
    automation = session.get(Automation, link.send.automation_id)
    details = {"score": score, "automation": automation.name if automation else None}
    event = session.scalar(select(ActivityEvent).where(ActivityEvent.dedupe_key == key))
    if event is None:
        session.add(ActivityEvent(contact_id=link.contact.id, kind=ActivityKind.FEEDBACK_GIVEN.value,
                                  occurred_at=now, appointment_id=link.send.appointment_id, dedupe_key=key,
                                  details=details, created_at=now))
    else:
        # One entry per message, saying the latest score (a changed mind is not a second answer).
        event.details = {**details, "changed_at": now.isoformat()}


def record_score(session: Session, link: Link, score: int, now: datetime) -> FeedbackResponse:
    """Store the score of a valid link's message, or change the stored one (the caller commits)."""
    assert link.state == LinkState.VALID and link.send is not None and link.token is not None
    if not 0 <= score <= 10:
        raise ValueError("a score is 0 to 10")
    ref = link.token.message_ref
    response = session.scalar(select(FeedbackResponse).where(FeedbackResponse.message_ref == ref))
    if response is None:
        try:
            with session.begin_nested():
                response = FeedbackResponse(message_ref=ref, contact_id=link.token.contact_id,
                                            appointment_id=link.send.appointment_id, score=score,
                                            responded_at=now, updated_at=now)
                session.add(response)
        except IntegrityError:
            # Another click of the same message inserted first: this one changes its score.
            response = None
    if response is None or response.score != score:
        session.execute(update(FeedbackResponse).where(FeedbackResponse.message_ref == ref)
                        .values(score=score, updated_at=now))
        response = session.scalar(select(FeedbackResponse).where(FeedbackResponse.message_ref == ref)
                                  .execution_options(populate_existing=True))
        assert response is not None
    _feed(session, link, score, now)
    return response
