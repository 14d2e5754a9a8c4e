"""Encryption of secrets at rest (the Cliniko API key)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted with the configured key."""


def _derive_key(secret_key: str) -> bytes:
    # No salt: the key must be derivable again from SECRET_KEY alone, and the info label is
    # fixed, so a key stored by an earlier release still opens.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"oncord-secrets-at-rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


class SecretBox:
    """Encrypts and decrypts small secrets with Fernet (AES-128-CBC + HMAC)."""

    def __init__(self, *, encryption_key: str = "", secret_key: str) -> None:
        key = encryption_key.encode() if encryption_key else _derive_key(secret_key)
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        """Return an opaque token for the plaintext."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Return the plaintext of a token made by encrypt()."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable(
                "The stored Cliniko API key cannot be decrypted: SECRET_KEY or "
                "ONCORD_ENCRYPTION_KEY changed. Reconnect Cliniko in Settings."
            ) from exc
