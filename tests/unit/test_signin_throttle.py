"""Sign-in throttling (dashboard/throttle.py): per address and username, growing windows, never account-wide."""

from __future__ import annotations

import socket
import time

from limits.storage import MemoryStorage, storage_from_string

from dashboard.throttle import PER_USERNAME, SignInThrottle


def test_the_default_windows_grow():
    assert PER_USERNAME == "5 per minute; 10 per 15 minutes; 30 per day"


def test_the_wait_grows_with_consecutive_failures_and_is_per_address():
    throttle = SignInThrottle(
        MemoryStorage(), prefix="t", per_username="2 per 1 second; 4 per 1 minute", per_address="100 per hour"
    )
    for _ in range(2):
        throttle.failed("10.0.0.1", "admin")
    assert 0 < throttle.wait("10.0.0.1", "admin") <= 1
    assert throttle.wait("10.0.0.1", " ADMIN ") > 0  # one username however it is typed
    assert throttle.wait("10.0.0.2", "admin") == 0  # the owner, elsewhere: heard
    assert throttle.wait("10.0.0.1", "someone-else") == 0
    time.sleep(1.1)
    assert throttle.wait("10.0.0.1", "admin") == 0  # the first window passed
    for _ in range(2):
        throttle.failed("10.0.0.1", "admin")
    assert 1 < throttle.wait("10.0.0.1", "admin") <= 60  # four failures: the longer window holds now


def test_a_success_clears_that_username_only_and_the_address_cap_spans_usernames():
    throttle = SignInThrottle(MemoryStorage(), prefix="t", per_username="3 per minute", per_address="5 per hour")
    for _ in range(3):
        throttle.failed("10.0.0.1", "admin")
    assert throttle.wait("10.0.0.1", "admin") > 0
    throttle.succeeded("10.0.0.1", "admin")
    assert throttle.wait("10.0.0.1", "admin") == 0
    for name in ("a", "b"):  # password spraying: one failure each for many usernames
        throttle.failed("10.0.0.1", name)
    assert throttle.wait("10.0.0.1", "c") > 0  # five failures from the address in the hour
    assert throttle.wait("10.0.0.9", "c") == 0


def test_an_unreachable_storage_counts_in_memory_and_never_raises():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket closes
    dead = storage_from_string(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    throttle = SignInThrottle(dead, prefix="t", per_username="2 per minute", per_address="100 per hour")
    for _ in range(2):
        throttle.failed("10.0.0.1", "admin")
    assert throttle.wait("10.0.0.1", "admin") > 0
    throttle.succeeded("10.0.0.1", "admin")
    assert throttle.wait("10.0.0.1", "admin") == 0
