"""Deadline timers against a real Redis and RQ: one scheduled job per case and moment, RQ's scheduler lets it out at
its moment, the job warns, flags and escalates, the sweep catches a lost job, and a real worker fires one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.job import Job

from dispatcher.access.accounts import Account
from dispatcher.access.passwords import hash_password
from dispatcher.cases.incident import Incident
from dispatcher.notify.model import Notification
from dispatcher.settings import get_settings
from dispatcher.store.db import make_sessions
from tests.conftest import T0
from tests.integration.helpers import act, count, report
from workers import context, jobs, keys, timers

HANDLER = "test-timer-handler"  # the person the case is transferred to; test-dept-HW is the head of HW
HEAD = "test-dept-HW"


@pytest.fixture
def timer_env(db, redis_url, monkeypatch):
    """The worker context on the test database and Redis: (url, engine, queue)."""
    url, engine, _ = db
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    context.worker_context.cache_clear()
    context.worker_city.cache_clear()
    yield url, engine, context.worker_context().queue
    get_settings.cache_clear()
    context.worker_context.cache_clear()
    context.worker_city.cache_clear()


def _handler(engine) -> None:
    with make_sessions(engine).begin() as session:
        if session.get(Account, "t-timer-handler") is None:
            session.add(
                Account(
                    id="t-timer-handler",
                    username=HANDLER,
                    display_name="处置人员",
                    password_hash=hash_password("correct horse battery staple"),
                    created_at=T0,
                    role="dept_handler",
                    region_code=None,
                    department_code="HW",
                )
            )


def _case(client, city, engine) -> dict:
    """A case of HW at community level, claimed and handed to a handler: its yellow light is at 17:30 local."""
    _handler(engine)
    incident = report(client, city).json
    for step in ("file", "dispatch", "claim"):
        assert act(client, incident["id"], step).status_code == 200
    body = act(client, incident["id"], "transfer", assignee=HANDLER).json
    assert body["department_code"] == "HW" and body["level"] == "community" and body["assignee"] == HANDLER
    return body


def _due(body: dict) -> datetime:
    return datetime.fromisoformat(body["timer_due_at"])


def _second_after(moment: datetime) -> datetime:
    return datetime.fromtimestamp(timers.fire_at(moment), UTC)


def _scheduled(queue: Queue) -> dict[str, datetime]:
    registry = queue.scheduled_job_registry
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def _rows(engine, incident_id: str, action: str) -> int:
    return count(engine, "timeline", "incident_id = :i AND action = :a", i=incident_id, a=action)


def _notified(engine, incident_id: str, kind: str) -> set[str]:
    with make_sessions(engine)() as session:
        query = sa.select(Notification.recipient).where(
            Notification.incident_id == incident_id, Notification.kind == kind
        )
        return set(session.scalars(query))


def _fire(queue: Queue, job_id: str) -> None:
    """Let RQ's scheduler out the job as if its moment had come (its score moved to now), and work it off with a
    burst worker running the scheduler, in this process (relay runs the job asks for included)."""
    registry = queue.scheduled_job_registry
    moment = registry.get_scheduled_time(job_id)
    assert registry.get_jobs_to_schedule(int(moment.timestamp()) - 1) == []  # not a second before its moment
    assert registry.get_jobs_to_schedule(int(moment.timestamp())) == [job_id]
    registry.schedule(Job.fetch(job_id, connection=queue.connection), datetime.now(UTC) - timedelta(seconds=1))
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=True)
    assert not Job.exists(job_id, connection=queue.connection) and job_id not in registry  # ran, result_ttl=0


def test_relay_schedules_one_job_per_case_and_moment(client, city, timer_env):
    _, engine, queue = timer_env
    case = _case(client, city, engine)
    due = _due(case)
    assert due == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # 80 % of one working day after 10:00 Wednesday
    expected = f"timer-{case['id']}-{timers.fire_at(due)}"

    assert jobs.relay_outbox() >= 4
    assert _scheduled(queue) == {expected: _second_after(due)}
    job = Job.fetch(expected, connection=queue.connection)
    assert job.func is timers.check_timers and job.args == (case["id"], timers.fire_at(due))

    assert jobs.relay_outbox() == 0  # nothing new: nothing scheduled
    assert act(client, case["id"], "supervise", reason="领导督办").status_code == 200  # another event, same moment
    assert jobs.relay_outbox() >= 1
    assert _scheduled(queue) == {expected: _second_after(due)}
    message = {"data": {"incident": {"id": case["id"], "timer_due_at": due.isoformat()}}}
    assert timers.schedule(queue, [message, message]) == 0

    extended = act(client, case["id"], "extend", until="2026-12-31T09:00:00+08:00", reason="需协调").json
    moved = _due(extended)
    assert moved > due
    assert jobs.relay_outbox() >= 1
    fresh = f"timer-{case['id']}-{timers.fire_at(moved)}"
    assert _scheduled(queue) == {expected: _second_after(due), fresh: _second_after(moved)}

    _fire(queue, expected)  # the stale job: the case's timer moved on, so it does nothing
    assert _rows(engine, case["id"], "warn") == 0
    assert timers.check_timers(case["id"], timers.fire_at(due)) == []
    assert _scheduled(queue) == {fresh: _second_after(moved)}


def test_a_moment_between_seconds_is_scheduled_on_the_next_second(timer_env):
    _, _, queue = timer_env
    due = datetime(2026, 12, 2, 9, 30, 0, 250_000, tzinfo=UTC)
    assert timers.fire_at(due) == int(due.timestamp()) + 1  # never let out before the timer is due
    assert timers.fire_at(due.replace(microsecond=0)) == timers.fire_at(due)  # a deadline is passed only after it
    assert timers.fire_at(due.replace(tzinfo=None)) == timers.fire_at(due)  # stored moments are UTC
    assert timers.schedule_one(queue, "x", due) and not timers.schedule_one(queue, "x", due.replace(microsecond=9))
    assert _scheduled(queue) == {f"timer-x-{timers.fire_at(due)}": datetime(2026, 12, 2, 9, 30, 1, tzinfo=UTC)}


def test_scheduled_jobs_warn_flag_and_escalate(client, city, timer_env):
    _, engine, queue = timer_env
    case = _case(client, city, engine)
    incident_id, deadline = case["id"], datetime.fromisoformat(case["stage_deadline"])
    jobs.relay_outbox()
    (yellow,) = _scheduled(queue)
    published = count(engine, "outbox")

    _fire(queue, yellow)  # yellow: a warning row, its event, and a notice to the handler and the head
    assert _rows(engine, incident_id, "warn") == 1 and _rows(engine, incident_id, "overdue") == 0
    assert count(engine, "outbox", "name = 'incident.warn' AND incident_id = :i", i=incident_id) == 1
    assert count(engine, "outbox") > published and count(engine, "outbox", "published_at IS NULL") == 0  # relayed
    assert {HANDLER, HEAD} <= _notified(engine, incident_id, "warning")
    view = client.get(f"/api/v1/incidents/{incident_id}").json
    assert view["supervised"] is None and _due(view) == deadline
    (red,) = _scheduled(queue)  # the next moment, scheduled once (by the job and by the relay)
    assert red == f"timer-{incident_id}-{timers.fire_at(deadline)}"

    _fire(queue, red)  # red: the overdue row, supervised by the system, a notice to both
    assert _rows(engine, incident_id, "overdue") == 1 and _rows(engine, incident_id, "warn") == 1
    assert {HANDLER, HEAD} <= _notified(engine, incident_id, "overdue")
    view = client.get(f"/api/v1/incidents/{incident_id}").json
    assert view["supervised"]["by"] == "system" and view["status"] == "claimed"
    rung = city.catalogue.escalation_level("community")
    escalate = city.calendar.add(deadline, rung.auto_escalate_after)
    assert _due(view) == escalate and escalate == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # + 1 working day
    (up,) = _scheduled(queue)
    assert up == f"timer-{incident_id}-{timers.fire_at(escalate)}"

    _fire(queue, up)  # held past auto_escalate_after: up one level, handed over to that level's owner
    view = client.get(f"/api/v1/incidents/{incident_id}").json
    assert view["status"] == "escalated" and view["level"] == "street"
    assert view["department_code"] != "HW" and view["assignee"] is None
    entries = client.get(f"/api/v1/incidents/{incident_id}/timeline").json["entries"]
    assert [e["action"] for e in entries if e["actor"] == "system"] == ["warn", "overdue", "escalate"]
    assert count(engine, "outbox", "name = 'incident.escalate' AND incident_id = :i", i=incident_id) == 1
    assert _notified(engine, incident_id, "escalation")
    for job_id, moment in _scheduled(queue).items():  # whatever comes next is a later moment of the new owner
        assert job_id.startswith(f"timer-{incident_id}-") and moment > escalate


def test_a_leaders_supervision_is_kept_when_the_case_turns_red(client, city, timer_env):
    _, engine, _ = timer_env
    case = _case(client, city, engine)
    assert act(client, case["id"], "supervise", reason="领导督办").status_code == 200
    late = datetime.fromisoformat(case["stage_deadline"]) + timedelta(minutes=1)
    assert timers.sweep_timers(now=late) == 1  # yellow and red at once
    view = client.get(f"/api/v1/incidents/{case['id']}").json
    assert view["supervised"]["by"] == "test-leader"
    assert _rows(engine, case["id"], "warn") == 0 and _rows(engine, case["id"], "overdue") == 1


def test_the_sweep_acts_once_on_a_case_whose_job_was_lost(client, city, timer_env):
    _, engine, queue = timer_env
    case = _case(client, city, engine)
    jobs.relay_outbox()
    (lost,) = _scheduled(queue)
    Job.fetch(lost, connection=queue.connection).delete()
    assert _scheduled(queue) == {}

    later = _due(case) + timedelta(minutes=10)
    assert timers.sweep_timers(now=_due(case) - timedelta(seconds=1)) == 0  # not due yet
    assert timers.sweep_timers(now=later) == 1
    assert timers.sweep_timers(now=later) == 0
    assert timers.sweep_timers(now=later + timedelta(minutes=5)) == 0
    assert _rows(engine, case["id"], "warn") == 1
    assert {HANDLER, HEAD} <= _notified(engine, case["id"], "warning")
    assert timers.check_timers(case["id"], timers.fire_at(_due(case))) == []  # a late job finds nothing to do


def _sweeping(queue: Queue) -> bool:
    """A sweep is waiting in the queue or running."""
    ids = [*queue.get_job_ids(), *queue.started_job_registry.get_job_ids()]
    return any(job and job.func_name == "workers.timers.sweep_timers" for job in Job.fetch_many(ids, queue.connection))


def test_a_worker_process_fires_a_scheduled_job_at_its_moment(client, city, timer_env):
    """`gridcommand worker` runs RQ's scheduler: a job due in two seconds fires without any sweep."""
    url, engine, queue = timer_env
    case = _case(client, city, engine)
    redis = queue.connection
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": get_settings().redis_url}
    env["GRIDCOMMAND_RELAY_INTERVAL_S"] = "0.5"
    worker = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        lock = f"rq:scheduler-lock:{queue.name}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            redis.exists(lock) and redis.exists(keys.OVERDUE_LOCK) and not _sweeping(queue)
        ):
            time.sleep(0.2)
        assert redis.exists(lock), "the worker's scheduler never took its lock"
        assert redis.exists(keys.OVERDUE_LOCK) and not _sweeping(queue)  # the first sweep is done, the next 30 s away

        # The case is well into its stage (yellow long past, deadline tomorrow) and its timer is due in 2 s.
        now = datetime.now(UTC)
        due = now + timedelta(seconds=2)
        with make_sessions(engine).begin() as session:
            incident = session.get(Incident, case["id"])
            incident.stage_started_at, incident.stage_deadline = now - timedelta(days=100), now + timedelta(days=1)
            incident.warned, incident.timer_due_at = 0, due
        message = {"data": {"incident": {"id": case["id"], "timer_due_at": due.isoformat()}}}
        assert timers.schedule(queue, [message]) == 1
        job_id = timers.job_id(case["id"], due)

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (
            _rows(engine, case["id"], "warn") == 0 or Job.exists(job_id, connection=redis)  # row, then job done
        ):
            time.sleep(0.25)
        assert _rows(engine, case["id"], "warn") == 1
        assert datetime.now(UTC) >= due  # not before its moment, and by the job (no sweep ran meanwhile)
        assert job_id not in queue.scheduled_job_registry and not Job.exists(job_id, connection=redis)
        assert redis.ttl(keys.OVERDUE_LOCK) > 0  # still the first sweep's lock: no sweep ran after the timer was set
        assert {HANDLER, HEAD} <= _notified(engine, case["id"], "warning")
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def test_the_worker_city_loads_and_the_jobs_need_no_web_framework(timer_env):
    url, _, _ = timer_env
    code = (
        "import sys\n"
        "from workers import context, jobs, main, timers\n"
        "city = context.worker_city()\n"
        "assert city.router.escalation_ladder and city.rules.closing, 'no city'\n"  # timers need no grids
        "web = sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'dash', 'dashboard', 'werkzeug'})\n"
        "assert not web, web\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": get_settings().redis_url}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
