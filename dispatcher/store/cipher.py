"""Personal data at rest: AES-256-GCM for encrypted columns and a keyed lookup hash, under one installed key.

- Encryption: AES-256-GCM with a key derived (HKDF-SHA256) from the PII secret; a stored value is
  "v1:" + base64(nonce ‖ ciphertext ‖ tag). `dispatcher.store.columns.EncryptedText` applies it to columns.
- Lookup: `lookup_hash` is HMAC-SHA256 under a second key derived from the same secret with another HKDF
  info, so a caller's history can be found by phone number without decrypting anything.
- The key is installed once per process by whoever starts it (`install_key(settings.pii_key...)`: the web app
  factory, the worker, the CLI); using the cipher before that is an error, never a silent default key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1:"
NONCE_BYTES = 12
_HKDF_INFO = b"gridcommand pii v1"
_LOOKUP_INFO = b"gridcommand pii lookup v1"  # a different key for lookup hashes than for encryption
_AAD = b"gridcommand-pii"


class KeyNotInstalled(RuntimeError):
    """Personal data was encrypted or decrypted before the process installed its PII key."""

    def __init__(self) -> None:
        super().__init__("no PII key installed in this process: call dispatcher.store.cipher.install_key() at start-up")


class PiiKeyError(ValueError):
    """A stored value cannot be decrypted: the pii_key is not the one it was encrypted with, or it was altered."""


def derive_key(secret: str, info: bytes = _HKDF_INFO) -> bytes:
    """The 32-byte AES key for `secret` (HKDF-SHA256); another `info` gives an independent key."""
    if not secret:
        raise ValueError("pii_key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def is_encrypted(stored: str | None) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


class Cipher:
    """Encryption and lookup hashes under one PII secret (the installed one, or an old/new one while rotating)."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(derive_key(secret))
        self._lookup_key = derive_key(secret, _LOOKUP_INFO)

    def encrypt(self, plain: str) -> str:
        """ "v1:" + base64(nonce + ciphertext); a fresh random nonce every time."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), _AAD)
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plain text of a stored value; values without the "v1:" prefix (never migrated) come back unchanged."""
        if not is_encrypted(stored):
            return stored
        try:
            raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise PiiKeyError(
                "cannot decrypt a personal-data column: wrong GRIDCOMMAND_PII_KEY or altered value"
            ) from exc

    def lookup_hash(self, value: str) -> str:
        """HMAC-SHA256 (hex) of `value` under the lookup key: equal values give equal hashes, searchable in SQL,
        and without the key the value cannot be recovered by trying every phone number."""
        return hmac.new(self._lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


_installed: Cipher | None = None


def install_key(secret: str) -> None:
    """Use `secret` (settings.pii_key) for every encryption, decryption and lookup hash in this process from now on."""
    global _installed
    _installed = Cipher(secret)


def installed() -> Cipher:
    """The cipher of this process's installed key."""
    if _installed is None:
        raise KeyNotInstalled()
    return _installed


def lookup_hash(value: str) -> str:
    """`Cipher.lookup_hash` under the installed key."""
    return installed().lookup_hash(value)


@overload
def encrypt(plain: str) -> str: ...
@overload
def encrypt(plain: None) -> None: ...
@overload
def encrypt(plain: str | None) -> str | None: ...
def encrypt(plain: str | None) -> str | None:
    """`Cipher.encrypt` under the installed key; None stays None."""
    return None if plain is None else installed().encrypt(plain)


@overload
def decrypt(stored: str) -> str: ...
@overload
def decrypt(stored: None) -> None: ...
@overload
def decrypt(stored: str | None) -> str | None: ...
def decrypt(stored: str | None) -> str | None:
    """`Cipher.decrypt` under the installed key; None stays None."""
    return None if stored is None else installed().decrypt(stored)
