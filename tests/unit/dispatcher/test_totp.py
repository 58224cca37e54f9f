"""TOTP second factors (dispatcher/access/passwords.py): which 30 s step a code is, so that each is accepted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from dispatcher.access.passwords import check_totp, totp_step

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = datetime(2026, 12, 2, 2, 0, 10, tzinfo=UTC)


def test_a_code_names_its_time_step_within_one_step_of_drift():
    totp = pyotp.TOTP(SECRET)
    now = totp.timecode(AT)
    assert totp_step(SECRET, totp.at(AT), at=AT) == now
    assert totp_step(SECRET, " " + totp.at(AT - timedelta(seconds=30)) + " ", at=AT) == now - 1
    assert totp_step(SECRET, totp.at(AT + timedelta(seconds=30)), at=AT) == now + 1
    assert totp_step(SECRET, totp.at(AT - timedelta(seconds=90)), at=AT) is None
    assert check_totp(SECRET, totp.at(AT), at=AT) and not check_totp(SECRET, "12345", at=AT)


def test_the_same_code_keeps_its_step_when_replayed_later():
    """Replaying a used code 30 s later still names the old step, which the account has already consumed."""
    code = pyotp.TOTP(SECRET).at(AT)
    assert totp_step(SECRET, code, at=AT) == totp_step(SECRET, code, at=AT + timedelta(seconds=30))
