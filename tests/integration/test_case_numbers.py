"""Case numbers (案件编号) through the API and the database: given at creation, searchable, unique under
concurrency on PostgreSQL, and given to existing rows by the migration."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dispatcher.store.db import make_engine
from dispatcher.store.migrate import downgrade, upgrade
from tests.integration.helpers import report
from tests.integration.test_boxes_api import Person, dispatched
from tests.integration.test_concurrency import _together

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _prefix(created_at: str) -> str:
    return datetime.fromisoformat(created_at).astimezone(SHANGHAI).strftime("%Y-%m%d-")


def test_a_created_incident_has_a_case_number_of_its_local_day(client, city):
    first, second = report(client, city).json, report(client, city, unit_index=7).json
    assert first["case_number"] == _prefix(first["created_at"]) + "0001"
    assert second["case_number"] == _prefix(second["created_at"]) + "0002"
    assert client.get(f"/api/v1/incidents/{first['id']}").json["case_number"] == first["case_number"]


def test_the_list_finds_a_case_by_its_number_whole_or_its_start(client, city):
    ids = [report(client, city).json for _ in range(3)]
    number = ids[1]["case_number"]
    found = client.get("/api/v1/incidents", query_string={"number": number}).json
    assert [i["id"] for i in found["items"]] == [ids[1]["id"]] and found["total"] == 1
    day = client.get("/api/v1/incidents", query_string={"number": number[:9]}).json
    assert day["total"] == 3
    assert client.get("/api/v1/incidents", query_string={"number": number[:9] + "9999"}).json["total"] == 0
    assert client.get("/api/v1/incidents", query_string={"number": "abc"}).status_code == 422


def test_the_boxes_search_matches_the_case_number(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    first, second = dispatched(client, city), dispatched(client, city)
    assert handler.box(client, q=second["case_number"]) == [second["id"]]
    assert set(handler.box(client, q=first["case_number"][:10])) == {first["id"], second["id"]}
    assert handler.box(client, q=first["id"][:8]) == [first["id"]]  # the id still finds it


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_concurrent_creates_get_distinct_consecutive_numbers(app, client, city, db):
    results = _together(app, lambda c: report(c, city))
    assert {r.status_code for r in results} == {201}, [r.json for r in results if r.status_code != 201]
    numbers = sorted(r.json["case_number"] for r in results)
    prefix = _prefix(results[0].json["created_at"])
    assert numbers == [f"{prefix}{n:04d}" for n in range(1, len(results) + 1)]


def test_the_migration_numbers_existing_rows_in_created_order(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0013")
    rows = [  # (id, district, created UTC): two local days in 330199, one case outside every grid
        ("c", "330199", datetime(2026, 12, 1, 16, 1)),  # 00:01 on 2 Dec in Shanghai
        ("a", "330199", datetime(2026, 12, 1, 3, 0)),
        ("b", None, datetime(2026, 12, 1, 15, 59)),  # 23:59 on 1 Dec
        ("d", "330199", datetime(2026, 12, 2, 1, 0)),
    ]
    with engine.begin() as conn:
        for incident_id, district, created in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO incident (id, version, channel, status, description, grid_district, urgency,"
                    " rework_count, return_count, escalation_count, created_at, updated_at)"
                    " VALUES (:i, 1, 'hotline', 'reported', 'x', :d, 1, 0, 0, 0, :t, :t)"
                ),
                {"i": incident_id, "d": district, "t": created.replace(tzinfo=UTC).isoformat(" ")[:26]},
            )
    upgrade(engine)
    with engine.connect() as conn:
        numbers = dict(conn.execute(sa.text("SELECT id, case_number FROM incident")).all())
        counters = {
            (d, str(day)): last
            for d, day, last in conn.execute(sa.text("SELECT district, day, last FROM case_number_counter"))
        }
    # no grids in this database: the one outside every grid counts in the 000000 bucket, and with two buckets
    # the numbers carry the district's last two digits so they stay unique
    assert numbers == {
        "a": "99-2026-1201-0001",
        "b": "00-2026-1201-0001",
        "c": "99-2026-1202-0001",
        "d": "99-2026-1202-0002",
    }
    assert counters == {("330199", "2026-12-01"): 1, ("000000", "2026-12-01"): 1, ("330199", "2026-12-02"): 2}
    downgrade(engine, "0013")
    assert "case_number_counter" not in sa.inspect(engine).get_table_names()
    engine.dispose()
