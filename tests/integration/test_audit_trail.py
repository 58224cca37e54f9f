"""The audit trail on both backends: the API's actions land in it, the database keeps it append-only,
concurrent appends keep one chain, and `gridcommand audit verify` names an edited, deleted or truncated record;
with `--checkpoints FILE` also the attacks the database alone cannot show (issue 9, item 10): the newest records
deleted with the head rolled back, the trail re-chained without the key, a forged checkpoint line.

The shared test database's trail is never tampered with (its chain must stay valid across the whole run):
tampering happens in a separate database per backend (`tamperable`), wiped before each test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from dashboard.cli import main
from dashboard.runtime import runtime_of
from dispatcher.access import audit
from dispatcher.access.audit import GENESIS, AuditRecord, install_audit_key, legacy_hash
from dispatcher.access.audit_verify import VerifyResult, verify
from dispatcher.cases.uow import UnitOfWork
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.settings import REPO_ROOT, get_settings
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.migrate import upgrade
from tests.conftest import T0, _ensure_pg_database, _reset_pg_schema
from tests.integration.helpers import act, inside, report

postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def max_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT coalesce(max(id), 0) FROM audit_log"))


def records_after(sessions, after: int) -> list[AuditRecord]:
    with sessions() as session:
        return list(session.scalars(sa.select(AuditRecord).where(AuditRecord.id > after).order_by(AuditRecord.id)))


def verified(sessions) -> VerifyResult:
    with sessions() as session:
        return verify(session)


# --- the shared database: what the application writes ------------------------------------------------------------


def test_every_incident_action_through_the_api_is_audited_in_its_transaction(client, city, db):
    _, engine, sessions = db
    before = max_id(engine)
    incident = report(client, city).json
    assert act(client, incident["id"], "file").status_code == 200
    assert act(client, incident["id"], "dispatch").status_code == 200
    rows = records_after(sessions, before)
    with engine.connect() as conn:
        outbox = conn.execute(
            sa.text("SELECT id, name FROM outbox WHERE incident_id = :i AND name LIKE 'incident.%' ORDER BY id"),
            {"i": incident["id"]},
        ).all()
    assert (
        [r.action for r in rows]
        == [name for _, name in outbox]
        == ["incident.report", "incident.file", "incident.dispatch"]
    )
    assert [r.detail["outbox"] for r in rows] == [seq for seq, _ in outbox]
    assert {r.target for r in rows} == {f"incident:{incident['id']}"}
    assert {r.result for r in rows} == {"ok"}
    assert {r.actor for r in rows} == {"test-leader"}  # the timeline's actor: the signed-in user
    assert all(r.at == T0 for r in rows)
    assert rows[2].detail["from"] == "filed" and rows[2].detail["to"] == "dispatched"
    assert verified(sessions).ok


def test_a_refused_action_writes_no_audit_record(client, city, db):
    _, engine, sessions = db
    incident = report(client, city).json
    before = max_id(engine)
    assert act(client, incident["id"], "close").status_code == 409  # not allowed from "reported"
    assert records_after(sessions, before) == []


def test_the_database_refuses_to_update_or_delete_audit_records(client, city, db):
    _, engine, sessions = db
    report(client, city)
    for sql in (
        "UPDATE audit_log SET actor = 'someone' WHERE id = (SELECT max(id) FROM audit_log)",
        "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    with sessions.begin() as session:  # the head stays writable: appending still works
        audit.append(session, actor="tests", action="export", target="report:x", now=T0)
    assert verified(sessions).ok


@postgres_only
def test_on_postgres_truncate_is_refused_and_public_holds_no_write_grant(db):
    _, engine, _ = db
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))
    with engine.connect() as conn:
        public = conn.scalars(
            sa.text(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE table_name = 'audit_log' AND grantee = 'PUBLIC'"
            )
        ).all()
        triggers = set(
            conn.scalars(
                sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal")
            )
        )
    assert not {"UPDATE", "DELETE", "TRUNCATE"} & set(public)
    assert triggers == {"audit_log_no_update_delete", "audit_log_no_truncate"}


@postgres_only
def test_a_non_owner_application_role_cannot_update_or_delete(db):
    """Even with every table privilege granted explicitly, the trigger still refuses (and the owner too)."""
    _, engine, _ = db
    with engine.begin() as conn:
        conn.execute(sa.text("DROP ROLE IF EXISTS gridcommand_app_test"))
        conn.execute(sa.text("CREATE ROLE gridcommand_app_test"))
        conn.execute(sa.text("GRANT USAGE ON SCHEMA public TO gridcommand_app_test"))
        conn.execute(sa.text("GRANT SELECT, INSERT ON audit_log TO gridcommand_app_test"))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET ROLE gridcommand_app_test"))
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("UPDATE audit_log SET actor = 'x'"))
            conn.rollback()
            conn.execute(sa.text("SET ROLE gridcommand_app_test"))
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("DELETE FROM audit_log"))
            conn.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("REVOKE ALL ON audit_log FROM gridcommand_app_test"))
            conn.execute(sa.text("REVOKE ALL ON SCHEMA public FROM gridcommand_app_test"))
            conn.execute(sa.text("DROP ROLE gridcommand_app_test"))


@postgres_only
def test_concurrent_appends_keep_one_unbroken_chain(app, client, city, db):
    """Direct appends (logins), appends followed by incident events in one transaction, and API commits, all
    racing: no fork, no lost record, no deadlock."""
    _, engine, sessions = db
    before = max_id(engine)
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    created: list[str] = []

    def appender(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            if i % 2:
                with sessions.begin() as session:
                    audit.append(
                        session,
                        actor=f"user-{n}",
                        role="dispatcher",
                        ip=f"10.0.0.{n}",
                        action="login",
                        target=f"account:user-{n}",
                        result="ok",
                        detail={"i": i},
                        now=T0,
                    )
                continue
            # An audit record first, then incident events in the same transaction: the locks are taken in the
            # same order as UnitOfWork.commit's (outbox, then audit), so this cannot deadlock with the reporters.
            with UnitOfWork(sessions) as uow:
                audit.append(uow.session, actor=f"user-{n}", role="dispatcher", action="login", now=T0)
                lon, lat = inside(city.grids.by_level("unit")[n + i])
                incident = create_incident(
                    uow,
                    city,
                    CreateIncident(description="井盖缺失", category_code="020101", lon=lon, lat=lat),
                    actor=f"user-{n}",
                    now=T0,
                )
                uow.commit(T0)
                created.append(incident.id)

    def reporter(n: int) -> None:
        client = app.test_client()  # signed in like the `client` fixture's
        barrier.wait()
        for i in range(per_thread):
            response = report(client, city, unit_index=n + i)
            assert response.status_code == 201
            created.append(response.json["id"])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda n: (appender if n % 2 else reporter)(n), range(threads)))
    rows = records_after(sessions, before)  # (other test sessions sharing the database may add rows too)
    mine = {f"incident:{i}" for i in created}
    with engine.connect() as conn:
        events = conn.scalar(
            sa.text("SELECT count(*) FROM outbox WHERE incident_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": created},
        )
    assert sum(r.action == "login" and r.actor.startswith("user-") for r in rows) == threads // 2 * per_thread
    assert sum(r.target in mine for r in rows) == events >= threads // 2 * per_thread
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]  # one chain: each follows the one before
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two records share a predecessor (no fork)
    assert verified(sessions).ok


# --- a separate database per backend, for tampering --------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=[pytest.param("sqlite", marks=pytest.mark.db), pytest.param("postgres", marks=pytest.mark.db)],
)
def tamperable_db(request, tmp_path_factory):
    """A migrated database of its own (the shared one's chain must stay intact): (kind, url, engine)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'audit.sqlite'}"
        engine = make_engine(url)
    else:
        pg_url = request.getfixturevalue("pg_url")
        url = sa.make_url(pg_url).set(database="gridcommand_audit_test").render_as_string(hide_password=False)
        _ensure_pg_database(url)
        engine = make_engine(url)
        _reset_pg_schema(engine)
    upgrade(engine)
    yield request.param, url, engine
    engine.dispose()


@pytest.fixture
def tamperable(tamperable_db):
    """The tamperable database with an empty trail: (url, engine, sessions, tamper) where tamper(*sql, **p) runs
    SQL with the append-only triggers bypassed (as someone with superuser or DDL rights could)."""
    kind, url, engine = tamperable_db

    def tamper(*statements: str, **params) -> None:
        with engine.begin() as conn:
            if kind == "postgres":
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            for sql in statements:
                conn.execute(sa.text(sql), params)
            if kind != "postgres":
                conn.exec_driver_sql(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                )
                conn.exec_driver_sql(
                    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                )

    tamper("DELETE FROM audit_log")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_head SET last_id = 0, last_hash = :g"), {"g": GENESIS})
    return url, engine, make_sessions(engine), tamper


def fill(sessions, n: int = 5) -> list[int]:
    ids = []
    for i in range(n):
        with sessions.begin() as session:
            ids.append(
                audit.append(
                    session,
                    actor="zhang",
                    role="dispatcher",
                    ip="10.0.0.7",
                    action="unmask",
                    target=f"incident:{i}",
                    detail={"field": "reporter_phone"},
                    now=T0 + timedelta(minutes=i),
                ).id
            )
    return ids


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    """A checkpoint file of this test's own, for this process and the commands it runs."""
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setenv("GRIDCOMMAND_AUDIT_CHECKPOINT_FILE", str(path))
    install_audit_key(get_settings().key("audit_key"), path)
    yield path
    install_audit_key(get_settings().key("audit_key"), None)


@pytest.fixture
def cli_env(tamperable, checkpoints, monkeypatch):
    url = tamperable[0]
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_verify(*options: str):
    return CliRunner().invoke(main, ["audit", "verify", *options], catch_exceptions=False)


def test_the_triggers_refuse_update_and_delete_until_bypassed(tamperable):
    _, engine, sessions, tamper = tamperable
    ids = fill(sessions, 2)
    for sql in ("UPDATE audit_log SET actor = 'li'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    assert verified(sessions) == VerifyResult(True, 2)
    tamper("UPDATE audit_log SET actor = 'li' WHERE id = :id", id=ids[0])
    assert verified(sessions).broken_id == ids[0]


def test_verify_names_an_edited_record(tamperable, cli_env):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions)
    assert run_verify().exit_code == 0
    tamper("UPDATE audit_log SET detail = :d WHERE id = :id", d='{"field": "address"}', id=ids[2])
    result = verified(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[2], "edited")
    out = run_verify()
    assert out.exit_code == 3, out.output
    assert f"record {ids[2]}" in out.output and "edited" in out.output


def test_verify_names_the_record_after_a_deleted_one(tamperable, cli_env):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions)
    tamper("DELETE FROM audit_log WHERE id = :id", id=ids[2])
    result = verified(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[3], "deleted")
    out = run_verify()
    assert out.exit_code == 3 and f"record {ids[3]}" in out.output and "deleted" in out.output, out.output


