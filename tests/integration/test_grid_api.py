"""Grid and catalogue endpoints: locate, GeoJSON per level, import with validation, categories, departments."""

import copy
import json
import re

import pytest

from dashboard.runtime import runtime_of
from tests.conftest import DEMO_GRIDS
from tests.integration.helpers import count
from tests.integration.test_hotline_page import account_token, callback, dash_server  # noqa: F401 (a fixture)


def test_locate_returns_the_full_path_with_names_and_leader(client, city):
    unit = city.grids.by_level("unit")[100]
    point = unit.geometry.representative_point()
    body = client.get(f"/api/v1/locate?lon={point.x}&lat={point.y}").json
    assert body["outside"] is False and body["unit"]["code"] == unit.code
    assert body["community"]["code"] == unit.parent_code and body["district"]["code"] == "330199"
    assert body["leader"]["leader_name"] == unit.properties["leader_name"]


def test_locate_outside_and_bad_coordinates(client):
    assert client.get("/api/v1/locate?lon=116.39&lat=39.9").json["outside"] is True
    for query in ("lon=120.1", "lon=abc&lat=30", "lon=120&lat=91", "lon=nan&lat=30"):
        response = client.get(f"/api/v1/locate?{query}")
        assert response.status_code == 422, query


def test_grids_per_level_as_geojson(client, city):
    streets = client.get("/api/v1/grids?level=street").json
    assert streets["type"] == "FeatureCollection" and len(streets["features"]) == len(city.grids.by_level("street"))
    first = streets["features"][0]
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"} and first["properties"]["level"] == "street"
    units = client.get(f"/api/v1/grids?level=unit&parent={city.grids.by_level('community')[0].code}").json
    assert units["features"] and all(
        f["properties"]["parent"] == city.grids.by_level("community")[0].code for f in units["features"]
    )
    assert client.get("/api/v1/grids?level=planet").status_code == 422


def test_import_rejects_bad_geojson_naming_the_feature_and_keeps_the_old_grids(client, db):
    _, engine, _ = db
    collection = json.loads(DEMO_GRIDS.read_text())
    broken = copy.deepcopy(collection)
    victim = next(f for f in broken["features"] if f["properties"]["level"] == "unit")
    victim["properties"]["parent"] = "999999999999"
    response = client.post("/api/v1/grids/import", json=broken)
    assert response.status_code == 422
    assert victim["properties"]["code"] in response.json["error"]["message"]
    assert count(engine, "grid_import") == 1
    assert client.post("/api/v1/grids/import", data="[", content_type="application/json").status_code == 400


def test_import_of_a_valid_collection_makes_a_new_version_used_for_routing(client, db, city):
    _, engine, _ = db
    collection = json.loads(DEMO_GRIDS.read_text())
    kept_street = city.grids.by_level("street")[0].code
    collection["features"] = [
        f
        for f in collection["features"]
        if f["properties"]["code"].startswith(kept_street) or f["properties"]["level"] == "district"
    ]
    response = client.post("/api/v1/grids/import", json=collection)
    assert response.status_code == 201 and response.json["version"] == 2
    other = next(u for u in city.grids.by_level("unit") if not u.code.startswith(kept_street))
    point = other.geometry.representative_point()
    assert client.get(f"/api/v1/locate?lon={point.x}&lat={point.y}").json["outside"] is True
    created = client.post(
        "/api/v1/incidents", json={"description": "x", "category_code": "020101", "lon": point.x, "lat": point.y}
    ).json
    assert created["status"] == "triage" and created["grid"]["version"] == "2"
    # put the demo city back for the other tests on this backend
    assert client.post("/api/v1/grids/import", json=json.loads(DEMO_GRIDS.read_text())).status_code == 201


def test_categories_and_departments(client, city):
    categories = client.get("/api/v1/categories")
    assert categories.status_code == 200
    items = categories.json["items"]
    assert len(items) == len(city.catalogue.categories) >= 40
    exposed = next(i for i in items if i["code"] == "020101")
    assert exposed["name_zh"] == "暴露垃圾" and exposed["limits"]["handle"]
    departments = client.get("/api/v1/departments").json["items"]
    assert {"CGZF", "HW", "SZ"} <= {d["code"] for d in departments}


