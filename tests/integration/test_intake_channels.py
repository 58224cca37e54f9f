"""The channel of a report comes from the credential, not from the body (issue 9): POST /incidents as each role.

A report's channel decides what Open311 publishes (open311 and public reports) and who gets counted for what;
before, any reporting role could claim any channel. The table is dispatcher.access.roles.INTAKE_CHANNELS.
"""

from __future__ import annotations

import pytest

from dispatcher.access.roles import INTAKE_CHANNELS, Role
from dispatcher.cases.incident import Channel
from tests.integration.helpers import count, inside
from tests.integration.test_hotline_page import account_token

INCIDENTS = "/api/v1/incidents"


def body(city, **extra) -> dict:
    lon, lat = inside(city.grids.by_level("unit")[12])
    return {"description": "路灯不亮", "category_code": "020101", "lon": lon, "lat": lat, **extra}


def as_role(client, db, role: str, payload: dict):
    return client.post(INCIDENTS, json=payload, headers={"Authorization": f"Bearer {account_token(db, role)}"})


REFUSED = [
    ("grid_worker", "open311"),
    ("grid_worker", "public"),
    ("grid_worker", "hotline"),
    ("hotline", "open311"),
    ("hotline", "grid_worker"),
    ("hotline", "public"),
    ("enforcement", "open311"),
    ("enforcement", "sensor"),
    ("dispatcher", "open311"),
    ("shift_leader", "open311"),
]


@pytest.mark.parametrize("role, channel", REFUSED, ids=[f"{r}-as-{c}" for r, c in REFUSED])
def test_a_role_cannot_report_through_a_channel_that_is_not_its_own(client, city, db, role, channel):
    response = as_role(client, db, role, body(city, channel=channel))
    assert response.status_code == 403, response.json
    error = response.json["error"]
    assert f"role '{role}'" in error["message"] and f"channel '{channel}'" in error["message"]
    assert error["field"] == "channel"
    assert count(db[1], "incident") == 0 and count(db[1], "outbox") == 0


@pytest.mark.parametrize(
    "role, channel",
    [("grid_worker", "grid_worker"), ("hotline", "hotline"), ("enforcement", "grid_worker"), ("api", "api")],
)
def test_without_a_channel_the_report_takes_the_roles_own(client, city, db, role, channel):
    if role == "api":  # the shared test client: the district shift leader, the command center's default
        response = client.post(INCIDENTS, json=body(city))
    else:
        response = as_role(client, db, role, body(city))
    assert response.status_code == 201, response.json
    assert response.json["channel"] == channel


@pytest.mark.parametrize("channel", ["hotline", "public", "grid_worker", "video", "sensor", "leader", "api"])
def test_the_command_center_records_on_behalf_of_every_channel_but_open311(client, city, channel):
    response = client.post(INCIDENTS, json=body(city, channel=channel))  # the shift leader
    assert response.status_code == 201, response.json
    assert response.json["channel"] == channel


def test_the_table_never_grants_open311_and_names_only_real_channels():
    known = {str(c) for c in Channel}
    for role, channels in INTAKE_CHANNELS.items():
        assert "open311" not in channels, role
        assert set(channels) <= known, role
    assert set(INTAKE_CHANNELS) == {
        Role.HOTLINE,
        Role.GRID_WORKER,
        Role.ENFORCEMENT,
        Role.DISPATCHER,
        Role.SHIFT_LEADER,
    }
