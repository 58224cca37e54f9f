"""PIPL, security test 16: after realistic traffic, the logs hold 0 full mainland mobile numbers.

1. In process, on both backends: every logger at DEBUG (SQL statements and parameters included) into a file
   handler on the root logger, incidents reported with callers' numbers, and the error paths that log
   (validation errors, refused cross-origin posts, unknown ids, rate limits, numbers in URLs).
2. A real `gridcommand -v serve` (werkzeug request lines, Socket.IO, the bundled worker): an incident with a
   number, OsmAnd fixes from a device whose id is a phone number, URLs carrying numbers; its output is scanned.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from dispatcher.access import privacy
from tests.conftest import DEMO_GRIDS
from tests.integration.helpers import inside

FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PHONES = ["13812345678", "15900001111", "18600002222", "17700003333"]


@pytest.fixture
def debug_log(tmp_path):
    """Everything logged at DEBUG goes to a file through a root handler, with redaction installed."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    levels = {
        name: logging.getLogger(name).level
        for name in ("sqlalchemy.engine", "werkzeug", "dashboard", "dispatcher", "gridcommand", "flask_limiter")
    }
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG if name != "sqlalchemy.engine" else logging.INFO)
    privacy.install_log_redaction()
    yield path
    root.removeHandler(handler)
    handler.close()
    root.setLevel(old_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_in_process_traffic_logs_no_full_mobile_number(debug_log, client, anonymous, city, app):
    lon, lat = inside(city.grids.by_level("unit")[10])
    ids = []
    for i, phone in enumerate(PHONES):
        created = client.post(
            "/api/v1/incidents",
            headers={"Idempotency-Key": f"log-{i}"},
            json={
                "description": f"来电人称楼下噪音扰民，回拨 {phone}",
                "category_code": "020101",
                "lon": lon,
                "lat": lat,
                "reporter_name": "张先生",
                "reporter_phone": phone,
                "address": f"幸福路{i}号",
            },
        )
        assert created.status_code == 201, created.json
        ids.append(created.json["id"])
    # reads, lifecycle, and the error paths that log
    client.get(f"/api/v1/incidents?page_size=50&category={PHONES[0][:6]}")
    client.get(f"/api/v1/incidents/{ids[0]}")
    client.post(f"/api/v1/incidents/{ids[0]}/actions/file", json={"note": f"已回电 {PHONES[1]}"})
    client.post(
        "/api/v1/incidents",
        json={
            "description": "x",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "reporter_phone": f"call {PHONES[2]} now!",
        },
    )  # 422: bad phone format
    client.get(f"/api/v1/incidents/{PHONES[3]}")  # 404 with a number in the path
    client.get(f"/api/v1/incidents?grid={PHONES[3]}&page=0")  # 422 on the query
    anonymous.set_cookie("session", "forged")
    anonymous.post(f"/api/v1/incidents/{PHONES[0]}/actions/file", json={}, headers={"Origin": "https://evil.example"})
    anonymous.post(
        "/api/v1/incidents",
        data=f"phone={PHONES[1]}",
        content_type="text/plain",
        headers={"Origin": "http://localhost"},
    )
    client.get(f"/osmand?id={PHONES[2]}&lat={lat}&lon={lon}")  # an unknown device named by its phone number
    logging.getLogger("dashboard.api").info("caller %s asked for %r", PHONES[0], {"reporter_phone": PHONES[1]})
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = debug_log.read_text(encoding="utf-8")
    assert "INSERT INTO incident" in text  # SQL with its parameters was logged at this level ...
    assert "138****5678" in text  # ... and numbers were logged, masked
    leaks = FULL_MOBILE.findall(text)
    assert leaks == [], f"full mobile numbers in the log: {sorted(set(leaks))}"


def _cli(*args, env, check=True) -> str:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def _call(method: str, url: str, body=None, token: str | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served_city(tmp_path_factory):
    """A SQLite file with the demo city, its roster and a hotline service token, made once through the CLI;
    (file, token)."""
    folder = tmp_path_factory.mktemp("logs")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'logs.sqlite'}", GRIDCOMMAND_VAR_DIR=str(folder / "var"))
    _cli("db", "upgrade", env=env)
    _cli("import-grids", str(DEMO_GRIDS), env=env)
    _cli("import-officers", str(DEMO_GRIDS.parent / "officers.yaml"), env=env)
    _cli("accounts", "create", "hotline-1", "--name", "受理员", "--role", "hotline", "--region", "330199", env=env)
    token = _cli("accounts", "token", "hotline-1", "--name", "log test", "--kind", "service", env=env).strip()
    return folder / "logs.sqlite", token


@pytest.mark.parametrize("server", ["gunicorn", "dev"])
def test_gridcommand_serve_verbose_output_has_no_full_mobile_number(tmp_path, city, server, served_city):
    """Both servers: gunicorn (the default; it logs no request lines) and `--dev` (Werkzeug logs every request)."""
    from tests.e2e.conftest import _free_port, _wait_healthy

    database, token = served_city
    shutil.copy(database, tmp_path / "logs.sqlite")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'logs.sqlite'}",
        GRIDCOMMAND_VAR_DIR=str(tmp_path / "var"),
        GRIDCOMMAND_RELAY_INTERVAL_S="0.5",
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    out = tmp_path / "serve.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "-v", "serve", "--port", str(port)]
            + (["--dev"] * (server == "dev")),
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_healthy(url, proc)
            lon, lat = inside(city.grids.by_level("unit")[10])
            assert (
                _call(
                    "POST",
                    f"{url}/api/v1/incidents",
                    {
                        "description": f"市民来电 {PHONES[1]}",
                        "category_code": "020101",
                        "lon": lon,
                        "lat": lat,
                        "reporter_name": "李女士",
                        "reporter_phone": PHONES[0],
                    },
                    token,
                )
                == 201
            )
            _call("GET", f"{url}/api/v1/incidents?grid={PHONES[2]}", token=token)
            _call("GET", f"{url}/osmand?id={PHONES[3]}&lat={lat}&lon={lon}&timestamp=1700000000")
            _call(
                "POST",
                f"{url}/osmand",
                {"device_id": PHONES[3], "location": {"coords": {"latitude": lat, "longitude": lon}}},
            )
            _call("GET", f"{url}/api/v1/incidents/{PHONES[0]}", token=token)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    text = out.read_text(encoding="utf-8", errors="replace")
    if server == "dev":
        assert "GET /osmand?id=177****3333" in text, text[-3000:]  # werkzeug logged the request, masked
    leaks = FULL_MOBILE.findall(text)
    assert leaks == [], f"full mobile numbers in `gridcommand -v serve` output: {sorted(set(leaks))}\n{text[-3000:]}"
