"""The figures of scripts/bench_live.py --cluster / --create-latency (the shape and the fleet: live_cluster.py).

Every figure is printed next to its naive baseline measured in the same run: the single web process (clients and
creates straight to web process 1, no proxy) for the push path, a direct request to one web process for the create
latency. Times are time.monotonic() in this process and in the fleet's (the same clock on one machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_live import (
    BENCH_RATE_LIMITS,
    PUSH_ROOM,
    ROSTER,
    _fmt,
    _ms,
    cpu_seconds,
    make_incident_bodies,
    paced,
)
from benchmark import (
    BENCH_KEYS,
    BENCH_USERNAME,
    DEMO_GRIDS,
    REPO_ROOT,
    Report,
    _ok,
    _pg_admin,
    _recreate_pg_database,
    _run_cli,
    create_bench_account,
)
from live_cluster import DELIVERY_WAIT_S, Fleet, Shape, mint_sessions, rss_mib

TARGET_PUSH_P95_MS = 300.0  # issue 12: ≥ 1,000 dashboards across two web processes
TARGET_CREATE_P95_MS = 50.0  # issue 12: 1 client through the proxy
REQUEST_TIMEOUT_S = 30.0
MAX_PROBLEMS = 5  # failed creates before a pass gives up


@dataclass
class Push:
    """One push pass: where the clients were, what arrived, what the web processes paid for it."""

    label: str
    connected: dict
    sockets: list[float | None]
    rss_before: list[float]
    rss_after: list[float]
    last: dict | None
    every: dict | None
    floor_last: dict | None
    missing: int
    duplicated: int
    dropped: int
    floor_missing: int
    expected: int
    cpu: dict[str, float]
    rss_end: list[float]

    def rss_per_1000(self, *, after_pushes: bool = False) -> list[float]:
        """RSS growth of each web process from before connecting to after (or after the pushes), per 1,000 sockets."""
        out = []
        ends = self.rss_end if after_pushes else self.rss_after
        for before, after, n in zip(self.rss_before, ends, self.sockets, strict=True):
            out.append((after - before) / n * 1000 if n else float("nan"))
        return out


def create_many(session, urls: list[str], bodies: list[dict], interval: float, problems: list[str]) -> dict[str, float]:
    """POST each body (to urls in turn) at `interval`; incident id -> time.monotonic() when its 201 arrived."""
    t_commit: dict[str, float] = {}
    for i in paced(len(bodies), interval):
        r = session.post(f"{urls[i % len(urls)]}/api/v1/incidents", json=bodies[i], timeout=REQUEST_TIMEOUT_S)
        t = time.monotonic()
        if r.status_code != 201:
            problems.append(
                f"POST {urls[i % len(urls)]}/api/v1/incidents answered HTTP {r.status_code}: {r.text[:200]}"
            )
            if len(problems) >= MAX_PROBLEMS:
                raise RuntimeError("too many failed creates")
            continue
        t_commit[str(r.json()["id"])] = t
    return t_commit


def emit_floor(redis_url: str, n: int, interval: float, tag: str, body: dict) -> dict[str, float]:
    """The floor: publish straight into the Socket.IO Redis channel (every web process relays it) to PUSH_ROOM."""
    import socketio

    from workers import keys

    manager = socketio.RedisManager(redis_url, channel=keys.socketio_channel(redis_url), write_only=True)
    t_emit: dict[str, float] = {}
    for i in paced(n, interval):
        incident_id = f"floor-{tag}-{i}"
        message = {"seq": -1 - i, "name": "floor.emit", "incident_id": incident_id, "data": {"incident": body}}
        t_emit[incident_id] = time.monotonic()
        manager.emit("incident", message, room=PUSH_ROOM, namespace="/")
    return t_emit


def judge(t0s: dict[str, float], result: dict, connected: int) -> tuple[dict | None, dict | None, int, int]:
    """(last-client latency per event, every delivery, missing deliveries, duplicated deliveries)."""
    last, every, missing = [], [], 0
    for incident_id, t0 in t0s.items():
        got = [t - t0 for t in result["arrivals"].get(incident_id, [])]
        missing += connected - len(got)
        every.extend(got)
        if got:
            last.append(max(got))
    duplicated = sum(result["duplicates"].get(i, 0) for i in t0s)
    return _ms(last), _ms(every), missing, duplicated


def push_pass(shape: Shape, run: dict, label: str, client_url: str, post_url: str) -> Push:
    """Connect the fleet to `client_url`, create incidents at `post_url`, then the floor; judge what arrived."""
    pids = dict(zip(("web1", "web2"), shape.web_pids, strict=False))
    pids |= {"nginx": shape.pid_of("nginx"), "worker1": shape.pid_of("worker1"), "worker2": shape.pid_of("worker2")}
    rss_before = [rss_mib(pid) for pid in shape.web_pids]
    fleet = Fleet(client_url, run["cookies"], run["workdir"], label.split()[0], deflate=run["deflate"])
    try:
        hello = fleet.read()
        print(f"  [{label}] clients: {hello}")
        time.sleep(1.0)  # the connect handlers finish (rooms joined, sessions resumed)
        sockets, rss_after = shape.sockets(), [rss_mib(pid) for pid in shape.web_pids]
        print(f"  [{label}] sockets per web process {sockets}; RSS MiB {rss_before} -> {rss_after} (connected)")
        pids["fleet"] = fleet.proc.pid
        before = {name: cpu_seconds(pid) for name, pid in pids.items() if pid}
        t_window = time.monotonic()
        with run["auth"]() as session:
            t_commit = create_many(session, [post_url], run["bodies"][label], run["interval"], run["problems"])
        window = time.monotonic() - t_window
        cpu = {name: cpu_seconds(pids[name]) - b for name, b in before.items()}
        body = run["bodies"][label][0]
        t_emit = emit_floor(run["redis_url"], run["floor"], run["interval"], label.split()[0], body)
        expected = (len(t_commit) + len(t_emit)) * hello["connected"]
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while time.monotonic() < deadline and fleet.ask("count")["deliveries"] < expected:
            time.sleep(0.2)
        rss_end = [rss_mib(pid) for pid in shape.web_pids]  # after the pushes (zlib contexts are made on first send)
        result = fleet.stop()
    except BaseException:
        fleet.close()
        raise
    last, every, missing, duplicated = judge(t_commit, result, hello["connected"])
    floor_last, _, floor_missing, _ = judge(t_emit, result, hello["connected"])
    print(
        f"  [{label}] {len(t_commit)} incidents in {window:.1f} s; commit→last client {_fmt(last)}; every delivery "
        f"{_fmt(every)}; missing {missing}, duplicated {duplicated}, sockets dropped {len(result['dropped'])}; "
        f"floor (direct Redis emit) last client {_fmt(floor_last)}, missing {floor_missing}"
    )
    print(
        f"  [{label}] RSS MiB after the pushes {rss_end}; CPU-s during the creates: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
    )
    return Push(
        label,
        hello,
        sockets,
        rss_before,
        rss_after,
        last,
        every,
        floor_last,
        missing,
        duplicated,
        len(result["dropped"]),
        floor_missing,
        len(t_commit) * hello["connected"],
        cpu,
        rss_end,
    )


def create_latency(report: Report, shape: Shape, auth, n: int, seed: int) -> None:
    """One client, one create at a time, alternating through nginx and straight to web process 1."""
    print(f"\n## Create incident, 1 client: {n} through nginx, {n} straight to web process 1, alternating")
    bodies = make_incident_bodies(2 * n + 10, seed)
    times: dict[str, list[float]] = {shape.proxy: [], shape.webs[0]: []}
    problems = report.problems
    with auth() as session:
        create_many(session, [shape.proxy, shape.webs[0]], bodies[:10], 0.0, problems)  # warm-up, both ways
        for i in range(2 * n):
            first, second = (shape.proxy, shape.webs[0]) if (i // 2) % 2 == 0 else (shape.webs[0], shape.proxy)
            url = first if i % 2 == 0 else second
            t0 = time.monotonic()
            r = session.post(f"{url}/api/v1/incidents", json=bodies[10 + i], timeout=REQUEST_TIMEOUT_S)
            if r.status_code != 201:
                problems.append(f"POST {url}/api/v1/incidents answered HTTP {r.status_code}: {r.text[:200]}")
                if len(problems) >= MAX_PROBLEMS:
                    raise RuntimeError("too many failed creates")
                continue
            times[url].append(time.monotonic() - t0)
    proxied, direct = _ms(times[shape.proxy]), _ms(times[shape.webs[0]])
    print(f"  through nginx: {_fmt(proxied)}\n  straight to web process 1: {_fmt(direct)}")
    report.add(
        "create incident, 1 client, through nginx",
        _fmt(proxied),
        f"p95 ≤ {TARGET_CREATE_P95_MS:.0f} ms",
        f"{_fmt(direct)} (straight to one web process)",
        _ok(proxied is not None and proxied["p95"] <= TARGET_CREATE_P95_MS),
    )


def report_push(report: Report, cluster: Push, single: Push) -> None:
    """The summary rows: the cluster's figures next to the single process's."""
    n = cluster.connected["connected"]
    report.add(
        f"push commit→last of {n} clients, 2 web processes via nginx",
        _fmt(cluster.last),
        f"p95 ≤ {TARGET_PUSH_P95_MS:.0f} ms",
        f"1 process, {single.connected['connected']} clients: {_fmt(single.last)}",
        _ok(cluster.last is not None and cluster.last["p95"] <= TARGET_PUSH_P95_MS),
    )
    report.add(
        f"push commit→client, all {cluster.expected} deliveries", _fmt(cluster.every), "", _fmt(single.every), ""
    )
    report.add("push floor: direct Redis emit, last client", _fmt(cluster.floor_last), "", _fmt(single.floor_last), "")
    for push in (cluster, single):
        verdict = "ok" if push.missing == 0 and push.duplicated == 0 and push.dropped == 0 else "LOST/DUPLICATED"
        report.add(
            f"missing / duplicated / sockets dropped, {push.label}",
            f"{push.missing} / {push.duplicated} / {push.dropped} of {push.expected}",
            "0 / 0 / 0",
            f"floor missing {push.floor_missing}",
            verdict,
        )
        if push.missing or push.duplicated or push.dropped:
            report.problems.append(
                f"{push.label}: {push.missing} missing, {push.duplicated} duplicated deliveries, "
                f"{push.dropped} sockets dropped"
            )
    sockets = " / ".join("n/a" if s is None else f"{s:.0f}" for s in cluster.sockets)
    deflate = f"permessage-deflate on {cluster.connected.get('deflate', 0)} of {n} sockets (browsers offer it)"
    report.add("sockets per web process (nginx round robin)", sockets, "spread", deflate, "")
    per = " / ".join(f"{x:.1f}" for x in cluster.rss_per_1000())
    report.add(
        "RSS growth per 1,000 sockets, web1 / web2 (MiB)",
        per,
        "reported",
        f"1 process: {single.rss_per_1000()[0]:.1f} MiB (RSS {single.rss_after[0]:.0f} MiB with {n} sockets)",
        "",
    )
    for push in (cluster, single):
        report.add(
            f"  CPU-s during the creates, {push.label}",
            ", ".join(f"{k} {v:.1f}" for k, v in push.cpu.items()),
            "",
            "",
            "",
        )
    report.add(
        "RSS growth per 1,000 sockets after the pushes, web1 / web2 (MiB)",
        " / ".join(f"{x:.1f}" for x in cluster.rss_per_1000(after_pushes=True)),
        "reported",
        f"1 process: {single.rss_per_1000(after_pushes=True)[0]:.1f} MiB",
        "",
    )
    report.add(
        "RSS of web1 / web2 with the sockets (MiB)", " / ".join(f"{x:.0f}" for x in cluster.rss_after), "", "", ""
    )


def run_cluster(args) -> int:
    """Set up PostgreSQL, Redis and the shape, run the asked parts, print the summary; 1 if something broke."""
    import requests

    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="gridcommand-bench-cluster-"))
    env = {
        **os.environ,
        **BENCH_KEYS,
        **BENCH_RATE_LIMITS,
        "DATABASE_URL": args.pg_url,
        "REDIS_URL": args.redis_url,
        "GRIDCOMMAND_VAR_DIR": str(workdir / "var"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(REPO_ROOT),  # this checkout, not wherever the `gridcommand` entry point was installed from
    }
    env.pop("GRIDCOMMAND_GRIDS_FILE", None)
    ports = [args.port, args.port + 1, args.port + 2]
    shape = Shape(env, workdir, ports[0], ports[1:])
    admin, _, name = _pg_admin(args.pg_url)
    print(f"load average at start: {os.getloadavg()}")
    try:
        _recreate_pg_database(admin, name)
        _flush(args.redis_url)
        print(f"\n## Setup: PostgreSQL {name}, Redis {args.redis_url}, nginx :{ports[0]}, web :{ports[1]} :{ports[2]}")
        for command in (["db", "upgrade"], ["import-grids", str(DEMO_GRIDS)], ["import-officers", str(ROSTER)]):
            _run_cli(command, env)
        account = create_bench_account(env)
        print(
            f"  shape up in {shape.start(workers=2, strip_deflate=args.proxy_no_deflate):.1f} s: web pids {shape.web_pids}"
        )

        def auth():
            session = requests.Session()
            session.headers.update(account.bearer)
            return session

        if args.create_latency:
            create_latency(report, shape, auth, args.creates, args.seed + 7)
        if args.cluster:
            run_pushes(report, shape, auth, args, workdir)
    except Exception as exc:
        report.problems.append(f"cluster benchmark failed: {type(exc).__name__}: {exc}")
    finally:
        if report.problems:
            for name_, _ in shape.procs:
                print(f"--- {name_} log (tail)\n{shape.log_tail(name_, 25)}")
        shape.stop()
        _flush(args.redis_url)
        _recreate_pg_database(admin, name, drop_only=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nload average at end: {os.getloadavg()}")
    report.print_table()
    return 1 if report.problems else 0


def run_pushes(report: Report, shape: Shape, auth, args, workdir: Path) -> None:
    """The cluster pass, then the single-process baseline with the same clients."""
    n = args.cluster_clients
    print(f"\n## Push to {n} signed-in clients: 2 web processes behind nginx, then 1 process (baseline)")
    t0 = time.monotonic()
    run = {
        "cookies": mint_sessions(shape.env, BENCH_USERNAME, n),
        "workdir": workdir,
        "auth": auth,
        "interval": args.interval,
        "floor": args.floor,
        "deflate": args.deflate,
        "redis_url": args.redis_url,
        "problems": report.problems,
        "bodies": {},
    }
    print(f"  {n} sessions started and their cookies signed in {time.monotonic() - t0:.1f} s")
    with auth() as session:
        create_many(session, [shape.proxy], make_incident_bodies(5, args.seed - 1), 0.1, report.problems)
    labels = (f"cluster ({n} via nginx, 2 processes)", f"single ({n} on web1, 1 process)")
    for k, label in enumerate(labels):
        run["bodies"][label] = make_incident_bodies(args.cluster_events, args.seed + 11 * (k + 1))
    cluster = push_pass(shape, run, labels[0], shape.proxy, shape.proxy)
    time.sleep(2.0)  # the web processes notice the closed sockets
    single = push_pass(shape, run, labels[1], shape.webs[0], shape.webs[0])
    report_push(report, cluster, single)


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
