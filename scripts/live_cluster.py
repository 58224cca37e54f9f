"""scripts/bench_live.py --cluster / --create-latency: the scale-out shape under 1,000 signed-in dashboards.

The shape of `gridcommand cluster` as plain processes on given ports: nginx (Debian's, the configuration
`dashboard.cli.cluster.nginx_config` generates) in front of two `gridcommand serve` web processes (gunicorn + gevent,
one process each, WebSocket only, one trusted proxy hop), two `gridcommand worker`s, PostgreSQL + PostGIS and Redis.
(`gridcommand cluster` itself picks free ports for its web processes; here every port is the caller's.)

1. `--create-latency`: one client creates incidents one after another, alternating through the proxy and straight
   to web process 1 (the naive baseline: no proxy hop), with no socket connected; p50/p95/max of each.
2. `--cluster`: N signed-in Socket.IO clients (scripts/live_fleet.py, one process) connect through nginx, which
   spreads them over both web processes; incidents are created through the proxy (~5/s, alternating between the
   processes); commit → last client p50/p95/max, missing and duplicated deliveries, sockets dropped, and the RSS
   growth of each web process per 1,000 sockets. A short floor: events published straight into the Socket.IO Redis
   channel (reaching both processes) to the clients' room. Then the single-process baseline in the same run: the
   same N clients straight to web process 1, incidents created there.

Sign-in: each client has its own server-side session, started in this process exactly as POST /api/v1/auth/login
does (`dispatcher.access.sessions.start`) and sent as the `session` cookie signed with the servers' key. 1,000 HTTP
sign-ins would cost ~200 ms of Argon2 each (≈ 200 CPU-s on this 2-core machine) and measure nothing asked here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmark import REPO_ROOT, _gridcommand

from dashboard.cli.cluster import nginx_config
from dashboard.cli.run import die_with_parent

START_TIMEOUT_S = 180.0
UPGRADE = "            proxy_set_header Upgrade $http_upgrade;"
NO_DEFLATE = '            proxy_set_header Sec-WebSocket-Extensions "";'
FLEET_TIMEOUT_S = 240.0
DELIVERY_WAIT_S = 10.0


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB (from /proc; NaN when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Shape:
    """nginx on `proxy_port` in front of web processes on `web_ports`, and RQ workers; stop() ends them all."""

    env: dict
    workdir: Path
    proxy_port: int
    web_ports: list[int]
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    web_pids: list[int] = field(default_factory=list)  # the gunicorn workers that hold the sockets

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def webs(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.web_ports]

    def spawn(self, name: str, args: list[str], env: dict) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        try:
            proc = subprocess.Popen(
                args, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
            )
        finally:
            log.close()
        self.procs.append((name, proc))

    def start(self, workers: int, *, strip_deflate: bool = False) -> float:
        """Workers, web processes, then nginx; returns the seconds until all answer /health."""
        t0 = time.monotonic()
        web_env = {
            **self.env,
            "GRIDCOMMAND_TRUSTED_PROXIES": "1",
            "GRIDCOMMAND_PUBLIC_URL": self.proxy,
            "GRIDCOMMAND_SOCKET_TRANSPORTS": '["websocket"]',
            "GRIDCOMMAND_WEB_WORKERS": "1",
        }
        for n in range(workers):
            self.spawn(f"worker{n + 1}", _gridcommand() + ["worker"], self.env)
        for n, port in enumerate(self.web_ports):
            self.spawn(f"web{n + 1}", _gridcommand() + ["serve", "--host", "127.0.0.1", "--port", str(port)], web_env)
        self.web_pids = [int(self.wait_healthy(url)["web"]["pid"]) for url in self.webs]
        (self.workdir / "nginx").mkdir(exist_ok=True)
        config = self.workdir / "nginx.conf"
        text = nginx_config("127.0.0.1", self.proxy_port, self.web_ports, self.workdir)
        if strip_deflate:  # the proposed fix: no per-socket permessage-deflate behind the proxy
            if UPGRADE not in text:
                raise RuntimeError("nginx_config has no WebSocket upgrade line to add the header after")
            text = text.replace(UPGRADE, UPGRADE + "\n" + NO_DEFLATE, 1)
        config.write_text(text, encoding="utf-8")
        nginx = ["/usr/sbin/nginx", "-p", str(self.workdir / "nginx"), "-c", str(config)]
        self.spawn("nginx", [*nginx, "-e", str(self.workdir / "nginx-error.log")], self.env)
        self.wait_healthy(self.proxy)
        return time.monotonic() - t0

    def wait_healthy(self, url: str) -> dict:
        import requests

        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                r = requests.get(f"{url}/health", timeout=2)
                if r.status_code == 200 and r.json().get("redis") == "ok":
                    return r.json()
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.3)
        raise RuntimeError(f"{url}/health not ok within {START_TIMEOUT_S:.0f} s (last: {last})")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def pid_of(self, name: str) -> int | None:
        return next((p.pid for n, p in self.procs if n == name), None)

    def sockets(self) -> list[float | None]:
        """The connected-sockets gauge of each web process (its own /metrics, asked directly)."""
        import requests

        counts: list[float | None] = []
        for url in self.webs:
            try:
                text = requests.get(f"{url}/metrics", timeout=5).text
                values = [
                    float(x.split()[-1]) for x in text.splitlines() if x.startswith("gridcommand_connected_sockets")
                ]
                counts.append(sum(values) if values else None)
            except Exception:  # a figure only: n/a
                counts.append(None)
        return counts

    def stop(self) -> None:
        """nginx first, then all the others at once (each finishes its requests in flight), then wait."""
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def mint_sessions(env: dict, username: str, n: int) -> list[str]:
    """n live server-side sessions of `username`, started as the sign-in endpoint does; their signed cookies."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from sqlalchemy import select

    from dashboard.cli.base import open_database
    from dispatcher.access import sessions as web_sessions
    from dispatcher.access.accounts import Account
    from dispatcher.settings import Settings

    fields = {k.removeprefix("GRIDCOMMAND_").lower(): v for k, v in env.items() if k.startswith("GRIDCOMMAND_")}
    settings = Settings(DATABASE_URL=env["DATABASE_URL"], REDIS_URL=env.get("REDIS_URL"), **fields)
    now = datetime.now(UTC)
    with open_database(settings, write=True) as session:
        account = session.scalars(select(Account).where(Account.username == username)).one()
        ids = [web_sessions.start(session, account, now=now) for _ in range(n)]
    app = Flask("bench-live-cookies")
    app.secret_key = settings.key("secret_key")
    signer = SecureCookieSessionInterface().get_signing_serializer(app)
    if signer is None:
        raise RuntimeError("no secret key to sign session cookies with")
    return [signer.dumps({"sid": sid, "_permanent": True}) for sid in ids]


class Fleet:
    """scripts/live_fleet.py in a subprocess: N clients connected to `url`; arrivals read back on stop()."""

    def __init__(self, url: str, cookies: list[str], workdir: Path, tag: str, *, deflate: bool = True):
        self.cookies_path = workdir / f"cookies-{tag}.txt"
        self.cookies_path.write_text("\n".join(cookies) + "\n", encoding="utf-8")
        self.out = workdir / f"arrivals-{tag}.json"
        self.stderr = open(workdir / f"fleet-{tag}.stderr", "w", encoding="utf-8")
        args = ["--url", url, "--cookies", str(self.cookies_path), "--out", str(self.out)]
        args.append("--deflate" if deflate else "--no-deflate")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("live_fleet.py")), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            preexec_fn=die_with_parent,
        )

    def read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the client fleet exited ({self.proc.poll()}); see {self.stderr.name}")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def stop(self) -> dict:
        """Close every socket; the arrivals: {"clients", "dropped", "arrivals", "duplicates"}."""
        try:
            self.ask("stop")
            self.proc.wait(timeout=FLEET_TIMEOUT_S)
            return json.loads(self.out.read_text(encoding="utf-8"))
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.stderr.close()
