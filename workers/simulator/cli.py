"""``python -m workers.simulator``: run the simulator against a server from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Sequence

from .runner import run_simulator

DESCRIPTION = "Demo simulator: officers patrolling their communities and incidents arriving, all through real HTTP."


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m workers.simulator --url http://127.0.0.1:8050``"""
    parser = argparse.ArgumentParser(prog="python -m workers.simulator", description=DESCRIPTION)
    parser.add_argument("--url", default="http://127.0.0.1:8050", help="base URL of the GridCommand server")
    parser.add_argument("--officers", type=int, default=300, help="at most this many officers move")
    parser.add_argument("--rate", type=float, default=20.0, help="incidents per minute (Poisson)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fix-interval", type=float, default=5.0, help="seconds between one officer's fixes")
    parser.add_argument("--threads", type=int, default=6, help="HTTP worker threads")
    parser.add_argument(
        "--lifecycle-time-scale",
        type=float,
        default=1.0,
        help="multiply the delays between lifecycle actions (0.1 = ten times faster)",
    )
    parser.add_argument(
        "--devices",
        type=argparse.FileType("r", encoding="utf-8"),
        help="JSON object of officer id -> tracker identifier (from `gridcommand devices add`); only they move",
    )
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = never)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v: INFO status lines, -vv: DEBUG")
    args = parser.parse_args(argv)
    try:
        devices = json.load(args.devices) if args.devices else {}
    except ValueError as exc:
        parser.error(f"--devices {args.devices.name}: not JSON ({exc})")
    if not isinstance(devices, dict):
        parser.error("--devices must hold a JSON object: officer id -> tracker identifier")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if args.duration > 0:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True
        timer.start()
    run_simulator(
        args.url,
        officers=args.officers,
        incident_rate_per_min=args.rate,
        seed=args.seed,
        stop=stop,
        fix_interval_s=args.fix_interval,
        threads=args.threads,
        lifecycle_time_scale=args.lifecycle_time_scale,
        devices={str(k): str(v) for k, v in devices.items()},
    )
    return 0
