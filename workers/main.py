"""`gridcommand worker`: an RQ worker plus a ticker that schedules the periodic sweeps."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis
from rq import Queue, SimpleWorker

from dispatcher.settings import Settings
from workers import keys
from workers.context import worker_context
from workers.jobs import purge_positions, relay_outbox
from workers.positions import PositionStore, flush_positions
from workers.redis_server import connect
from workers.reports import REPORT_EVERY_S, REPORT_LOCK, monthly_report
from workers.sms import SMS_LOCK, deliver_sms
from workers.timers import sweep_timers

log = logging.getLogger(__name__)
OVERDUE_EVERY_S = 30.0
PURGE_EVERY_S = 3600
SMS_EVERY_S = 15  # pending SMS go out within this; a failed one is retried every period, 5 attempts in all
REDIS_RETRY_S = 1.0  # how long the worker waits before working again after Redis dropped (reconnect <= 5 s)


class _Worker(SimpleWorker):
    """RQ's SimpleWorker retrying a lost Redis every second (RQ's own backoff grows to 60 s)."""

    max_connection_wait_time = REDIS_RETRY_S
    exponential_backoff_factor = 1.0


def run(settings: Settings, *, burst: bool = False) -> None:
    """Work the queue until stopped; the ticker re-finds anything a lost job should have done."""
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set")
    conn = connect(settings.redis_url)
    queue = Queue(settings.queue_name, connection=conn)
    stop = threading.Event()
    if not burst:
        threading.Thread(
            target=_tick, args=(queue, conn, settings.relay_interval_s, stop), daemon=True, name="gridcommand-ticker"
        ).start()
        threading.Thread(
            target=_flush_positions, args=(settings.position_flush_s, stop), daemon=True, name="gridcommand-positions"
        ).start()
        threading.Thread(  # its own thread and client: a slow outbox run or a busy pool never silences the beat
            target=_beat,
            args=(connect(settings.redis_url), settings.worker_heartbeat_s / 3, stop),
            daemon=True,
            name="gridcommand-beat",
        ).start()
    try:
        _work(queue, conn, burst)
    finally:
        stop.set()


def _work(queue: Queue, conn, burst: bool) -> None:
    """RQ's worker loop, started again whenever it quits because Redis dropped mid-job (RQ's loop gives up on an
    error outside its dequeue wait); only a stop request (SIGTERM/SIGINT) or the end of a burst ends it."""
    while True:
        # The scheduler lets the deadline jobs out at their moment (one per queue holds its Redis lock; another
        # worker's takes over when it lapses); in a burst it lets out what is due once, then the queue is drained.
        try:
            worker = _Worker([queue], connection=conn, maintenance_interval=60)  # talks to Redis already
        except redis.RedisError:
            log.warning("Redis unreachable; trying again in %.0f s", REDIS_RETRY_S)
            time.sleep(REDIS_RETRY_S)
            continue
        try:
            worker.work(burst=burst, logging_level="WARNING", with_scheduler=True)
        except redis.RedisError:  # teardown (deregistering) on a dead Redis
            log.warning("worker lost Redis; starting again", exc_info=True)
        if burst or worker._stop_requested or getattr(worker, "_shutdown_requested_date", None) is not None:
            return
        log.warning("worker loop ended without a stop request (Redis away?); starting again in %.0f s", REDIS_RETRY_S)
        time.sleep(REDIS_RETRY_S)


def _flush_positions(interval: float, stop: threading.Event) -> None:
    """Every `interval`: one batched push of the new officer positions per room, and one history insert."""
    ctx = worker_context()
    store = PositionStore(ctx.redis)
    started = time.monotonic()
    while not stop.wait(max(0.0, interval - (time.monotonic() - started))):  # a flush's own time counts
        started = time.monotonic()
        try:
            flush_positions(store, ctx.pusher, ctx.sessions)
        except Exception:  # Redis or the database away: the queued positions wait for the next round
            log.warning("position flush failed; retrying", exc_info=True)


def _beat(conn, interval: float, stop: threading.Event) -> None:
    """A sign of life for /health every `interval` (a killed worker stops beating; stale names are trimmed here)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        try:
            now = time.time()
            conn.zadd(keys.WORKER_BEATS, {name: now})
            conn.zremrangebyscore(keys.WORKER_BEATS, "-inf", now - 3600)
        except Exception:
            log.warning("no heartbeat: Redis unreachable; retrying", exc_info=True)
        if stop.wait(interval):
            return


def _tick(queue: Queue, conn, interval: float, stop: threading.Event) -> None:
    """Every `interval`: the worker's outbox run (schedules the deadline timers of new events; run here, in this
    thread, not as a queued job behind a "requested" flag, so a killed worker stalls nothing: any other worker's
    ticker does the same run, rows locked with SKIP LOCKED); every 30 s: the deadline sweep."""
    since_overdue = OVERDUE_EVERY_S
    while not stop.wait(interval):
        try:
            relay_outbox()
        except Exception:  # Redis or the database away: the events stay pending for the next tick
            log.warning("outbox run failed; retrying", exc_info=True)
        try:
            since_overdue += interval
            if since_overdue >= OVERDUE_EVERY_S and conn.set(keys.OVERDUE_LOCK, "1", nx=True, ex=int(OVERDUE_EVERY_S)):
                queue.enqueue(sweep_timers, job_timeout=300, result_ttl=0)
                since_overdue = 0.0
            if conn.set(keys.PURGE_LOCK, "1", nx=True, ex=PURGE_EVERY_S):
                queue.enqueue(purge_positions, job_timeout=600, result_ttl=0)
            if conn.set(SMS_LOCK, "1", nx=True, ex=SMS_EVERY_S):
                queue.enqueue(deliver_sms, job_timeout=300, result_ttl=0)
            if conn.set(REPORT_LOCK, "1", nx=True, ex=REPORT_EVERY_S):  # last month's report, once (workers/reports.py)
                queue.enqueue(monthly_report, job_timeout=1800, result_ttl=0)
        except Exception:  # Redis away: try again next tick
            log.warning("ticker could not reach Redis; retrying", exc_info=True)
