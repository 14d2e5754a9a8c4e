"""E-mail: MIME building with one-click unsubscribe headers, and the SMTP and outbox senders."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.charset import QP, Charset
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from typing import Protocol

from oncord.clock import Clock
from oncord.db import Database
from oncord.messaging.errors import (
    InvalidAddress,
    LoginRefused,
    MessageProblem,
    NotConfigured,
    PermanentFailure,
    TemporaryFailure,
    UnknownOutcome,
)
from oncord.models import OutboxMessage

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
_WIRE = compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class OutgoingEmail:
    """Everything needed to send one e-mail."""

    to_address: str
    to_name: str | None
    from_address: str
    from_name: str
    subject: str
    text: str
    html: str | None
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    # A stable Message-ID per message, so a receiving system can drop a duplicate too.
    message_id: str | None = None
    reference: str | None = None


INVALID_ADDRESS = "invalid e-mail address"
# C0 and C1 controls plus the Unicode line and paragraph separators: none belongs in a header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_display_name(name: str | None) -> str:
    """A display name with control characters (CR/LF included) made spaces, whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", name or "").split())


def valid_mailbox(address: str | None) -> str:
    """The address when it is exactly one mailbox (local@domain); else InvalidAddress.

    Checked with email.headerregistry.Address, so nothing in it can add or break a header.
    """
    value = (address or "").strip()
    if not value or _CONTROL.search(value) or "," in value or "<" in value or ">" in value:
        raise InvalidAddress(INVALID_ADDRESS)
    try:
        parsed = Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise InvalidAddress(INVALID_ADDRESS) from exc
    if not parsed.username or "." not in parsed.domain or parsed.domain.startswith("."):
        raise InvalidAddress(INVALID_ADDRESS)
    return value


def readable_address(name: str | None, address: str) -> str:
    """"Name <address>" as staff read it: decoded (never =?utf-8?...?=), quoted only when needed."""
    clean = clean_display_name(name)
    if not clean:
        return address
    if any(c in clean for c in '",;<>@()[]:\\'):
        clean = '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{clean} <{address}>"


