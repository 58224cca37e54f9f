"""Evidence added to an existing case (POST /incidents/{id}/media) at handling, return, verification and callback,
with the same checks as intake, and the thumbnails the drawer shows. Runs on both backends."""

from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.exc import OperationalError

from dashboard.runtime import runtime_of
from tests.integration.helpers import act, count, report
from tests.integration.test_scope_matrix import bearer, make_account
from tests.unit.dispatcher.test_media import HTML, jpeg, wav

STAGES = ["handle", "return", "verify", "callback"]


@pytest.fixture
def media_dir(app, db, tmp_path):
    """A fresh media directory and a small per-file limit; media rows go afterwards (they hold incidents)."""
    rt = runtime_of(app)
    root = tmp_path / "media"
    rt.settings = rt.settings.model_copy(update={"media_dir": root, "max_media_bytes": 256 * 1024})
    yield root
    with db[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM media"))


def add(client, incident_id: str, stage: str | None, files, note: str | None = None, headers=None):
    """POST evidence: `files` as (part, content, filename, declared type)."""
    data: dict = {} if stage is None else {"stage": stage}
    if note is not None:
        data["note"] = note
    for part, content, filename, declared in files:
        data.setdefault(part, []).append((io.BytesIO(content), filename, declared))
    return client.post(
        f"/api/v1/incidents/{incident_id}/media", data=data, content_type="multipart/form-data", headers=headers or {}
    )


def dispatched(client, city) -> dict:
    incident = report(client, city).json
    for action in ("file", "dispatch"):
        response = act(client, incident["id"], action)
        assert response.status_code == 200, response.json
    return response.json


def files_in(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def head_of(tokens, department: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[f'dept:{department}']}"}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_commits_rows_timeline_outbox_audit_and_files(client, city, db, media_dir, stage):
    case = dispatched(client, city)
    photo, voice = jpeg(), wav()
    files = [("photo", photo, "p.jpg", "image/jpeg"), ("voice", voice, "v.wav", "audio/wav")]
    response = add(client, case["id"], stage, files, note="现场照片")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["incident_id"] == case["id"] and body["stage"] == stage and body["version"] == case["version"] + 1
    assert {m["stage"] for m in body["media"]} == {stage}
    assert [m["sha256"] for m in body["media"]] == [
        hashlib.sha256(photo).hexdigest(),
        hashlib.sha256(voice).hexdigest(),
    ]
    engine = db[1]
    assert count(engine, "media", "incident_id = :i AND stage = :s", i=case["id"], s=stage) == 2
    timeline = client.get(f"/api/v1/incidents/{case['id']}/timeline").json["entries"]
    last = timeline[-1]
    assert last["action"] == "evidence" and last["from_status"] == last["to_status"] == "dispatched"
    assert last["note"] == "现场照片" and last["data"]["stage"] == stage
    assert last["data"]["media"] == [m["id"] for m in body["media"]]
    assert last["data"]["sha256"] == [m["sha256"] for m in body["media"]]
    assert count(engine, "outbox", "incident_id = :i AND name = 'incident.evidence'", i=case["id"]) == 1
    target = f"incident:{case['id']}"
    assert count(engine, "audit_log", "action = 'incident.evidence' AND target = :t", t=target) == 1
    stored = files_in(media_dir)
    assert len(stored) == 2 and not any(p.name.endswith(".part") for p in stored)
    for item in body["media"]:
        path = next(p for p in stored if p.stem == item["id"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
    listed = client.get(f"/api/v1/incidents/{case['id']}/media").json["items"]
    assert {m["stage"] for m in listed} == {stage}


def test_the_department_handling_it_and_the_grid_worker_add_evidence(client, city, db, media_dir, tokens):
    case = dispatched(client, city)
    department = case["department_code"]
    ok = add(
        client, case["id"], "handle", [("after", jpeg(), "a.jpg", "image/jpeg")], headers=head_of(tokens, department)
    )
    assert ok.status_code == 201, ok.json
    worker = bearer(make_account(db[2], "grid_worker", "330199", None)[1])
    ok = add(client, case["id"], "verify", [("photo", jpeg(), "v.jpg", "image/jpeg")], headers=worker)
    assert ok.status_code == 201, ok.json
    assert count(db[1], "media", "incident_id = :i", i=case["id"]) == 2


def test_outsiders_are_refused_naming_user_and_incident(client, city, db, media_dir, tokens):
    case = dispatched(client, city)
    other = next(code for code in city.catalogue.departments if code != case["department_code"])
    photo = [("photo", jpeg(), "p.jpg", "image/jpeg")]
    refused = {
        "another department (does not see it)": (head_of(tokens, other), 404),
        "a department head who only sees it": ({"Authorization": f"Bearer {tokens['dept']}"}, 403),
        "a leader (read only)": (bearer(make_account(db[2], "leader", "330199", None)[1]), 403),
        "the administrator": ({"Authorization": f"Bearer {tokens['admin']}"}, 404),
        "a grid worker elsewhere": (bearer(make_account(db[2], "grid_worker", "999999", None)[1]), 404),
    }
    for who, (headers, status) in refused.items():
        response = add(client, case["id"], "handle", photo, headers=headers)
        assert response.status_code == status, (who, response.json)
        assert case["id"] in response.json["error"]["message"], who
    message = add(client, case["id"], "handle", photo, headers={"Authorization": f"Bearer {tokens['dept']}"})
    assert "user test-dept:" in message.json["error"]["message"]
    assert count(db[1], "media") == 0 and files_in(media_dir) == []
    assert count(db[1], "timeline", "action = 'evidence'") == 0


def test_a_finished_case_is_a_409_naming_id_and_status(client, city, db, media_dir):
    case = report(client, city).json
    assert act(client, case["id"], "void", reason="重复上报").status_code == 200
    response = add(client, case["id"], "callback", [("photo", jpeg(), "p.jpg", "image/jpeg")])
    assert response.status_code == 409
    assert case["id"] in response.json["error"]["message"] and "voided" in response.json["error"]["message"]
    assert count(db[1], "media") == 0 and files_in(media_dir) == []


@pytest.mark.parametrize("stage", [None, "intake", "later"])
def test_stage_is_required_and_must_be_a_later_step(client, city, db, media_dir, stage):
    case = dispatched(client, city)
    response = add(client, case["id"], stage, [("photo", jpeg(), "p.jpg", "image/jpeg")])
    assert response.status_code == 422 and response.json["error"]["field"] == "stage"


def test_html_disguised_as_jpeg_is_415_and_stores_nothing(client, city, db, media_dir):
    case = dispatched(client, city)
    response = add(client, case["id"], "handle", [("photo", HTML, "x.jpg", "image/jpeg")])
    assert response.status_code == 415 and response.json["error"]["field"] == "photo"
    assert count(db[1], "media") == 0 and files_in(media_dir) == []


def test_too_large_no_file_unknown_part_and_json_are_refused(client, city, db, media_dir):
    case = dispatched(client, city)
    big = add(client, case["id"], "handle", [("voice", wav() + b"\x00" * 300 * 1024, "v.wav", "audio/wav")])
    assert big.status_code == 413 and "v.wav" in big.json["error"]["message"]
    assert add(client, case["id"], "handle", []).status_code == 422
    assert add(client, case["id"], "handle", [("payload", jpeg(), "p.jpg", "image/jpeg")]).status_code == 422
    assert client.post(f"/api/v1/incidents/{case['id']}/media", json={"stage": "handle"}).status_code == 415
    assert count(db[1], "media") == 0 and files_in(media_dir) == []


def test_failure_at_commit_writes_nothing_and_leaves_no_file(client, city, db, media_dir, monkeypatch):
    from dispatcher.cases.uow import UnitOfWork

    case = dispatched(client, city)
    before = count(db[1], "timeline", "incident_id = :i", i=case["id"])
    staged = []

    def failing_commit(self, now):
        staged.extend(files_in(media_dir))
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    monkeypatch.setattr(UnitOfWork, "commit", failing_commit)
    response = add(client, case["id"], "handle", [("photo", jpeg(), "p.jpg", "image/jpeg")])
    assert response.status_code == 503
    assert len(staged) == 1 and staged[0].name.endswith(".part")
    assert count(db[1], "media") == 0 and files_in(media_dir) == []
    assert count(db[1], "timeline", "incident_id = :i", i=case["id"]) == before
    assert count(db[1], "outbox", "name = 'incident.evidence'") == 0


def big_jpeg(width: int = 1200, height: int = 800) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(buf, "JPEG")
    return buf.getvalue()


def test_thumbnail_is_a_small_private_jpeg_of_images_only(client, city, db, media_dir, tokens):
    case = dispatched(client, city)
    files = [("photo", big_jpeg(), "big.jpg", "image/jpeg"), ("voice", wav(), "v.wav", "audio/wav")]
    photo, voice = add(client, case["id"], "handle", files).json["media"]
    response = client.get(f"/api/v1/media/{photo['id']}/thumbnail")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    cache = response.headers["Cache-Control"]  # the view says private; the API's hardening may make it no-store
    assert cache.startswith("private") or cache == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.format == "JPEG" and max(image.size) == 320 and image.size == (320, 213)
    assert len(response.data) < photo["size"]
    assert client.get(f"/api/v1/media/{voice['id']}/thumbnail").status_code == 404
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.get(f"/api/v1/media/{photo['id']}/thumbnail", headers=admin).status_code == 404
    denied = "action = 'media.thumbnail' AND result = 'denied' AND target = :t"
    assert count(db[1], "audit_log", denied, t=f"media:{photo['id']}") == 1
    path = next(p for p in files_in(media_dir) if p.stem == photo["id"])
    path.write_bytes(path.read_bytes() + b"tampered")
    assert client.get(f"/api/v1/media/{photo['id']}/thumbnail").status_code == 409


def test_the_drawer_lists_the_evidence_with_thumbnail_link_and_hash(app, client, city, db, media_dir, tokens):
    from dashboard.pages.drawer_media import media_section

    case = dispatched(client, city)
    photo = add(client, case["id"], "handle", [("photo", jpeg(), "p.jpg", "image/jpeg")]).json["media"][0]
    headers = {"Authorization": f"Bearer {tokens['leader']}"}
    with app.test_request_context("/_dash-update-component", method="POST", headers=headers):
        text = repr(media_section(case["id"], "zh"))
    assert f"/api/v1/media/{photo['id']}/thumbnail" in text and f"href='/api/v1/media/{photo['id']}'" in text
    assert f"SHA-256 {photo['sha256']}" in text and photo["sha256"][:12] + "…" in text
    assert "处置" in text and "cc-ev-upload" in text  # the shift leader may add more
    with app.test_request_context(
        "/_dash-update-component", method="POST", headers={"Authorization": f"Bearer {tokens['admin']}"}
    ):
        assert media_section(case["id"], "zh") == []


def test_a_file_dropped_in_the_drawer_goes_through_the_same_checks(app, client, city, db, media_dir, tokens):
    import base64

    from dashboard.api.evidence import add_evidence
    from dashboard.pages.components import viewer
    from dashboard.pages.drawer_media import decoded
    from dispatcher.intake.media import UnsupportedMedia

    case = dispatched(client, city)
    url = lambda data, kind: f"data:{kind};base64,{base64.b64encode(data).decode()}"
    headers = {"Authorization": f"Bearer {tokens['leader']}"}
    with app.test_request_context("/_dash-update-component", method="POST", headers=headers):
        with pytest.raises(UnsupportedMedia):
            decoded([url(HTML, "image/jpeg")], ["x.jpg"], 256 * 1024)
        uploads = decoded([url(jpeg(), "image/jpeg"), url(wav(), "audio/wav")], ["p.jpg", "v.wav"], 256 * 1024)
        body = add_evidence(viewer(), case["id"], uploads, stage="verify", note=None)
    assert [m["kind"] for m in body["media"]] == ["photo", "voice"] and body["stage"] == "verify"
    assert count(db[1], "media", "incident_id = :i AND stage = 'verify'", i=case["id"]) == 2
    assert len(files_in(media_dir)) == 2
