"""Enrolling trackers: `gridcommand devices add|list|revoke|token` and the administrator's page (/devices).

The identifier is printed or shown once, with what to paste into Traccar Client or OsmAnd; lists never show
it; only an administrator sees or changes anything on the page; every change is audited.
"""

from __future__ import annotations

import json
import re

import pytest
import redis as redis_lib
from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli import main
from dashboard.runtime import runtime_of
from dispatcher.access.audit import AuditRecord
from dispatcher.fleet.devices import Device
from dispatcher.fleet.officers import Officer
from dispatcher.settings import get_settings
from tests.integration.helpers import inside

OWN = {"Origin": "http://localhost"}
ROSTER = """\
- {id: GW1, name: 王芳, role: grid_worker, grid_community: null, device_id: dev-gw1, on_duty: true}
- {id: GW2, name: 李强, role: grid_worker, grid_community: null, device_id: dev-gw2, on_duty: true}
"""


# --- the command line -------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """`gridcommand` in-process on a new SQLite file with two officers; runs a command, returns its output."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("GRIDCOMMAND_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    roster = tmp_path / "officers.yaml"
    roster.write_text(ROSTER, encoding="utf-8")

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("db", "upgrade")
    run("import-officers", str(roster))
    yield run
    get_settings.cache_clear()


def test_devices_add_prints_the_identifier_once_with_the_urls_to_paste(cli):
    out = cli("devices", "add", "GW1", "--label", "工作手机", "--url", "https://grid.example.gov.cn/")
    device = re.search(r"enrolled device (dv-[0-9a-f]+) for officer GW1", out).group(1)
    identifier = re.search(r"device identifier \(shown once, keep it secret\): (\S+)", out).group(1)
    assert len(identifier) >= 22
    assert "server URL:         https://grid.example.gov.cn/osmand\n" in out
    osmand = (
        f"https://grid.example.gov.cn/osmand?id={identifier}"
        "&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}&bearing={6}"
    )
    assert osmand in out.splitlines()[-1]
    default = cli("devices", "add", "GW2")
    assert "http://127.0.0.1:8050/osmand?id=" in default
    listed = cli("devices", "list")
    assert device in listed and "工作手机" in listed and "live" in listed and identifier not in listed
    assert cli("devices", "list", "GW2").count("dv-") == 1
    token = cli("devices", "token", device, "--account", "nobody", code=2)
    assert "nobody" in token  # the account must exist
    assert f"revoked {device}" in cli("devices", "revoke", device)
    assert "already revoked" in cli("devices", "revoke", device, code=2)
    assert "does not exist" in cli("devices", "add", "NOBODY", code=2)
    assert "revoked" in cli("devices", "list", "GW1")


# --- the administrator's page -----------------------------------------------------------------------------------


@pytest.fixture
def page(app, db, city, redis_url):
    """The app with the Dash pages mounted, a Redis position store and two officers."""
    from dashboard.pages import mount_dash

    _, _, sessions = db
    runtime_of(app).redis = redis_lib.Redis.from_url(redis_url)
    mount_dash(app, runtime_of(app).settings)
    community = city.grids.by_level("community")[0].code
    with sessions.begin() as session:
        for officer_id, name in (("GW1", "王芳"), ("GW2", "李强")):
            session.add(
                Officer(
                    id=officer_id,
                    name=name,
                    role="grid_worker",
                    grid_community=community,
                    device_id=f"dev-{officer_id.lower()}",
                    on_duty=True,
                )
            )
    return app.test_client()


