"""Inbound SMS from the provider: Twilio's signed webhook, opt-out keywords, and applying a STOP.

Twilio POSTs each reply to a number as a form (From, To, Body, AccountSid, MessageSid, ...) and
signs it in the X-Twilio-Signature header: base64 HMAC-SHA1, keyed with the Auth Token, of the
URL Twilio called followed by every POST parameter sorted by name, as name + value with no
separators. A reply that is an opt-out keyword marks every contact with that mobile number
Unsubscribed from SMS at once (source "SMS STOP"), as the unsubscribe link does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.clock import Clock
from oncord.messaging.unsubscribe import unsubscribe
from oncord.models import ConsentSource, Contact

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's default opt-out keywords: a reply that is exactly one of these (any case) opts out.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The X-Twilio-Signature Twilio sends for a POST of `params` to `url`."""
    data = url + "".join(name + value for name, value in sorted(params, key=lambda item: item[0]))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_request(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str
) -> bool:
    """Whether the signature is Twilio's for this URL and these parameters (constant-time compare)."""
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)


def is_opt_out(body: str, opt_out_type: str | None = None) -> bool:
    """Whether a reply asks to stop: a keyword on its own (punctuation and case ignored), or
    Twilio's Advanced Opt-Out having classified it as STOP."""
    if (opt_out_type or "").upper() == "STOP":
        return True
    word = re.sub(r"[^A-Za-z]", "", body or "").upper()
    return word in OPT_OUT_KEYWORDS and len((body or "").split()) == 1


def contacts_with_mobile(session: Session, number: str, region: str) -> list[Contact]:
    """Contacts whose phone is this mobile number (E.164), however it was typed into Cliniko.

    `number` is already E.164 and every stored phone has its E.164 form beside it, so `region`
    is not needed any more.
    """
    return list(session.scalars(
        select(Contact).where(Contact.phone_e164 == number, Contact.phone_is_mobile.is_(True))
        .order_by(Contact.id)
    ))


def opt_out_number(session: Session, number: str, region: str, clock: Clock) -> list[Contact]:
    """Unsubscribe every contact with this mobile number from SMS; return those that changed.

    The caller commits (and schedules the push to Cliniko after it).
    """
    changed = []
    for contact in contacts_with_mobile(session, number, region):
        if unsubscribe(session, contact, "sms", clock, source=ConsentSource.SMS_STOP.value):
            changed.append(contact)
    return changed


def empty_twiml() -> str:
    """The reply that tells Twilio to send nothing back (Twilio confirms a STOP itself)."""
    return _EMPTY_TWIML
