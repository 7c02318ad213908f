"""Encrypting secrets kept in the database (provider API keys) with keys from the environment."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key this site no longer has."""


def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        # Derived, so a site without ENCRYPTION_KEYS still never stores a key in clear.
        digest = hashlib.sha256(b"chatsite-provider-keys:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def secret_encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A provider key cannot be decrypted: ENCRYPTION_KEYS (or SECRET_KEY) changed."
        ) from None


def secret_hint(value: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if not value:
        return ""
    return f"…{value[-4:]}" if len(value) >= 12 else "…"
