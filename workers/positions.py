"""Live officer positions in Redis: ingest accepted fixes, answer "who is near", and flush batches to browsers and history."""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
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


@dataclass(frozen=True)
class Ingested:
    """What became of one fix."""

    accepted: bool
    reason: str | None = None
    events: tuple[str, ...] = ()


class PositionStore:
    """Latest positions and pipeline state of every officer, kept in Redis."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    def ingest(self, officer: Officer, fix: Fix, grids: GridIndex, now: datetime) -> Ingested:
        """Filter one fix; if kept, update the track, the latest position and queue it for push and history.

        `fix.device_id` is the enrolled device's public id (never its identifier): the worker moves the device's
        `last_seen_at` forward from it."""
        raw = self.redis.hget(TRACK, officer.id)
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
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(TRACK, officer.id, json.dumps(track.to_json()))
            pipe.hset(LATEST, officer.id, encoded)
            pipe.geoadd(GEO, (fix.lon, fix.lat, officer.id))
            pipe.rpush(PENDING, encoded)
            pipe.rpush(HISTORY, encoded)
            pipe.execute()
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
    """Push queued positions as one batch per room, and write queued history rows in one insert.

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
            for targets, batch in by_rooms.items():
                pusher.emit("positions", batch, list(targets))
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