def test_verify_reports_a_deleted_tail(tamperable, cli_env):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions)
    tamper("DELETE FROM audit_log WHERE id = :id", id=ids[-1])
    result = verified(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[-2], "tail_deleted")
    out = run_verify()
    assert out.exit_code == 3 and f"records after id {ids[-2]} were deleted" in out.output, out.output


def test_verify_reports_reordered_records(tamperable, cli_env):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions)
    tamper(
        "UPDATE audit_log SET id = -1 WHERE id = :a",
        "UPDATE audit_log SET id = :a WHERE id = :b",
        "UPDATE audit_log SET id = :b WHERE id = -1",
        a=ids[1],
        b=ids[2],
    )
    result = verified(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[1], "reordered")
    out = run_verify()
    assert out.exit_code == 3 and "reordered" in out.output, out.output


def test_verify_passes_on_an_intact_trail(tamperable, cli_env):
    _, _, sessions, _ = tamperable
    fill(sessions, 3)
    out = run_verify()
    assert out.exit_code == 0 and "audit trail intact: 3 records" in out.output, out.output


def test_the_installed_command_exits_3_on_a_broken_trail(tamperable):
    url, _, sessions, tamper = tamperable
    ids = fill(sessions, 3)
    tamper("UPDATE audit_log SET result = 'denied' WHERE id = :id", id=ids[1])
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "audit", "verify"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"record {ids[1]}" in done.stderr and "edited" in done.stderr


