"""The SMTP sender against a real SMTP server (aiosmtpd in this process)."""

from __future__ import annotations

import socket
import threading

import pytest

from oncord.messaging.email import OutgoingEmail, SmtpSender
from oncord.messaging.errors import NotConfigured, PermanentFailure, TemporaryFailure, UnknownOutcome
from oncord.messaging.testing import free_port


def _email(n: int = 1) -> OutgoingEmail:
    return OutgoingEmail(
        to_address=f"patient{n}@example.com",
        to_name="Olivia Tester",
        from_address="hello@sunnyside.example",
        from_name="Sunnyside Physio",
        subject="Your appointment",
        text="Hi Olivia\n",
        html="<p>Hi Olivia</p>",
        reply_to="desk@sunnyside.example",
        unsubscribe_url="https://oncord.example/u/token",
        message_id=f"<automation-send.{n}@sunnyside.example>",
        reference=f"automation-send:{n}",
    )


@pytest.fixture
def sink(smtp_sink):
    """The session's SMTP server, emptied."""
    smtp_sink.reset()
    return smtp_sink


def test_an_email_carries_one_click_unsubscribe_and_both_parts(sink) -> None:
    """RFC 8058 headers, sender, reply-to, message id, and text + HTML alternatives arrive intact."""
    sender = SmtpSender(sink.host, sink.port, tls="none")
    assert sender.send(_email()) == "<automation-send.1@sunnyside.example>"
    sender.close()
    [received] = sink.received
    message = received.message
    assert received.mail_from == "hello@sunnyside.example" and received.rcpt_tos == ("patient1@example.com",)
    assert message["From"] == "Sunnyside Physio <hello@sunnyside.example>"
    assert message["To"] == "Olivia Tester <patient1@example.com>"
    assert message["List-Unsubscribe"] == "<https://oncord.example/u/token>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == "desk@sunnyside.example"
    assert message["Message-ID"] == "<automation-send.1@sunnyside.example>"
    assert received.text().strip() == "Hi Olivia" and "<p>Hi Olivia</p>" in received.html()


def test_one_connection_serves_a_batch(sink) -> None:
    """Several e-mails go over one SMTP session."""
    sender = SmtpSender(sink.host, sink.port, tls="none")
    for n in range(3):
        sender.send(_email(n))
    sender.close()
    assert [r.rcpt_tos[0] for r in sink.received] == [f"patient{n}@example.com" for n in range(3)]


def test_refusals_are_sorted_into_temporary_and_permanent(sink) -> None:
    """A 4xx reply may be retried; a 5xx reply is final; the server's words are kept."""
    sender = SmtpSender(sink.host, sink.port, tls="none")
    sink.refuse = ["451 4.3.0 Mailbox busy, try later", "554 5.7.1 Message rejected as spam"]
    with pytest.raises(TemporaryFailure, match="451 4.3.0 Mailbox busy"):
        sender.send(_email())
    with pytest.raises(PermanentFailure, match="554 5.7.1 Message rejected as spam"):
        sender.send(_email())
    sender.send(_email(2))  # the connection is still usable
    sender.close()
    assert len(sink.received) == 1


def test_no_server_is_a_temporary_failure_and_no_host_is_not_configured() -> None:
    """Nothing listening: retry later. No host at all: a setup problem."""
    with pytest.raises(TemporaryFailure, match="Could not connect"):
        SmtpSender("127.0.0.1", free_port(), tls="none", timeout=2).send(_email())
    with pytest.raises(NotConfigured):
        SmtpSender("", 587)


def test_a_connection_that_breaks_during_data_is_an_unknown_outcome() -> None:
    """The server hangs up after the message body: it may have been taken, so it must not be retried."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        conn.sendall(b"220 fake ESMTP\r\n")
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            lines = data.split(b"\r\n")
            data = lines.pop()
            for line in lines:
                command = line[:4].upper()
                if command in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 fake\r\n")
                elif command in (b"MAIL", b"RCPT"):
                    conn.sendall(b"250 OK\r\n")
                elif command == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                elif line == b".":
                    conn.close()
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    sender = SmtpSender("127.0.0.1", port, tls="none", timeout=5)
    with pytest.raises(UnknownOutcome):
        sender.send(_email())
    sender.close()
    thread.join(timeout=5)
    server.close()
