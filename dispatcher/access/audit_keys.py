"""The audit trail's key, kept out of the database: the canonical bytes of a record, its keyed MAC, the legacy hash.

Each record's `hash` is HMAC-SHA256 of its canonical form (fields and `prev_hash`) under a key derived (HKDF-SHA256)
from GRIDCOMMAND_AUDIT_KEY; checkpoints are signed under a second key derived from the same secret. Someone who can
write the database but does not hold the secret can neither forge a record nor re-chain the trail after an edit.
Records written before the key existed carry the plain SHA-256 of the same canonical form (`legacy_hash`); they
stay verifiable as long as a keyed record follows them (see dispatcher/access/audit_verify.py).

The key is installed once per process by whoever starts it (the web app factory, the worker, the CLI), like the
PII key; using the trail before that is an error, never a silent default.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS = "0" * 64
HASHED_FIELDS = ("at", "actor", "role", "ip", "action", "target", "result", "detail")
_CHAIN_INFO = b"gridcommand audit chain v1"
_CHECKPOINT_INFO = b"gridcommand audit checkpoint v1"


class AuditKeyNotInstalled(RuntimeError):
    """The audit trail was written or verified before the process installed its audit key."""

    def __init__(self) -> None:
        super().__init__(
            "no audit key installed in this process: call dispatcher.access.audit.install_audit_key() at start-up"
        )


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass timezone-aware times")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any], prev_hash: str) -> bytes:
    """The exact bytes that are MACed: sorted keys, no spaces, UTF-8, the time as UTC to the microsecond."""
    body: dict[str, Any] = {name: fields.get(name) for name in HASHED_FIELDS}
    body["at"] = _utc_text(body["at"])
    body["detail"] = body["detail"] or {}
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def legacy_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The unkeyed SHA-256 (hex) of a record's canonical form: how records were chained before the audit key."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


def _derive(secret: str, info: bytes) -> bytes:
    if not secret:
        raise ValueError("audit_key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


class AuditKey:
    """The two keys derived from one audit secret: one chains records, the other signs checkpoints."""

    def __init__(self, secret: str) -> None:
        self._chain = _derive(secret, _CHAIN_INFO)
        self._checkpoint = _derive(secret, _CHECKPOINT_INFO)

    def record_mac(self, fields: dict[str, Any], prev_hash: str) -> str:
        """HMAC-SHA256 (hex) of a record's canonical form: what its `hash` column holds."""
        return hmac.new(self._chain, canonical(fields, prev_hash), hashlib.sha256).hexdigest()

    def is_keyed(self, fields: dict[str, Any], prev_hash: str, stored: str) -> bool:
        """Whether `stored` is this record's MAC under the key (compared in constant time)."""
        return hmac.compare_digest(self.record_mac(fields, prev_hash), stored)

    def sign(self, body: bytes) -> str:
        """HMAC-SHA256 (hex) of a checkpoint's canonical body."""
        return hmac.new(self._checkpoint, body, hashlib.sha256).hexdigest()

    def signed(self, body: bytes, signature: str) -> bool:
        """Whether `signature` is the checkpoint signature of `body` (constant time)."""
        return hmac.compare_digest(self.sign(body), signature)


_installed: AuditKey | None = None


def install(secret: str) -> None:
    """Use `secret` (settings.audit_key) for every record appended and verified in this process from now on."""
    global _installed
    _installed = AuditKey(secret)


def installed() -> AuditKey:
    """The audit key of this process; AuditKeyNotInstalled before `install`."""
    if _installed is None:
        raise AuditKeyNotInstalled()
    return _installed


def record_mac(fields: dict[str, Any], prev_hash: str) -> str:
    """`AuditKey.record_mac` under the installed key."""
    return installed().record_mac(fields, prev_hash)
