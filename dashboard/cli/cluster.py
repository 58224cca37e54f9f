"""`gridcommand cluster`: the production shape as plain processes on one machine.

nginx (Debian's binary, a generated configuration in a temp folder, no root needed) in front of N web processes
(`gridcommand serve`, gunicorn), M RQ workers, PostgreSQL + PostGIS (DATABASE_URL) and Redis (REDIS_URL, or a
bundled one). The same shape docker-compose.yml describes for production; tests/e2e/test_cluster.py drives it.

- nginx balances round-robin and upgrades /socket.io/ to WebSocket. Browsers use WebSocket only (dashboard/
  realtime.py), and the web processes accept nothing else here, so no sticky sessions are needed: a socket is one
  TCP connection to one process, and pushes reach every process through the Redis message queue.
- Every web process trusts one proxy hop (GRIDCOMMAND_TRUSTED_PROXIES=1: client addresses and the scheme come from
  nginx's X-Forwarded-* headers) and listens on loopback only, so nothing else can forge those headers.
- GRIDCOMMAND_PUBLIC_URL defaults to the proxy's own URL (origin checks of CSRF and Socket.IO).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import click

from dashboard.cli.base import main
from dashboard.cli.data import upgrade_schema
from dashboard.cli.keys import require_keys
from dashboard.cli.run import die_with_parent, interrupt, settings_environment, stop_process
from dispatcher.settings import get_settings

START_TIMEOUT_S = 120.0


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Where nginx listens.")
@click.option("--port", default=8080, show_default=True, type=int, help="nginx's port (the one URL people use).")
@click.option("--web", "web_count", default=2, show_default=True, type=click.IntRange(1, 32), help="Web processes.")
@click.option("--workers", "worker_count", default=2, show_default=True, type=click.IntRange(0, 32), help="RQ workers.")
@click.option("--nginx", "nginx_bin", default="nginx", show_default=True, help="The nginx binary.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the URLs and process ids here as JSON once everything answers (for tests and scripts).",
)
def cluster(host: str, port: int, web_count: int, worker_count: int, nginx_bin: str, state_file: Path | None) -> None:
    """nginx in front of N web processes and M workers on PostgreSQL + Redis, as plain processes (Ctrl-C stops all)."""
    settings = get_settings()
    require_keys(settings)
    if not settings.is_postgres:
        raise click.UsageError(
            "the cluster shape runs on PostgreSQL + PostGIS: set DATABASE_URL=postgresql+psycopg://…"
        )
    nginx = shutil.which(nginx_bin) or shutil.which(nginx_bin, path="/usr/sbin:/sbin")  # root's PATH may lack sbin
    if nginx is None:
        raise click.UsageError(f"{nginx_bin!r} not found: apt-get install -y nginx")
    upgrade_schema(settings)
    signal.signal(signal.SIGTERM, interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="gridcommand-cluster-"))
    procs: list[tuple[str, subprocess.Popen]] = []
    bundled = None
    try:
        if not settings.redis_url:
            from workers.redis_server import start_bundled

            bundled = start_bundled(workdir / "redis")
            settings = settings.model_copy(update={"redis_url": bundled.url})
        settings = settings.model_copy(
            update={
                "trusted_proxies": 1,
                "public_url": settings.public_url or f"http://{host}:{port}",
                "socket_transports": ["websocket"],
                "web_workers": 1,
            }
        )
        env = settings_environment(settings)
        for n in range(worker_count):
            procs.append((f"worker{n + 1}", _spawn(["worker"], env, workdir / f"worker{n + 1}.log")))
        web_ports = [_free_port() for _ in range(web_count)]
        for n, web_port in enumerate(web_ports):
            command = ["serve", "--host", "127.0.0.1", "--port", str(web_port)]
            procs.append((f"web{n + 1}", _spawn(command, env, workdir / f"web{n + 1}.log")))
        webs = [f"http://127.0.0.1:{p}" for p in web_ports]
        for url in webs:
            _wait_healthy(url, procs)
        config = workdir / "nginx.conf"
        config.write_text(nginx_config(host, port, web_ports, workdir), encoding="utf-8")
        (workdir / "nginx").mkdir()
        nginx_proc = subprocess.Popen(
            [nginx, "-p", str(workdir / "nginx"), "-c", str(config), "-e", str(workdir / "nginx-error.log")],
            preexec_fn=die_with_parent,
        )
        procs.insert(0, ("nginx", nginx_proc))  # stopped first
        proxy = f"http://{host}:{port}"
        _wait_healthy(proxy, procs)
        state = {
            "proxy": proxy,
            "web": webs,
            "pids": {name: proc.pid for name, proc in procs},
            "workdir": str(workdir),
            "redis_url": settings.redis_url,
        }
        if state_file is not None:
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state), encoding="utf-8")
            tmp.replace(state_file)
        click.echo(f"GridCommand cluster: {proxy}/  ({web_count} web, {worker_count} workers; logs in {workdir})")
        while True:
            for name, proc in procs:
                if proc.poll() is not None:
                    raise click.ClickException(f"{name} exited with {proc.returncode} (logs in {workdir})")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for _name, proc in procs:
            if proc.poll() is None:
                proc.terminate()  # all at once: each web process finishes its requests in flight meanwhile
        for _name, proc in procs:
            stop_process(proc, settings.graceful_timeout_s + 10)
        if bundled is not None:
            bundled.stop()


# Every location sets these itself: a location with its own proxy_set_header inherits none from the server.
FORWARDED = """\
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;   # one hop: replaces anything the client sent
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Port $server_port;"""


def nginx_config(host: str, port: int, web_ports: list[int], workdir: Path) -> str:
    """nginx.conf for this machine: everything (pid, logs, temp files) under `workdir`; round-robin upstream of
    the web processes; WebSocket upgrade on /socket.io/; the client's address and scheme forwarded."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in web_ports)
    temp, forwarded = workdir / "nginx", FORWARDED
    user = "user root root;\n" if os.geteuid() == 0 else ""  # as root nginx would switch to `nobody`
    return f"""# generated by `gridcommand cluster`
{user}daemon off;
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;
    client_max_body_size 110m;   # GRIDCOMMAND_MAX_REPORT_BYTES (100 MiB) and a margin
    gzip on;
    gzip_proxied any;
    gzip_types application/json application/javascript text/css text/plain image/svg+xml;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream gridcommand {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {host}:{port};
        proxy_http_version 1.1;
        location /socket.io/ {{
            proxy_pass http://gridcommand;
{forwarded}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }}
        location / {{
            proxy_pass http://gridcommand;
{forwarded}
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    finally:
        out.close()


def _wait_healthy(url: str, procs: list[tuple[str, subprocess.Popen]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for name, proc in procs:
            if proc.poll() is not None:
                raise click.ClickException(f"{name} exited with {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if json.load(response).get("redis") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"{url} did not answer /health within {START_TIMEOUT_S:.0f} s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
