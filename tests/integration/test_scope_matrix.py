"""Security tests 10 and 11 (docs QUALITY.md): every role in every scope against every read endpoint and every
lifecycle action (may see, and may act), unauthenticated calls, and replayed Dash callbacks with tampered ids.
Both backends.

Incidents are placed in two different streets with two different departments (HW, CGZF), plus one outside
every grid (triage). For each account the expectation is computed with dispatcher.cases.scope.can_see (may see)
and dispatcher.cases.scope.may_act (may act: the command center acts on what it sees, grid workers in their grid,
departments only on what is dispatched to them or assigned to them by name), and every answer is checked against
it: nothing foreign comes back, nothing visible is missing, and seeing a case never lets anyone act on it.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account, Principal, issue_token
from dispatcher.access.passwords import hash_password
from dispatcher.access.roles import REPORTERS, Role
from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import ACTIONS, can_see, can_see_officer, may_act
from dispatcher.fleet.officers import Officer
from tests.conftest import T0, TEST_PASSWORD
from tests.integration.helpers import act, before_and_after, count, inside

_HASH = hash_password(TEST_PASSWORD)  # one Argon2 hash for every matrix account (hashing is slow on purpose)
SCOPES = {
    "district": ("330199", None),
    "street": ("<street>", None),
    "community": ("<community>", None),
    "hw": (None, "HW"),
    "cgzf": (None, "CGZF"),
}
DASH_ORIGIN = {"Origin": "http://localhost"}


def make_account(
    sessions,
    role: str,
    region: str | None,
    department: str | None,
    *,
    totp_secret: str | None = None,
    disabled: bool = False,
    password_hash: str = _HASH,
) -> tuple[Principal, str]:
    """A fresh account (unique id and username per call) and a bearer token for it."""
    tag = uuid.uuid4().hex[:10]
    with sessions.begin() as session:
        account = Account(
            id=f"m{tag}",
            username=f"{role}-{tag}",
            display_name=f"{role} {tag}",
            role=role,
            region_code=region,
            department_code=department,
            password_hash=password_hash,
            totp_secret=totp_secret,
            disabled=disabled,
            created_at=T0,
        )
        session.add(account)
        session.flush()
        token = issue_token(session, account, name="matrix", kind="service", now=T0)
        principal = Principal.of(account)
    return principal, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def dash_server(app):
    """The `app` server with the Dash pages (and the sign-in gate, Socket.IO) mounted, as `create_app` does."""
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    return app


@pytest.fixture
def world(dash_server, client, city, db):
    """Incidents in two streets with two departments, one unplaced, officers of both departments and streets."""
    _, _, sessions = db
    units = city.grids.by_level("unit")
    streets: dict[str, object] = {}
    for unit in units:  # two units in different streets, away from the streets with local routing overrides
        path = city.grids.path_of(unit.code)
        if path.street not in streets and path.street not in ("330199003", "330199005"):
            streets[path.street] = unit
        if len(streets) == 2:
            break
    (s1, u1), (s2, u2) = streets.items()
    created = []
    for unit, category in ((u1, "020101"), (u1, "020201"), (u2, "020101"), (u2, "020201")):
        lon, lat = inside(unit)
        response = client.post(
            "/api/v1/incidents",
            json={"description": f"matrix {category} {unit.code}", "category_code": category, "lon": lon, "lat": lat},
        )
        assert response.status_code == 201, response.json
        created.append(response.json)
    unplaced = client.post("/api/v1/incidents", json={"description": "matrix unplaced", "lon": 100.0, "lat": 40.0})
    assert unplaced.status_code == 201, unplaced.json
    created.append(unplaced.json)
    assert act(client, created[0]["id"], "file").status_code == 200  # some history beyond the report
    with sessions() as session:
        incidents = {i.id: i for i in session.scalars(select(Incident))}
        for i in incidents.values():
            session.expunge(i)
    departments = {i.department_code for i in incidents.values()}
    assert {"HW", "CGZF"} <= departments, departments
    community = city.grids.path_of(u1.code).community
    with sessions.begin() as session:
        for n, (dept, unit) in enumerate([("HW", u1), ("CGZF", u2), ("SW", u2), (None, u1)]):
            session.add(
                Officer(
                    id=f"o-matrix-{n}",
                    name=f"officer {n}",
                    role="officer",
                    department_code=dept,
                    grid_community=city.grids.path_of(unit.code).community,
                    device_id=f"dev-matrix-{n}",
                )
            )
    return {"incidents": incidents, "street": s1, "other_street": s2, "community": community}


def _scope(world, name: str) -> tuple[str | None, str | None]:
    region, dept = SCOPES[name]
    return {"<street>": world["street"], "<community>": world["community"]}.get(region, region), dept


def _visible(principal: Principal, world) -> set[str]:
    return {i.id for i in world["incidents"].values() if can_see(principal, i)}


def _officer_visible(principal: Principal, city, officer: dict) -> bool:
    home = officer["grid_community"]
    path = city.grids.path_of(home).codes() if home and city.grids.find(home) else []
    return can_see_officer(principal, officer["department_code"], path)


@pytest.mark.parametrize("scope", list(SCOPES))
def test_every_role_reads_only_its_scope(world, client, db, city, scope):
    _, _, sessions = db
    region, dept = _scope(world, scope)
    ids = list(world["incidents"])
    for role in Role:
        principal, token = make_account(sessions, str(role), region, dept)
        who = f"{role}@{scope}"
        expected = _visible(principal, world)
        h = bearer(token)

        listed = client.get("/api/v1/incidents?page_size=500", headers=h)
        assert listed.status_code == 200, who
        assert {i["id"] for i in listed.json["items"]} == expected, who
        assert listed.json["total"] == len(expected), who
        for incident_id in ids:
            want = 200 if incident_id in expected else 404
            for path in ("", "/timeline", "/recommendations"):
                response = client.get(f"/api/v1/incidents/{incident_id}{path}", headers=h)
                assert response.status_code == want, (who, incident_id, path, response.json)
                if want == 404:
                    assert "matrix" not in response.get_data(as_text=True), who

        officers = client.get("/api/v1/officers", headers=h)
        assert officers.status_code == 200, who
        assert all(_officer_visible(principal, city, o) for o in officers.json["items"]), who

        events = client.get("/api/v1/events?after_seq=0", headers=h).json
        assert {e["incident_id"] for e in events["items"]} == expected, who

        today = client.get("/api/v1/stats/today", headers=h).json
        open_expected = sum(1 for i in expected if world["incidents"][i].status not in ("closed", "archived", "voided"))
        assert today["received"] == len(expected) and today["open"] == open_expected, (who, today)
        placed = {world["incidents"][i].grid_street for i in expected} - {None}
        assert {s["code"] for s in today["streets"]} == placed, who


def _reload(world, sessions) -> dict[str, Incident]:
    with sessions() as session:
        incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(world["incidents"])))}
        for incident in incidents.values():
            session.expunge(incident)
    return incidents


def _dispatch_placed(world, client, sessions) -> dict[str, Incident]:
    """File and dispatch every placed incident of the world to its routed department; the incidents as stored."""
    for incident in world["incidents"].values():
        if incident.grid_street is not None:
            for step in ("file", "dispatch") if incident.status == "reported" else ("dispatch",):
                assert act(client, incident.id, step).status_code == 200, (incident.id, step)
    return _reload(world, sessions)


def _expected_answer(principal: Principal, action: Action, incident: Incident) -> int:
    """404 for what the caller may not see, 403 for what they see but may not do, else 409: the probe's stale
    version, checked only after every permission check has passed."""
    if not can_see(principal, incident):
        return 404
    return 409 if may_act(principal, action, incident) else 403


# a region scope and a department scope on PostgreSQL (the same SQL for every region or department), all on SQLite
PG_SCOPES = ["street", "hw"]


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.postgres_sample(scope=PG_SCOPES)
def test_every_role_may_act_only_as_the_rule_says_and_refusals_change_nothing(world, client, db, scope):
    """Role × scope × action × incident: 404 outside the scope, 403 where seeing is not acting, and where acting is
    allowed the engine goes on to the version check (a stale expected_version: 409, nothing changes)."""
    _, engine, sessions = db
    incidents = _dispatch_placed(world, client, sessions)
    region, dept = _scope(world, scope)
    versions = {i.id: i.version for i in incidents.values()}
    rows_before = {t: count(engine, t) for t in ("timeline", "outbox", "audit_log")}
    for role in Role:
        principal, token = make_account(sessions, str(role), region, dept)
        who = f"{role}@{scope}"
        h = bearer(token)
        for incident in incidents.values():
            probe = {"expected_version": incident.version + 1000}
            for action in Action:
                want = _expected_answer(principal, action, incident)
                response = client.post(f"/api/v1/incidents/{incident.id}/actions/{action}", json=probe, headers=h)
                assert response.status_code == want, (who, incident.id, str(action), response.json)
                if want == 403:
                    assert (
                        incident.id in response.json["error"]["message"]
                        or "may not" in response.json["error"]["message"]
                    ), response.json
        grid_import = client.post("/api/v1/grids/import", json={"type": "FeatureCollection", "features": []}, headers=h)
        if principal.role is not Role.ADMIN:
            assert grid_import.status_code == 403, who
    with sessions() as session:
        for incident_id, version in versions.items():
            assert session.get(Incident, incident_id).version == version
    assert {t: count(engine, t) for t in rows_before} == rows_before


@pytest.mark.parametrize("scope", ["district", "street", "hw"])
def test_reporting_needs_a_reporting_role(world, client, db, scope):
    _, _, sessions = db
    region, dept = _scope(world, scope)
    for role in Role:
        principal, token = make_account(sessions, str(role), region, dept)
        report = client.post(
            "/api/v1/incidents", json={"description": "matrix report", "lon": 100.0, "lat": 40.0}, headers=bearer(token)
        )
        assert report.status_code == (201 if principal.role in REPORTERS else 403), (f"{role}@{scope}", report.json)


def test_seeing_a_case_in_ones_street_does_not_let_an_officer_of_another_department_act_on_it(world, client, db):
    """The reported attack: an enforcement officer (CGZF) claimed and handled a case dispatched to HW because it
    lies in his street. Refused now, with nothing written; his own department's case (wherever it lies), and a case
    assigned to him by name, he still claims and handles."""
    _, engine, sessions = db
    incidents = _dispatch_placed(world, client, sessions)
    officer, token = make_account(sessions, "enforcement", world["street"], "CGZF")
    h = bearer(token)
    foreign = next(i for i in incidents.values() if i.grid_street == world["street"] and i.department_code == "HW")
    own = next(i for i in incidents.values() if i.department_code == "CGZF")  # his department's, in any street
    assert client.get(f"/api/v1/incidents/{foreign.id}", headers=h).status_code == 200  # he may see it
    before = {t: count(engine, t) for t in ("timeline", "outbox", "audit_log")}
    for action, body in (("claim", {}), ("handle", {"result": "已清理"}), ("return", {"reason": "不归我管"})):
        refused = client.post(f"/api/v1/incidents/{foreign.id}/actions/{action}", json=body, headers=h)
        assert refused.status_code == 403, (action, refused.json)
        message = refused.json["error"]["message"]
        assert foreign.id in message and "dispatched to department HW" in message and officer.username in message
    assert {t: count(engine, t) for t in before} == before
    with sessions() as session:
        assert session.get(Incident, foreign.id).status == "dispatched"
        assert session.get(Incident, foreign.id).assignee is None

    for action, body in (("claim", {}), ("handle", {"result": "已处置"})):
        if action == "handle":
            before_and_after(client, own.id, **h)
        done = client.post(f"/api/v1/incidents/{own.id}/actions/{action}", json=body, headers=h)
        assert done.status_code == 200, (action, done.json)
    seen = client.get(f"/api/v1/incidents/{foreign.id}").json["version"]  # a re-dispatch names what it saw
    assert act(client, foreign.id, "dispatch", assignee=officer.username, expected_version=seen).status_code == 200
    for action, body in (("claim", {}), ("handle", {"result": "已协助处置"})):
        if action == "handle":
            before_and_after(client, foreign.id, **h)
        done = client.post(f"/api/v1/incidents/{foreign.id}/actions/{action}", json=body, headers=h)
        assert done.status_code == 200, (action, done.json)
    with sessions() as session:
        steps = session.scalars(
            select(TimelineEntry.actor).where(TimelineEntry.incident_id == foreign.id).order_by(TimelineEntry.seq)
        ).all()
    assert steps[-2:] == [officer.username, officer.username]


# Real actions, each on a fresh incident brought to the state the action needs: 2xx exactly where the rule allows.
PREPARE = {
    "file": [],
    "claim": ["file", "dispatch"],
    "handle": ["file", "dispatch", "claim"],
    "verify": ["file", "dispatch", "claim", "handle"],
}
BODIES = {"handle": {"result": "已处置"}}


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.postgres_sample(scope=PG_SCOPES)
def test_real_actions_succeed_exactly_where_the_rule_allows(world, client, db, city, scope):
    _, _, sessions = db
    s1, s2 = world["street"], world["other_street"]
    placements = [
        (unit, category)
        for street in (s1, s2)
        for unit in [next(u for u in city.grids.by_level("unit") if city.grids.path_of(u.code).street == street)]
        for category in ("020101", "020201")
    ]
    region, dept = _scope(world, scope)
    for role in Role:
        principal, token = make_account(sessions, str(role), region, dept)
        for action, steps in PREPARE.items():
            if Action(action) not in ACTIONS[principal.role]:
                continue  # refused by role: the probe matrix covers it
            for unit, category in placements:
                lon, lat = inside(unit)
                body = {"description": f"act {category}", "category_code": category, "lon": lon, "lat": lat}
                incident_id = client.post("/api/v1/incidents", json=body).json["id"]
                for step in steps:
                    assert act(client, incident_id, step, **BODIES.get(step, {})).status_code == 200, step
                with sessions() as session:
                    incident = session.get(Incident, incident_id)
                    want = _expected_answer(principal, Action(action), incident)
                if action == "handle" and want == 409:  # the handler brings the photos feedback needs
                    before_and_after(client, incident_id, **bearer(token))
                response = client.post(
                    f"/api/v1/incidents/{incident_id}/actions/{action}",
                    json=BODIES.get(action, {}),
                    headers=bearer(token),
                )
                assert response.status_code == (200 if want == 409 else want), (
                    f"{role}@{scope}",
                    action,
                    category,
                    response.json,
                )


UNAUTHENTICATED = [
    ("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents/{id}"),
    ("GET", "/api/v1/incidents/{id}/timeline"),
    ("GET", "/api/v1/incidents/{id}/recommendations"),
    ("GET", "/api/v1/officers"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/stats/today"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/grids?level=street"),
    ("POST", "/api/v1/incidents"),
    ("POST", "/api/v1/incidents/{id}/actions/file"),
    ("POST", "/api/v1/grids/import"),
    ("GET", "/_dash-layout"),
    ("GET", "/_dash-dependencies"),
    ("POST", "/_dash-update-component"),
]


def test_unauthenticated_calls_get_401_and_pages_redirect_to_login(world, anonymous):
    incident_id = next(iter(world["incidents"]))
    for method, path in UNAUTHENTICATED:
        response = anonymous.open(path.format(id=incident_id), method=method, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json["error"]["code"] == "unauthenticated", (method, path)
        assert "matrix" not in response.get_data(as_text=True)
    for path in ("/", "/wall", "/audit", "/anything?lang=en"):
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=%2F"), response.headers["Location"]
    for path in ("/login", "/login?lang=en", "/assets/gridcommand.css", "/_favicon.ico"):
        assert anonymous.get(path).status_code == 200, path
    wrong = anonymous.get("/api/v1/incidents", headers={"Authorization": "Bearer gc_not-a-token"})
    assert wrong.status_code == 401


def test_bad_bearer_and_disabled_accounts_are_unauthenticated(world, anonymous, db):
    _, _, sessions = db
    _, token = make_account(sessions, "dispatcher", "330199", None, disabled=True)
    assert anonymous.get("/api/v1/incidents", headers=bearer(token)).status_code == 401
    assert anonymous.post("/_dash-update-component", json={}, headers=bearer(token)).status_code == 401


# --- Dash callbacks -----------------------------------------------------------------------------------


def _callback(client, output_part: str, headers) -> dict:
    dependencies = client.get("/_dash-dependencies", headers=headers)
    assert dependencies.status_code == 200
    return next(c for c in dependencies.json if output_part in c["output"])


def _outputs(spec: dict) -> list[dict]:
    parts = spec["output"].strip(".").split("...") if spec["output"].startswith("..") else [spec["output"]]
    out = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        out.append({"id": component, "property": prop})
    return out


def replay(
    client, headers, output_part: str, inputs: list[tuple[str, str, object]], state: list[tuple[str, str, object]] = ()
):
    """POST /_dash-update-component for the callback writing `output_part`, with the given (tampered) values."""
    spec = _callback(client, output_part, headers)
    outputs = _outputs(spec)

    def entry(i, p, v):
        if isinstance(i, list):  # a pattern-matching (ALL) input: the list of matched components
            return [{"id": c, "property": p, "value": v} for c in i]
        return {"id": i, "property": p, "value": v}

    first_id, first_prop, _ = inputs[0]
    first = first_id[0] if isinstance(first_id, list) else first_id
    changed = json.dumps(first, sort_keys=True, separators=(",", ":")) if isinstance(first, dict) else first
    body = {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [entry(i, p, v) for i, p, v in inputs],
        "changedPropIds": [f"{changed}.{first_prop}"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    return client.post("/_dash-update-component", json=body, headers=headers)


def _foreign_and_own(world, principal):
    visible = _visible(principal, world)
    foreign = [i for i in world["incidents"].values() if i.id not in visible]
    own = [i for i in world["incidents"].values() if i.id in visible]
    return foreign, own


def _assert_nothing_foreign(text: str, foreign, asked: str | None = None) -> None:
    """No foreign incident's id or description in `text` (except the id the caller sent, echoed in "not found")."""
    for incident in foreign:
        assert incident.id == asked or incident.id not in text, incident.id
        assert incident.description not in text, incident.description