# --- signed checkpoints outside the database (issue 9, item 10) -----------------------------------------------------


def roll_back(tamper, to_id: int) -> None:
    """Delete every record after `to_id` and point the head at it, as someone with write access to the database."""
    tamper(
        "DELETE FROM audit_log WHERE id > :id",
        "UPDATE audit_head SET last_id = :id, last_hash = (SELECT hash FROM audit_log WHERE id = :id)",
        id=to_id,
    )


def rechain(sessions, tamper, ids: list[int], *, edit: int, start: int) -> None:
    """Edit record ids[edit] and recompute every hash from ids[start] on, head included, with SHA-256 as the
    chain was computed before the audit key: what re-chaining looks like to someone without the key."""
    with sessions() as session:
        rows = session.scalars(sa.select(AuditRecord).where(AuditRecord.id >= ids[start]).order_by(AuditRecord.id))
        prev = GENESIS if start == 0 else session.get(AuditRecord, ids[start - 1]).hash
        statements = []
        for row in rows:
            fields = {**row.fields(), "actor": "wang" if row.id == ids[edit] else row.actor}
            digest = legacy_hash(fields, prev)
            statements.append(
                f"UPDATE audit_log SET actor = '{fields['actor']}', prev_hash = '{prev}', hash = '{digest}' "
                f"WHERE id = {row.id}"
            )
            prev = digest
    tamper(*statements, f"UPDATE audit_head SET last_hash = '{prev}'")


