"""Open311 GeoReport v2 mapping (dispatcher/intake/open311.py, open311_xml.py): services, statuses, what a public
request shows (public notes only, every text redacted), field parsing, XML shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import xmltodict

from dispatcher.cases.actions import action_data
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.intake import open311 as o311
from dispatcher.intake.open311_xml import to_xml
from dispatcher.intake.publication import PUBLICATION_FILE, load_publication
from dispatcher.settings import REPO_ROOT

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLICATION = load_publication(REPO_ROOT / "data" / PUBLICATION_FILE)
FULL_NUMBER = re.compile(r"1[3-9]\d{9}|\d{17}[\dX]|8765")  # a mobile, an ID number, the landline's digits


# --- services ----------------------------------------------------------------------------------------


def test_every_small_class_is_a_realtime_service_grouped_by_big_class(city):
    catalogue = city.catalogue
    listed = o311.services(catalogue)
    assert [s["service_code"] for s in listed] == sorted(catalogue.categories)
    garbage = next(s for s in listed if s["service_code"] == "020101")
    category = catalogue.category("020101")
    assert garbage == {
        "service_code": "020101",
        "service_name": category.name_zh,
        "description": garbage["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": catalogue.big_classes[category.big_class].name_zh,
    }
    assert category.name_zh in garbage["description"]


def test_english_locale_uses_english_names(city):
    category = city.catalogue.category("020101")
    entry = o311.service(city.catalogue, category, o311.language("en_US"))
    assert entry["service_name"] == category.name_en
    assert entry["group"] == city.catalogue.big_classes[category.big_class].name_en
    assert o311.language(None) == o311.language("zh-CN") == "zh"


def test_service_definition_offers_an_optional_urgency_list(city):
    definition = o311.service_definition(city.catalogue.category("020101"))
    assert definition["service_code"] == "020101"
    [attribute] = definition["attributes"]
    assert attribute["code"] == "urgency" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is False and attribute["variable"] is True
    assert [v["key"] for v in attribute["values"]] == ["1", "2", "3"]


def test_attributes_are_checked_against_the_definition(city):
    category = city.catalogue.category("020101")
    assert o311.parse_attributes(category, {"attribute[urgency]": "3", "description": "x"}) == {"urgency": 3}
    # the spec example's attributes are not ours: ignored, not an error
    assert o311.parse_attributes(category, {"attribute[WHISPAWN]": "123456", "attribute[WHISDORN]": "COISL001"}) == {}
    with pytest.raises(o311.Open311Error) as err:
        o311.parse_attributes(category, {"attribute[urgency]": "9"})
    assert err.value.status == 400 and "attribute[urgency]" in err.value.description


def test_service_notice_states_the_handling_limit(city):
    category = city.catalogue.category("020101")
    limit = category.limit("handle")
    assert str(limit.amount) in o311.service_notice(category)
    assert "handled within" in o311.service_notice(category, "en")


# --- statuses and requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_status_maps_the_lifecycle_to_open_or_closed(status):
    expected = "open" if status in OPEN_STATUSES else "closed"
    assert o311.public_status(str(status)) == expected
    if str(status) in ("closed", "archived", "voided", "merged"):
        assert expected == "closed"


def _incident(city, **fields) -> Incident:
    incident = Incident(
        channel=str(Channel.OPEN311),
        status=str(Status.REPORTED),
        category_code="020101",
        description="路边有垃圾，联系13812345678",
        address="人民路1号",
        reporter_name="张三",
        reporter_phone="13812345678",
        created_at=NOW,
        updated_at=NOW,
        lon=120.19,
        lat=30.27,
        department_code=next(iter(city.catalogue.departments)),
        stage_deadline=NOW + timedelta(hours=2),
        **fields,
    )
    incident.status = None
    incident.record(
        action="report",
        actor="partner",
        now=NOW,
        to=Status.REPORTED,
        data={"channel": "open311", "media_url": "http://someurl.com/image.jpg"},
    )
    return incident


def test_service_request_has_the_public_fields_only(city):
    incident = _incident(city)
    entry = o311.service_request(incident, city.catalogue, PUBLICATION, tz=SHANGHAI)
    assert list(entry) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    department = city.catalogue.departments[incident.department_code]
    assert entry["status"] == "open" and entry["agency_responsible"] == department.name_zh
    assert entry["requested_datetime"] == "2026-12-02T10:00:00+08:00"
    assert entry["expected_datetime"] == "2026-12-02T12:00:00+08:00"
    assert (entry["lat"], entry["long"]) == (30.27, 120.19)
    assert entry["media_url"] == "http://someurl.com/image.jpg"
    text = repr(entry)
    assert "张三" not in text and "13812345678" not in text  # reporter never shown; numbers in text masked
    assert "138****5678" in entry["description"]


def _act(incident: Incident, action: str, to: Status, **fields) -> None:
    """Record an action as perform_action does: the internal note on the row, the rest in its data."""
    request = ActionRequest(**fields)
    incident.record(action=action, actor="王科长", now=NOW, to=to, note=request.note, data=action_data(request))


INTERNAL = {
    "note": "内部：联系王科长13912345678",
    "result": "已由李师傅清运",
    "reason": "举报人张三情绪激动",
    "assignee": "李师傅",
}


def test_status_notes_are_only_what_was_written_for_the_public(city):
    incident = _incident(city)
    _act(incident, "file", Status.FILED, note=INTERNAL["note"])
    assert o311.service_request(incident, city.catalogue, PUBLICATION)["status_notes"] == "已立案，等待派遣至责任单位。"
    _act(incident, "dispatch", Status.DISPATCHED, note="内部派遣说明", assignee=INTERNAL["assignee"])
    _act(incident, "claim", Status.CLAIMED, public_note="已安排环卫人员，预计今天下午清运。")
    _act(incident, "extend", Status.CLAIMED, note=INTERNAL["note"], reason=INTERNAL["reason"])
    entry = o311.service_request(incident, city.catalogue, PUBLICATION)
    assert entry["status_notes"] == "已安排环卫人员，预计今天下午清运。"  # still the latest public note of this status
    _act(incident, "handle", Status.HANDLED, result=INTERNAL["result"], note=INTERNAL["note"])
    entry = o311.service_request(incident, city.catalogue, PUBLICATION, lang="en")
    assert entry["status_notes"] == "Handled; waiting to be checked."  # the old public note no longer applies
    _act(incident, "verify", Status.VERIFIED)
    _act(incident, "close", Status.CLOSED, note=INTERNAL["note"], public_note="垃圾已清运。如有问题请拨打0571-87654321")
    entry = o311.service_request(incident, city.catalogue, PUBLICATION)
    assert entry["status"] == "closed" and entry["expected_datetime"] is None
    assert entry["status_notes"] == "垃圾已清运。如有问题请拨打0571-****4321"  # public notes are redacted too
    text = repr(entry)
    for private in (*INTERNAL.values(), "王科长", "内部", "13912345678", "87654321"):
        assert private not in text


def test_voided_and_merged_requests_get_the_neutral_text_not_the_reason(city):
    voided = _incident(city)
    _act(voided, "void", Status.VOIDED, reason="重复上报，举报人王五13812345678", note="内部备注")
    entry = o311.service_request(voided, city.catalogue, PUBLICATION)
    assert (entry["status"], entry["status_notes"]) == ("closed", "经核实不予立案，已关闭。")
    merged = _incident(city)
    _act(merged, "merge", Status.MERGED, parent_id="another-case")
    assert o311.service_request(merged, city.catalogue, PUBLICATION, lang="en")["status_notes"] == (
        "Merged with another report of the same problem."
    )


def test_every_status_has_a_neutral_note_in_both_languages():
    for status in Status:
        zh, en = PUBLICATION.status_note(str(status)), PUBLICATION.status_note(str(status), "en")
        assert zh and en and zh != en and not re.search(r"\d", zh + en)


def test_every_public_text_goes_through_the_redaction(city):
    incident = _incident(city)
    incident.description = "井盖丢了，我是李四，电话１３８　１２３４　５６７８，身份证330106199001011234"
    incident.address = "人民路1号（业主 +86 139-1234-5678，座机（0571）8765 4321）"
    incident.timeline[0].data = {**incident.timeline[0].data, "media_url": "http://x.example/u/13812345678.jpg"}
    _act(incident, "file", Status.FILED, public_note="已联系业主（电话138.1234.5678）")
    entry = o311.service_request(incident, city.catalogue, PUBLICATION)
    assert entry["description"] == "井盖丢了，我是李四，电话138****5678，身份证330***********1234"
    assert entry["address"] == "人民路1号（业主 139****5678，座机0571-****4321）"
    assert entry["status_notes"] == "已联系业主（电话138****5678）"
    assert entry["media_url"] == "http://x.example/u/138****5678.jpg"
    assert not FULL_NUMBER.search(repr(entry)), entry
    assert entry["service_request_id"] == incident.id  # identifiers are not touched


def test_created_answer_is_the_id_itself(city):
    incident = _incident(city)
    assert o311.created(incident, city.catalogue) == {
        "service_request_id": incident.id,
        "service_notice": o311.service_notice(city.catalogue.category("020101")),
        "account_id": None,
    }


# --- field parsing -----------------------------------------------------------------------------------


def test_location_needs_both_coordinates_in_range():
    assert o311.parse_location("37.76524078", "-122.4212043") == (-122.4212043, 37.76524078)
    assert o311.parse_location(None, "") == (None, None)
    for lat, lon, field in [
        ("91", "120", "lat"),
        ("30", "181", "long"),
        ("abc", "120", "lat"),
        ("nan", "120", "lat"),
        ("30", "inf", "long"),
    ]:
        with pytest.raises(o311.Open311Error) as err:
            o311.parse_location(lat, lon)
        assert err.value.status == 400 and err.value.description.startswith(field)
    with pytest.raises(o311.Open311Error, match="together"):
        o311.parse_location("30", None)


def test_date_window_defaults_to_the_last_90_days_and_caps_the_span():
    assert o311.date_window(None, None, NOW) == (NOW - timedelta(days=90), NOW)
    start, end = o311.date_window("2010-05-24T00:00:00Z", "2010-06-24T00:00:00Z", NOW)  # the spec's example
    assert (start, end) == (datetime(2010, 5, 24, tzinfo=UTC), datetime(2010, 6, 24, tzinfo=UTC))
    assert o311.date_window("2026-01-01T00:00:00+08:00", None, NOW)[1] - start > timedelta(0)
    assert o311.parse_datetime("2026-01-01T08:00:00 08:00", "start_date") == datetime(2026, 1, 1, tzinfo=UTC)
    assert o311.date_window(None, "2026-03-01T00:00:00Z", NOW)[0] == datetime(2025, 12, 1, tzinfo=UTC)
    for start_text, end_text, words in [
        ("2010-01-01T00:00:00Z", "2010-06-24T00:00:00Z", "at most 90"),
        ("2010-06-24T00:00:00Z", "2010-05-24T00:00:00Z", "before"),
        ("2010-05-24T00:00:00", None, "timezone"),
        ("yesterday", None, "ISO 8601"),
    ]:
        with pytest.raises(o311.Open311Error, match=words) as err:
            o311.date_window(start_text, end_text, NOW)
        assert err.value.status == 400


def test_other_fields():
    assert o311.parse_statuses("open,closed") == {"open", "closed"}
    with pytest.raises(o311.Open311Error, match="open or closed"):
        o311.parse_statuses("pending")
    assert o311.parse_list("a, b,,c", "x") == ["a", "b", "c"]
    with pytest.raises(o311.Open311Error, match="at most"):
        o311.parse_list(",".join(str(i) for i in range(1001)), "service_request_id")
    assert o311.parse_media_url("http://someurl.com/image.jpg") == "http://someurl.com/image.jpg"
    with pytest.raises(o311.Open311Error, match="media_url"):
        o311.parse_media_url("javascript:alert(1)")
    assert o311.reporter_name("john", "smith") == "john smith"
    assert o311.reporter_name("三", "张") == "张三"
    assert o311.reporter_name(" ", None) is None


# --- XML ---------------------------------------------------------------------------------------------


def test_services_xml_has_the_spec_elements(city):
    xml = to_xml("services", o311.services(city.catalogue)[:2])
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    services = xmltodict.parse(xml)["services"]["service"]
    assert len(services) == 2
    assert list(services[0]) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert services[0]["metadata"] == "true" and services[0]["type"] == "realtime"


def test_single_and_empty_lists_and_errors_render_as_the_spec_shows():
    one = xmltodict.parse(to_xml("requests", [{"service_request_id": "1", "service_notice": None, "account_id": None}]))
    assert one == {
        "service_requests": {"request": {"service_request_id": "1", "service_notice": None, "account_id": None}}
    }
    assert xmltodict.parse(to_xml("requests", [])) == {"service_requests": None}
    errors = xmltodict.parse(to_xml("errors", o311.error_payload(403, "Invalid api_key")))
    assert errors == {"errors": {"error": {"code": "403", "description": "Invalid api_key"}}}
    definition = xmltodict.parse(to_xml("service_definition", {"service_code": "x", "attributes": []}))
    assert definition == {"service_definition": {"service_code": "x", "attributes": None}}


def test_discovery_lists_one_endpoint_with_both_formats():
    body = o311.discovery("https://city.example/open311/v2/", NOW, contact="c", key_service="k")
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    parsed = xmltodict.parse(to_xml("discovery", body))["discovery"]
    assert parsed["endpoints"]["endpoint"]["formats"]["format"] == ["application/json", "text/xml"]
    assert parsed["changeset"] == "2026-12-02T02:00:00+00:00"


@pytest.mark.parametrize("control", [*(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"), "\ufffe", "\uffff"])
def test_characters_xml_cannot_carry_are_dropped(control):
    """Control characters other than tab, newline and CR, and U+FFFE/U+FFFF: the XML answer still parses."""
    request = {
        "service_request_id": "1",
        "description": f"井盖{control}丢\t失\n了{control * 3}。",
        "status_notes": control,
    }
    parsed = xmltodict.parse(to_xml("requests", [request]))["service_requests"]["request"]
    assert parsed["description"] == "井盖丢\t失\n了。" and parsed["status_notes"] is None
