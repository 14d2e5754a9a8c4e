"""Feedback links: a signed, unguessable token naming the contact and the message that carried it.

Signed like the unsubscribe links (oncord.messaging.unsubscribe) with their own salt, so neither
token works as the other. The token does not expire by itself: the page refuses it once the
message it names is older than LINK_LIFETIME (read from the message's row and the app clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "oncord.feedback.v1"
_TEST = "t"

# A score this long after the message no longer describes that visit.
LINK_LIFETIME = timedelta(days=60)


@dataclass(frozen=True)
class FeedbackToken:
    """What a valid token names: the contact and the automation send (None: a test message)."""

    contact_id: int
    send_id: int | None

    @property
    def is_test(self) -> bool:
        """A test or preview message: its link shows the page and records nothing."""
        return self.send_id is None

    @property
    def message_ref(self) -> str:
        """The message's reference, as its outbox row and e-mail Message-ID carry it."""
        return f"automation-send:{self.send_id}"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def send_id_of(reference: str) -> int | None:
    """The automation send a message reference names ("automation-send:42"), else None."""
    kind, _, number = reference.partition(":")
    if kind == "automation-send" and number.isdigit():
        return int(number)
    return None


def make_token(secret_key: str, contact_id: int, reference: str, *, test: bool = False) -> str:
    """The token for one contact's message; any message that is not an automation send is a test."""
    send_id = None if test else send_id_of(reference)
    return _serializer(secret_key).dumps([contact_id, _TEST if send_id is None else send_id])


def read_token(secret_key: str, token: str) -> FeedbackToken | None:
    """What the token names, or None when we did not sign it (tampered, or not ours)."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if not isinstance(value, list) or len(value) != 2 or type(value[0]) is not int:
        return None
    if value[1] == _TEST:
        return FeedbackToken(value[0], None)
    if type(value[1]) is not int:
        return None
    return FeedbackToken(value[0], value[1])
