"""Address → location at the hotline console, and the calls that have none, through the Dash callbacks as the
browser calls them, on both backends: candidates with their grid path as the call-taker types, a pick that places
the call exactly where the gazetteer says, a call saved without a location (triage reason no_location, openable
by the agent who took it, in the caller's history on the next call, duplicates by caller and text), and merging
a repeated call into the case it repeats from the console. The import command is tested on its own SQLite file."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.runtime import runtime_of
from dispatcher.cases.incident import Incident
from dispatcher.cases.merging import callback_list
from dispatcher.settings import get_settings
from dispatcher.store.gazetteer import AddressRow, current_address_version, replace_addresses
from geo.gazetteer import load_addresses
from tests.conftest import T0
from tests.integration.test_cli import run
from tests.integration.test_hotline_page import (
    DASH_ORIGIN,
    DUP_TRIGGERS,
    account_token,
    callback,
    lookup,
    make_account,
    save,
    text,
)
from tests.unit.geo.test_gazetteer import FIXTURE

pytestmark = pytest.mark.db
PHONE = "13755550101"


@pytest.fixture
def dash_server(app):
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    return app


@pytest.fixture
def upgraded(tmp_path, monkeypatch):
    """A migrated SQLite file the CLI's (cached) settings point at."""
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert run("db", "upgrade").exit_code == 0
    yield url
    get_settings.cache_clear()


@pytest.fixture
def addresses(db):
    """The small fixture gazetteer imported into the current backend (replacing whatever was there)."""
    _, _, sessions = db
    with sessions.begin() as session:
        replace_addresses(session, load_addresses(FIXTURE), source="tests", actor="tests", now=T0)
    return sessions


def typed(client, token, address: str, lang: str = "zh"):
    out = callback(
        client,
        token,
        "hl-addr-list.children",
        [("hl-address", "value", address)],
        [("hl-addr-picked", "data", None), ("gc-lang", "data", lang)],
    )
    return out["hl-addr-list"]["children"]


def labels(children) -> list[str]:
    """The candidates' labels in the order shown."""
    return [c["props"]["data-label"] for c in children if isinstance(c, dict) and "data-label" in c.get("props", {})]


