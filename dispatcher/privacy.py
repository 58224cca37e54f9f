"""Personal information (PIPL): callers' names and phone numbers encrypted at rest, masked in views, kept out of logs.

- Encryption: AES-256-GCM with a key derived (HKDF-SHA256) from `settings.pii_key`; a stored value is
  "v1:" + base64(nonce ‖ ciphertext ‖ tag). `dispatcher.types.EncryptedText` applies it to columns.
  The key comes from the one settings object: `set_key()` (called by the web server factory) or,
  failing that, `get_settings().pii_key` on first use.
- Lookup: `lookup_hash` is HMAC-SHA256 under a second key derived from the same secret with another HKDF
  info, so a caller's history can be found by phone number without decrypting anything (see dispatcher/callers.py).
- Masking: `mask_phone`, `mask_name`, and `present_reporter` for snapshots shown to a principal.
- Logs: `redact` replaces mainland mobile numbers with their mask; `RedactPhones` is a logging
  filter that does it to every record; `install_log_redaction()` attaches it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1:"
NONCE_BYTES = 12
_HKDF_INFO = b"gridcommand pii v1"
_LOOKUP_INFO = b"gridcommand pii lookup v1"  # a different key for lookup hashes than for encryption
_AAD = b"gridcommand-pii"

_lock = threading.Lock()
_aead: AESGCM | None = None
_lookup_key: bytes | None = None
_filter: RedactPhones | None = None  # noqa: F821 (defined below; annotations are lazy)


class PiiKeyError(ValueError):
    """A stored value cannot be decrypted: the pii_key is not the one it was encrypted with, or it was altered."""


def derive_key(secret: str, info: bytes = _HKDF_INFO) -> bytes:
    """The 32-byte AES key for `secret` (HKDF-SHA256); another `info` gives an independent key."""
    if not secret:
        raise ValueError("pii_key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def set_key(secret: str) -> None:
    """Use `secret` (settings.pii_key) for every encryption, decryption and lookup hash in this process from now on."""
    global _aead, _lookup_key
    with _lock:
        _aead = AESGCM(derive_key(secret))
        _lookup_key = derive_key(secret, _LOOKUP_INFO)


def lookup_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of `value` under the lookup key: equal values give equal hashes, searchable in SQL,
    and without the key the value cannot be recovered by trying every phone number."""
    global _lookup_key
    if _lookup_key is None:
        from dispatcher.settings import get_settings

        with _lock:
            if _lookup_key is None:
                _lookup_key = derive_key(get_settings().pii_key.get_secret_value(), _LOOKUP_INFO)
    return hmac.new(_lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _cipher() -> AESGCM:
    global _aead
    if _aead is None:
        from dispatcher.settings import get_settings

        with _lock:
            if _aead is None:
                _aead = AESGCM(derive_key(get_settings().pii_key.get_secret_value()))
    return _aead


def encrypt(plain: str | None) -> str | None:
    """"v1:" + base64(nonce + ciphertext); None stays None. A fresh random nonce every time."""
    if plain is None:
        return None
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, plain.encode("utf-8"), _AAD)
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def is_encrypted(stored: str | None) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


def decrypt(stored: str | None) -> str | None:
    """The plain text of a stored value. Values without the "v1:" prefix (written before encryption
    existed and not yet migrated) are returned unchanged."""
    if stored is None:
        return None
    if not is_encrypted(stored):
        return stored
    try:
        raw = base64.b64decode(stored[len(PREFIX):], validate=True)
        return _cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise PiiKeyError("cannot decrypt a personal-data column: wrong GRIDCOMMAND_PII_KEY or altered value") from exc


# --- masking ---------------------------------------------------------------------------------------

MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
# A mainland mobile number inside free text: 11 digits (optionally written 3-4-4 with spaces or hyphens,
# optionally after +86) not part of a longer run of digits.
MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
MASK = "****"


def mask_phone(phone: str | None) -> str | None:
    """"13812345678" → "138****5678"; another number keeps only its last 4 digits ("*******4567")."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    mobile = MOBILE.match(digits)
    if mobile:
        number = mobile.group(1)
        return f"{number[:3]}{MASK}{number[-4:]}"
    if len(digits) <= 4:
        return "*" * max(len(digits), 4)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """"王小明" → "王**": the first character stays, every other one becomes "*"."""
    if name is None:
        return None
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else name
    return name[0] + "*" * (len(name) - 1)


REPORTER_FIELDS = {"reporter_name": mask_name, "reporter_phone": mask_phone,
                   "callback_name": mask_name, "callback_phone": mask_phone}


def present_reporter(snapshot: dict[str, Any], principal, *,
                     on_unmask: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """The snapshot as `principal` may see it: reporter name and phone masked unless the role may see
    callers' numbers (`dispatcher.access.may_see_phones`). A None principal sees masks. Returns a copy;
    keys that are absent stay absent. `on_unmask(snapshot)` is called when unmasked personal data is
    handed out (PIPL: log every unmasking), only if there was any to hand out."""
    from dispatcher.access import may_see_phones

    if principal is not None and may_see_phones(principal):
        if on_unmask is not None and any(snapshot.get(k) for k in REPORTER_FIELDS):
            on_unmask(snapshot)
        return dict(snapshot)
    shown = dict(snapshot)
    for key, mask in REPORTER_FIELDS.items():
        if key in shown:
            shown[key] = mask(shown[key])
    return shown


# --- logs --------------------------------------------------------------------------------------------

def _mask_match(match: re.Match) -> str:
    return f"{match.group(1)}{MASK}{match.group(3)}"


def redact(text: str) -> str:
    """`text` with every mainland mobile number replaced by its mask ("138****5678")."""
    if not isinstance(text, str) or not text:
        return text
    return MOBILE_IN_TEXT.sub(_mask_match, text)


class RedactPhones(logging.Filter):
    """Masks mobile numbers in a record's message, its arguments, and its exception text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is the handler's problem, not ours
            return True
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None  # formatted once, here; the handler formats nothing
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOGGERS = ("werkzeug", "gridcommand", "dashboard", "dispatcher", "workers")


def install_log_redaction(extra_loggers: tuple[str, ...] = ()) -> RedactPhones:
    """Attach one `RedactPhones` to every handler of the root logger and to the named loggers (and
    their handlers). Safe to call more than once: nothing is attached twice. Handlers added to the
    root logger later need another call (or `handler.addFilter(...)`)."""
    with _lock:
        global _filter
        flt = _filter or RedactPhones()
        targets: list[logging.Filterer] = list(logging.getLogger().handlers)
        for name in (*LOGGERS, *extra_loggers):
            logger = logging.getLogger(name)
            targets.append(logger)
            targets.extend(logger.handlers)
        for target in targets:
            if not any(isinstance(f, RedactPhones) for f in target.filters):
                target.addFilter(flt)
        _filter = flt
        return flt