def test_replayed_dash_callbacks_with_tampered_ids_return_nothing_foreign(world, client, db):
    _, _, sessions = db
    principal, token = make_account(sessions, "dispatcher", world["street"], None)
    h = bearer(token)
    foreign, own = _foreign_and_own(world, principal)
    assert foreign and own

    for incident in foreign:  # the drawer, asked for a foreign incident
        response = replay(
            client,
            h,
            "cc-drawer-body.children",
            [("cc-selected", "data", incident.id), ("cc-seq", "data", 0)],
            [("cc-drawer-ver", "data", None), ("gc-lang", "data", "en")],
        )
        assert response.status_code == 200
        _assert_nothing_foreign(response.get_data(as_text=True), foreign, asked=incident.id)
        assert "does not exist" in response.get_data(as_text=True)
    shown = replay(
        client,
        h,
        "cc-drawer-body.children",
        [("cc-selected", "data", own[0].id), ("cc-seq", "data", 0)],
        [("cc-drawer-ver", "data", None), ("gc-lang", "data", "en")],
    )
    assert own[0].description in shown.get_data(as_text=True)  # the same call works inside the scope

    for incident in foreign:  # the seat's search box (the queue itself is drawn in the browser from the feed)
        for text in (incident.case_number, incident.id[:8], incident.description[:4]):
            response = replay(client, h, "cc-search-hits.data", [("cc-search", "value", text)], [])
            assert response.status_code == 200
            _assert_nothing_foreign(response.get_data(as_text=True), foreign)

    for incident in foreign:  # the grid panel of a foreign grid
        for code in (incident.grid_community, incident.grid_street, incident.grid_unit):
            if code:
                response = replay(
                    client,
                    h,
                    "cc-grid-panel.children",
                    [("cc-communities", "clickData", {"properties": {"code": code}}), ("cc-units", "clickData", None)],
                    [("gc-lang", "data", "en")],
                )
                assert response.status_code == 200
                _assert_nothing_foreign(response.get_data(as_text=True), foreign)

    synced = replay(
        client,
        h,
        "cc-incidents.data",
        [
            ("cc-socket", "data-incident", {"seq": 1}),
            ("cc-socket", "connected", True),
            ("cc-sync-tick", "n_intervals", 1),
            ("cc-act-result", "data", 0),
        ],
        [("cc-seq", "data", 0)],
    )
    assert synced.status_code == 200
    _assert_nothing_foreign(synced.get_data(as_text=True), foreign)
    assert all(i.id in synced.get_data(as_text=True) for i in own)  # a delta adding every visible incident

    for path in ("/", "/wall"):  # the page layouts (with their embedded initial data)
        page = replay(
            client,
            h,
            "gc-page.children",
            [("gc-url", "pathname", path), ("gc-lang", "data", "en")],
            [("gc-url", "search", "")],
        )
        assert page.status_code == 200
        _assert_nothing_foreign(page.get_data(as_text=True), foreign)
    opening = client.get("/api/v1/feed", headers=h)  # the command center's open set, fetched beside its page
    assert opening.status_code == 200
    _assert_nothing_foreign(opening.get_data(as_text=True), foreign)
    assert own[0].id in opening.json["all"]

    wall = replay(
        client,
        h,
        "wall-k-received.children",
        [("wall-refresh", "data", 1), ("wall-slow", "n_intervals", 1)],
        [("gc-lang", "data", "en")],
    )
    assert wall.status_code == 200
    assert json.loads(wall.get_data())["response"]["wall-k-received"]["children"] == str(len(own))


