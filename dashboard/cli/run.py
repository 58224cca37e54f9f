"""Running the product: the web process, the worker, and the demo city."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import click

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
def serve(host: str, port: int) -> None:
    """Run the web process (API + command center). Without REDIS_URL a bundled Redis and a worker start too."""
    settings = get_settings()
    require_keys(settings)
    with services(settings) as running:
        run_web(running, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--officers", default=300, show_default=True, help="Officers the simulator moves (0: none).")
@click.option("--rate", default=20.0, show_default=True, help="Simulated incidents per minute (0: none).")
def demo(host: str, port: int, officers: int, rate: float) -> None:
    """Start everything on the embedded default with the demo city: web, worker, bundled Redis, SQLite, simulator."""
    settings = use_demo_keys(get_settings())
    upgrade_schema(settings)
    ensure_demo_grids(settings)
    ensure_demo_officers(settings)
    ensure_demo_backlog(settings)
    tokens = demo_accounts(settings)
    devices = demo_trackers(settings) if officers else {}
    settings = settings.model_copy(update={"demo_mode": True})
    with services(settings) as running, simulator(port, officers, rate, tokens, devices):
        click.echo(f"GridCommand demo: http://{host}:{port}/  (API: http://{host}:{port}/api/v1/openapi.json)")
        run_web(running, host, port)


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
        env = {**os.environ, "REDIS_URL": bundled.url, "DATABASE_URL": settings.database_url}
        worker_proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        yield settings
    finally:
        if worker_proc is not None:
            worker_proc.terminate()
            try:
                worker_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker_proc.kill()
        if bundled is not None:
            bundled.stop()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def run_web(settings: Settings, host: str, port: int) -> None:
    from dashboard.app import create_app
    from dashboard.realtime import socketio

    app = create_app(settings)
    socketio.run(app.server, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)
