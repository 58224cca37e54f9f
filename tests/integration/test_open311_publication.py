"""Open311's public reads publish only what is public (issue 9, item 3), on both backends, as an anonymous
visitor sees them: only the channels and categories the city publishes (data/open311_public.yaml), only notes
written for the public, every text with its phone and ID numbers masked, and XML that always parses."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import xmltodict
import yaml
from flask.testing import FlaskClient

from dashboard.runtime import runtime_of
from dispatcher.cases.incident import Channel
from dispatcher.cases.uow import UnitOfWork
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.publication import PUBLICATION_FILE
from dispatcher.intake.reports import create_incident
from dispatcher.settings import REPO_ROOT
from tests.conftest import T0
from tests.integration.helpers import act, inside
from tests.integration.test_open311 import BASE, _token, example, post

PUBLIC = {str(Channel.OPEN311), str(Channel.PUBLIC)}
# What must never reach a visitor: a full mobile, an ID number, the landline's digits.
FULL_NUMBER = re.compile(r"1[3-9]\d{9}|\d{17}[\dXx]|8765")


@pytest.fixture
def visitor(app) -> FlaskClient:
    """Someone on the internet: no session, no token."""
    return FlaskClient(app, app.response_class)


@pytest.fixture
def api_key(db):
    return _token(db[2])


def receive(app, city, channel: str, category: str = "020101", **fields) -> str:
    """A report received through `channel`, as the engine receives it; its id."""
    rt = runtime_of(app)
    lon, lat = inside(city.grids.by_level("unit")[10])
    command = CreateIncident(
        channel=Channel(channel),
        category_code=category,
        description=fields.pop("description", f"{channel}上报：路边垃圾，联系人13812345678"),
        lon=lon,
        lat=lat,
        address=fields.pop("address", "人民路1号，13912345678"),
        reporter_name="王五",
        reporter_phone="13712345678",
        **fields,
    )
    with UnitOfWork(rt.sessions) as uow:
        incident = create_incident(uow, rt.city, command, actor=f"{channel}-intake", now=rt.clock())
        uow.session.flush()
        incident_id = incident.id
        uow.commit(rt.clock())
    return incident_id


def listed(client, query: str = "", fmt: str = "json") -> list[str]:
    response = client.get(f"{BASE}/requests.{fmt}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        return [r["service_request_id"] for r in response.get_json()]
    requests = xmltodict.parse(response.get_data(as_text=True))["service_requests"]
    items = (requests or {}).get("request") or []
    return [r["service_request_id"] for r in (items if isinstance(items, list) else [items])]


def use_rules(app, tmp_path, **changes) -> None:
    """Publish by these rules (the shipped file with `changes`), read from another data directory."""
    raw = yaml.safe_load((REPO_ROOT / "data" / PUBLICATION_FILE).read_text(encoding="utf-8"))
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / PUBLICATION_FILE).write_text(yaml.safe_dump({**raw, **changes}, allow_unicode=True), encoding="utf-8")
    rt = runtime_of(app)
    rt.settings = rt.settings.model_copy(update={"data_dir": tmp_path})


# --- 1. only the channels (and categories) the city publishes ------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_only_reports_of_the_public_are_published_every_other_channel_is_invisible(app, city, clock, visitor, fmt):
    clock.now = T0 - timedelta(hours=1)
    ids = {str(channel): receive(app, city, str(channel)) for channel in Channel}
    clock.now = T0
    published = {ids[c] for c in PUBLIC}
    everything = ",".join(ids.values())
    assert set(listed(visitor, fmt=fmt)) == published
    assert set(listed(visitor, f"?service_request_id={everything}", fmt)) == published
    assert set(listed(visitor, "?service_code=020101&status=open", fmt)) == published
    unknown = visitor.get(f"{BASE}/requests/00000000-0000-4000-8000-000000000000.{fmt}")
    for channel, incident_id in ids.items():
        for path in (f"requests/{incident_id}", f"tokens/{incident_id}"):
            response = visitor.get(f"{BASE}/{path}.{fmt}")
            if channel in PUBLIC:
                assert response.status_code == 200, (channel, path)
                assert incident_id in response.get_data(as_text=True)
            else:  # exactly what an id that never existed gets
                assert response.status_code == 404, (channel, path)
                if path.startswith("requests"):
                    hidden = response.get_data(as_text=True).replace(incident_id, "?")
                    assert hidden == unknown.get_data(as_text=True).replace("00000000-0000-4000-8000-000000000000", "?")


def test_categories_the_city_excludes_or_leaves_out_are_not_published(app, city, visitor, tmp_path):
    garbage = receive(app, city, "open311", "020101")  # 暴露垃圾 (big class 0201)
    parking = receive(app, city, "public", "020504")  # 机动车乱停放 (big class 0205)
    food = receive(app, city, "open311", "020601")  # 无证照食品经营 (family 02, big class 0206)
    assert set(listed(visitor)) == {garbage, parking, food}
    use_rules(app, tmp_path / "exclude", categories={"exclude": ["0205", "020601"]})
    assert listed(visitor) == [garbage]
    assert visitor.get(f"{BASE}/requests/{parking}.json").status_code == 404
    use_rules(app, tmp_path / "include", categories={"include": ["0205", "0206"], "exclude": ["020601"]})
    assert listed(visitor) == [parking]
    hotline = receive(app, city, "hotline", "020101")
    use_rules(app, tmp_path / "channels", channels=["hotline"])
    assert listed(visitor) == [hotline]  # the channels are the city's data too


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_rules_that_cannot_be_read_publish_nothing(app, city, visitor, tmp_path, fmt):
    incident_id = receive(app, city, "open311")
    use_rules(app, tmp_path / "typo", categories={"exclude": ["0299"]})  # no such big class: a typo hides nothing
    missing = tmp_path / "missing"
    missing.mkdir()
    for data_dir in (tmp_path / "typo", missing):
        rt = runtime_of(app)
        rt.settings = rt.settings.model_copy(update={"data_dir": data_dir})
        for path in ("requests", f"requests/{incident_id}", f"tokens/{incident_id}"):
            response = visitor.get(f"{BASE}/{path}.{fmt}")
            assert response.status_code == 503, (data_dir, path)
            body = response.get_data(as_text=True)
            assert PUBLICATION_FILE in body and "路边垃圾" not in body
            if fmt == "xml":
                assert xmltodict.parse(body)["errors"]["error"]["code"] == "503"


# --- 2. only notes written for the public ----------------------------------------------------------------


def test_a_dispatcher_writes_the_public_note_and_staff_notes_stay_inside(visitor, client, city, api_key):
    rid = post(visitor, example(city, api_key)).get_json()[0]["service_request_id"]
    names = ["test-leader", "partner-hotline"]  # who acted on it and who reported it
    secrets = ["内部：请王科长13912345678跟进", "举报人张三情绪激动", "区里协调李师傅", *names]
    steps = [  # (action, body, what the public reads afterwards)
        ("file", {"note": secrets[0]}, "已立案，等待派遣至责任单位。"),
        ("dispatch", {"public_note": "已派遣环卫部门，预计今日处理。"}, "已派遣环卫部门，预计今日处理。"),
        ("dispatch", {"note": secrets[0]}, "已派遣环卫部门，预计今日处理。"),  # same status: the note stands
        ("escalate", {"reason": secrets[1], "note": secrets[2]}, "已提交上级协调处置。"),
        ("void", {"reason": secrets[1], "note": secrets[0]}, "经核实不予立案，已关闭。"),
    ]
    for action, body, expected in steps:
        seen = client.get(f"/api/v1/incidents/{rid}").json["version"]  # a re-dispatch names the version it saw
        assert act(client, rid, action, **body, expected_version=seen).status_code == 200, action
        for fmt in ("json", "xml"):
            text = visitor.get(f"{BASE}/requests/{rid}.{fmt}").get_data(as_text=True)
            assert expected in text, (action, fmt)
            for secret in secrets:
                assert secret not in text, (action, fmt, secret)
    timeline = client.get(f"/api/v1/incidents/{rid}/timeline").get_json()["entries"]
    dispatched = next(e for e in timeline if e["action"] == "dispatch")
    assert dispatched["data"]["public_note"] == "已派遣环卫部门，预计今日处理。" and dispatched["note"] is None


# --- 3. every public text redacted -----------------------------------------------------------------------


def test_published_requests_carry_no_phone_or_id_number_in_any_form(app, visitor, client, city, api_key):
    body = example(
        city,
        api_key,
        description="井盖丢失，我是李四，手机１３８　１２３４　５６７８，身份证3301 0619 9001 0112 3X，请回电",
        address_string="人民路1号（房东 +86 139.1234.5678，座机（0571）8765-4321）",
    )
    rid = post(visitor, body).get_json()[0]["service_request_id"]
    assert act(client, rid, "file", public_note="已联系房东0086 137-1234-5678核实").status_code == 200
    answers = {fmt: visitor.get(f"{BASE}/requests/{rid}.{fmt}").get_data(as_text=True) for fmt in ("json", "xml")}
    answers["list"] = visitor.get(f"{BASE}/requests.json").get_data(as_text=True)
    for name, text in answers.items():
        assert not FULL_NUMBER.search(text), (name, text)
        for private in ("１３８", "john", "smith", "111111111"):
            assert private not in text, (name, private)
    [shown] = visitor.get(f"{BASE}/requests/{rid}.json").get_json()
    assert "138****5678" in shown["description"] and "330***********123X" in shown["description"]
    assert shown["address"] == "人民路1号（房东 139****5678，座机0571-****4321）"
    assert shown["status_notes"] == "已联系房东137****5678核实"


# --- 4. control characters never break the XML ----------------------------------------------------------


def test_control_characters_in_a_description_still_give_parseable_xml(visitor, city, api_key):
    controls = "".join(chr(c) for c in range(1, 0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"
    description = f"井盖{controls}丢失\t了"
    response = post(visitor, example(city, api_key, description=description, address_string=f"人民路{controls}1号"))
    assert response.status_code == 201
    rid = response.get_json()[0]["service_request_id"]
    for path in (f"requests/{rid}.xml", "requests.xml"):
        parsed = xmltodict.parse(visitor.get(f"{BASE}/{path}").get_data(as_text=True))["service_requests"]["request"]
        request = parsed if isinstance(parsed, dict) else next(r for r in parsed if r["service_request_id"] == rid)
        assert request["description"] == "井盖丢失\t了" and request["address"] == "人民路1号"
    assert visitor.get(f"{BASE}/requests/{rid}.json").get_json()[0]["description"] == description  # JSON escapes them
