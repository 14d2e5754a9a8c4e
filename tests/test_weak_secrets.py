"""Production refuses secrets that others know or could guess; demo and test runs do not care."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet

from oncord.config import INSECURE_DEMO_SECRET, ConfigError, load_settings

GOOD = secrets.token_urlsafe(48)
HINT = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def _production(tmp_path, **env: str):
    return load_settings(tmp_path, environ={"ONCORD_MODE": "production", **env})


@pytest.mark.parametrize("key", [INSECURE_DEMO_SECRET, "x", "a" * 31])
def test_production_refuses_a_weak_or_published_secret_key(tmp_path, key) -> None:
    """The demo's key and keys under 32 characters stop start-up, saying how to make a good one."""
    with pytest.raises(ConfigError) as refused:
        _production(tmp_path, SECRET_KEY=key)
    assert HINT in str(refused.value)


def test_production_names_why_the_demo_key_is_refused(tmp_path) -> None:
    """The message says the demo key is published, not merely short."""
    with pytest.raises(ConfigError, match="published value"):
        _production(tmp_path, SECRET_KEY=INSECURE_DEMO_SECRET)


@pytest.mark.parametrize("key", ["not-a-key", "é" * 44, Fernet.generate_key().decode()[:-2]])
def test_production_refuses_an_encryption_key_that_is_not_fernet(tmp_path, key) -> None:
    """An ONCORD_ENCRYPTION_KEY that Fernet cannot use stops start-up with the command to make one."""
    with pytest.raises(ConfigError, match="ONCORD_ENCRYPTION_KEY is not a valid Fernet key") as refused:
        _production(tmp_path, SECRET_KEY=GOOD, ONCORD_ENCRYPTION_KEY=key)
    assert "Fernet.generate_key()" in str(refused.value)


def test_production_accepts_strong_secrets(tmp_path) -> None:
    """A long random SECRET_KEY and a real Fernet key start the app."""
    settings = _production(tmp_path, SECRET_KEY=GOOD, ONCORD_ENCRYPTION_KEY=Fernet.generate_key().decode())
    assert settings.secret_key == GOOD


def test_demo_mode_still_runs_on_the_demo_key(tmp_path) -> None:
    """`make run` needs no secrets."""
    assert load_settings(tmp_path, environ={"ONCORD_MODE": "demo"}).secret_key == INSECURE_DEMO_SECRET