def _one_line(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def _header(value: str, name: str) -> str | Header:
    # Plain ASCII stays readable; anything else becomes RFC 2047 encoded words, folded.
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _text(text: str, subtype: str) -> MIMEText:
    # Quoted-printable even for ASCII: it keeps every line under SMTP's 998-octet limit.
    # typeshed types _charset as str | None, but MIMEText passes it to set_payload, which takes a Charset.
    return MIMEText(text, subtype, _UTF8)  # type: ignore[arg-type]


def build_mime(email: OutgoingEmail, *, date: str | None = None) -> Message:
    """The MIME message: text and HTML alternatives plus RFC 8058 one-click unsubscribe headers.

    Built with the compat32 classes: a batch builds thousands, and they cost a sixth of
    EmailMessage's header parsing for the same bytes on the wire.
    """
    # Every value is checked or flattened to one line first: a CR/LF from a synced record can
    # neither add a header nor end the header block early.
    to_address = valid_mailbox(email.to_address)
    from_address = valid_mailbox(email.from_address)
    message: Message = MIMEMultipart("alternative") if email.html else _text(email.text, "plain")
    message["From"] = formataddr((clean_display_name(email.from_name), from_address), "utf-8")
    message["To"] = formataddr((clean_display_name(email.to_name), to_address), "utf-8")
    message["Subject"] = _header(_one_line(email.subject), "Subject")  # type: ignore[assignment]
    if email.reply_to:
        message["Reply-To"] = valid_mailbox(email.reply_to)
    if date:
        message["Date"] = date
    if email.message_id:
        message["Message-ID"] = _one_line(email.message_id)
    if email.unsubscribe_url:
        # RFC 8058: an HTTPS URI that takes a POST "List-Unsubscribe=One-Click" without login.
        message["List-Unsubscribe"] = f"<{_one_line(email.unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if email.reference:
        message["X-Oncord-Reference"] = _one_line(email.reference)
    if email.html:
        message.attach(_text(email.text, "plain"))
        message.attach(_text(email.html, "html"))
    return message


def mime_bytes(email: OutgoingEmail, *, date: str | None = None) -> bytes:
    """The message as SMTP carries it (CRLF line ends)."""
    return build_mime(email, date=date).as_bytes(policy=_WIRE)


def message_id_for(reference: str, from_address: str) -> str:
    """A deterministic Message-ID for a message reference, in the sender's domain."""
    domain = from_address.rpartition("@")[2] or "oncord.invalid"
    return f"<{reference.replace(':', '.')}@{domain}>"


class EmailSender(Protocol):
    """Hands e-mails to whatever delivers them; may keep a connection open between sends."""

    def send(self, email: OutgoingEmail) -> str:
        """Send one e-mail and return the provider's id for it; raise a SendError subclass."""
        ...

    def close(self) -> None:
        """Release any open connection."""
        ...


class SmtpSender:
    """Sends over SMTP (STARTTLS, implicit TLS or plain), reusing one connection for a batch."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30,
        clock: Clock | None = None,
        ca_file: str = "",
    ) -> None:
        if not host:
            raise NotConfigured(
                "E-mail is not set up: the SMTP server (SMTP_HOST) is missing. Ask Oncord support."
            )
        if tls not in ("starttls", "ssl", "none"):
            raise NotConfigured(f"SMTP_TLS must be starttls, ssl or none, not {tls!r}.")
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password, self.timeout = username, password, timeout
        self.clock = clock
        self.ca_file = ca_file
        self._smtp: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # Verifies the certificate and that it names this host; SMTP_CA_FILE (or SSL_CERT_FILE)
        # trusts a clinic's own CA.
        return ssl.create_default_context(cafile=self.ca_file or None)

    def _open(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._open()
            if self.tls == "starttls":
                smtp.starttls(context=self._tls_context())
            smtp.ehlo_or_helo_if_needed()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            if smtp is not None:
                smtp.close()  # a refused login or certificate must not leave the socket open
            raise
        return smtp

    def _connected(self) -> smtplib.SMTP:
        try:
            return self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise LoginRefused(
                f"The SMTP server refused the login ({_reply(exc)}). Check SMTP_USERNAME and SMTP_PASSWORD; "
                "the messages wait until it works."
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise LoginRefused(
                f"The SMTP server's certificate was not accepted ({exc.verify_message}). Check SMTP_HOST, or "
                "trust the server's CA with SMTP_CA_FILE; the messages wait until it works."
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"The SMTP server does not support what is configured: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                f"Could not connect to the SMTP server {self.host}:{self.port}: {exc}"
            ) from exc

    def send(self, email: OutgoingEmail) -> str:
        """Send one e-mail; errors before DATA are safe to retry, a broken DATA is not."""
        date = format_datetime(self.clock.now()) if self.clock is not None else None
        try:
            message = mime_bytes(email, date=date)
        except MessageProblem as exc:
            raise PermanentFailure(exc.message) from exc
        sender = email.from_address
        for attempt in (1, 2):
            smtp = self._smtp or self._connected()
            self._smtp = smtp
            try:
                code, reply = smtp.mail(sender)
                if code != 250:
                    self._reset()
                    raise _refusal(code, reply, "sender")
                code, reply = smtp.rcpt(email.to_address)
                if code not in (250, 251):
                    self._reset()
                    raise _refusal(code, reply, "recipient")
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # An idle connection the server dropped: nothing was handed over yet.
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(f"The SMTP server closed the connection: {exc}") from exc
                continue
            try:
                code, reply = smtp.data(message)
            except smtplib.SMTPDataError as exc:
                self._reset()
                raise _refusal(exc.smtp_code, exc.smtp_error, "message") from exc
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                raise UnknownOutcome(
                    f"The connection to the SMTP server broke while sending ({exc}); the e-mail may "
                    "have gone, so it is not sent again."
                ) from exc
            if code != 250:
                # smtplib returns the final reply to DATA instead of raising for it.
                self._reset()
                raise _refusal(code, reply, "message")
            return email.message_id or _reply_text(reply)
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        """Say QUIT and close the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _refusal(code: int, reply: bytes | str, what: str) -> TemporaryFailure | PermanentFailure:
    text = f"The SMTP server refused the {what}: {code} {_reply_text(reply)}"
    return TemporaryFailure(text) if 400 <= code < 500 else PermanentFailure(text)


class OutboxEmailSender:
    """The demo's e-mail "server": stores each e-mail in the outbox table, shown in the UI."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def send(self, email: OutgoingEmail) -> str:
        """Store the e-mail in its own transaction, as an outside server would."""
        with self.database.session() as session:
            row = OutboxMessage(
                channel="email",
                to_address=readable_address(email.to_name, valid_mailbox(email.to_address)),
                from_address=readable_address(email.from_name, email.from_address),
                subject=email.subject,
                body=email.text,
                html=email.html,
                reference=email.reference,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.commit()
            return email.message_id or f"outbox-{row.id}"

    def close(self) -> None:
        """Nothing to release."""
