"""Callers' personal data (PIPL) on both backends: encrypted at rest, readable through the API by roles that
may see it, masked for the others, and re-encrypted in place by migration 0005."""

from __future__ import annotations

import re

import sqlalchemy as sa

from dispatcher.cases.incident import Incident
from dispatcher.store import cipher
from tests.integration.helpers import inside

PHONE = "13812345678"
NAME = "王小明"
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _report(client, city, **extra):
    lon, lat = inside(city.grids.by_level("unit")[10])
    body = {
        "description": "楼道堆放杂物，请尽快处理",
        "category_code": "020101",
        "lon": lon,
        "lat": lat,
        "reporter_name": NAME,
        "reporter_phone": PHONE,
        **extra,
    }
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.json
    return response.json


def _raw(engine, incident_id: str):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT reporter_name, reporter_phone FROM incident WHERE id = :i"), {"i": incident_id}
        ).one()


def test_reporter_name_and_phone_are_ciphertext_in_the_database(client, city, db):
    _, engine, sessions = db
    created = _report(client, city)
    name, phone = _raw(engine, created["id"])
    for stored, plain in [(name, NAME), (phone, PHONE)]:
        assert stored.startswith("v1:") and plain not in stored
        assert "5678" not in stored[:3]
    with sessions() as session:  # the ORM decrypts
        incident = session.get(Incident, created["id"])
        assert (incident.reporter_name, incident.reporter_phone) == (NAME, PHONE)


def test_no_table_holds_the_full_number_anywhere(client, city, db):
    """Every column of every table, read with plain SQL: the number appears nowhere (incident, outbox,
    timeline, idempotency store...)."""
    _, engine, _ = db
    created = _report(client, city, external_id="EXT-1")
    assert client.post(f"/api/v1/incidents/{created['id']}/actions/file", json={}).status_code == 200
    replayed = client.post(
        "/api/v1/incidents",
        headers={"Idempotency-Key": "privacy-1"},
        json={
            "description": "噪音扰民",
            "category_code": "020101",
            "lon": created["location"]["lon"],
            "lat": created["location"]["lat"],
            "reporter_name": "李四",
            "reporter_phone": "15912345678",
        },
    )
    assert replayed.status_code == 201
    found = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            if table in {"grid", "spatial_ref_sys", "alembic_version"}:
                continue
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                text = " ".join(str(v) for v in row)
                if PHONE in text or "15912345678" in text:
                    found.append(table)
    assert found == [], f"full phone number stored in plain text in: {set(found)}"


def test_reads_and_lists_show_masks_to_everyone(client, city, tokens):
    created = _report(client, city)
    for who in ("leader", "dept"):
        read = client.get(f"/api/v1/incidents/{created['id']}", headers={"Authorization": f"Bearer {tokens[who]}"})
        assert read.status_code == 200, read.json
        assert read.json["reporter_name"] == "王**" and read.json["reporter_phone"] == "138****5678"
        assert not FULL_MOBILE.search(read.get_data(as_text=True))
    listed = client.get("/api/v1/incidents").get_data(as_text=True)
    assert NAME not in listed and not FULL_MOBILE.search(listed)


def test_unmasking_is_for_call_back_roles_and_is_audited(client, city, tokens, db):
    _, engine, _ = db
    created = _report(client, city)
    before = _audit_count(engine, created["id"])
    shown = client.post(f"/api/v1/incidents/{created['id']}/unmask")  # the shift leader calls back
    assert shown.status_code == 200 and shown.json == {"reporter_name": NAME, "reporter_phone": PHONE}
    refused = client.post(
        f"/api/v1/incidents/{created['id']}/unmask", headers={"Authorization": f"Bearer {tokens['dept']}"}
    )
    assert refused.status_code == 403
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, result FROM audit_log WHERE action = 'unmask' AND target = :t ORDER BY id"),
            {"t": f"incident:{created['id']}"},
        ).all()
    assert _audit_count(engine, created["id"]) == before + 2
    assert [tuple(r) for r in rows[-2:]] == [("test-leader", "ok"), ("test-dept", "denied")]


def _audit_count(engine, incident_id: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'unmask' AND target = :t"),
            {"t": f"incident:{incident_id}"},
        )


def test_migration_0005_encrypts_existing_rows_and_downgrade_restores_them(backend):
    """Rows written in plain text before 0005 are encrypted by the upgrade; the downgrade decrypts them."""
    from dispatcher.store.migrate import downgrade, upgrade

    _, engine = backend
    with engine.begin() as conn:
        for table in ("timeline", "outbox", "idempotency_key", "incident"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    downgrade(engine, "0004")
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO incident (id, version, channel, status, description, reporter_name, reporter_phone, "
                    "urgency, rework_count, return_count, escalation_count, created_at, updated_at) VALUES "
                    "('m1', 1, 'hotline', 'reported', 'x', :n, :p, 1, 0, 0, 0, :t, :t), "
                    "('m2', 1, 'hotline', 'reported', 'y', NULL, NULL, 1, 0, 0, 0, :t, :t)"
                ),
                {"n": NAME, "p": PHONE, "t": "2026-12-02 02:00:00"},
            )
        upgrade(engine)
        name, phone = _raw(engine, "m1")
        assert cipher.is_encrypted(name) and cipher.is_encrypted(phone) and PHONE not in phone
        assert (cipher.decrypt(name), cipher.decrypt(phone)) == (NAME, PHONE)
        assert tuple(_raw(engine, "m2")) == (None, None)
        upgrade(engine)  # idempotent: nothing is encrypted twice
        assert cipher.decrypt(_raw(engine, "m1")[1]) == PHONE
        downgrade(engine, "0004")
        assert tuple(_raw(engine, "m1")) == (NAME, PHONE)
    finally:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM incident WHERE id IN ('m1', 'm2')"))