def test_dash_actions_check_role_and_scope(world, client, db):
    _, _, sessions = db
    principal, token = make_account(sessions, "dispatcher", world["street"], None)
    foreign, own = _foreign_and_own(world, principal)
    target = next(i for i in own if i.status == "reported")
    outsider = next(i for i in foreign if i.status == "reported")

    def press(headers, incident_id: str, action: str):
        return replay(
            client,
            headers,
            "cc-toast.children...cc-act-result.data",  # the action callback (evidence uploads toast too)
            [([{"type": "cc-act", "action": action}], "n_clicks", 1), ([], "n_clicks", None)],
            [
                ("cc-selected", "data", incident_id),
                ("cc-act-note", "value", None),
                ("cc-act-public", "value", None),
                ("cc-dispatch-dept", "value", None),
                ("cc-act-result", "data", 0),
                ("cc-drawer-ver", "data", None),
                ("gc-lang", "data", "en"),
            ],
        )

    h = bearer(token)
    _, leader_token = make_account(sessions, "leader", "330199", None)
    refused = press(bearer(leader_token), target.id, "file")  # a leader is read-only
    assert refused.status_code == 200 and "may not" in refused.get_data(as_text=True)
    foreign_try = press(h, outsider.id, "file")
    assert "does not exist" in foreign_try.get_data(as_text=True)
    _assert_nothing_foreign(foreign_try.get_data(as_text=True), foreign, asked=outsider.id)
    with sessions() as session:
        assert session.get(Incident, target.id).status == "reported"
        assert session.get(Incident, outsider.id).status == "reported"
    done = press(h, target.id, "file")
    assert done.status_code == 200 and "Done" in done.get_data(as_text=True)
    with sessions() as session:
        incident = session.get(Incident, target.id)
        assert incident.status == "filed" and incident.timeline[-1].actor == principal.username

    # the drawer offers only the role's actions: a leader sees none, a dispatcher no department actions
    def buttons(headers, incident_id):
        response = replay(
            client,
            headers,
            "cc-drawer-body.children",
            [("cc-selected", "data", incident_id), ("cc-seq", "data", 0)],
            [("cc-drawer-ver", "data", None), ("gc-lang", "data", "en")],
        )
        actions = json.loads(response.get_data())["response"]["cc-drawer-actions"]["children"]
        return {
            b["props"]["id"]["action"]
            for b in _walk(actions)
            if isinstance(b.get("props", {}).get("id"), dict) and b["props"]["id"].get("type") == "cc-act"
        }

    assert buttons(bearer(leader_token), target.id) == {"supervise"}  # a leader only flags 督办
    offered = buttons(h, target.id)
    assert offered and offered <= {str(a) for a in ACTIONS[Role.DISPATCHER]}


