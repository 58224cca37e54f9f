"""The notification service on an in-memory SQLite database: rows per recipient and channel, one outbox event per
recipient for their room only, the inbox and unread count, marking read, recipients, and SMS delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatcher.access.accounts import Account
from dispatcher.access.roles import Role
from dispatcher.errors import NotFound
from dispatcher.notify import recipients, user_room
from dispatcher.notify.channels import MAX_ATTEMPTS, LoggingSms, deliver_pending_sms
from dispatcher.notify.model import Notification
from dispatcher.notify.service import Kind, inbox, mark_all_read, mark_read, notify, unread_count
from dispatcher.store.outbox import OutboxEvent

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _account(session, username, role, region=None, department=None, disabled=False):
    session.add(
        Account(
            id=username,
            username=username,
            display_name=username,
            role=str(role),
            region_code=region,
            department_code=department,
            password_hash="x",
            disabled=disabled,
            created_at=T0,
        )
    )


def test_one_in_app_row_and_one_event_per_distinct_recipient(sessions):
    with sessions.begin() as session:
        rows = notify(
            session, recipients=["ann", "bob", "ann", ""], kind=Kind.DISPATCH, text="派遣", incident_id=None, now=T0
        )
    assert [(r.recipient, r.channel, r.status) for r in rows] == [
        ("ann", "in_app", "delivered"),
        ("bob", "in_app", "delivered"),
    ]
    with sessions() as session:
        events = list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
        assert [(e.name, e.scope) for e in events] == [
            ("notification.new", [user_room("ann")]),
            ("notification.new", [user_room("bob")]),
        ]
        assert events[0].payload["notification"]["id"] == rows[0].id
        assert events[0].payload["notification"]["kind"] == "dispatch"


def test_sms_adds_one_pending_sms_row_per_recipient(sessions):
    with sessions.begin() as session:
        rows = notify(session, recipients=["ann"], kind=Kind.OVERDUE, text="超时", incident_id=None, now=T0, sms=True)
    assert [(r.channel, r.status, r.attempts) for r in rows] == [("in_app", "delivered", 1), ("sms", "pending", 0)]
    with sessions() as session:
        assert session.query(OutboxEvent).count() == 1  # SMS rows are not pushed
        assert unread_count(session, "ann") == 1  # nor counted in the inbox


def test_inbox_unread_count_and_marking_read(sessions):
    with sessions.begin() as session:
        for i in range(3):
            notify(
                session,
                recipients=["ann"],
                kind=Kind.WARNING,
                text=f"w{i}",
                incident_id=None,
                now=T0 + timedelta(minutes=i),
            )
        notify(session, recipients=["bob"], kind=Kind.WARNING, text="bob's", incident_id=None, now=T0)
    with sessions.begin() as session:
        assert unread_count(session, "ann") == 3
        latest = inbox(session, "ann")
        assert [r.text for r in latest] == ["w2", "w1", "w0"]
        assert mark_read(session, "ann", latest[0].id, T0 + timedelta(hours=1)).read_at is not None
        bobs = inbox(session, "bob")[0].id
    with sessions.begin() as session:
        assert unread_count(session, "ann") == 2
        assert [r.text for r in inbox(session, "ann", unread_only=True)] == ["w1", "w0"]
        with pytest.raises(NotFound, match=bobs):
            mark_read(session, "ann", bobs, T0)
        with pytest.raises(NotFound, match="nope"):
            mark_read(session, "ann", "nope", T0)
        assert mark_all_read(session, "ann", T0 + timedelta(hours=2)) == 2
    with sessions() as session:
        assert unread_count(session, "ann") == 0 and unread_count(session, "bob") == 1


def test_recipients_by_department_role_and_region(sessions):
    with sessions.begin() as session:
        _account(session, "h1", Role.DEPT_HEAD, department="HW")
        _account(session, "h2", Role.DEPT_HANDLER, department="HW")
        _account(session, "h3", Role.DEPT_HEAD, department="HW", disabled=True)
        _account(session, "h4", Role.DEPT_HEAD, department="SW")
        _account(session, "s1", Role.SHIFT_LEADER, region="330199")
        _account(session, "s2", Role.SHIFT_LEADER, region="330199001")
        _account(session, "s3", Role.SHIFT_LEADER, region="330199002")
        _account(session, "d1", Role.DISPATCHER, region="330199001")
    with sessions() as session:
        assert recipients.department_staff(session, "HW") == ["h1", "h2"]
        assert recipients.department_staff(session, "HW", [Role.DEPT_HANDLER]) == ["h2"]
        assert recipients.heads_of(session, "HW") == ["h1"]
        assert recipients.by_role_in_region(session, [Role.SHIFT_LEADER], "330199001002") == ["s1", "s2"]
        assert recipients.by_role_in_region(session, [Role.SHIFT_LEADER, Role.DISPATCHER], "330199001") == [
            "d1",
            "s1",
            "s2",
        ]
        assert recipients.by_role_in_region(session, [Role.SHIFT_LEADER], "330199") == ["s1"]
        assert recipients.by_role_in_region(session, [Role.SHIFT_LEADER], None) == []


class Flaky:
    """A gateway that fails the first `failures` sends, then records what it sent."""

    def __init__(self, failures: int):
        self.failures, self.sent = failures, []

    def send(self, recipient: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway down")
        self.sent.append((recipient, text))


def test_sms_delivery_marks_sent_or_failed_and_retries_up_to_5_attempts(sessions):
    with sessions.begin() as session:
        notify(session, recipients=["ann"], kind=Kind.OVERDUE, text="超时", incident_id=None, now=T0, sms=True)
    gateway = Flaky(failures=1)
    with sessions.begin() as session:
        assert deliver_pending_sms(session, gateway, T0) == 0
    with sessions() as session:
        row = session.scalars(select(Notification).where(Notification.channel == "sms")).one()
        assert (row.status, row.attempts, row.last_error) == ("failed", 1, "ConnectionError: gateway down")
    with sessions.begin() as session:
        assert deliver_pending_sms(session, gateway, T0 + timedelta(minutes=1)) == 1
    with sessions() as session:
        row = session.scalars(select(Notification).where(Notification.channel == "sms")).one()
        assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 2, None, T0 + timedelta(minutes=1))
    assert gateway.sent == [("ann", "超时")]

    with sessions.begin() as session:
        notify(session, recipients=["bob"], kind=Kind.OVERDUE, text="x", incident_id=None, now=T0, sms=True)
    dead = Flaky(failures=100)
    for _ in range(MAX_ATTEMPTS + 2):
        with sessions.begin() as session:
            deliver_pending_sms(session, dead, T0)
    with sessions() as session:
        row = session.scalars(
            select(Notification).where(Notification.recipient == "bob", Notification.channel == "sms")
        ).one()
        assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


def test_the_logging_sink_masks_phone_numbers(caplog):
    caplog.set_level("INFO", logger="dispatcher.notify.channels")
    LoggingSms().send("ann", "请回电 13812345678")
    assert "13812345678" not in caplog.text and "ann" in caplog.text