def callback(client, token: str, output: str, inputs: list, state: list = (), changed: str | None = None):
    """POST /_dash-update-component for the callback writing `output`, as Dash's renderer would."""
    headers = {"Authorization": f"Bearer {token}", **OWN}
    spec = next(c for c in client.get("/_dash-dependencies", headers=headers).json if c["output"] == output)
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    body = {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": [changed] if changed else [],
        "state": state,
    }
    response = client.post("/_dash-update-component", json=body, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.json["response"] if response.status_code == 200 else None


def render(client, token: str, lang: str = "en") -> str:
    """The /devices page as the shell's page callback renders it."""
    out = callback(
        client,
        token,
        "gc-page.children",
        [
            {"id": "gc-url", "property": "pathname", "value": "/devices"},
            {"id": "gc-lang", "property": "data", "value": lang},
        ],
        [{"id": "gc-url", "property": "search", "value": ""}],
        changed="gc-url.pathname",
    )
    return json.dumps(out, ensure_ascii=False)


ACT = "..devices-issued.children...devices-table.children.."


def act(client, token: str, *, issue: int = 0, revoke: dict[str, int] | None = None, officer=None, label=None):
    """The page's one action callback: press "issue" (issue=1) or the revoke button of a device."""
    revoke = revoke or {}
    buttons = [
        {"id": {"type": "devices-revoke", "device": d}, "property": "n_clicks", "value": n} for d, n in revoke.items()
    ]
    fired = next((d for d, n in revoke.items() if n), None)
    changed = (
        json.dumps({"device": fired, "type": "devices-revoke"}, separators=(",", ":")) + ".n_clicks"
        if fired
        else "devices-issue.n_clicks"
    )
    out = callback(
        client,
        token,
        ACT,
        [{"id": "devices-issue", "property": "n_clicks", "value": issue}, buttons],
        [
            {"id": "devices-officer", "property": "value", "value": officer},
            {"id": "devices-label", "property": "value", "value": label},
            {"id": "gc-lang", "property": "data", "value": "en"},
        ],
        changed=changed,
    )
    return json.dumps(out, ensure_ascii=False)


def test_the_admin_issues_a_tracker_sees_it_once_and_revokes_it(page, db, city, tokens):
    _, _, sessions = db
    listed = render(page, tokens["admin"])
    assert "GW1 王芳" in listed and "No tracker" in listed
    assert "gc-logout" in listed and "/logout" in listed  # the administrator can sign out from this page
    shown = act(page, tokens["admin"], issue=1, officer="GW1", label="work phone")
    with sessions() as session:
        device = session.scalars(select(Device)).one()
    identifier = re.search(r"osmand\?id=([A-Za-z0-9_-]+)&lat=\{0\}", shown).group(1)
    assert device.id in shown and "http://localhost/osmand" in shown and "Traccar Client" in shown
    lon, lat = inside(city.grids.by_level("unit")[10])
    assert page.get(f"/osmand?id={identifier}&lat={lat}&lon={lon}").status_code == 200  # it works at once
    again = render(page, tokens["admin"])
    assert device.id in again and "work phone" in again and identifier not in again  # listed, never shown again
    revoked = act(page, tokens["admin"], revoke={device.id: 1})
    assert f"Tracker {device.id} revoked" in revoked and identifier not in revoked
    assert page.get(f"/osmand?id={identifier}&lat={lat}&lon={lon}").status_code == 401
    with sessions() as session:
        query = select(AuditRecord).where(AuditRecord.target == f"device:{device.id}").order_by(AuditRecord.id)
        trail = session.scalars(query).all()
    assert [(r.action, r.actor, r.role) for r in trail] == [
        ("device.issue", "test-admin", "admin"),
        ("device.revoke", "test-admin", "admin"),
    ]


def test_a_newly_drawn_revoke_button_revokes_nothing(page, db, tokens):
    _, _, sessions = db
    act(page, tokens["admin"], issue=1, officer="GW2")
    with sessions() as session:
        device = session.scalars(select(Device)).one()
    act(page, tokens["admin"], revoke={device.id: 0})
    with sessions() as session:
        assert session.get(Device, device.id).revoked_at is None


@pytest.mark.parametrize("who", ["leader", "dept"])
def test_no_one_but_the_admin_sees_or_changes_trackers(page, db, tokens, who):
    _, _, sessions = db
    act(page, tokens["admin"], issue=1, officer="GW1")
    with sessions() as session:
        device = session.scalars(select(Device)).one()
    shown = render(page, tokens[who])
    assert "only administrators" in shown and "GW1" not in shown and device.id not in shown
    assert "only administrators" in act(page, tokens[who], issue=1, officer="GW2")
    assert "only administrators" in act(page, tokens[who], revoke={device.id: 1})
    with sessions() as session:
        assert session.scalars(select(Device)).one().revoked_at is None  # nothing revoked, nothing issued


def test_the_admin_lands_on_the_tracker_page_after_signing_in():
    from dashboard.pages.login import landing
    from dispatcher.access.accounts import Principal
    from dispatcher.access.roles import Role

    assert landing(Principal("a0", "admin", Role.ADMIN, None, None)) == "/devices"
    assert landing(Principal("a1", "disp", Role.DISPATCHER, "330199", None)) == "/"
