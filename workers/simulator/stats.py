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
    uploads: int = 0  # evidence uploads accepted
    uploads_rejected: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)  # lifecycle steps done, per action
    steps_rejected: dict[str, int] = field(default_factory=dict)  # refused by the engine (4xx), per action
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        """Add n to one counter."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def add_channel(self, channel: str) -> None:
        """Count one incident created through this channel."""
        with self.lock:
            self.channels[channel] = self.channels.get(channel, 0) + 1

    def add_step(self, action: str, ok: bool) -> None:
        """Count one lifecycle step done (ok) or refused by the engine, per action and in the totals."""
        with self.lock:
            counts = self.steps if ok else self.steps_rejected
            counts[action] = counts.get(action, 0) + 1
            if ok:
                self.actions_done += 1
            else:
                self.actions_rejected += 1

    def step_line(self) -> str:
        """The per-step counters: "claim 12, handle 9 (refused: verify 1)"."""
        with self.lock:
            done = ", ".join(f"{k} {v}" for k, v in sorted(self.steps.items()))
            refused = ", ".join(f"{k} {v}" for k, v in sorted(self.steps_rejected.items()))
        return (done or "none") + (f" (refused: {refused})" if refused else "")
