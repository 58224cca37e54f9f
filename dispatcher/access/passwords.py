"""Password hashing (Argon2id) and TOTP second factors; pure, no web imports.

A TOTP code is accepted once only: `totp_step` says which 30 s time step a code belongs to, and the caller
refuses a step that is not later than the account's last accepted one (`Account.totp_last_step`).
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.utils import strings_equal

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


def check_totp(secret: str, code: str, *, at: datetime) -> bool:
    """A 6-digit code valid at `at` (one 30 s step of drift allowed); says nothing about reuse, see `totp_step`."""
    return totp_step(secret, code, at=at) is not None


def totp_step(secret: str, code: str, *, at: datetime) -> int | None:
    """The time step (30 s counter) whose code `code` is, within one step of drift around `at`; None if none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    code = code.strip()
    for step in (current + 1, current, current - 1):
        if strings_equal(totp.generate_otp(step), code):
            return step
    return None
