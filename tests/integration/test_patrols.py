"""Patrols (巡查): a grid worker starts and stops a patrol from the phone, the track is their position history in
between, reports on the way are attached, and the shift leader sees each patrol's length and unit grids and the
share of each community's unit grids visited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dashboard.runtime import runtime_of
from dispatcher.access.roles import Role
from dispatcher.access.roster import find
from dispatcher.fleet.officers import Officer, OfficerPosition, link_account
from dispatcher.schema import Base
from dispatcher.store.db import make_engine
from dispatcher.store.migrate import upgrade
from geo.distance import haversine_m
from tests.conftest import T0
from tests.integration.helpers import inside
from tests.integration.test_field_api import _account, phone


@pytest.fixture
def patroller(app, city):
    """Grid worker `patroller` (officer GW8) of the first community, whose first two unit grids it walks."""
    community = city.grids.by_level("community")[0]
    units = [g for g in city.grids.children(community.code) if g.level == "unit"]
    _account(app, "patroller", Role.GRID_WORKER, region=community.code)
    _account(app, "desk", Role.DISPATCHER, region="330199")
    with runtime_of(app).sessions.begin() as session:
        session.merge(
            Officer(id="GW8", name="熊涛", role="grid_worker", grid_community=community.code, device_id="dev-8")
        )
        session.flush()
        link_account(session, find(session, "patroller"), "GW8", actor="test", now=T0)
    return community.code, units


def walk(app, fixes: list[tuple[timedelta, tuple[float, float], str]]) -> None:
    """Officer GW8's accepted fixes, as the position worker writes them to the history."""
    with runtime_of(app).sessions.begin() as session:
        for offset, (lon, lat), unit in fixes:
            session.add(OfficerPosition(officer_id="GW8", at=T0 + offset, lon=lon, lat=lat, grid_unit=unit))


def test_a_patrol_keeps_its_track_units_and_reports_and_the_shift_leader_sees_coverage(
    patroller, app, client, clock, city
):
    community, units = patroller
    a, b, elsewhere = inside(units[0]), inside(units[1]), inside(units[2])
    me = phone(app, "patroller")
    started = me.post("/api/v1/me/patrol/start").json
    assert me.post("/api/v1/me/patrol/start").json["id"] == started["id"]  # a resent start is the same patrol
    m = timedelta(minutes=1)
    walk(app, [(-5 * m, elsewhere, units[2].code), (m, a, units[0].code), (2 * m, b, units[1].code)])
    walk(app, [(3 * m, a, units[0].code)])

    clock.now = T0 + 2 * m
    body = {"description": "井盖缺失", "category_code": "020101", "lon": b[0], "lat": b[1]}
    case = me.post("/api/v1/incidents", json=body)
    assert case.status_code in (200, 201), case.json
    attached = me.post(f"/api/v1/me/patrols/{started['id']}/reports", json={"incident_id": case.json["id"]})
    assert attached.status_code == 200 and attached.json["reports"] == [case.json["id"]]
    going = me.get("/api/v1/me/patrol").json
    assert going["id"] == started["id"] and going["track"] == [list(a), list(b)]  # not the fix before the start

    clock.now = T0 + 10 * m
    ended = me.post("/api/v1/me/patrol/stop").json
    expected = haversine_m(*a, *b) * 2
    assert ended["ended_at"] == clock.now.isoformat() and ended["length_m"] == pytest.approx(expected, abs=0.1)
    assert ended["grid_units"] == [units[0].code, units[1].code]
    assert me.get("/api/v1/me/patrol").json == {"id": None}
    walk(app, [(11 * m, elsewhere, units[2].code)])  # after the end: not part of the patrol

    seen = client.get(f"/api/v1/patrols?region={community}").json  # the shift leader, today by default
    [patrol] = [p for p in seen["items"] if p["id"] == started["id"]]
    assert patrol["length_m"] == pytest.approx(expected, abs=0.1) and patrol["reports"] == [case.json["id"]]
    [covered] = seen["coverage"]
    name = city.grids.get(community).name
    assert covered == {
        "community": community,
        "name": name,
        "units": len(units),
        "visited": 2,
        "share": round(2 / len(units), 3),
    }
    district = client.get("/api/v1/patrols").json  # the leader's whole scope: every community, this one visited
    assert len(district["coverage"]) > 1 and {"community": community, "visited": 2} in [
        {"community": c["community"], "visited": c["visited"]} for c in district["coverage"] if c["visited"]
    ]
    tomorrow = (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/patrols?region={community}&since={tomorrow}").json["items"] == []


def test_only_a_linked_grid_worker_patrols_and_only_within_scope_are_patrols_followed(patroller, app, city):
    community, _ = patroller
    desk = phone(app, "desk")
    refused = desk.post("/api/v1/me/patrol/start")
    assert refused.status_code == 403 and "grid worker" in refused.json["error"]["message"]
    me = phone(app, "patroller")
    other = next(c.code for c in city.grids.by_level("community") if c.code != community)
    assert me.get(f"/api/v1/patrols?region={other}").status_code == 403  # outside the grid worker's region
    assert me.get(f"/api/v1/patrols?region={community}").status_code == 200
    assert desk.get("/api/v1/patrols?region=nowhere").status_code == 422
    patrol = me.post("/api/v1/me/patrol/start").json
    assert me.post(f"/api/v1/me/patrols/{patrol['id']}/reports", json={"incident_id": "nope"}).status_code == 404
    assert desk.post(f"/api/v1/me/patrols/{patrol['id']}/reports", json={"incident_id": "x"}).status_code == 403


def test_the_patrol_tables_and_the_officer_link_equal_their_migration(tmp_path, backend):
    url, engine = backend
    fresh = engine if url.startswith("postgresql") else make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(fresh)
    with fresh.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mine = [d for d in diff if any(name in repr(d) for name in ("patrol", "officer_id"))]
    assert mine == []
