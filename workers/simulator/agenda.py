"""The simulator's clock: Poisson arrivals and the agenda of events due at monotonic times."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


def next_gap_s(rate_per_min: float, rng: random.Random) -> float:
    """Seconds to the next arrival of a Poisson process with this rate (inf for rate ≤ 0)."""
    if rate_per_min <= 0:
        return math.inf
    return rng.expovariate(rate_per_min / 60.0)


def arrivals(rate_per_min: float, rng: random.Random, start: float = 0.0) -> Iterator[float]:
    """Arrival times of a Poisson process from `start`."""
    t = start
    while True:
        t += next_gap_s(rate_per_min, rng)
        yield t


@dataclass(order=True)
class Event:
    """Something to do at `due`: "roster", "fix" (payload: device id), "incident" or "action" (payload: a plan)."""

    due: float
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


class Agenda:
    """Events in order of due time (ties in order of scheduling), safe to use from several threads."""

    def __init__(self):
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def push(self, due: float, kind: str, payload: Any = None) -> None:
        """Schedule an event."""
        with self._lock:
            heapq.heappush(self._heap, Event(due, next(self._seq), kind, payload))

    def pop_due(self, now: float, idle_s: float = 0.25) -> tuple[list[Event], float]:
        """The events due by `now`, in order, and the seconds until the next one (idle_s when none is scheduled)."""
        with self._lock:
            due = []
            while self._heap and self._heap[0].due <= now:
                due.append(heapq.heappop(self._heap))
            wait = (self._heap[0].due - now) if self._heap else idle_s
        return due, wait

    def pending(self, kind: str | None = None) -> list[Event]:
        """The events not yet due (of one kind, if given), in no particular order."""
        with self._lock:
            return [e for e in self._heap if kind is None or e.kind == kind]