def test_a_grid_import_by_another_process_is_picked_up(app, client, db, city, demo_grids):
    from datetime import UTC, datetime

    from dispatcher.store.gridstore import replace_grids

    _, engine, sessions = db
    kept = [g for g in demo_grids if g.code.startswith(city.grids.by_level("street")[0].code) or g.level == "district"]
    with sessions.begin() as session:  # as if `gridcommand import-grids` ran elsewhere
        version = replace_grids(session, kept, source="elsewhere", actor="cli", now=datetime.now(UTC))
    runtime = runtime_of(app)
    runtime._grids_checked = 0.0
    other = next(u for u in city.grids.by_level("unit") if u not in kept)
    point = other.geometry.representative_point()
    body = client.get(f"/api/v1/locate?lon={point.x}&lat={point.y}").json
    assert body["outside"] is True and body["grid_version"] == str(version)
    with sessions.begin() as session:
        replace_grids(session, demo_grids, source="tests", actor="tests", now=datetime.now(UTC))


# --- issue 9: grid leaders' mobiles are shown in full only to the roles that call them ----------------------------

MASKED = re.compile(r"^1\d{2}\*{4}\d{4}$")


def unit_with_leader(city):
    return next(u for u in city.grids.by_level("unit") if u.properties.get("leader_phone"))


def units_of(client, city, unit, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    features = client.get(f"/api/v1/grids?level=unit&parent={unit.parent_code}", headers=headers).json["features"]
    return next(f["properties"] for f in features if f["properties"]["code"] == unit.code)


def located_leader(client, unit, token: str) -> dict:
    point = unit.geometry.representative_point()
    headers = {"Authorization": f"Bearer {token}"}
    return client.get(f"/api/v1/locate?lon={point.x}&lat={point.y}", headers=headers).json["leader"]


@pytest.mark.parametrize("role", ["enforcement", "dept_head", "dept_handler", "leader", "grid_worker", "admin"])
def test_roles_that_do_not_call_grid_leaders_see_their_mobiles_masked(client, city, db, role):
    """Before: every signed-in role got every grid leader's full mobile number from the map layers."""
    unit = unit_with_leader(city)
    phone = unit.properties["leader_phone"]
    token = account_token(db, role, region=None if role == "admin" else "330199")
    shown = units_of(client, city, unit, token)
    assert MASKED.match(shown["leader_phone"]) and shown["leader_phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert shown["leader_name"] == unit.properties["leader_name"]
    assert located_leader(client, unit, token)["leader_phone"] == shown["leader_phone"]


@pytest.mark.parametrize("role", ["hotline", "dispatcher", "shift_leader"])
def test_the_roles_that_call_grid_leaders_see_the_full_number(client, city, db, role):
    unit = unit_with_leader(city)
    token = account_token(db, role)
    assert units_of(client, city, unit, token)["leader_phone"] == unit.properties["leader_phone"]
    assert located_leader(client, unit, token)["leader_phone"] == unit.properties["leader_phone"]


def grid_popup(client, token: str, unit) -> str:
    out = callback(
        client,
        token,
        "cc-grid-panel.children",
        [("cc-communities", "clickData", None), ("cc-units", "clickData", {"properties": {"code": unit.code}})],
        [("gc-lang", "data", "zh")],
        changed="cc-units.clickData",
    )
    return json.dumps(out, ensure_ascii=False)


@pytest.mark.usefixtures("dash_server")
def test_the_command_centers_grid_popup_masks_the_mobile_for_an_enforcement_officer(client, city, db):
    unit = unit_with_leader(city)
    phone = unit.properties["leader_phone"]
    officer = grid_popup(client, account_token(db, "enforcement"), unit)
    assert phone not in officer and f"{phone[:3]}****{phone[-4:]}" in officer and "tel:" not in officer
    dispatcher = grid_popup(client, account_token(db, "dispatcher"), unit)
    assert phone in dispatcher and f"tel:{phone}" in dispatcher