def _walk(node):
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        yield from _walk(node.get("props", {}).get("children"))


def test_sign_in_through_the_form_then_a_tampered_callback_over_the_session_cookie(world, anonymous, db, city):
    _, _, sessions = db
    principal, _ = make_account(sessions, "dispatcher", world["street"], None)
    foreign, _own = _foreign_and_own(world, principal)
    bad = anonymous.post("/login", data={"username": principal.username, "password": "wrong"}, headers=DASH_ORIGIN)
    assert bad.status_code == 401 and "Sign-in failed" not in bad.get_data(as_text=True)  # zh by default
    assert "登录失败" in bad.get_data(as_text=True)
    cross = anonymous.post(
        "/login",
        data={"username": principal.username, "password": TEST_PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    ok = anonymous.post(
        "/login",
        data={"username": principal.username, "password": TEST_PASSWORD, "next": "//evil.example/x"},
        headers=DASH_ORIGIN,
    )
    assert ok.status_code == 303 and ok.headers["Location"] == "/"
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/api/v1/auth/me").json["username"] == principal.username
    for incident in foreign:
        response = replay(
            anonymous,
            DASH_ORIGIN,
            "cc-drawer-body.children",
            [("cc-selected", "data", incident.id), ("cc-seq", "data", 0)],
            [("cc-drawer-ver", "data", None), ("gc-lang", "data", "en")],
        )
        assert response.status_code == 200
        _assert_nothing_foreign(response.get_data(as_text=True), foreign, asked=incident.id)
    no_origin = anonymous.post("/_dash-update-component", json={})
    assert no_origin.status_code == 403  # a callback riding on the cookie must come from this origin
    out = anonymous.post("/logout", headers=DASH_ORIGIN)
    assert out.status_code == 303 and out.headers["Location"].startswith("/login")
    assert anonymous.get("/").status_code == 302
    assert anonymous.post("/_dash-update-component", json={}, headers=DASH_ORIGIN).status_code == 401


# --- the sign-in page ------------------------------------------------------------------------------------


def _demo_account(sessions, username: str, password: str, role: str, totp_secret: str | None = None) -> None:
    """The demo account `username` (created once per backend: the account table outlives a test)."""
    with sessions.begin() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            session.add(
                Account(
                    id=f"d-{username}"[:32],
                    username=username,
                    display_name=username,
                    role=role,
                    region_code="330199",
                    department_code=None,
                    password_hash=hash_password(password),
                    totp_secret=totp_secret,
                    created_at=T0,
                )
            )
        else:
            account.disabled, account.failed_logins, account.locked_until = False, 0, None


def test_login_page_demo_mode_second_factor_and_landing(dash_server, anonymous, db, clock):
    import re

    import pyotp
    import yaml

    _, _, sessions = db
    runtime = runtime_of(dash_server)
    page = anonymous.get("/login").get_data(as_text=True)
    assert "用户名" in page and "demo-accounts" not in page and "demo-" not in page
    assert "Username" in anonymous.get("/login?lang=en").get_data(as_text=True)

    demo = yaml.safe_load((runtime.settings.data_dir / "demo_city" / "accounts.yaml").read_text(encoding="utf-8"))
    plain = next(a for a in demo if not a.get("totp_secret"))
    second = next(a for a in demo if a.get("totp_secret") and a["role"] == "leader")
    _demo_account(sessions, plain["username"], plain["password"], plain["role"])
    _demo_account(sessions, second["username"], second["password"], second["role"], second["totp_secret"])

    runtime.settings = runtime.settings.model_copy(update={"demo_mode": True})
    page = anonymous.get("/login").get_data(as_text=True)
    assert 'id="demo-accounts"' in page and plain["password"] in page and second["password"] in page
    code = pyotp.TOTP(second["totp_secret"]).at(clock())
    assert re.search(rf'class="demo-code">{code}<', page)
    assert page.count('class="demo-sign-in"') == sum(1 for a in demo if not a.get("totp_secret"))

    one_click = anonymous.post(
        "/login", data={"username": plain["username"], "password": plain["password"]}, headers=DASH_ORIGIN
    )
    landing = "/hotline" if plain["role"] == "hotline" else "/"  # call-takers land on their console
    assert one_click.status_code == 303 and one_click.headers["Location"] == landing
    anonymous.post("/logout", headers=DASH_ORIGIN)

    for totp in (None, "000000" if code != "000000" else "111111", "abc"):  # the leader needs the right code
        data = {"username": second["username"], "password": second["password"], **({"totp": totp} if totp else {})}
        refused = anonymous.post("/login", data=data, headers=DASH_ORIGIN)
        assert refused.status_code == 401 and "登录失败" in refused.get_data(as_text=True)
    landed = anonymous.post(
        "/login",
        data={"username": second["username"], "password": second["password"], "totp": code, "lang": "en"},
        headers=DASH_ORIGIN,
    )
    assert landed.status_code == 303 and landed.headers["Location"] == "/wall?lang=en"
    assert anonymous.get("/api/v1/auth/me").json["role"] == "leader"
    clock.now += timedelta(seconds=30)  # a TOTP code works once: the next sign-in needs the next one
    code = pyotp.TOTP(second["totp_secret"]).at(clock())
    back = anonymous.post(
        "/login",
        data={"username": second["username"], "password": second["password"], "totp": code, "next": "/?lang=en"},
        headers=DASH_ORIGIN,
    )
    assert back.headers["Location"] == "/?lang=en"
