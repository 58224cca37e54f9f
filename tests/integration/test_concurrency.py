"""Concurrent writers on PostgreSQL: one claim wins, one key creates once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import sqlalchemy as sa

from dispatcher.store import outbox
from tests.integration.helpers import act, count, inside, report

WORKERS = 20


# Row locks and version checks under real concurrency: PostgreSQL only (SQLite serialises every writer).
pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def pg_app(app, client):
    """The app, with its test clients signing requests as the test accounts."""
    return app


def _together(app, call, n=WORKERS):
    """Run `call(client)` from n threads released at the same moment."""
    barrier = Barrier(n)

    def one(_):
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_claims_exactly_one_wins(pg_app, city, db):
    _, engine, _ = db
    client = pg_app.test_client()
    incident = report(client, city).json
    act(client, incident["id"], "file")
    act(client, incident["id"], "dispatch")
    results = _together(pg_app, lambda c: act(c, incident["id"], "claim", assignee=f"h-{id(c)}"))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(409) == WORKERS - 1, codes
    assert count(engine, "timeline", "incident_id = :i AND action = 'claim'", i=incident["id"]) == 1
    winner = next(r for r in results if r.status_code == 200).json["assignee"]
    assert client.get(f"/api/v1/incidents/{incident['id']}").json["assignee"] == winner


def test_concurrent_creates_with_one_idempotency_key_create_once(pg_app, city, db):
    _, engine, _ = db
    lon, lat = inside(city.grids.by_level("unit")[7])
    body = {"description": "共享单车乱停放", "category_code": "020505", "lon": lon, "lat": lat}
    results = _together(
        pg_app, lambda c: c.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "same-key"}), n=10
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json["id"] for r in results}) == 1
    assert count(engine, "incident") == 1 and count(engine, "outbox") == 1


def test_a_client_following_the_outbox_by_sequence_never_skips_an_event(pg_app, city, db):
    """Events become visible in sequence order, so "everything after my last seq" never misses one."""
    _, engine, sessions = db
    done, seen, last = threading.Event(), set(), 0

    def follow():
        nonlocal last
        while True:
            finished = done.is_set()
            with sessions() as session:
                for event in outbox.since(session, last, 1000):
                    seen.add(event.id)
                    last = event.id
            if finished:
                return

    reader = threading.Thread(target=follow)
    reader.start()
    _together(pg_app, lambda c: [report(c, city, unit_index=i) for i in range(10)], n=8)
    done.set()
    reader.join(timeout=30)
    with engine.connect() as conn:
        everything = set(conn.scalars(sa.text("SELECT id FROM outbox")))
    assert len(everything) == 80 and seen == everything