def pick(client, token, address: str, index: int = 0, shown: int = 3):
    """Enter on the `index`-th of `shown` candidates (the browser clicks the active one)."""
    ids = [{"type": "hl-addr", "index": i} for i in range(shown)]
    specs = client.get("/_dash-dependencies", headers={"Authorization": f"Bearer {token}", **DASH_ORIGIN}).json
    spec = next(c for c in specs if c["output"].startswith("..hl-loc.data@"))
    outputs = [
        dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in spec["output"].strip(".").split("...")
    ]
    trigger = json.dumps(ids[index], sort_keys=True, separators=(",", ":")) + ".n_clicks"
    body = {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [[{"id": i, "property": "n_clicks", "value": 1 if i == ids[index] else 0} for i in ids]],
        "changedPropIds": [trigger],
        "state": [
            {"id": "hl-address", "property": "value", "value": address},
            {"id": "gc-lang", "property": "data", "value": "zh"},
        ],
    }
    response = client.post(
        "/_dash-update-component", json=body, headers={"Authorization": f"Bearer {token}", **DASH_ORIGIN}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["response"]


def test_candidates_show_as_the_call_taker_types_with_their_grid_path(dash_server, client, db, addresses):
    token = account_token(db, "hotline")
    found = typed(client, token, "汪江路88号3幢")  # a homophone typo and building noise
    assert labels(found)[0] == "望江路88号"
    shown = text(found)
    assert "望江街道 › 和睦社区" in shown  # street › community › unit grid of the interpolated point
    assert "gc-active" in shown
    assert "云河市第一人民医院" in text(typed(client, token, "市一医院"))
    assert "hl-addr-none" in text(typed(client, token, "火星基地"))
    assert "Wangjiang Road" in text(typed(client, token, "望江路88号", lang="en"))


def test_a_pick_places_the_call_where_the_gazetteer_says_and_the_saved_case_is_there(
    dash_server, client, db, addresses, city
):
    token = account_token(db, "hotline")
    out = pick(client, token, "汪江路88号3幢2单元")
    loc = out["hl-loc"]["data"]
    expected = load_gazetteer_point("望江路88号")
    assert (loc["lon"], loc["lat"]) == pytest.approx(expected)
    assert out["hl-address"]["value"] == "望江路88号3幢2单元"
    path = city.grids.locate(*expected)
    assert path.unit in text(out["hl-grid"]) and "网格长" in text(out["hl-grid"])  # the grid and its leader
    assert out["hl-map"]["viewport"]["center"] and "hl-pin-marker" in text(out["hl-pin"])
    saved = save(
        client,
        token,
        **{"hl-phone": PHONE, "hl-nature": "callback", "hl-category": "020101", "hl-address": "望江路88号3幢2单元"},
        **{"hl-loc": loc, "hl-desc": "门口垃圾堆放", "hl-saved": 0},
    )
    assert "gc-hl-saved" in text(saved["hl-result"])
    _, _, sessions = db
    with sessions() as session:
        incident = session.scalars(select(Incident).where(Incident.description == "门口垃圾堆放")).one()
        assert (incident.lon, incident.lat) == pytest.approx(expected)
        assert incident.grid_unit == path.unit and incident.triage_reason is None
        assert incident.case_number in text(saved["hl-result"])


def load_gazetteer_point(label: str) -> tuple[float, float]:
    from geo.gazetteer import Gazetteer

    found = Gazetteer(load_addresses(FIXTURE)).match(label)[0]
    assert found.label == label
    return found.lon, found.lat


def test_a_call_without_a_location_is_triaged_as_no_location_and_stays_the_agents(dash_server, client, db, addresses):
    user, token = make_account(db, "hotline")
    form = {"hl-phone": PHONE, "hl-nature": "callback", "hl-category": "020101", "hl-saved": 0}
    first = save(client, token, **form, **{"hl-address": "某个说不清的地方", "hl-desc": "小区门口垃圾堆积无人清理"})
    result = text(first["hl-result"])
    assert "gc-hl-saved" in result and "无位置信息" in result
    _, _, sessions = db
    with sessions() as session:
        incident = session.scalars(select(Incident).where(Incident.description == "小区门口垃圾堆积无人清理")).one()
        assert (incident.status, incident.triage_reason) == ("triage", "no_location")
        assert incident.lon is None and incident.grid_unit is None
        assert f"/work?incident={incident.id}" in result and incident.case_number in result
    bearer = {"Authorization": f"Bearer {token}"}
    opened = client.get(f"/api/v1/incidents/{incident.id}", headers=bearer)
    assert opened.status_code == 200 and opened.json["status"] == "triage"  # the agent opens what they logged
    leader = {"Authorization": f"Bearer {account_token(db, 'shift_leader')}"}
    queue = client.get("/api/v1/triage", headers=leader).json["items"]
    assert [r["reason"] for r in queue if r["incident"]["id"] == incident.id] == ["no_location"]
    history = text(lookup(client, token, PHONE))
    assert "hl-new-caller" not in history and "小区门口垃圾堆积无人清理" in history  # not a "new caller" next time
    # the next call, still without a location: the same caller and the same complaint are suggested
    again = callback(
        client,
        token,
        "hl-dups.children",
        [("hl-category", "value", "020101"), ("hl-loc", "data", None), ("hl-parent", "data", None), *DUP_TRIGGERS],
        [
            ("hl-phone", "value", ""),
            ("hl-address", "value", "说不清的地方"),
            ("hl-desc", "value", "小区门口的垃圾堆积没人清理"),
            ("gc-lang", "data", "zh"),
        ],
    )
    assert incident.id in text(again) and "内容相似" in text(again)
    by_caller = callback(
        client,
        token,
        "hl-dups.children",
        [("hl-category", "value", None), ("hl-loc", "data", None), ("hl-parent", "data", None), *DUP_TRIGGERS],
        [
            ("hl-phone", "value", PHONE),
            ("hl-address", "value", ""),
            ("hl-desc", "value", ""),
            ("gc-lang", "data", "zh"),
        ],
    )
    assert incident.id in text(by_caller) and "同一来电人" in text(by_caller)


def test_a_repeated_call_is_merged_from_the_console_into_the_case_it_repeats(dash_server, client, db, addresses):
    user, token = make_account(db, "hotline")
    point = load_gazetteer_point("望江路88号")
    original = client.post(
        "/api/v1/incidents",
        json={"description": "望江路口垃圾满了", "category_code": "020101", "lon": point[0], "lat": point[1]},
    ).json
    shown = callback(
        client,
        token,
        "hl-dups.children",
        [
            ("hl-category", "value", "020101"),
            ("hl-loc", "data", {"lon": point[0], "lat": point[1]}),
            ("hl-parent", "data", None),
            *DUP_TRIGGERS,
        ],
        [("hl-phone", "value", ""), ("hl-address", "value", ""), ("hl-desc", "value", ""), ("gc-lang", "data", "zh")],
    )
    assert original["id"] in text(shown) and "合并到此案件" in text(shown)  # a call-taker may merge
    chosen = callback(
        client,
        token,
        "..hl-parent.data",
        [([{"type": "hl-merge", "index": original["id"]}], "n_clicks", 1)],
        [("hl-parent", "data", None), ("gc-lang", "data", "zh")],
        changed=json.dumps({"index": original["id"], "type": "hl-merge"}, separators=(",", ":")) + ".n_clicks",
    )
    note = text(chosen["hl-merge-note"])
    assert original["case_number"] in note and original["id"][:8] not in note  # the case number, not an id
    saved = save(
        client,
        token,
        **{"hl-phone": "13755550202", "hl-nature": "callback", "hl-category": "020101", "hl-saved": 0},
        **{"hl-loc": {"lon": point[0], "lat": point[1]}, "hl-desc": "又一位市民来电：垃圾满了"},
        **{"hl-parent": original["id"]},
    )
    assert original["case_number"] in text(saved["hl-result"]), text(saved["hl-result"])
    _, _, sessions = db
    with sessions() as session:
        child = session.scalars(select(Incident).where(Incident.description == "又一位市民来电：垃圾满了")).one()
        parent = session.get(Incident, original["id"])
        assert child.status == "merged" and child.parent_id == parent.id and parent.merged_count == 1
        phones = [entry["reporter_phone"] for entry in callback_list(session, parent)]
        assert "13755550202" in phones  # the second caller is called back too


# ---------------------------------------------------------------- the import command (SQLite file)


def address_rows(url: str) -> tuple[int | None, list[str]]:
    import sqlalchemy as sa
    import sqlalchemy.orm

    engine = sa.create_engine(url)
    with sqlalchemy.orm.Session(engine) as session:
        version = current_address_version(session)
        names = list(session.scalars(select(AddressRow.name).order_by(AddressRow.id)))
    engine.dispose()
    return version, names


def test_import_addresses_stores_the_file_and_a_reimport_replaces_it(upgraded, tmp_path):
    result = run("import-addresses", str(FIXTURE))
    assert result.exit_code == 0 and "imported 9 addresses (6 roads, 3 landmarks)" in result.output, result.output
    version, names = address_rows(upgraded)
    assert version == 1 and names[0] == "望江路" and "云河市第一人民医院" in names
    smaller = json.loads(FIXTURE.read_text(encoding="utf-8"))
    smaller["features"] = smaller["features"][:2]
    path = tmp_path / "two.geojson"
    path.write_text(json.dumps(smaller, ensure_ascii=False), encoding="utf-8")
    assert run("import-addresses", str(path)).exit_code == 0
    assert address_rows(upgraded) == (2, ["望江路", "滨江路"])


def test_a_bad_address_file_names_the_feature_and_field_and_writes_nothing(upgraded, tmp_path):
    assert run("import-addresses", str(FIXTURE)).exit_code == 0
    bad = json.loads(FIXTURE.read_text(encoding="utf-8"))
    bad["features"][2]["properties"]["numbers"] = ["一", 9]
    bad["features"][7]["properties"]["name"] = ""
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    result = run("import-addresses", str(path))
    assert result.exit_code == 2
    assert "feature #2: field 'numbers'" in result.output and "feature #7: field 'name'" in result.output
    assert "nothing was imported" in result.output
    assert address_rows(upgraded)[0] == 1 and len(address_rows(upgraded)[1]) == 9


def test_the_store_keeps_lines_and_points_on_both_backends(db):
    _, _, sessions = db
    entries = load_addresses(FIXTURE)
    with sessions.begin() as session:
        replace_addresses(session, entries, source="tests", actor="tests", now=T0 + timedelta(minutes=1))
    from dispatcher.store.gazetteer import load_addresses as stored

    with sessions() as session:
        assert stored(session) == entries
