"""Sign-in throttling: failed sign-ins slow down the address they come from, never the account everywhere.

Failures are counted per (client address, username) in moving windows that grow with the count: 5 in a minute,
10 in 15 minutes, 30 in a day; and per address over all usernames (password spraying): 50 in an hour. While any
window is full, sign-ins from that address for that username are refused without checking the password (429 with
Retry-After); a successful sign-in clears the address's count for that username. Somebody guessing the admin's
password from one address therefore never stops the admin signing in from another.

The counters live in the rate limiter's storage (Redis when the runtime has one, so every web process shares
them), through the `limits` library that Flask-Limiter is built on; while that storage is unreachable they are
kept in this process's memory.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

PER_USERNAME = "5 per minute; 10 per 15 minutes; 30 per day"  # failures from one address for one username
PER_ADDRESS = "50 per hour"  # failures from one address, whatever the username
T = TypeVar("T")


class SignInThrottle:
    """Counts failed sign-ins and says how long an address must wait before it is heard again."""

    def __init__(
        self, storage: Storage, *, prefix: str, per_username: str = PER_USERNAME, per_address: str = PER_ADDRESS
    ):
        self.prefix = prefix
        self.per_username: list[RateLimitItem] = parse_many(per_username)
        self.per_address: list[RateLimitItem] = parse_many(per_address)
        self._shared = MovingWindowRateLimiter(storage)
        self._local = MovingWindowRateLimiter(MemoryStorage())

    def wait(self, address: str, username: str) -> int:
        """Seconds before a sign-in from `address` as `username` is heard again (0: now)."""

        def seconds(limiter: MovingWindowRateLimiter) -> int:
            full = [
                limiter.get_window_stats(item, *ids).reset_time
                for item, ids in self._windows(address, username)
                if not limiter.test(item, *ids)
            ]
            return max(1, math.ceil(max(full) - time.time())) if full else 0

        return self._with_storage(seconds)

    def failed(self, address: str, username: str) -> None:
        """Count one failed sign-in."""

        def hit(limiter: MovingWindowRateLimiter) -> None:
            for item, ids in self._windows(address, username):
                limiter.hit(item, *ids)

        self._with_storage(hit)

    def succeeded(self, address: str, username: str) -> None:
        """Forget this address's failures for this username (its failures for others still count)."""

        def clear(limiter: MovingWindowRateLimiter) -> None:
            for item in self.per_username:
                limiter.clear(item, *self._user_ids(address, username))

        self._with_storage(clear)

    def _user_ids(self, address: str, username: str) -> tuple[str, ...]:
        return (self.prefix, "signin-user", address, username.strip().casefold()[:64])

    def _windows(self, address: str, username: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        user_ids, address_ids = self._user_ids(address, username), (self.prefix, "signin-address", address)
        return [(item, user_ids) for item in self.per_username] + [(item, address_ids) for item in self.per_address]

    def _with_storage(self, operation: Callable[[MovingWindowRateLimiter], T]) -> T:
        try:
            return operation(self._shared)
        except Exception as exc:  # Redis unreachable: count in memory meanwhile, never fail the sign-in
            log.warning("sign-in throttle storage unavailable (%s): counting in memory", exc)
            return operation(self._local)