def test_checkpoints_are_written_after_each_commit_and_an_intact_trail_matches_them(tamperable, cli_env, checkpoints):
    _, _, sessions, _ = tamperable
    fill(sessions, 4)
    assert len(checkpoints.read_text().splitlines()) == 4
    out = run_verify("--checkpoints", str(checkpoints))
    assert out.exit_code == 0, out.output
    assert "audit trail intact: 4 records; 4 checkpoints match" in out.output


def test_deleting_the_tail_and_rolling_back_the_head_is_caught_by_the_checkpoints(tamperable, cli_env, checkpoints):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions, 5)
    roll_back(tamper, ids[2])
    assert run_verify().exit_code == 0  # the database alone cannot tell: the chain links, the head agrees
    out = run_verify("--checkpoints", str(checkpoints))
    assert out.exit_code == 3, out.output
    assert f"BROKEN at record {ids[2]} / checkpoint line 4 (truncated)" in out.output
    assert f"the records after {ids[2]} were deleted" in out.output


def test_re_chaining_after_an_edit_without_the_key_is_caught_with_and_without_checkpoints(
    tamperable, cli_env, checkpoints
):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions, 5)
    rechain(sessions, tamper, ids, edit=2, start=2)
    out = run_verify()
    assert out.exit_code == 3 and f"BROKEN at record {ids[2]} (rechained)" in out.output, out.output
    rechain(sessions, tamper, ids, edit=2, start=0)  # everything, so that it all looks older than the key
    out = run_verify()
    assert out.exit_code == 3 and "(unsealed)" in out.output, out.output
    out = run_verify("--checkpoints", str(checkpoints))
    assert out.exit_code == 3, out.output
    assert f"BROKEN at record {ids[0]} / checkpoint line 1 (rechained)" in out.output
    assert "the trail was rewritten after that checkpoint" in out.output


def test_a_forged_checkpoint_line_is_caught(tamperable, cli_env, checkpoints):
    _, _, sessions, tamper = tamperable
    ids = fill(sessions, 3)
    roll_back(tamper, ids[0])
    with sessions() as session:  # cover the truncation with a line for the new head, signed without the key
        head = session.get(AuditRecord, ids[0]).hash
    forged = {"at": "2026-12-02T03:00:00.000000Z", "count": 1, "head": head, "last_id": ids[0]}
    forged["sig"] = legacy_hash({**forged, "at": T0, "detail": {}}, GENESIS)
    with checkpoints.open("a") as file:
        file.write(json.dumps(forged) + "\n")
    out = run_verify("--checkpoints", str(checkpoints))
    assert out.exit_code == 3, out.output
    assert "checkpoint line 4: not signed by the audit key: the line was forged or altered" in out.output


def test_the_checkpoint_file_is_created_0600(tamperable, checkpoints):
    _, _, sessions, _ = tamperable
    fill(sessions, 1)
    assert checkpoints.stat().st_mode & 0o777 == 0o600


# --- the auditor's page ---------------------------------------------------------------------------------------------

DASH_ORIGIN = {"Origin": "http://localhost"}
SEARCH_INPUTS = [
    ("audit-search", "n_clicks"),
    ("audit-prev", "n_clicks"),
    ("audit-next", "n_clicks"),
    ("audit-actor", "value"),
    ("audit-action", "value"),
    ("audit-target", "value"),
    ("audit-result", "value"),
    ("audit-dates", "start_date"),
    ("audit-dates", "end_date"),
]


@pytest.fixture
def dash_server(app):
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    return app


@pytest.fixture
def auditor_token(db):
    import uuid

    from dispatcher.access.accounts import Account, issue_token

    _, _, sessions = db
    tag = uuid.uuid4().hex[:8]
    with sessions.begin() as session:
        account = Account(
            id=f"a{tag}",
            username=f"auditor-{tag}",
            display_name="审计员",
            role="auditor",
            password_hash="-",
            created_at=T0,
        )
        session.add(account)
        session.flush()
        return issue_token(session, account, name="tests", kind="service", now=T0)


