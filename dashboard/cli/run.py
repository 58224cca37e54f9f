"""Running the product: the web process, the worker, and the demo city."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
from pydantic import SecretStr

from dashboard.cli.base import main
from dashboard.cli.data import upgrade_schema
from dashboard.cli.demo import (
    demo_accounts,
    demo_trackers,
    ensure_demo_backlog,
    ensure_demo_grids,
    ensure_demo_officers,
    simulator,
)
from dashboard.cli.keys import require_keys, use_demo_keys
from dispatcher.settings import Settings, get_settings


@main.command()
@click.option("--burst", is_flag=True, help="Work off the queue, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker: outbox relay to browsers, deadline sweeps (needs REDIS_URL)."""
    from workers.main import run

    settings = get_settings()
    require_keys(settings)
    run(settings, burst=burst)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Web processes sharing the port (default GRIDCOMMAND_WEB_WORKERS or 1). More than one: WebSocket only.",
)
@click.option(
    "--worker-class",
    type=click.Choice(["gevent", "gthread"]),
    default=None,
    help="gunicorn worker (default GRIDCOMMAND_WEB_WORKER_CLASS: gevent on PostgreSQL, gthread on SQLite).",
)
@click.option("--dev", is_flag=True, help="Werkzeug's development server, one process in threads: for debugging only.")
def serve(host: str, port: int, workers: int | None, worker_class: str | None, dev: bool) -> None:
    """Run the web tier (API + command center) under gunicorn. Without REDIS_URL a bundled Redis and a worker start too."""
    settings = serving_settings(get_settings(), workers=workers, worker_class=worker_class)
    require_keys(settings)
    if dev and settings.web_workers > 1:
        raise click.UsageError("--dev serves from one process: drop --workers (or GRIDCOMMAND_WEB_WORKERS)")
    with services(settings) as running:
        if dev:
            run_dev(running, host, port)
        else:
            run_web(running, host, port)


def serving_settings(settings: Settings, *, workers: int | None, worker_class: str | None) -> Settings:
    """The settings with the command line's choices; several processes on one port accept WebSocket only."""
    updates: dict[str, object] = {}
    if workers is not None:
        updates["web_workers"] = workers
    if worker_class is not None:
        updates["web_worker_class"] = worker_class
    if (workers or settings.web_workers) > 1:
        updates["socket_transports"] = ["websocket"]
    return settings.model_copy(update=updates)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--officers", default=300, show_default=True, help="Officers the simulator moves (0: none).")
@click.option("--rate", default=20.0, show_default=True, help="Simulated incidents per minute (0: none).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn.")
def demo(host: str, port: int, officers: int, rate: float, dev: bool) -> None:
    """Start everything on the embedded default with the demo city: web, worker, bundled Redis, SQLite, simulator.

    The web process starts at once and imports while the demo prepares its city (roster, accounts, a first start's
    backlog, trackers); it builds its app when the city is ready (the start gate), so the two overlap."""
    settings = use_demo_keys(get_settings())
    upgrade_schema(settings)
    ensure_demo_grids(settings)
    gate = settings.var_dir / "demo-ready"
    gate.unlink(missing_ok=True)
    settings = settings.model_copy(update={"demo_mode": True, "start_gate": None if dev else gate})
    with services(settings) as running, web_process(running, host, port) if not dev else nullcontext() as web:
        tokens, devices = prepare_demo(settings, officers)
        gate.touch()
        with simulator(port, officers, rate, tokens, devices):
            click.echo(f"GridCommand demo: http://{host}:{port}/  (API: http://{host}:{port}/api/v1/openapi.json)")
            if web is None:
                run_dev(running, host, port)
            else:
                wait_web(web)


def prepare_demo(settings: Settings, officers: int) -> tuple[dict[str, str], dict[str, str]]:
    """The demo's people and morning: roster, accounts (printed), a first start's backlog, simulator credentials."""
    ensure_demo_officers(settings)
    tokens = demo_accounts(settings)
    ensure_demo_backlog(settings)
    devices = demo_trackers(settings) if officers else {}
    return tokens, devices


