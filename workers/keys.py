"""Every Redis key and channel the product uses, in one place (all under the "gridcommand" prefix, so a
shared Redis can be inspected or flushed by prefix)."""

from __future__ import annotations

import redis

PREFIX = "gridcommand"

# Pub/sub channels ignore Redis's numbered databases: each carries the database number of its deployment, so two
# deployments (or two test processes) sharing a Redis server on different databases never hear each other.
# Socket.IO: the channel Flask-SocketIO's message queue listens on (a bare RedisManager would use "socketio").
SOCKETIO_CHANNEL = "flask-socketio"
# "New outbox events were committed": a pub/sub wake-up for every web process's delivery loop (dashboard/realtime.py).
# Only a hint: a lost signal delays delivery by at most the loop's timer (settings.delivery_poll_s), never loses it.
OUTBOX_SIGNAL = f"{PREFIX}:outbox-new"


def socketio_channel(redis_url: str) -> str:
    """The Socket.IO message-queue channel of the deployment on `redis_url`."""
    return f"{SOCKETIO_CHANNEL}:{redis.connection.parse_url(redis_url).get('db', 0)}"


def outbox_signal(client: redis.Redis) -> str:
    """The outbox wake-up channel of the deployment `client` talks to."""
    return f"{OUTBOX_SIGNAL}:{client.get_connection_kwargs().get('db', 0)}"


# Workers' signs of life: sorted set worker name -> epoch seconds of its ticker's last beat (read by /health).
WORKER_BEATS = f"{PREFIX}:worker-beats"
# Periodic sweeps: one worker of many runs each per period.
OVERDUE_LOCK = f"{PREFIX}:overdue-lock"
PURGE_LOCK = f"{PREFIX}:purge-lock"

# Officer positions (workers/positions.py).
POS_TRACK = f"{PREFIX}:pos:track"  # hash officer id -> Track (pipeline state)
POS_LATEST = f"{PREFIX}:pos:latest"  # hash officer id -> the public latest position
POS_GEO = f"{PREFIX}:pos:geo"  # geo set of latest positions, for nearest-officer search
POS_PENDING = f"{PREFIX}:pos:pending"  # list of position messages waiting to be pushed
POS_HISTORY = f"{PREFIX}:pos:history"  # list of history rows waiting to be written
POS_FLUSH_LOCK = f"{PREFIX}:pos:flush-lock"

# Rate limits (Flask-Limiter's storage prefix).
RATE_LIMITS = PREFIX

# Who has which case open in a drawer (dashboard/pages/drawer_presence.py): hash username -> {name, until}.
PRESENCE = f"{PREFIX}:presence"  # + ":" + incident id
