"""The content security policy allows exactly what the pages need: both load, connect and log no error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_command_center_and_wall_load_under_the_csp_without_console_errors(open_page, live_server):
    watched = open_page("/")  # signed in through the form: a same-origin POST the CSRF check lets through
    for path in ("/", "/wall"):
        response = watched.page.goto(live_server + path)
        assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
        assert "unsafe-eval" not in response.headers["content-security-policy"]
        watched.page.wait_for_selector(".gc-conn.gc-conn-on", timeout=15_000)
    watched.page.wait_for_timeout(1000)
    assert watched.errors == []  # a CSP violation is a console error
