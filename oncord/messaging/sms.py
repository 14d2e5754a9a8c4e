"""SMS: the provider interface, Twilio's Messages API over HTTP, and the demo outbox provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests
from urllib3.exceptions import NewConnectionError

from oncord.clock import Clock
from oncord.contacts.phones import parse_phone
from oncord.db import Database
from oncord.messaging.errors import NotConfigured, PermanentFailure, TemporaryFailure, UnknownOutcome
from oncord.messaging.sms_segments import count_segments
from oncord.models import OutboxMessage


def mobile_number(raw: str | None, region: str) -> str | None:
    """The number in E.164 (+61412345678) when it is a valid mobile number, else None."""
    parsed = parse_phone(raw, region)
    return parsed.e164 if parsed and parsed.is_mobile else None


@dataclass(frozen=True)
class OutgoingSms:
    """One text message to one mobile number (E.164)."""

    to: str
    body: str
    reference: str | None = None


class SmsProvider(Protocol):
    """Hands text messages to an SMS gateway."""

    name: str

    def send(self, sms: OutgoingSms) -> str:
        """Send one SMS and return the provider's id for it; raise a SendError subclass."""
        ...

    def close(self) -> None:
        """Release any open connection."""
        ...


class TwilioProvider:
    """Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json.

    Form-encoded To, Body and From (a number or an approved alphanumeric sender id) or
    MessagingServiceSid; HTTP Basic auth with the Account SID and Auth Token. Twilio answers
    201 with the Message resource (its "sid"), or an error object {code, message, more_info, status}.
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str = "",
        messaging_service_sid: str = "",
        base_url: str = "https://api.twilio.com",
        timeout: float = 15,
        session: requests.Session | None = None,
    ) -> None:
        if not account_sid or not auth_token:
            raise NotConfigured(
                "SMS is not set up: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are missing. Ask Oncord support."
            )
        if not sender and not messaging_service_sid:
            raise NotConfigured(
                "SMS is not set up: set SMS_FROM (a number or sender name) or TWILIO_MESSAGING_SERVICE_SID."
            )
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sender, self.messaging_service_sid = sender, messaging_service_sid
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.timeout = timeout
        self.session = session or requests.Session()
        # Read proxy settings once rather than from the environment on every request (a batch
        # sends thousands); explicit auth makes .netrc irrelevant.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.url))
        self.session.trust_env = False

    def send(self, sms: OutgoingSms) -> str:
        """Create the Message resource; 429 and 5xx may be retried, other 4xx are final."""
        form: dict[str, str] = {"To": sms.to, "Body": sms.body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.sender
        try:
            response = self.session.post(
                self.url,
                data=form,
                auth=(self.account_sid, self.auth_token),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            if _never_reached_server(exc):
                raise TemporaryFailure(f"Could not reach Twilio: {exc}") from exc
            raise UnknownOutcome(
                f"The connection to Twilio broke before it answered ({exc}); the SMS may have gone, so "
                "it is not sent again."
            ) from exc
        body = _json(response)
        if response.status_code in (200, 201) and isinstance(body.get("sid"), str):
            return body["sid"]
        text = _twilio_error(response.status_code, body)
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(text)
        raise PermanentFailure(text)

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()


def _never_reached_server(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return False


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _twilio_error(status: int, body: dict[str, Any]) -> str:
    message = body.get("message") or f"HTTP {status}"
    code = body.get("code")
    return f"Twilio refused the SMS: {message}" + (f" (error {code})" if code else "")


class OutboxSmsProvider:
    """The demo's SMS gateway: stores each SMS in the outbox table, shown in the UI."""

    name = "outbox"

    def __init__(self, database: Database, clock: Clock, sender: str = "") -> None:
        self.database = database
        self.clock = clock
        self.sender = sender or "Oncord"

    def send(self, sms: OutgoingSms) -> str:
        """Store the SMS in its own transaction, as an outside gateway would."""
        with self.database.session() as session:
            row = OutboxMessage(
                channel="sms",
                to_address=sms.to,
                from_address=self.sender,
                body=sms.body,
                reference=sms.reference,
                segments=count_segments(sms.body).segments,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.commit()
            return f"outbox-{row.id}"

    def close(self) -> None:
        """Nothing to release."""