@contextmanager
def services(settings: Settings):
    """Redis (bundled if REDIS_URL is unset) and, with a bundled Redis, a worker process; all stopped on exit."""
    bundled = None
    worker_proc = None
    signal.signal(signal.SIGTERM, interrupt)  # `kill` unwinds like Ctrl-C: children and Redis stop too
    if not settings.redis_url:
        from workers.redis_server import start_bundled

        bundled = start_bundled(settings.var_dir / "redis")
        settings = settings.model_copy(update={"redis_url": bundled.url})
        worker_proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "worker"],
            env=settings_environment(settings),
            preexec_fn=die_with_parent,
        )
    try:
        yield settings
    finally:
        if worker_proc is not None:
            stop_process(worker_proc, 10)
        if bundled is not None:
            bundled.stop()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def run_web(settings: Settings, host: str, port: int) -> None:
    """Serve under gunicorn in a child process (this one stays the supervisor of Redis, the worker and the
    simulator); SIGTERM or Ctrl-C stops it gracefully: requests in flight finish within graceful_timeout_s."""
    with web_process(settings, host, port) as web:
        wait_web(web)


@contextmanager
def web_process(settings: Settings, host: str, port: int) -> Iterator[subprocess.Popen]:
    """gunicorn started in a child process; stopped (gracefully, then killed) when the block ends."""
    metrics_dir = None
    if settings.web_workers > 1 and settings.metrics_multiproc_dir is None:  # /metrics sums every process
        metrics_dir = Path(tempfile.mkdtemp(prefix="gridcommand-metrics-"))
        settings = settings.model_copy(update={"metrics_multiproc_dir": metrics_dir})
    proc = subprocess.Popen(
        gunicorn_command(settings, host, port), env=settings_environment(settings), preexec_fn=die_with_parent
    )
    try:
        yield proc
    finally:
        stop_process(proc, settings.graceful_timeout_s + 5)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def wait_web(proc: subprocess.Popen) -> None:
    """Until the web process exits (its exit code becomes ours) or Ctrl-C / SIGTERM."""
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        return
    if code:
        raise SystemExit(code)


def gunicorn_command(settings: Settings, host: str, port: int) -> list[str]:
    """gunicorn with the app factory `dashboard.app:wsgi()` (each worker builds the app after gevent patched it)."""
    worker = settings.web_worker
    command = [sys.executable, "-m", "gunicorn", "--worker-class", worker, "--workers", str(settings.web_workers)]
    if worker == "gthread":
        command += ["--threads", str(settings.web_threads)]
    else:
        command += ["--worker-connections", str(settings.web_connections)]
    return [
        *command,
        "--bind",
        f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--graceful-timeout",
        str(settings.graceful_timeout_s),
        "--timeout",
        "120",  # a worker loading a large city on a busy machine is not stuck
        "--keep-alive",
        "5",
        "--forwarded-allow-ips",
        "",  # none: ProxyFix (GRIDCOMMAND_TRUSTED_PROXIES) alone decides what forwarded headers are believed
        "--no-control-socket",
        "--log-level",
        "warning",
        "dashboard.cli.gated:wsgi()" if settings.start_gate else "dashboard.app:wsgi()",
    ]


def run_dev(settings: Settings, host: str, port: int) -> None:
    """Werkzeug's development server in this process (`--dev`): threads, one process, no production use."""
    from dashboard.app import create_app
    from dashboard.realtime import socketio

    app = create_app(settings)
    socketio.run(app.server, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def settings_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with every setting of `settings` in it, for a child process that reads its
    settings from the environment (the demo's keys, demo mode, a bundled Redis's URL, the command line's choices)."""
    env = dict(os.environ)
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        key = alias if isinstance(alias, str) else f"GRIDCOMMAND_{name.upper()}"
        value = getattr(settings, name)
        if value is None:
            env.pop(key, None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, bool):
            env[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            env[key] = json.dumps(value)
        else:
            env[key] = str(value)
    return env


def stop_process(proc: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when this process dies, even by SIGKILL (no orphaned web or worker processes).
    Nothing is imported or allocated here (other threads may hold locks at fork time): libc is loaded up front."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover
    _LIBC = None
