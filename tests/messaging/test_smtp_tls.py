"""SMTP as clinics run it: STARTTLS and implicit TLS, each with AUTH, against aiosmtpd using a
certificate this test generates (trusted through SMTP_CA_FILE), and a login the server refuses."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from oncord import context
from oncord.messaging.email import OutgoingEmail, SmtpSender
from oncord.messaging.errors import LoginRefused
from oncord.messaging.testing import free_port
from tests.campaigns.helpers import fresh, make_campaign, recipients
from tests.factories import make_contact

USER, PASSWORD = "clinic", "s3cret"


def _certificate(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `host` it signed: (ca.pem, server.pem, server.key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Oncord test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
        key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
        decipher_only=False,
    )


class _Keeper:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((session.authenticated, envelope))
        return "250 2.0.0 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int, str, _Keeper]]:
    """aiosmtpd on a free port, STARTTLS (AUTH only after it) or implicit TLS, requiring AUTH."""
    ca, cert, key = _certificate(tmp_path, "localhost")
    context_ = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context_.load_cert_chain(cert, key)
    keeper = _Keeper()
    port = free_port()
    options: dict[str, Any] = {"authenticator": _authenticator, "auth_required": True}
    if request.param == "starttls":
        # AUTH is offered only after STARTTLS, so a password never crosses in clear text.
        options.update(tls_context=context_, require_starttls=True, auth_require_tls=True)
    else:
        options.update(ssl_context=context_, auth_require_tls=False)  # the whole connection is TLS
    controller = Controller(keeper, hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
    with warnings.catch_warnings():
        # aiosmtpd cannot tell that an implicit-TLS connection is TLS and warns about AUTH without
        # it, per connection, in its own thread (so for the whole test); and about its own login_data.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
        warnings.filterwarnings("ignore", "Session.login_data is deprecated")
        controller.start()
        yield request.param, port, str(ca), keeper
        controller.stop()


def _email() -> OutgoingEmail:
    return OutgoingEmail(to_address="ada@example.com", to_name="Ada", from_address="hi@clinic.example",
                         from_name="Clinic", subject="Hi", text="Hello", html=None)


def test_tls_with_auth_delivers_and_checks_the_certificate(tls_server) -> None:
    """With the test CA trusted (SMTP_CA_FILE) and the right password, the e-mail goes over TLS with AUTH."""
    mode, port, ca, keeper = tls_server
    sender = SmtpSender("localhost", port, tls=mode, username=USER, password=PASSWORD, timeout=5, ca_file=ca)
    try:
        sender.send(_email())
    finally:
        sender.close()
    [(authenticated, envelope)] = keeper.received
    assert authenticated and envelope.rcpt_tos == ["ada@example.com"]


def test_a_certificate_for_another_host_or_an_unknown_ca_is_refused(tls_server) -> None:
    """Connecting as 127.0.0.1 to a certificate for localhost, or without the CA: refused, nothing sent."""
    mode, port, ca, keeper = tls_server
    for host, ca_file in (("127.0.0.1", ca), ("localhost", "")):
        sender = SmtpSender(host, port, tls=mode, username=USER, password=PASSWORD, timeout=5,
                            ca_file=ca_file)
        with pytest.raises(LoginRefused, match="certificate was not accepted"):
            sender.send(_email())
        sender.close()
    assert keeper.received == []


def test_a_wrong_password_pauses_the_campaign_with_one_message_and_keeps_them_pending(
    tls_server, messaging_app, db_session, clock, work_queue
) -> None:
    """The server refuses the login: the campaign pauses with "the SMTP server refused the login",
    nothing is failed, and after the password is fixed Resume sends each message once."""
    from oncord.campaigns import lifecycle
    from oncord.jobs.enqueue import enqueue_round
    from oncord.queue import get_queue

    mode, port, ca, keeper = tls_server
    app_settings = context.settings(messaging_app)
    messaging_app.extensions["oncord.settings"] = replace(
        app_settings, smtp_host="localhost", smtp_port=port, smtp_tls=mode, smtp_username=USER,
        smtp_password="wrong", smtp_ca_file=ca)
    for i in range(3):
        make_contact(db_session, clock, email=f"p{i}@example.com", email_marketing_status="subscribed")
    campaign = make_campaign(db_session, clock, email_body="Hi {{ first_name }}")
    db_session.commit()

    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    db_session.commit()
    enqueue_round(get_queue(messaging_app), clock, campaign)
    work_queue()

    paused = fresh(db_session, campaign.id)
    assert paused.state == "paused" and "The SMTP server refused the login" in paused.error
    assert {r.state for r in recipients(db_session, campaign.id)} == {"pending"}
    assert keeper.received == []

    messaging_app.extensions["oncord.settings"] = replace(
        context.settings(messaging_app), smtp_password=PASSWORD)
    assert lifecycle.resume(db_session, paused, clock.now())
    db_session.commit()
    enqueue_round(get_queue(messaging_app), clock, paused)
    work_queue()
    assert sorted(e.rcpt_tos[0] for _, e in keeper.received) == [f"p{i}@example.com" for i in range(3)]
    assert fresh(db_session, campaign.id).state == "sent"


def test_a_wrong_password_keeps_automation_reminders_pending_without_using_their_tries(
    tls_server, messaging_app, db_session, clock
) -> None:
    """Reminders due when the login is refused wait (pending, "the SMTP server refused the login")
    instead of failing; once the password is fixed they go, each once."""
    from oncord.automations.dispatcher import dispatch as run_dispatch
    from oncord.db import get_database
    from oncord.jobs.automation_jobs import batch_sender
    from tests.automations.helpers import make_automation, sends
    from tests.factories import make_appointment, make_connection, make_sync_run

    mode, port, ca, keeper = tls_server
    settings = context.settings(messaging_app)
    messaging_app.extensions["oncord.settings"] = replace(
        settings, smtp_host="localhost", smtp_port=port, smtp_tls=mode, smtp_username=USER,
        smtp_password="wrong", smtp_ca_file=ca)
    make_connection(db_session, clock)
    make_automation(db_session, clock, send_sms=False)
    starts = clock.now() + timedelta(days=2)
    for i in range(3):
        contact = make_contact(db_session, clock, first_name=f"P{i}", email=f"p{i}@example.com",
                               email_marketing_status="subscribed")
        make_appointment(db_session, contact, starts, cliniko_created_at=clock.now() - timedelta(days=9))
    db_session.commit()
    clock.set(starts - timedelta(hours=24))
    make_sync_run(db_session, clock)
    db_session.commit()

    def dispatch_and_send() -> None:
        batches: list[list[int]] = []
        run_dispatch(get_database(messaging_app), clock, batch_size=10, enqueue=batches.append)
        for batch in batches:
            batch_sender(messaging_app, worker_id="w").run(batch)

    dispatch_and_send()
    rows = sends(db_session)
    assert {(r.state, r.attempts) for r in rows} == {("pending", 0)}
    assert all("The SMTP server refused the login" in r.error for r in rows) and keeper.received == []

    messaging_app.extensions["oncord.settings"] = replace(
        context.settings(messaging_app), smtp_password=PASSWORD)
    clock.advance(minutes=6)
    make_sync_run(db_session, clock)
    db_session.commit()
    dispatch_and_send()
    assert [r.state for r in sends(db_session)] == ["sent"] * 3 and len(keeper.received) == 3
