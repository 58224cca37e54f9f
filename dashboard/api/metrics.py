"""GET /metrics: Prometheus metrics with the standard client library (prometheus_client).

- `gridcommand_http_request_duration_seconds` (histogram by method, route and status class),
  `gridcommand_osmand_fixes_total` (counter by accepted/filtered: rate() of it is fixes/s),
  `gridcommand_connected_sockets` (this process's signed-in sockets; summed over live processes).
- Read at scrape time: `gridcommand_outbox_pending` / `gridcommand_outbox_lag_seconds` (events the worker has not
  handled, age of the oldest), `gridcommand_delivery_behind` / `gridcommand_delivery_lag_seconds` (this web process's
  cursor behind the outbox head), `gridcommand_rq_queue_depth`, `gridcommand_workers_alive`.
- Several gunicorn processes: with PROMETHEUS_MULTIPROC_DIR set (an empty directory per start, read through
  `settings.metrics_multiproc_dir`), counters and histograms are summed over every process (multiprocess mode).
- Who may read it: metrics reveal load (how many cases, how busy), so not everyone. A client inside
  `settings.metrics_networks` (loopback by default: a Prometheus on the host or a sidecar) or one sending
  `Authorization: Bearer <settings.metrics_token>` (a Prometheus elsewhere, through the proxy); anyone else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from dashboard.delivery import delivery_of
from dashboard.runtime import bounded, runtime_of

log = logging.getLogger(__name__)
metrics_bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "gridcommand_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FIXES = Counter("gridcommand_osmand_fixes", "Position fixes received on /osmand", ["result"])
SOCKETS = Gauge(
    "gridcommand_connected_sockets", "Signed-in Socket.IO clients", multiprocess_mode="livesum"
)  # inc/dec on connect/disconnect (dashboard/realtime.py)


FIX_RESULTS = {True: FIXES.labels(result="accepted"), False: FIXES.labels(result="filtered")}  # bound once


def count_fix(accepted: bool) -> None:
    """One fix received on /osmand or the batch endpoint, accepted or filtered as noise."""
    FIX_RESULTS[bool(accepted)].inc()


def _timer(method: str, route: str, status: str):
    """The histogram child of one (method, route, status class), looked up once: this cache holds exactly the children
    the histogram itself keeps (routes are patterns, statuses classes)."""
    key = (method, route, status)
    child = _TIMERS.get(key)
    if child is None:
        child = _TIMERS[key] = REQUEST_SECONDS.labels(method, route, status)
    return child


_TIMERS: dict[tuple[str, str, str], Any] = {}


def init_metrics(app: Flask) -> None:
    """Time every request of `app` (by its route pattern, never the raw path: bounded label values)."""

    @app.before_request
    def _start_timer():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            _timer(request.method, route, f"{response.status_code // 100}xx").observe(time.perf_counter() - started)
        return response


class _ScrapeTime(Collector):
    """Figures read from the database and Redis when Prometheus scrapes (bounded: a hung dependency is left out)."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        runtime = runtime_of(self.app)
        timeout = float(runtime.settings.db_connect_timeout_s)
        report = bounded(runtime._outbox_lag, timeout)
        if report is not None:
            yield GaugeMetricFamily(
                "gridcommand_outbox_pending", "Events the worker has not handled", report["pending"]
            )
            yield GaugeMetricFamily(
                "gridcommand_outbox_lag_seconds", "Age of the oldest event not handled by a worker", report["lag_s"]
            )
        delivery = delivery_of(self.app)
        if delivery is not None and delivery.running:
            now = runtime.clock()

            def status() -> dict:
                with runtime.sessions() as session:
                    return delivery.status(session, now)

            state = bounded(status, timeout) or {}
            if "behind" in state:
                yield GaugeMetricFamily(
                    "gridcommand_delivery_behind", "Outbox events this web process has not delivered", state["behind"]
                )
                yield GaugeMetricFamily(
                    "gridcommand_delivery_lag_seconds",
                    "Age of the oldest event this process has not delivered",
                    state["lag_s"],
                )
        if runtime.redis is not None:
            workers = bounded(runtime._workers, timeout)
            if workers is not None:
                yield GaugeMetricFamily("gridcommand_rq_queue_depth", "Jobs waiting in the RQ queue", workers["queue"])
                yield GaugeMetricFamily(
                    "gridcommand_workers_alive", "Workers with a recent heartbeat", workers["alive"]
                )


def _allowed() -> bool:
    settings = runtime_of(current_app).settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.metrics_networks)


@metrics_bp.get("/metrics")
def metrics():
    """The Prometheus text format; 403 outside the allowed networks without the bearer token."""
    if not _allowed():
        return Response(
            "forbidden: /metrics needs the metrics token or an allowed network\n", 403, mimetype="text/plain"
        )
    settings = runtime_of(current_app).settings
    registry = CollectorRegistry()
    if settings.metrics_multiproc_dir is not None:
        MultiProcessCollector(registry, path=str(settings.metrics_multiproc_dir))
    else:  # one process: its own metrics
        for collector in (REQUEST_SECONDS, FIXES, SOCKETS):
            registry.register(collector)
    registry.register(_ScrapeTime(current_app._get_current_object()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
