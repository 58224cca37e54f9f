"""The HTTP SMS gateway against a real HTTP server on 127.0.0.1: it receives the JSON and the bearer token; a
failing gateway leaves the SMS failed with the error, and a later run sends it. The settings pick the adapter."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import select

from dispatcher.notify.channels import LoggingSms, deliver_pending_sms
from dispatcher.notify.model import Notification
from dispatcher.notify.service import Kind, notify
from dispatcher.settings import Settings
from tests.conftest import T0
from workers.sms import HttpSms, gateway_from_settings

TOKEN = "sms-test-token"


class Gateway:
    """A tiny SMS gateway: records each request; answers `status` (settable)."""

    def __init__(self):
        self.received: list[tuple[dict, str | None]] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append((body, self.headers.get("Authorization")))
                self.send_response(gateway.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    made = Gateway()
    yield made
    made.close()


@pytest.fixture
def sessions(db):
    _, engine, made = db
    yield made
    with engine.begin() as conn:
        conn.execute(sa.delete(Notification.__table__))


def _sms(sessions):
    with sessions() as session:
        return session.scalars(select(Notification).where(Notification.channel == "sms")).one()


def test_http_sms_posts_json_with_the_bearer_token(gateway):
    HttpSms(gateway.url, TOKEN).send("ann", "案件已派遣")
    assert gateway.received == [({"to": "ann", "text": "案件已派遣"}, f"Bearer {TOKEN}")]


def test_a_failing_gateway_leaves_the_sms_failed_and_a_later_run_sends_it(gateway, sessions):
    with sessions.begin() as session:
        notify(session, recipients=["ann"], kind=Kind.OVERDUE, text="已超时", incident_id=None, now=T0, sms=True)
    http = HttpSms(gateway.url, TOKEN)
    gateway.status = 503
    with sessions.begin() as session:
        assert deliver_pending_sms(session, http, T0) == 0
    row = _sms(sessions)
    assert (row.status, row.attempts) == ("failed", 1) and "503" in row.last_error
    gateway.status = 200
    with sessions.begin() as session:
        assert deliver_pending_sms(session, http, T0 + timedelta(minutes=1)) == 1
    row = _sms(sessions)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [body for body, _ in gateway.received] == [{"to": "ann", "text": "已超时"}] * 2


def test_an_unreachable_gateway_is_a_failure_too(sessions):
    with sessions.begin() as session:
        notify(session, recipients=["ann"], kind=Kind.OVERDUE, text="x", incident_id=None, now=T0, sms=True)
    with sessions.begin() as session:
        assert deliver_pending_sms(session, HttpSms("http://127.0.0.1:9/sms", TOKEN, timeout=2), T0) == 0
    row = _sms(sessions)
    assert row.status == "failed" and row.last_error


def test_the_settings_pick_the_gateway(gateway):
    assert isinstance(gateway_from_settings(Settings()), LoggingSms)
    chosen = gateway_from_settings(Settings(sms_gateway_url=gateway.url, sms_gateway_token=SecretStr(TOKEN)))
    assert isinstance(chosen, HttpSms) and (chosen.url, chosen.token) == (gateway.url, TOKEN)
