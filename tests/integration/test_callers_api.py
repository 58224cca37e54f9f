"""Caller data through the API on both backends: call nature and call-back person at intake, the phone lookup
hash, caller history (scoped, masked, audited, call-back roles only) and same-caller duplicate suggestions."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from dispatcher.intake import callers
from tests.integration.helpers import count, inside, report
from tests.integration.test_scope_matrix import bearer, make_account

CALLER, OTHER = "13812345678", "13900001111"


def history(client, phone, **kw):
    return client.get("/api/v1/callers/history", query_string={"phone": phone}, **kw)


def test_intake_stores_call_nature_callback_person_and_a_lookup_hash(client, city, db):
    _, engine, _ = db
    created = report(
        client,
        city,
        reporter_phone="+86 138-1234-5678",
        call_nature="callback",
        callback_name="李大妈",
        callback_phone="13700002222",
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["call_nature"] == "callback" and body["merged_count"] == 0 and body["parent_id"] is None
    assert (body["callback_name"], body["callback_phone"]) == ("李**", "137****2222")
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT reporter_phone_hash, callback_phone, callback_name FROM incident WHERE id = :i"),
            {"i": body["id"]},
        ).one()
    assert stored.reporter_phone_hash == callers.phone_hash(CALLER) and CALLER not in stored.reporter_phone_hash
    assert stored.callback_phone.startswith("v1:") and "13700002222" not in stored.callback_phone
    assert stored.callback_name.startswith("v1:")


def test_bad_call_nature_or_callback_phone_is_422_naming_the_field(client, city):
    bad_nature = report(client, city, call_nature="angry")
    assert bad_nature.status_code == 422 and bad_nature.json["error"]["field"] == "call_nature"
    bad_phone = report(client, city, callback_phone="call me")
    assert bad_phone.status_code == 422 and bad_phone.json["error"]["field"] == "callback_phone"


def test_history_finds_a_callers_earlier_calls_newest_first_and_no_one_elses(client, city, clock, db):
    _, engine, _ = db
    old = report(client, city, unit_index=100, reporter_phone=CALLER).json
    clock.now += timedelta(hours=1)
    report(client, city, unit_index=200, reporter_phone=OTHER)
    clock.now += timedelta(hours=1)
    new = report(client, city, unit_index=300, reporter_phone="8613812345678").json
    found = history(client, "138 1234 5678")
    assert found.status_code == 200, found.json
    assert [i["id"] for i in found.json["items"]] == [new["id"], old["id"]]
    assert found.json["phone"] == "138****5678" and found.json["items"][0]["reporter_phone"] == "138****5678"
    assert CALLER not in found.get_data(as_text=True)
    assert history(client, "13700000000").json["items"] == []
    assert count(engine, "audit_log", "action = 'caller.lookup' AND result = 'ok'") == 2
    assert count(engine, "audit_log", f"CAST(detail AS TEXT) LIKE '%{CALLER}%' OR target LIKE '%{CALLER}%'") == 0


def test_history_is_scoped_and_for_call_back_roles_only(client, city, db, tokens):
    _, engine, _ = db
    mine = report(client, city, reporter_phone=CALLER).json
    denied = history(client, CALLER, headers=bearer(tokens["dept"]))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    assert count(engine, "audit_log", "action = 'caller.lookup' AND result = 'denied'") == 1
    street = city.grids.path_of(mine["grid"]["unit"]).street
    elsewhere = next(u for u in city.grids.by_level("unit") if city.grids.path_of(u.code).street != street)
    _, hotline = make_account(db[2], "hotline", city.grids.path_of(elsewhere.code).street, None)
    assert history(client, CALLER, headers=bearer(hotline)).json["items"] == []
    lon, lat = inside(elsewhere)
    theirs = client.post(
        "/api/v1/incidents",
        json={"description": "x", "lon": lon, "lat": lat, "reporter_phone": CALLER},
        headers=bearer(hotline),
    ).json
    assert [i["id"] for i in history(client, CALLER, headers=bearer(hotline)).json["items"]] == [theirs["id"]]
    assert {i["id"] for i in history(client, CALLER).json["items"]} == {mine["id"], theirs["id"]}
    assert history(client, "12").status_code == 422


def test_the_same_caller_again_is_suggested_as_a_duplicate(client, city, clock):
    first = report(client, city, unit_index=100, reporter_phone=CALLER, category="020101").json
    clock.now += timedelta(minutes=10)
    again = report(client, city, unit_index=2000, reporter_phone=CALLER, category="020201").json
    assert [(d["id"], d["reason"]) for d in again["duplicates"]] == [(first["id"], "same_caller")]
    assert again["duplicates"][0]["distance_m"] > 100
