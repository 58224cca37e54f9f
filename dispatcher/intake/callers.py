"""Callers: a hotline caller's earlier reports, found by a keyed hash of the phone number (never by decrypting).

Numbers are stored encrypted with a random nonce (dispatcher/store/cipher.py), so they cannot be searched in
SQL. Each incident therefore also keeps `reporter_phone_hash`: HMAC-SHA256 of the normalised number under a
key derived from settings.pii_key with its own HKDF info (`cipher.lookup_hash`). The same number written
"+86 138-1234-5678", "8613812345678" or "13812345678" gives the same hash.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access import audit, privacy
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import may_see_phones
from dispatcher.cases.incident import Incident
from dispatcher.cases.scope import scope_clause
from dispatcher.errors import Invalid
from dispatcher.store import cipher

_MOBILE = re.compile(r"^(?:0{0,2}86)?(1[3-9]\d{9})$")
MAX_HISTORY = 200


def normalise_phone(phone: str | None) -> str | None:
    """Digits only; a mainland mobile number loses its +86 / 0086 / 86 prefix. None or no digits → None."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return None
    mobile = _MOBILE.match(digits)
    return mobile.group(1) if mobile else digits


def phone_hash(phone: str | None, under: cipher.Cipher | None = None) -> str | None:
    """The lookup hash of a phone number (None for None), under the installed key or `under` (key rotation)."""
    normalised = normalise_phone(phone)
    return (under or cipher.installed()).lookup_hash(normalised) if normalised else None


def history(session: Session, phone: str, *, principal: Principal, limit: int = 50) -> list[Incident]:
    """The incidents reported from `phone` that `principal` may see, newest first (at most `limit`)."""
    digest = phone_hash(phone)
    if digest is None or len(normalise_phone(phone) or "") < 5:
        raise Invalid(f"phone {privacy.mask_phone(phone)!r} has too few digits to look up", field="phone")
    limit = max(1, min(limit, MAX_HISTORY))
    query = (
        select(Incident)
        .where(Incident.reporter_phone_hash == digest, scope_clause(principal))
        .order_by(Incident.created_at.desc(), Incident.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def look_up(
    session: Session, phone: str, *, principal: Principal, ip: str | None, now: datetime, limit: int = 50
) -> list[Incident] | None:
    """`history` for the roles that may see callers' numbers (None for any other role); every lookup, a refused
    one too, leaves one `caller.lookup` audit record with the number masked, in the caller's transaction."""
    permitted = may_see_phones(principal.role)
    rows = history(session, phone, principal=principal, limit=limit) if permitted else []
    audit.append(
        session,
        actor=principal.username,
        role=str(principal.role),
        ip=ip,
        action="caller.lookup",
        target=f"phone:{privacy.mask_phone(phone)}",
        result="ok" if permitted else "denied",
        detail={"found": len(rows)},
        now=now,
    )
    return rows if permitted else None
