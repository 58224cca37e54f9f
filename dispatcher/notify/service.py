"""The notification service: record one in-app notification (and optionally one SMS) per recipient, push it live
to that recipient only, and keep their inbox (unread count, mark read)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from dispatcher.errors import NotFound
from dispatcher.notify.model import Channel, Delivery, Notification
from dispatcher.notify.rooms import user_room
from dispatcher.store.outbox import OutboxEvent, lock_outbox

EVENT = "notification.new"
MAX_INBOX = 200


class Kind(StrEnum):
    """What a notification is about."""

    DISPATCH = "dispatch"  # 派遣
    ASSIGNMENT = "assignment"  # 指派到人
    APPROVAL_REQUEST = "approval_request"  # 待审批
    APPROVAL_DECISION = "approval_decision"  # 审批结果
    WARNING = "warning"  # 预警
    OVERDUE = "overdue"  # 超时
    CALLBACK_DUE = "callback_due"  # 待回访
    VERIFICATION = "verification"  # 待核查
    ESCALATION = "escalation"  # 上报
    SUPERVISION = "supervision"  # 督办
    RETURN = "return"  # 退回


def notify(
    session: Session,
    *,
    recipients: Iterable[str],
    kind: Kind,
    text: str,
    incident_id: str | None,
    now: datetime,
    sms: bool = False,
) -> list[Notification]:
    """Record one in-app notification per distinct recipient (username), plus one pending SMS each with `sms`
    (the SMS gateway resolves the username), and one outbox event per recipient for their room only. Nothing is
    committed: the caller's transaction carries it all."""
    rows: list[Notification] = []
    people = [r for r in dict.fromkeys(recipients) if r]
    if people:
        lock_outbox(session)  # notification events too become visible in sequence order
    for username in people:
        row = _row(username, Channel.IN_APP, kind, text, incident_id, now)
        rows.append(row)
        session.add(row)
        session.add(
            OutboxEvent(
                name=EVENT,
                incident_id=incident_id,
                scope=[user_room(username)],
                payload={"notification": row.as_dict()},
                created_at=now,
            )
        )
        if sms:
            rows.append(_row(username, Channel.SMS, kind, text, incident_id, now))
            session.add(rows[-1])
    return rows


def _row(
    username: str, channel: Channel, kind: Kind, text: str, incident_id: str | None, now: datetime
) -> Notification:
    in_app = channel == Channel.IN_APP
    return Notification(
        id=str(uuid.uuid4()),
        recipient=username,
        incident_id=incident_id,
        kind=str(Kind(kind)),
        channel=str(channel),
        text=text,
        created_at=now,
        read_at=None,
        status=str(Delivery.DELIVERED if in_app else Delivery.PENDING),
        attempts=1 if in_app else 0,
        sent_at=now if in_app else None,
        last_error=None,
    )


def _mine(username: str) -> ColumnElement[bool]:
    """The in-app notifications of `username`."""
    return (Notification.recipient == username) & (Notification.channel == str(Channel.IN_APP))


def unread_count(session: Session, username: str) -> int:
    """How many in-app notifications `username` has not read."""
    query = select(func.count()).select_from(Notification).where(_mine(username), Notification.read_at.is_(None))
    return int(session.execute(query).scalar_one())


def inbox(session: Session, username: str, *, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    """The latest in-app notifications of `username`, newest first (at most `limit`, itself at most 200)."""
    query = select(Notification).where(_mine(username))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    limit = max(1, min(limit, MAX_INBOX))
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.id).limit(limit)))


def mark_read(session: Session, username: str, notification_id: str, now: datetime) -> Notification:
    """Mark one of `username`'s notifications read (kept as first read); NotFound when it is not theirs."""
    row = session.get(Notification, notification_id)
    if row is None or row.recipient != username or row.channel != str(Channel.IN_APP):
        raise NotFound(f"notification {notification_id} not found for user {username}")
    if row.read_at is None:
        row.read_at = now
    return row


def mark_all_read(session: Session, username: str, now: datetime) -> int:
    """Mark every unread notification of `username` read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(_mine(username), Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
