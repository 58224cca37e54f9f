"""The notification record: one row per recipient, channel and message, kept with the case it is about."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime


class Channel(StrEnum):
    """How a notification reaches its recipient."""

    IN_APP = "in_app"
    SMS = "sms"


class Delivery(StrEnum):
    """Where a notification stands: in-app rows are delivered when written; SMS rows wait for the gateway."""

    DELIVERED = "delivered"
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """One message to one person over one channel, optionally about one incident."""

    __tablename__ = "notification"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    recipient: Mapped[str] = mapped_column(String(64))  # the account's username
    incident_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index("ix_notification_recipient_read_at", "recipient", "read_at"),
        Index("ix_notification_channel_status", "channel", "status"),
    )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (API answers and live pushes)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "text": self.text,
            "incident_id": self.incident_id,
            "created_at": self.created_at.isoformat(),
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "status": self.status,
        }
