"""Password hashing (Argon2id) and TOTP second factors; pure, no web imports."""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    """Whether `password` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def check_totp(secret: str, code: str, *, at: datetime | None = None) -> bool:
    """A 6-digit code valid now (one 30 s step of drift allowed)."""
    return pyotp.TOTP(secret).verify(code.strip(), for_time=at, valid_window=1)
