"""Live officer positions in Redis: ingest accepted fixes, answer "who is near", and flush batches to browsers and history.

A fix costs two Redis commands (Lua scripts, one round trip each): one counts the sender's rate-limit windows
(`Budget`: per address, per device) and reads the officer's track, the other writes the accepted fix (track, latest,
geo set, push and history queues). The windows are fixed windows as Flask-Limiter's "fixed-window" strategy keeps
them, counted here because the `limits` library spends a round trip per limit (it parses the limits: "120/minute").
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import limits
import redis
from redis.commands.core import Script
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.cases import rooms
from dispatcher.fleet.devices import mark_seen
from dispatcher.fleet.officers import Officer, OfficerPosition, loads
from dispatcher.fleet.positions import Fix, Track, advance, rejection
from geo.grids import GridIndex
from workers import keys

log = logging.getLogger(__name__)
TRACK, LATEST, GEO = keys.POS_TRACK, keys.POS_LATEST, keys.POS_GEO
PENDING, HISTORY, FLUSH_LOCK = keys.POS_PENDING, keys.POS_HISTORY, keys.POS_FLUSH_LOCK
FLUSH_BATCH = 5000


@lru_cache(maxsize=64)
def parse_limit(limit: str) -> limits.RateLimitItem:
    """A limit as settings write it ("120/minute"), parsed once."""
    return limits.parse(limit)


@dataclass(frozen=True)
class Budget:
    """A fixed-window rate limit of one sender: `scope` names what is limited ("osmand", "device"), `who` the sender
    (an address, a device's public id), `limit` the allowance as settings write it ("120/minute")."""

    scope: str
    who: str
    limit: str

    def window(self, now: datetime) -> tuple[str, int, int]:
        """The Redis key of the window `now` falls in, its length and the seconds left until the next one."""
        item = parse_limit(self.limit)
        period = item.get_expiry()
        epoch = int(now.timestamp())
        key = f"{keys.RATE_LIMITS}:window:{self.scope}:{self.who}:{item.amount}/{period}:{epoch // period}"
        return key, period, period - epoch % period


@dataclass(frozen=True)
class OverLimit:
    """A budget that is spent: which one, its allowance in words ("120 per 1 minute") and when it renews."""

    budget: Budget
    allowance: str
    retry_after_s: int


@dataclass(frozen=True)
class Ingested:
    """What became of one fix (`limited`: refused, the sender is over that budget)."""

    accepted: bool
    reason: str | None = None
    events: tuple[str, ...] = ()
    limited: OverLimit | None = None


# One command each (a Lua script): a hit on each budget's window and the officer's track; the accepted fix written.
COUNT_AND_READ = Script(
    None,
    b"""
local n = tonumber(ARGV[1])
local replies = {}
for i = 1, n do
  replies[i] = redis.call('INCR', KEYS[i])
  if replies[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i + 1]) end
end
if KEYS[n + 1] then replies[n + 1] = redis.call('HGET', KEYS[n + 1], ARGV[n + 2]) end
return replies
""",
)
WRITE = Script(
    None,
    b"""
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('GEOADD', KEYS[3], ARGV[4], ARGV[5], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[3])
redis.call('RPUSH', KEYS[5], ARGV[3])
return 1
""",
)


def _over(budgets: Sequence[Budget], now: datetime, counts: list) -> OverLimit | None:
    """The first budget whose count went past its allowance, or None."""
    for budget, count in zip(budgets, counts, strict=False):
        item = parse_limit(budget.limit)
        if count > item.amount:
            return OverLimit(budget, str(item), budget.window(now)[2])
    return None


class PositionStore:
    """Latest positions and pipeline state of every officer, kept in Redis."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    def _count(self, budgets: Sequence[Budget], now: datetime, track_of: str | None = None) -> list:
        """One hit on each budget (one round trip); their counts, then the officer's stored track if asked."""
        windows = [budget.window(now) for budget in budgets]
        keys_ = [key for key, _, _ in windows] + ([TRACK] if track_of else [])
        args = [len(budgets), *(period for _, period, _ in windows), *([track_of] if track_of else [])]
        return COUNT_AND_READ(keys_, args, client=self.redis)

    def spend(self, budgets: Sequence[Budget], now: datetime) -> OverLimit | None:
        """Count one request against each budget (one round trip); the first one it overdraws, or None."""
        return _over(budgets, now, self._count(budgets, now))

    def ingest(
        self, officer: Officer, fix: Fix, grids: GridIndex, now: datetime, budgets: Sequence[Budget] = ()
    ) -> Ingested:
        """Count the sender's budgets; within them, filter the fix and, if kept, update the track and the latest
        position and queue it for push and history (two round trips).

        `fix.device_id` is the enrolled device's public id (never its identifier): the worker moves the device's
        `last_seen_at` forward from it."""
        replies = self._count(budgets, now, officer.id)
        over = _over(budgets, now, replies)
        if over is not None:
            return Ingested(False, f"over the {over.budget.scope} rate limit", limited=over)
        raw = replies[len(budgets)] if len(replies) > len(budgets) else None
        last = Track.from_json(json.loads(raw)) if raw else None
        reason = rejection(fix, last, now)
        if reason:
            return Ingested(False, reason)
        path = grids.locate(fix.lon, fix.lat)
        track, events = advance(last, fix, path.unit if path else None)
        position = {
            "officer_id": officer.id,
            "device_id": fix.device_id,
            "lon": fix.lon,
            "lat": fix.lat,
            "at": fix.at.isoformat(),
            "speed_mps": fix.speed_mps,
            "heading": fix.heading,
            "accuracy_m": fix.accuracy_m,
            "battery": fix.battery,
            "grid_unit": track.grid,
            "on_duty": officer.on_duty,
            "rooms": [rooms.grid_room(c) for c in (path.codes() if path else [])]
            + ([rooms.department_room(officer.department_code)] if officer.department_code else []),
            "events": events,
            "alarm": fix.attributes.get("alarm"),
        }
        encoded = json.dumps(position, ensure_ascii=False)
        track_json = json.dumps(track.to_json())
        WRITE(
            [TRACK, LATEST, GEO, PENDING, HISTORY],
            [officer.id, track_json, encoded, fix.lon, fix.lat],
            client=self.redis,
        )
        return Ingested(True, None, tuple(events))

    def latest(self) -> dict[str, dict[str, Any]]:
        """The latest accepted position of every officer that has one."""
        return {k.decode(): json.loads(v) for k, v in self.redis.hgetall(LATEST).items()}

    def nearby(self, lon: float, lat: float, radius_m: float, count: int) -> list[tuple[str, float]]:
        """Officers within `radius_m` of a point, nearest first: (officer id, distance in metres)."""
        hits = self.redis.geosearch(
            GEO, longitude=lon, latitude=lat, radius=radius_m, unit="m", sort="ASC", count=count, withdist=True
        )
        return [(name.decode(), float(distance)) for name, distance in hits]

    def peek(self, key: str, limit: int) -> list[dict[str, Any]]:
        """The oldest `limit` queued items, left in place until `drop` confirms they were handled."""
        return [json.loads(item) for item in self.redis.lrange(key, 0, limit - 1)]

    def drop(self, key: str, count: int) -> None:
        """Remove the `count` oldest items (after they were pushed or written)."""
        if count:
            self.redis.ltrim(key, count, -1)

    @contextmanager
    def flushing(self, ttl_s: int = 30):
        """Hold the flush lock (one flusher at a time across workers); yields False if someone else holds it."""
        token = uuid.uuid4().hex
        held = bool(self.redis.set(FLUSH_LOCK, token, nx=True, ex=ttl_s))
        try:
            yield held
        finally:
            if held and self.redis.get(FLUSH_LOCK) == token.encode():
                self.redis.delete(FLUSH_LOCK)


def flush_positions(store: PositionStore, pusher, sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Push queued positions as one batch per room (`pusher.emit_each`: one round trip), and write queued history
    rows in one insert.

    Items leave the queues only after they were pushed or committed, so a failure (Redis or the
    database away) leaves them for the next round instead of losing them.
    """
    with store.flushing() as held:
        if not held:
            return 0, 0
        pending = store.peek(PENDING, FLUSH_BATCH)
        if pending:
            with sessions() as session:
                busy = loads(session)
            # one batch per set of rooms, emitted to that list of rooms: a client in several of them (a district
            # and one of its streets) gets each position once; a position in no room goes nowhere
            by_rooms: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for position in pending:
                position["status"] = _live_status(position, busy)
                position.pop("device_id", None)  # the tracker is the server's business, not the map's
                targets = tuple(sorted(set(position.pop("rooms", []))))
                if targets:
                    by_rooms.setdefault(targets, []).append(position)
            pusher.emit_each("positions", [(batch, list(targets)) for targets, batch in by_rooms.items()])
            store.drop(PENDING, len(pending))
        history = store.peek(HISTORY, FLUSH_BATCH)
        if history:
            rows = [
                {
                    "officer_id": h["officer_id"],
                    "at": datetime.fromisoformat(h["at"]),
                    "lon": h["lon"],
                    "lat": h["lat"],
                    "speed_mps": h["speed_mps"],
                    "heading": h["heading"],
                    "accuracy_m": h["accuracy_m"],
                    "grid_unit": h["grid_unit"],
                    "event": ",".join(h["events"])[:64] or None,
                }
                for h in history
            ]
            seen: dict[str, datetime] = {}
            for h in history:
                if h.get("device_id"):
                    at = datetime.fromisoformat(h["at"])
                    seen[h["device_id"]] = max(at, seen.get(h["device_id"], at))
            with sessions.begin() as session:
                session.execute(insert(OfficerPosition), rows)
                mark_seen(session, seen)
            store.drop(HISTORY, len(history))
        return len(pending), len(history)


def _live_status(position: dict[str, Any], busy: dict[str, int]) -> str:
    if not position.get("on_duty", True):
        return "off_duty"
    return "busy" if busy.get(position["officer_id"], 0) else "on_duty"
