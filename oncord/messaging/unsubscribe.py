"""Unsubscribe links: a signed token per contact and channel, and applying it at once."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.contacts.consent import SMS_STOP, UNSUBSCRIBE_LINK, set_marketing_status
from oncord.models import ConsentSource, Contact, MarketingStatus

_SALT = "oncord.unsubscribe.v1"
_CHANNEL_CODES = {"email": "e", "sms": "s"}
_CODE_CHANNELS = {v: k for k, v in _CHANNEL_CODES.items()}


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


_TEST = "t"


def make_token(
    secret_key: str, contact_id: int, channel: str, campaign_id: int | None = None, *, test: bool = False
) -> str:
    """A short signed token naming the contact and channel (it never expires: links must keep working).

    A campaign's e-mail also names the campaign, so its report can count who unsubscribed from it.
    A test message's token is marked as such: following it changes nobody's consent.
    """
    value: list[int | str] = [contact_id, _CHANNEL_CODES[channel]]
    if test:
        value.append(_TEST)
    elif campaign_id is not None:
        value.append(campaign_id)
    return _serializer(secret_key).dumps(value)


def _read(secret_key: str, token: str) -> list[object] | None:
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not isinstance(value[0], int)
        or value[1] not in _CODE_CHANNELS
        or (len(value) == 3 and not isinstance(value[2], int) and value[2] != _TEST)
    ):
        return None
    return value


def is_test_token(secret_key: str, token: str) -> bool:
    """Whether a valid token came from a test message (it must change nothing)."""
    value = _read(secret_key, token)
    return value is not None and len(value) == 3 and value[2] == _TEST


def read_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """(contact id, channel) from a token, or None when it was not signed by us."""
    value = _read(secret_key, token)
    if value is None:
        return None
    return value[0], _CODE_CHANNELS[value[1]]  # type: ignore[return-value,index]


def token_campaign(secret_key: str, token: str) -> int | None:
    """The campaign a valid token names, or None (automations' links and plain links name none)."""
    value = _read(secret_key, token)
    if value is None or len(value) != 3 or value[2] == _TEST:
        return None
    return value[2]  # type: ignore[return-value]


def unsubscribe_url(
    base_url: str,
    secret_key: str,
    contact_id: int,
    channel: str,
    campaign_id: int | None = None,
    *,
    test: bool = False,
) -> str:
    """The public link that unsubscribes this contact from this channel (a test's link: nobody)."""
    token = make_token(secret_key, contact_id, channel, campaign_id, test=test)
    return f"{base_url.rstrip('/')}/u/{token}"


def unsubscribe(
    session: Session,
    contact: Contact,
    channel: str,
    clock: Clock,
    *,
    source: str = ConsentSource.UNSUBSCRIBE_LINK.value,
) -> bool:
    """Mark the contact Unsubscribed on the channel, through the consent owner (caller commits).

    Ledger row, feed entry and (for a contact linked to Cliniko) the outbox row come from
    `set_marketing_status`; the caller schedules the push after its commit.
    Returns False when the contact already was unsubscribed (nothing is recorded twice).
    """
    actor = SMS_STOP if source == ConsentSource.SMS_STOP else UNSUBSCRIBE_LINK
    result = set_marketing_status(session, contact, channel, MarketingStatus.UNSUBSCRIBED.value, actor=actor,
                                  now=clock.now())
    return result.changed
