"""The simulator's counters, shared by its threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SimStats:
    """Counters, updated from several threads (under `lock`)."""

    fixes_sent: int = 0
    fixes_rejected: int = 0
    fixes_dropped: int = 0  # not sent because the request queue was full
    incidents_created: int = 0
    incidents_rejected: int = 0
    actions_done: int = 0
    actions_rejected: int = 0
    errors: int = 0  # connection errors and 5xx
    roster_size: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        """Add n to one counter."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def add_channel(self, channel: str) -> None:
        """Count one incident created through this channel."""
        with self.lock:
            self.channels[channel] = self.channels.get(channel, 0) + 1