def callback(
    client,
    token: str,
    output: str,
    inputs: list[tuple[str, str, object]],
    state: list[tuple[str, str, object]] = (),
    changed: str | None = None,
):
    """POST /_dash-update-component for the callback writing `output` (as Dash's renderer would); `changed` is
    the input that fired ("id.property"; the first input by default)."""
    headers = {"Authorization": f"Bearer {token}", **DASH_ORIGIN}
    spec = next(c for c in client.get("/_dash-dependencies", headers=headers).json if c["output"] == output)
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    body = {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [changed or f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    response = client.post("/_dash-update-component", json=body, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.json["response"] if response.status_code == 200 else None


SEARCH = "..audit-table.children...audit-total.children...audit-page.data...audit-pager.children.."


def search_page(client, token, *, changed: str = "audit-search", page: int = 0, lang: str = "en", **filters):
    """The search callback as if `changed` fired, with `filters` as {component suffix: value}."""
    values = {f"audit-{k}": v for k, v in filters.items()}
    inputs = [(i, p, values.get(i)) for i, p in SEARCH_INPUTS]
    fired = next(f"{i}.{p}" for i, p, _ in inputs if i == changed)
    return callback(
        client, token, SEARCH, inputs, [("audit-page", "data", page), ("gc-lang", "data", lang)], changed=fired
    )


def texts(component) -> str:
    return json.dumps(component, ensure_ascii=False)


def test_the_audit_page_searches_for_auditors_only(dash_server, client, city, db, tokens, auditor_token):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    found = search_page(client, auditor_token, changed="audit-target", target=f"incident:{incident['id']}")
    table = texts(found["audit-table"]["children"])
    assert table.index("incident.file") < table.index("incident.report")  # newest first
    assert "test-leader" in table and " UTC" in table
    assert found["audit-total"]["children"] == "2 records" and found["audit-pager"]["children"] == "1 / 1"
    refused = search_page(client, tokens["leader"], changed="audit-target", target=f"incident:{incident['id']}")
    assert "incident.file" not in texts(refused) and "Forbidden" in refused["audit-total"]["children"]


def test_the_audit_page_pages_through_the_trail(dash_server, db, auditor_token):
    _, _, sessions = db
    with sessions.begin() as session:
        audit.append_many(
            session, [audit.Entry(actor="pager", action="export", target=f"export:{i}") for i in range(55)], now=T0
        )
    client = dash_server.test_client()
    first = search_page(client, auditor_token, changed="audit-actor", actor="pager")
    assert first["audit-pager"]["children"] == "1 / 2" and first["audit-page"]["data"] == 0
    assert "export:54" in texts(first["audit-table"]) and 'export:4"' not in texts(first["audit-table"])
    second = search_page(client, auditor_token, changed="audit-next", actor="pager", page=0)
    assert second["audit-pager"]["children"] == "2 / 2" and "export:0" in texts(second["audit-table"])
    beyond = search_page(client, auditor_token, changed="audit-next", actor="pager", page=1)
    assert beyond["audit-page"]["data"] == 1
    back = search_page(client, auditor_token, changed="audit-prev", actor="pager", page=1)
    assert back["audit-page"]["data"] == 0


def test_the_audit_page_verifies_the_chain_and_audits_the_check(dash_server, db, tokens, auditor_token):
    _, engine, sessions = db
    client = dash_server.test_client()
    before = max_id(engine)
    answer = callback(
        client,
        auditor_token,
        "audit-verify-result.children",
        [("audit-verify", "n_clicks", 1)],
        [("gc-lang", "data", "en")],
    )
    assert "Audit trail intact" in json.dumps(answer)
    [record] = records_after(sessions, before)
    assert (record.action, record.role, record.result) == ("audit.verify", "auditor", "ok")
    refused = callback(
        client,
        tokens["leader"],
        "audit-verify-result.children",
        [("audit-verify", "n_clicks", 1)],
        [("gc-lang", "data", "en")],
    )
    assert "Forbidden" in json.dumps(refused) and "intact" not in json.dumps(refused)
    assert len(records_after(sessions, before)) == 1


def test_the_audit_page_layout_is_a_notice_for_anyone_else(dash_server, tokens, auditor_token):
    client = dash_server.test_client()
    inputs = [("gc-url", "pathname", "/audit"), ("gc-lang", "data", "zh")]
    state = [("gc-url", "search", "")]
    page = json.dumps(callback(client, auditor_token, "gc-page.children", inputs, state), ensure_ascii=False)
    assert "audit-table" in page and "审计日志" in page
    other = json.dumps(callback(client, tokens["leader"], "gc-page.children", inputs, state), ensure_ascii=False)
    assert "audit-table" not in other and "仅审计员" in other
