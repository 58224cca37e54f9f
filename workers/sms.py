"""SMS through an HTTP gateway, and the RQ job that delivers pending SMS notifications."""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from dispatcher.notify.channels import LoggingSms, SmsGateway, deliver_pending_sms
from dispatcher.settings import Settings, get_settings
from workers import keys
from workers.context import worker_context

TIMEOUT_S = 10.0
SMS_LOCK = f"{keys.PREFIX}:sms-lock"  # one worker of many runs the SMS delivery per period


class HttpSms:
    """An SMS gateway spoken to over HTTP: POST {"to", "text"} as JSON with a bearer token; any non-2xx raises."""

    def __init__(self, url: str, token: str | None, timeout: float = TIMEOUT_S):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, recipient: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.post(self.url, json={"to": recipient, "text": text}, headers=headers, timeout=self.timeout)
        if not response.ok:
            raise RuntimeError(f"SMS gateway answered {response.status_code} for {recipient}")


def gateway_from_settings(settings: Settings) -> SmsGateway:
    """The HTTP gateway when `sms_gateway_url` is set, else the logging sink."""
    if settings.sms_gateway_url:
        token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        return HttpSms(settings.sms_gateway_url, token)
    return LoggingSms()


def deliver_sms(limit: int = 100, now: datetime | None = None) -> int:
    """Send the pending (and retry the failed) SMS notifications; returns how many were sent."""
    ctx = worker_context()
    gateway = gateway_from_settings(get_settings())
    with ctx.sessions.begin() as session:
        return deliver_pending_sms(session, gateway, now or datetime.now(UTC), limit)
