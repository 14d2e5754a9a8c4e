"""The Twilio adapter against a local server that checks Twilio's documented request format."""

from __future__ import annotations

import socket
import threading

import pytest

from oncord.messaging.errors import NotConfigured, PermanentFailure, TemporaryFailure, UnknownOutcome
from oncord.messaging.sms import OutgoingSms, TwilioProvider, mobile_number
from oncord.messaging.testing import free_port


@pytest.fixture
def twilio(fake_twilio):
    """The session's Twilio stand-in, emptied."""
    fake_twilio.reset()
    return fake_twilio


def _provider(twilio, **options) -> TwilioProvider:
    options.setdefault("sender", "Sunnyside")
    return TwilioProvider(twilio.account_sid, twilio.auth_token, base_url=twilio.base_url, **options)


def test_a_message_is_created_in_twilios_format(twilio) -> None:
    """POST form-encoded To/From/Body with Basic auth to Messages.json; the SID comes back."""
    provider = _provider(twilio)
    sid = provider.send(OutgoingSms(to="+61412345678", body="Hi Olivia, see you Tuesday ✨"))
    provider.close()
    assert twilio.violations == []
    [message] = twilio.received
    assert sid == message.sid and sid.startswith("SM") and len(sid) == 34
    assert (message.to, message.sender, message.body) == (
        "+61412345678",
        "Sunnyside",
        "Hi Olivia, see you Tuesday ✨",
    )


def test_a_messaging_service_replaces_from(twilio) -> None:
    """With a Messaging Service SID, From is not sent."""
    provider = _provider(twilio, sender="", messaging_service_sid="MG" + "a" * 32)
    provider.send(OutgoingSms(to="+61412345678", body="Hi"))
    assert twilio.violations == []
    assert twilio.received[0].messaging_service_sid == "MG" + "a" * 32 and twilio.received[0].sender is None


def test_errors_keep_twilios_words_and_are_sorted(twilio) -> None:
    """400 and 401 are final; 429 and 5xx may be retried."""
    provider = _provider(twilio)
    with pytest.raises(
        PermanentFailure, match=r"The 'To' number \+6112 is not a valid phone number. \(error 21211\)"
    ):
        provider.send(OutgoingSms(to="+6112", body="Hi"))
    twilio.script = [
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        (503, {"code": 20503, "message": "Service Unavailable", "status": 503}),
    ]
    with pytest.raises(TemporaryFailure, match="Too Many Requests"):
        provider.send(OutgoingSms(to="+61412345678", body="Hi"))
    with pytest.raises(TemporaryFailure, match="Service Unavailable"):
        provider.send(OutgoingSms(to="+61412345678", body="Hi"))
    wrong = TwilioProvider(twilio.account_sid, "wrong-token", sender="Sunnyside", base_url=twilio.base_url)
    with pytest.raises(PermanentFailure, match=r"Authenticate \(error 20003\)"):
        wrong.send(OutgoingSms(to="+61412345678", body="Hi"))
    assert twilio.received == []


def test_nobody_listening_is_temporary_and_a_hang_up_is_unknown() -> None:
    """Connection refused: nothing was sent. Hung up after the request: it may have been."""
    refused = TwilioProvider("AC" + "0" * 32, "t", sender="X", base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TemporaryFailure):
        refused.send(OutgoingSms(to="+61412345678", body="Hi"))

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def hang_up() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    rude = TwilioProvider(
        "AC" + "0" * 32, "t", sender="X", base_url=f"http://127.0.0.1:{server.getsockname()[1]}"
    )
    with pytest.raises(UnknownOutcome):
        rude.send(OutgoingSms(to="+61412345678", body="Hi"))
    thread.join(timeout=5)
    server.close()


def test_missing_credentials_are_a_setup_problem() -> None:
    """No SID/token, or neither From nor a Messaging Service."""
    with pytest.raises(NotConfigured):
        TwilioProvider("", "", sender="X")
    with pytest.raises(NotConfigured):
        TwilioProvider("AC1", "t")


def test_mobile_numbers_are_normalised_and_landlines_refused() -> None:
    """Australian mobiles become E.164; landlines and junk give None."""
    assert mobile_number("0412 345 678", "AU") == "+61412345678"
    assert mobile_number("+61 412 345 678", "AU") == "+61412345678"
    assert mobile_number("(03) 9123 4567", "AU") is None
    assert mobile_number("call me", "AU") is None
    assert mobile_number(None, "AU") is None
