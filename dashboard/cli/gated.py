"""The web process of `gridcommand demo`: imports the whole app while the demo prepares its city, builds it after."""

from __future__ import annotations

import time

import dashboard.pages  # noqa: F401  Dash and every page: the bulk of a web process's start, done while waiting
from dashboard.app import wsgi as build
from dispatcher.settings import get_settings

POLL_S = 0.05


def wsgi():
    """The app of `dashboard.app:wsgi()`, built once the start gate (a file the demo creates when ready) exists."""
    gate = get_settings().start_gate
    while gate is not None and not gate.exists():
        time.sleep(POLL_S)
    return build()
