"""Local stand-ins for an SMTP server and Twilio, for tests and `flask bench reminders`.

The Twilio stand-in checks each request against Twilio's documented Messages API (method, path,
Basic auth, form encoding, E.164 `To`, `Body`, exactly one of `From`/`MessagingServiceSid`) and
answers like Twilio, so the adapter is tested on the wire format rather than on a mock.
The SMTP sink is aiosmtpd (a dev dependency), imported only when one is started.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TEST_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TEST_AUTH_TOKEN = "test-auth-token-not-secret"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json")


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class ReceivedSms:
    """One accepted Messages request."""

    sid: str
    to: str
    body: str
    sender: str | None
    messaging_service_sid: str | None


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as Twilio's API offers it (the batch sender reuses one connection).
    protocol_version = "HTTP/1.1"
    # Without it a keep-alive reply waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, payload = self.server.fake.handle(
            self.command, self.path.split("?", 1)[0], self.headers.get("Authorization", ""),
            self.headers.get_content_type(), body,
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTwilio


@dataclass
class FakeTwilio:
    """A real HTTP server on 127.0.0.1 speaking Twilio's Messages API."""

    account_sid: str = TEST_ACCOUNT_SID
    auth_token: str = TEST_AUTH_TOKEN
    received: list[ReceivedSms] = field(default_factory=list)
    # Requests that broke the documented format, with why; a correct client leaves this empty.
    violations: list[str] = field(default_factory=list)
    # Scripted answers for the next requests: (status, body) pairs, used before accepting.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Numbers Twilio refuses for good (21610, the recipient replied STOP), like an SMTP 550.
    refuse_numbers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget what was received and any scripted answers."""
        with self._lock:
            self.received.clear()
            self.violations.clear()
            self.script.clear()
            self.refuse_numbers.clear()

    def _error(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        return status, {"code": code, "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}

    def handle(
        self, method: str, path: str, authorization: str, content_type: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request as Twilio would."""
        match = _MESSAGES_PATH.fullmatch(path)
        if method != "POST" or match is None:
            self._violation(f"{method} {path} is not the Messages create endpoint")
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorised(authorization, match.group("sid")):
            return self._error(401, 20003, "Authenticate")
        if content_type != "application/x-www-form-urlencoded":
            self._violation(f"content type {content_type!r} instead of form encoding")
            return self._error(400, 21601, "Request body must be form encoded")
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        unknown = set(form) - {"To", "Body", "From", "MessagingServiceSid", "StatusCallback"}
        if unknown:
            self._violation(f"unknown parameters {sorted(unknown)}")
        to, body = form.get("To", ""), form.get("Body", "")
        if not _E164.fullmatch(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if ("From" in form) == ("MessagingServiceSid" in form):
            self._violation("exactly one of From and MessagingServiceSid must be sent")
            return self._error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        with self._lock:
            if self.script:
                return self.script.pop(0)
            if to in self.refuse_numbers:
                return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
            sid = f"SM{next(self._ids):032x}"
            message = ReceivedSms(sid, to, body, form.get("From"), form.get("MessagingServiceSid"))
            self.received.append(message)
        return 201, {
            "sid": sid, "account_sid": self.account_sid, "to": to, "from": message.sender,
            "messaging_service_sid": message.messaging_service_sid, "body": body, "status": "queued",
            "direction": "outbound-api", "api_version": "2010-04-01", "num_segments": "1",
            "error_code": None, "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _authorised(self, header: str, path_sid: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme != "Basic":
            self._violation("no HTTP Basic authentication")
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid == path_sid and password == self.auth_token

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)


@dataclass(frozen=True)
class ReceivedEmail:
    """One e-mail an SMTP sink accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """The parsed message."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        """The text/plain part."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    def html(self) -> str:
        """The text/html part."""
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return part.get_content()


class SmtpSink:
    """aiosmtpd in this process, keeping every message; `refuse` scripts error replies."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: list[ReceivedEmail] = []
        # Replies for the next DATA commands, e.g. "451 4.3.0 Try again later".
        self.refuse: list[str] = []
        # Replies to RCPT TO for these addresses, e.g. {"gone@x.example": "550 5.1.1 No such user"}.
        self.refuse_recipients: dict[str, str] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self.host = "127.0.0.1"
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient unless a refusal is scripted for that address."""
        with self._lock:
            refusal = self.refuse_recipients.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message (or answer with a scripted refusal)."""
        with self._lock:
            if self.refuse:
                return self.refuse.pop(0)
            received = ReceivedEmail(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
            self.received.append(received)
        return "250 2.0.0 OK"

    def reset(self) -> None:
        """Forget received messages and scripted refusals."""
        with self._lock:
            self.received.clear()
            self.refuse.clear()
            self.refuse_recipients.clear()

    def stop(self) -> None:
        """Stop the server."""
        self._controller.stop()
