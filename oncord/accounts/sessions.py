"""Login sessions recorded in the database, so they can be ended before the cookie expires; callers commit."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.models import StaffSession, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user: User, clock: Clock) -> str:
    """Record a new session for the user and return the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    db.add(StaffSession(id=_digest(token), user_id=user.id, created_at=clock.now()))
    db.flush()
    return token


def is_live(db: Session, token: object, user_id: object) -> bool:
    """Whether the token names a session of this user that has not been ended."""
    if not isinstance(token, str) or not token:
        return False
    row = db.get(StaffSession, _digest(token))
    return row is not None and row.ended_at is None and row.user_id == user_id


def end(db: Session, token: object, clock: Clock) -> None:
    """End one session (logout)."""
    if isinstance(token, str) and token:
        db.execute(
            update(StaffSession)
            .where(StaffSession.id == _digest(token), StaffSession.ended_at.is_(None))
            .values(ended_at=clock.now())
        )


def end_all(db: Session, user: User, clock: Clock, *, keep: object = None) -> int:
    """End every live session of the user (but `keep`, the caller's own); returns how many ended."""
    query = select(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    ended = 0
    for row in db.scalars(query):
        if isinstance(keep, str) and row.id == _digest(keep):
            continue
        row.ended_at = clock.now()
        ended += 1
    return ended
