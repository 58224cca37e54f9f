"""Delivery channels as adapters: the SMS gateway interface, a logging sink, and the delivery of pending SMS."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatcher.access.privacy import redact
from dispatcher.notify.model import Channel, Delivery, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
MAX_ERROR = 500


class SmsGateway(Protocol):
    """Sends one short message to one recipient (an account's username: the gateway knows their number);
    raises on failure."""

    def send(self, recipient: str, text: str) -> None: ...


class LoggingSms:
    """The default gateway: one log line per message, phone and ID numbers masked; nothing leaves the machine."""

    def send(self, recipient: str, text: str) -> None:
        log.info("SMS to %s (%d chars): %s", recipient, len(text), redact(text))


def deliver_pending_sms(session: Session, gateway: SmsGateway, now: datetime, limit: int = 100) -> int:
    """Send pending SMS (and failed ones again, up to 5 attempts in all), oldest first; marks each sent or failed
    with its attempts and last error. Returns how many were sent. The caller commits."""
    due = (
        select(Notification)
        .where(Notification.channel == str(Channel.SMS))
        .where(
            or_(
                Notification.status == str(Delivery.PENDING),
                (Notification.status == str(Delivery.FAILED)) & (Notification.attempts < MAX_ATTEMPTS),
            )
        )
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for row in session.scalars(due):
        row.attempts = (row.attempts or 0) + 1
        try:
            gateway.send(row.recipient, row.text)
        except Exception as exc:  # any gateway failure: recorded, retried on a later run
            row.status, row.last_error = str(Delivery.FAILED), redact(f"{type(exc).__name__}: {exc}")[:MAX_ERROR]
            log.warning("SMS %s to %s failed (attempt %d): %s", row.id, row.recipient, row.attempts, row.last_error)
            continue
        row.status, row.sent_at, row.last_error = str(Delivery.SENT), now, None
        sent += 1
    session.flush()
    return sent
