"""Machine intake without a database: the event type table, event validation, distances, clock skew."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dispatcher.intake.machine_events import (
    EVENT_TYPES_FILE,
    MachineBatch,
    MachineEvent,
    check_event_types,
    load_event_types,
    parse_event_types,
    too_far_ahead,
)
from dispatcher.settings import REPO_ROOT

TYPES_PATH = REPO_ROOT / "data" / EVENT_TYPES_FILE

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
BASE = {
    "source_id": "cam-1",
    "source_kind": "camera",
    "event_type": "garbage_overflow",
    "confidence": 0.9,
    "lon": 120.1,
    "lat": 30.2,
    "detected_at": "2026-12-02T10:00:00+08:00",
}


def test_every_mapped_category_is_in_the_catalogue(city):
    types = load_event_types(TYPES_PATH)
    assert check_event_types(types, city) == []
    assert types.rule("garbage_overflow").category_code == "020101"
    assert city.catalogue.category(types.rule("illegal_parking").category_code).name_zh == "机动车乱停放"
    assert city.catalogue.category(types.rule("street_vending").category_code).name_zh == "无照经营游商"
    assert "井盖" in city.catalogue.category(types.rule("manhole_open").category_code).name_zh


def test_an_unknown_type_gets_the_defaults_and_no_category():
    rule = load_event_types(TYPES_PATH).rule("never_heard_of_it")
    assert rule.category_code is None and not rule.known
    assert rule.radius_m == 30 and rule.window == timedelta(minutes=30)


def test_the_table_refuses_bad_entries():
    assert parse_event_types({"types": {"x": {"category": "020101", "window_min": 5}}}).rule("x").window == timedelta(
        minutes=5
    )
    with pytest.raises(ValueError, match="'x'"):
        parse_event_types({"types": {"x": {"min_confidence": 1.5}}})
    with pytest.raises(ValueError, match="unknown keys"):
        parse_event_types({"types": {"x": {"catgory": "020101"}}})


def test_an_event_with_iso_or_unix_times_and_extra_attributes():
    event = MachineEvent.model_validate({**BASE, "lane": 3, "attributes": {"model": "yolo-v8"}})
    assert event.detected_at == T0 and event.detected_at.tzinfo is not None
    assert event.all_attributes() == {"lane": 3, "model": "yolo-v8"}
    assert MachineEvent.model_validate({**BASE, "detected_at": T0.timestamp()}).detected_at == T0
    assert MachineEvent.model_validate({**BASE, "detected_at": int(T0.timestamp() * 1000)}).detected_at == T0


def _field_of(body) -> str:
    with pytest.raises(ValidationError) as info:
        MachineEvent.model_validate(body)
    return ".".join(str(p) for p in info.value.errors()[0]["loc"])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"confidence": 1.2}, "confidence"),
        ({"confidence": False}, "confidence"),
        ({"source_kind": "radar"}, "source_kind"),
        ({"lat": -91}, "lat"),
        ({"lon": "120"}, "lon"),
        ({"detected_at": "2026-12-02 10:00:00"}, "detected_at"),
        ({"detected_at": 0}, "detected_at"),
        ({"detected_at": True}, "detected_at"),
        ({"snapshot": base64.b64encode(b"\x89PNG....").decode()}, "snapshot"),
        ({"attributes": {"blob": "x" * 9000}}, "attributes"),
    ],
)
def test_bad_events_name_the_field(change, field):
    assert _field_of({**BASE, **change}) == field


def test_a_missing_field_is_named():
    body = dict(BASE)
    del body["source_id"]
    assert _field_of(body) == "source_id"


def test_a_data_url_jpeg_snapshot_is_accepted():
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 10).decode()
    assert MachineEvent.model_validate({**BASE, "snapshot": "data:image/jpeg;base64," + jpeg}).snapshot


def test_batches_hold_one_to_five_hundred_events():
    assert len(MachineBatch.model_validate({"events": [BASE] * 500}).events) == 500
    for events in ([], [BASE] * 501):
        with pytest.raises(ValidationError):
            MachineBatch.model_validate({"events": events})


def test_detections_from_the_future_beyond_clock_skew():
    event = MachineEvent.model_validate(BASE)
    assert too_far_ahead(event, T0) is None
    assert too_far_ahead(event, T0 - timedelta(minutes=9)) is None
    assert "future" in too_far_ahead(event, T0 - timedelta(minutes=11))
