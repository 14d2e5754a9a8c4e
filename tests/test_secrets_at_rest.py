"""The stored Cliniko key opens only with the key derived from this installation's own secret."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from oncord import create_app
from oncord.config import INSECURE_DEMO_SECRET
from oncord.db import get_database
from oncord.models import ClinikoConnection
from oncord.secrets import SecretBox, SecretUnreadable
from tests.conftest import _empty_tables
from tests.fixtures.cliniko import connect_to_sandbox


@pytest.fixture(params=["secret key", "encryption key"])
def installation(request, database_url, clock, redis_url, redis_conn, sandbox_factory):
    """An app with its own random SECRET_KEY (and, in one case, its own ONCORD_ENCRYPTION_KEY), connected."""
    overrides = {"mode": "test", "database_url": database_url, "redis_url": redis_url,
                 "rq_queue": "oncord-test", "secret_key": secrets.token_urlsafe(48)}
    if request.param == "encryption key":
        overrides["encryption_key"] = Fernet.generate_key().decode()
    app = create_app(overrides, clock=clock)
    _empty_tables(app)
    sandbox = sandbox_factory(clock=clock.now, patients=0, appointments=0, rate_limit=None)
    connect_to_sandbox(app, sandbox)
    with get_database(app).session() as session:
        stored = session.scalars(select(ClinikoConnection.api_key_encrypted)).one()
    yield overrides, stored, sandbox.api_key
    get_database(app).engine.dispose()


def test_the_key_is_stored_encrypted_and_opens_with_the_installations_own_secret(installation) -> None:
    """Not in plain text; this installation's box reads it back."""
    overrides, stored, api_key = installation
    assert api_key not in stored
    box = SecretBox(encryption_key=overrides.get("encryption_key", ""), secret_key=overrides["secret_key"])
    assert box.decrypt(stored) == api_key


@pytest.mark.parametrize("other", ["demo secret", "empty secret", "random secret"])
def test_the_key_cannot_be_read_with_a_key_from_another_secret(installation, other) -> None:
    """A box keyed from the demo secret, an empty secret or a random one cannot decrypt the stored key."""
    _overrides, stored, _api_key = installation
    secret = {"demo secret": INSECURE_DEMO_SECRET, "empty secret": "",
              "random secret": secrets.token_urlsafe(48)}[other]
    with pytest.raises(SecretUnreadable):
        SecretBox(secret_key=secret).decrypt(stored)


# Made by this code on 2026-12-01 from SECRET_KEY "known-answer-secret": a change to the key
# derivation would leave every stored Cliniko key unreadable after an upgrade.
KNOWN_TOKEN = ("gAAAAABrDzvY1yj_97ItcBJaiJMarWfijidSCki5n2xPxPWFZRvcq877pRxSKsrjky55ew_d8ZbTeZE_"
               "szTT_gMLAEKDus_5cg==")
UNREADABLE = ("The stored Cliniko API key cannot be decrypted: SECRET_KEY or ONCORD_ENCRYPTION_KEY changed. "
              "Reconnect Cliniko in Settings.")


def test_a_key_stored_by_an_earlier_release_still_opens() -> None:
    """The derivation from SECRET_KEY is stable: a token stored before an upgrade decrypts after it."""
    assert SecretBox(secret_key="known-answer-secret").decrypt(KNOWN_TOKEN) == "cliniko-key-au1"


def test_an_explicit_encryption_key_is_used_as_it_is() -> None:
    """ONCORD_ENCRYPTION_KEY is the Fernet key itself, not mixed with SECRET_KEY."""
    key = Fernet.generate_key().decode()
    token = Fernet(key.encode()).encrypt(b"cliniko-key-au1").decode()
    assert SecretBox(encryption_key=key, secret_key=INSECURE_DEMO_SECRET).decrypt(token) == "cliniko-key-au1"
    with pytest.raises(SecretUnreadable):
        SecretBox(secret_key=key).decrypt(token)


def test_an_unreadable_key_tells_staff_what_to_do() -> None:
    """The error names the settings that changed and the fix."""
    with pytest.raises(SecretUnreadable) as raised:
        SecretBox(secret_key="one").decrypt(SecretBox(secret_key="two").encrypt("k"))
    assert str(raised.value) == UNREADABLE
