"""Dispatch without a version is still safe (issue 12, item 5): of 50 simultaneous dispatches of one case that send
no `expected_version`, exactly one takes effect and the others get 409 `already_dispatched`; a deliberate
re-dispatch names the version the caller saw. On SQLite and PostgreSQL (the row lock / SQLite's single writer)."""

from __future__ import annotations

import pytest

from tests.integration.helpers import act, count, report
from tests.integration.test_concurrency import _together

N = 50
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def test_fifty_dispatches_without_a_version_take_effect_once(app, client, city, db):
    _, engine, _ = db
    reference, incident = report(client, city).json, report(client, city, unit_index=300).json
    for case in (reference, incident):
        assert act(client, case["id"], "file").status_code == 200
    before = count(engine, "outbox")
    assert act(client, reference["id"], "dispatch").status_code == 200
    one_dispatch = count(engine, "outbox") - before  # the events one dispatch writes (the case, a notification)
    outbox_before = count(engine, "outbox")
    results = _together(app, lambda c: act(c, incident["id"], "dispatch"), N)
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(409) == N - 1, codes
    refusals = {r.json["error"]["code"] for r in results if r.status_code == 409}
    assert refusals == {"already_dispatched"}
    refusal = next(r for r in results if r.status_code == 409).json["error"]
    assert refusal["field"] == "expected_version" and "expected_version=" in refusal["message"]
    assert count(engine, "timeline", "incident_id = :i AND action = 'dispatch'", i=incident["id"]) == 1
    assert count(engine, "outbox") - outbox_before == one_dispatch  # one effect: one dispatch's events


def test_a_re_dispatch_names_the_version_the_caller_saw(client, city, db):
    _, engine, _ = db
    incident = report(client, city).json
    act(client, incident["id"], "file")
    dispatched = act(client, incident["id"], "dispatch").json
    again = act(client, incident["id"], "dispatch")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_dispatched"
    stale = act(client, incident["id"], "dispatch", expected_version=dispatched["version"] - 1)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "concurrent_update"
    deliberate = act(client, incident["id"], "dispatch", expected_version=dispatched["version"])
    assert deliberate.status_code == 200, deliberate.json
    assert count(engine, "timeline", "incident_id = :i AND action = 'dispatch'", i=incident["id"]) == 2


def test_a_first_dispatch_needs_no_version(client, city):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    assert act(client, incident["id"], "dispatch").status_code == 200
