"""POST /reports (multipart with evidence), self-handled closure, media listing and audited, verified download.

Runs on both backends. Evidence files are generated at run time (Pillow JPEG with EXIF, a WAV via `wave`);
the media directory is a temporary one per test.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account, issue_token
from dispatcher.access.passwords import hash_password
from tests.conftest import T0
from tests.integration.helpers import count, inside
from tests.unit.dispatcher.test_image_bombs import bomb_png
from tests.unit.dispatcher.test_media import EXE, HTML, SVG, jpeg, png, wav

REPORTS = "/api/v1/reports"
SELF_HANDLE_WALK = ["report", "file", "dispatch", "claim", "handle", "verify", "close"]


@pytest.fixture
def media_dir(app, db, tmp_path):
    """A fresh media directory and a small per-file limit; media rows are removed afterwards (they hold
    foreign keys to incidents, which the shared fixtures delete)."""
    rt = runtime_of(app)
    root = tmp_path / "media"
    rt.settings = rt.settings.model_copy(update={"media_dir": root, "max_media_bytes": 256 * 1024})
    yield root
    with db[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM media"))


@pytest.fixture
def worker(db) -> dict[str, str]:
    """Authorization headers of a grid worker with district scope (created on the current backend)."""
    sessions = db[2]
    with sessions.begin() as session:
        account = session.get(Account, "t-gridworker") or Account(
            id="t-gridworker",
            username="test-gridworker",
            display_name="网格员",
            role="grid_worker",
            region_code="330199",
            department_code=None,
            password_hash=hash_password("x" * 20),
            created_at=T0,
        )
        session.add(account)
        session.flush()
        token = issue_token(session, account, name="tests", kind="app", now=T0)  # the field app on the phone
    return {"Authorization": f"Bearer {token}"}


def report_json(city, **extra) -> dict:
    lon, lat = inside(city.grids.by_level("unit")[10])
    return {
        "description": "井盖缺失",
        "category_code": "020101",
        "lon": lon,
        "lat": lat,
        "client_id": str(uuid.uuid4()),
        **extra,
    }


def post(client, body: dict, files: list[tuple[str, bytes, str, str]] = (), headers=None):
    """POST a multipart report: `files` as (part, content, filename, declared type)."""
    data: dict = {"report": json.dumps(body, ensure_ascii=False)}
    for part, content, filename, declared in files:
        data.setdefault(part, []).append((io.BytesIO(content), filename, declared))
    return client.post(REPORTS, data=data, content_type="multipart/form-data", headers=headers or {})


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_report_with_photo_and_voice_stores_originals_with_hash_and_exif(client, city, db, media_dir):
    photo, voice = jpeg(), wav()
    response = post(
        client,
        report_json(city),
        [("photo", photo, "IMG_1.jpg", "image/jpeg"), ("voice", voice, "note.wav", "audio/wav")],
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "reported" and body["channel"] == "grid_worker"
    by_kind = {m["kind"]: m for m in body["media"]}
    assert by_kind["photo"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert by_kind["photo"]["content_type"] == "image/jpeg" and by_kind["photo"]["size"] == len(photo)
    assert by_kind["photo"]["exif"] == {
        "taken_at": "2026-12-02T01:30:00+00:00",
        "lon": pytest.approx(120.17),
        "lat": pytest.approx(30.26),
    }
    assert by_kind["voice"]["content_type"] == "audio/wav"
    files = stored_files(media_dir)
    assert len(files) == 2 and not any(f.name.endswith(".part") for f in files)
    for item in body["media"]:
        path = media_dir / item["sha256"][:2] / f"{item['id']}.{'jpg' if item['kind'] == 'photo' else 'wav'}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
    listed = client.get(f"/api/v1/incidents/{body['id']}/media")
    assert listed.status_code == 200 and {m["id"] for m in listed.json["items"]} == {m["id"] for m in by_kind.values()}
    assert count(db[1], "media", "incident_id = :i", i=body["id"]) == 2


def test_download_is_an_audited_attachment_with_the_sniffed_type(client, city, db, media_dir):
    photo = jpeg()
    media = post(client, report_json(city), [("photo", photo, "a.html", "image/jpeg")]).json["media"][0]
    response = client.get(f"/api/v1/media/{media['id']}")
    assert response.status_code == 200 and response.data == photo
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        count(
            db[1], "audit_log", "action = 'media.download' AND target = :t AND result = 'ok'", t=f"media:{media['id']}"
        )
        == 1
    )


def test_tampered_file_is_a_409_and_audited(client, city, db, media_dir):
    media = post(client, report_json(city), [("photo", jpeg(), "a.jpg", "image/jpeg")]).json["media"][0]
    path = media_dir / media["sha256"][:2] / f"{media['id']}.jpg"
    path.write_bytes(path.read_bytes() + b"tampered")
    response = client.get(f"/api/v1/media/{media['id']}")
    assert response.status_code == 409
    assert response.json["error"]["message"] == f"evidence file {media['id']} failed its integrity check"
    assert (
        count(
            db[1],
            "audit_log",
            "action = 'media.download' AND target = :t AND result = 'failed'",
            t=f"media:{media['id']}",
        )
        == 1
    )


@pytest.mark.parametrize("content", [HTML, SVG, EXE], ids=["html", "svg", "exe"])
def test_non_images_declared_as_jpeg_are_415_naming_the_part(client, city, db, media_dir, content):
    response = post(
        client,
        report_json(city),
        [("photo", jpeg(), "ok.jpg", "image/jpeg"), ("photo", content, "evil.jpg", "image/jpeg")],
    )
    assert response.status_code == 415, response.json
    assert "part 'photo' (evil.jpg)" in response.json["error"]["message"]
    assert response.json["error"]["field"] == "photo"
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_png_declared_as_jpeg_is_415(client, city, media_dir):
    response = post(client, report_json(city), [("photo", png(), "x.jpg", "image/jpeg")])
    assert response.status_code == 415 and "declared as image/jpeg" in response.json["error"]["message"]


def test_too_big_file_is_413_naming_it(client, city, db, media_dir):
    big = jpeg() + b"\x00" * (300 * 1024)
    response = post(client, report_json(city), [("photo", big, "huge.jpg", "image/jpeg")])
    assert response.status_code == 413
    assert "huge.jpg" in response.json["error"]["message"] and response.json["error"]["field"] == "photo"
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_whole_request_over_the_report_limit_is_413(app, client, city, media_dir):
    rt = runtime_of(app)
    rt.settings = rt.settings.model_copy(update={"max_report_bytes": 10 * 1024})
    response = post(client, report_json(city), [("photo", jpeg() + b"\x00" * 20 * 1024, "a.jpg", "image/jpeg")])
    assert response.status_code == 413


def test_resubmission_with_same_client_id_replays_and_creates_nothing(client, city, db, media_dir):
    body = report_json(city)
    files = [("photo", jpeg(), "a.jpg", "image/jpeg"), ("voice", wav(), "v.wav", "audio/x-wav")]
    first = post(client, body, files)
    again = post(client, body, files)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert count(db[1], "incident") == 1 and count(db[1], "media") == 2 and len(stored_files(media_dir)) == 2
    changed = post(client, body, [("photo", png(), "b.png", "image/png")])
    assert changed.status_code == 409 and count(db[1], "incident") == 1


def test_same_client_id_from_another_account_is_another_report(client, city, db, media_dir, worker):
    body = report_json(city)
    assert post(client, body).status_code == 201
    assert post(client, body, headers=worker).status_code == 201
    assert count(db[1], "incident") == 2


def test_self_handled_report_is_closed_with_full_timeline(client, city, db, media_dir, worker):
    body = report_json(city, self_handled=True, result="已清理并恢复井盖")
    files = [
        ("before", jpeg(), "before.jpg", "image/jpeg"),
        ("after", jpeg(taken="2026:12:02 09:45:00"), "after.jpg", "image/jpeg"),
    ]
    response = post(client, body, files, headers=worker)
    assert response.status_code == 201, response.json
    incident = response.json
    assert incident["status"] == "closed" and incident["closed_at"]
    assert sorted(m["kind"] for m in incident["media"]) == ["after", "before"]
    entries = client.get(f"/api/v1/incidents/{incident['id']}/timeline").json["entries"]
    assert [e["action"] for e in entries] == SELF_HANDLE_WALK
    assert [e["to_status"] for e in entries] == [
        "reported",
        "filed",
        "dispatched",
        "claimed",
        "handled",
        "verified",
        "closed",
    ]
    assert {e["actor"] for e in entries} == {"test-gridworker"}
    assert entries[4]["note"] == "已清理并恢复井盖" and all(e["data"].get("self_handled") for e in entries[1:])
    assert count(db[1], "outbox", "incident_id = :i", i=incident["id"]) == 7
    assert count(db[1], "audit_log", "target = :t", t=f"incident:{incident['id']}") == 7


def test_self_handling_needs_before_and_after_photos(city, db, media_dir, client, worker):
    body = report_json(city, self_handled=True, result="已处理")
    response = post(client, body, [("before", jpeg(), "b.jpg", "image/jpeg")], headers=worker)
    assert response.status_code == 422 and response.json["error"]["field"] == "after"
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_only_a_grid_worker_may_self_handle(client, city, db, media_dir):
    body = report_json(city, self_handled=True, result="已处理")
    files = [("before", jpeg(), "b.jpg", "image/jpeg"), ("after", jpeg(), "a.jpg", "image/jpeg")]
    response = post(client, body, files)  # the district shift leader
    assert response.status_code == 403
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_failure_at_commit_leaves_no_incident_no_media_and_no_files(client, city, db, media_dir, monkeypatch):
    from dispatcher.cases.uow import UnitOfWork

    staged = []

    def failing_commit(self, now):
        staged.extend(stored_files(media_dir))  # the files were written before the commit was attempted
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    monkeypatch.setattr(UnitOfWork, "commit", failing_commit)
    body = report_json(city)
    response = post(client, body, [("photo", jpeg(), "a.jpg", "image/jpeg"), ("voice", wav(), "v.wav", "audio/wav")])
    assert response.status_code == 503
    assert len(staged) == 2 and all(p.name.endswith(".part") for p in staged)
    assert count(db[1], "incident") == 0 and count(db[1], "media") == 0 and count(db[1], "idempotency_key") == 0
    assert stored_files(media_dir) == []
    monkeypatch.undo()
    retried = post(client, body, [("photo", jpeg(), "a.jpg", "image/jpeg"), ("voice", wav(), "v.wav", "audio/wav")])
    assert retried.status_code == 201 and count(db[1], "incident") == 1


@pytest.mark.parametrize(
    "report, field",
    [
        ({"description": "x", "address": "某路1号"}, "report.client_id"),
        ({"description": "x", "address": "某路1号", "client_id": "not-a-uuid"}, "report.client_id"),
        ({"description": "x", "address": "某路1号", "client_id": str(uuid.uuid4()), "self_handled": True}, "report"),
    ],
)
def test_invalid_report_part_is_422_naming_the_field(client, media_dir, report, field):
    response = post(client, report)
    assert response.status_code == 422 and response.json["error"]["field"] == field


def test_unknown_part_json_body_and_missing_report_are_client_errors(client, city, media_dir):
    response = post(client, report_json(city), [("payload", jpeg(), "a.jpg", "image/jpeg")])
    assert response.status_code == 422 and response.json["error"]["field"] == "payload"
    assert client.post(REPORTS, json=report_json(city)).status_code == 415
    missing = client.post(
        REPORTS, data={"photo": (io.BytesIO(jpeg()), "a.jpg", "image/jpeg")}, content_type="multipart/form-data"
    )
    assert missing.status_code == 422 and missing.json["error"]["field"] == "report"


def test_media_of_unknown_incident_or_media_is_404(client, media_dir):
    assert client.get("/api/v1/incidents/nope/media").status_code == 404
    assert client.get("/api/v1/media/nope").status_code == 404


# --- issue 9: hostile uploads and the channel of a report --------------------------------------------------------


@pytest.mark.parametrize(
    "bomb, claimed",
    [(bomb_png(20_000, 20_000, decodable=False), "more pixels than"), (bomb_png(10_000, 8_500), "10000×8500 pixels")],
    ids=["20000x20000-header", "85MP-decodable-335KiB"],
)
def test_a_decompression_bomb_is_413_naming_the_part_and_stores_nothing(
    app, client, city, db, media_dir, bomb, claimed
):
    """Before: the 85 MP PNG (335 KiB) was accepted after decoding ~340 MB to read its EXIF."""
    rt = runtime_of(app)
    rt.settings = rt.settings.model_copy(update={"max_media_bytes": 1024 * 1024})  # the bomb is small enough
    response = post(client, report_json(city), [("photo", bomb, "bomb.png", "image/png")])
    assert response.status_code == 413, response.json
    error = response.json["error"]
    assert error["code"] == "image_too_large" and error["field"] == "photo"
    assert "part 'photo' (bomb.png)" in error["message"] and claimed in error["message"]
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_the_download_keeps_its_sandbox_csp_nosniff_and_a_safe_attachment_name(client, city, media_dir):
    """Before: the app's page CSP (scripts from 'self') replaced the download's sandbox policy."""
    photo = jpeg()
    media = post(client, report_json(city), [("photo", photo, '"><script>.html', "image/jpeg")]).json["media"][0]
    response = client.get(f"/api/v1/media/{media['id']}")
    assert response.status_code == 200 and response.data == photo
    csp = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert not any(d.startswith("script-src") for d in csp)
    assert response.headers.getlist("Content-Security-Policy") == [response.headers["Content-Security-Policy"]]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f"attachment; filename={media['id']}.jpg"


def test_evidence_files_are_readable_by_the_service_user_only(client, city, media_dir):
    media = post(client, report_json(city), [("photo", jpeg(), "a.jpg", "image/jpeg")]).json["media"][0]
    path = media_dir / media["sha256"][:2] / f"{media['id']}.jpg"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(media_dir.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_number_in_the_report_part_is_422_naming_it(client, city, db, media_dir, number):
    text = json.dumps(report_json(city)).replace('"lat": ', f'"lat": {number}, "x_lat": ', 1)
    response = client.post(REPORTS, data={"report": text}, content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == "report" and number.lstrip("-") in response.json["error"]["message"]
    assert count(db[1], "incident") == 0


@pytest.mark.parametrize("channel", ["open311", "public", "hotline"])
def test_a_grid_worker_cannot_report_as_another_channel(client, city, db, media_dir, worker, channel):
    """Before: the body's channel was taken as given (an open311 or public report is published by Open311)."""
    response = post(client, report_json(city, channel=channel), [("photo", jpeg(), "a.jpg", "image/jpeg")], worker)
    assert response.status_code == 403, response.json
    message = response.json["error"]["message"]
    assert "role 'grid_worker'" in message and f"channel '{channel}'" in message
    assert response.json["error"]["field"] == "channel"
    assert count(db[1], "incident") == 0 and stored_files(media_dir) == []


def test_a_grid_workers_report_is_on_the_grid_worker_channel(client, city, media_dir, worker):
    assert post(client, report_json(city), headers=worker).json["channel"] == "grid_worker"
    explicit = post(client, report_json(city, channel="grid_worker"), headers=worker)
    assert explicit.status_code == 201 and explicit.json["channel"] == "grid_worker"
