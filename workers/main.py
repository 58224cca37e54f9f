"""`gridcommand worker`: an RQ worker plus a ticker that schedules the periodic sweeps."""

from __future__ import annotations

import logging
import threading

from rq import Queue, SimpleWorker

from dispatcher.settings import Settings
from workers import keys
from workers.context import worker_context
from workers.jobs import purge_positions, request_relay
from workers.positions import PositionStore, flush_positions
from workers.redis_server import connect
from workers.sms import SMS_LOCK, deliver_sms
from workers.timers import sweep_timers

log = logging.getLogger(__name__)
OVERDUE_EVERY_S = 30.0
PURGE_EVERY_S = 3600
SMS_EVERY_S = 15  # pending SMS go out within this; a failed one is retried every period, 5 attempts in all


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
    try:
        # The scheduler lets the deadline jobs out at their moment (one per queue holds its Redis lock; another
        # worker's takes over when it lapses); in a burst it lets out what is due once, then the queue is drained.
        SimpleWorker([queue], connection=conn, maintenance_interval=60).work(
            burst=burst, logging_level="WARNING", with_scheduler=True
        )
    finally:
        stop.set()


def _flush_positions(interval: float, stop: threading.Event) -> None:
    """Every `interval`: one batched push of the new officer positions per room, and one history insert."""
    ctx = worker_context()
    store = PositionStore(ctx.redis)
    while not stop.wait(interval):
        try:
            flush_positions(store, ctx.pusher, ctx.sessions)
        except Exception:  # Redis or the database away: the queued positions wait for the next round
            log.warning("position flush failed; retrying", exc_info=True)


def _tick(queue: Queue, conn, interval: float, stop: threading.Event) -> None:
    """Every `interval`: a relay run (the sweep behind every lost push); every 30 s: the deadline sweep."""
    since_overdue = OVERDUE_EVERY_S
    while not stop.wait(interval):
        try:
            request_relay(queue, conn)
            since_overdue += interval
            if since_overdue >= OVERDUE_EVERY_S and conn.set(keys.OVERDUE_LOCK, "1", nx=True, ex=int(OVERDUE_EVERY_S)):
                queue.enqueue(sweep_timers, job_timeout=300, result_ttl=0)
                since_overdue = 0.0
            if conn.set(keys.PURGE_LOCK, "1", nx=True, ex=PURGE_EVERY_S):
                queue.enqueue(purge_positions, job_timeout=600, result_ttl=0)
            if conn.set(SMS_LOCK, "1", nx=True, ex=SMS_EVERY_S):
                queue.enqueue(deliver_sms, job_timeout=300, result_ttl=0)
        except Exception:  # Redis away: try again next tick
            log.warning("ticker could not reach Redis; retrying", exc_info=True)
