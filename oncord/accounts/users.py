"""Creating staff users, checking passwords and changing roles; callers commit."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from oncord.accounts.passwords import password_problem
from oncord.clock import Clock
from oncord.models import Role, User

# Checked against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("oncord-dummy-password")


class AccountError(ValueError):
    """A user change that cannot be made; the message is shown to staff as is."""


def normalise_email(email: str) -> str:
    """E-mail addresses are stored and compared lower-case, without surrounding spaces."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash a password with werkzeug's current default (scrypt)."""
    return generate_password_hash(password)


def check_password_strength(password: str, email: str = "") -> None:
    """Refuse passwords too short or too common to resist guessing (AccountError says why)."""
    problem = password_problem(password, email=email)
    if problem:
        raise AccountError(problem)


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail (any case), if any."""
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def create_user(session: Session, *, email: str, password: str, role: Role | str, clock: Clock) -> User:
    """Add a user; raises AccountError for a taken e-mail or a weak password."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 255:
        raise AccountError("Enter a valid e-mail address.")
    if find_user(session, email) is not None:
        raise AccountError(f"There is already a user with the e-mail {email}.")
    check_password_strength(password, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=Role(role).value,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, clock: Clock) -> User | None:
    """The active user with these credentials (last login updated), or None."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = clock.now()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password (which also ends their other sessions)."""
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)


def session_fingerprint(user: User) -> str:
    """A short value derived from the password hash: stale once the password changes."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def list_users(session: Session) -> list[User]:
    """Every user, admins first, then by e-mail."""
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id)
    ) or 0


def update_user(session: Session, user: User, *, role: Role | str, active: bool) -> None:
    """Change a user's role and whether they may log in; never leaves the clinic without an admin."""
    role = Role(role)
    losing_admin = user.is_admin and user.active and (role != Role.ADMIN or not active)
    if losing_admin and _other_active_admins(session, user) == 0:
        raise AccountError("This is the only active admin. Make another user an admin first.")
    user.role = role.value
    user.active = active


def generate_password() -> str:
    """A random password to hand to a new user (or print for the demo)."""
    return secrets.token_urlsafe(12)


def ensure_admin(session: Session, *, email: str, clock: Clock) -> tuple[User, str]:
    """An active admin with this e-mail and a fresh random password, returned to print once (demo)."""
    password = generate_password()
    user = find_user(session, email)
    if user is None:
        user = create_user(session, email=email, password=password, role=Role.ADMIN, clock=clock)
    else:
        set_password(user, password)
        user.role, user.active = Role.ADMIN.value, True
    return user, password
