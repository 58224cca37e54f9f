"""Shared fixtures: the demo city, both storage backends (SQLite and PostgreSQL+PostGIS), a real Redis, the API client."""

from __future__ import annotations

import copy
import os
import secrets
from datetime import UTC, datetime

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask.testing import FlaskClient

from dashboard.runtime import runtime_of
from dispatcher.access.audit import install_audit_key
from dispatcher.city.loader import City, load_city
from dispatcher.settings import REPO_ROOT, Settings
from dispatcher.store import cipher
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import current_version, replace_grids
from dispatcher.store.migrate import upgrade
from geo.grids import GridIndex
from geo.importer import load_grids

IN_CI = os.environ.get("CI", "").lower() == "true"
# Keys for this test run only, inherited by every process the tests start (a deployment makes its own with
# `gridcommand keys generate`; nothing starts without them).
for _name in ("GRIDCOMMAND_SECRET_KEY", "GRIDCOMMAND_PII_KEY", "GRIDCOMMAND_AUDIT_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(32))
# pytest-xdist runs the suite in several processes (scripts/test): each gets its own database and Redis db.
XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def per_worker(url: str) -> str:
    """`url` made private to this test process: `<database>_gwN` for PostgreSQL, db number minus N for Redis."""
    if not XDIST_WORKER:
        return url
    if url.startswith("redis"):
        base, _, db = url.rpartition("/")
        return f"{base}/{int(db or 0) - XDIST_WORKER}"
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_gw{XDIST_WORKER}").render_as_string(hide_password=False)


PG_URL = per_worker(
    os.environ.get("GRIDCOMMAND_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_test")
)
REDIS_URL = per_worker(os.environ.get("GRIDCOMMAND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
DEMO_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
# A Wednesday morning, 10:00 in Shanghai: inside working hours, away from holidays.
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def unavailable(what: str, exc: Exception):
    """In CI a missing service fails the run; on a laptop the test is skipped with the reason."""
    message = f"{what} unavailable: {exc}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def pii_key():
    """The PII key of the default settings, installed as every process installs its own at start-up."""
    cipher.install_key(Settings().key("pii_key"))
    install_audit_key(Settings().key("audit_key"))  # and the audit key (checkpoints: as create_server configures)


@pytest.fixture(scope="session")
def demo_grids():
    return load_grids(DEMO_GRIDS)


@pytest.fixture(scope="session")
def demo_index(demo_grids) -> GridIndex:
    return GridIndex(demo_grids, version="1")


@pytest.fixture(scope="session")
def city(demo_index) -> City:
    return load_city(REPO_ROOT / "data", demo_index)


def _ensure_pg_database(url: str) -> None:
    target = sa.make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _reset_pg_schema(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def pg_url() -> str:
    try:
        _ensure_pg_database(PG_URL)
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    return PG_URL


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request, tmp_path_factory, demo_grids):
    """A migrated database holding the demo city, on each backend in turn: (url, engine)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        engine = make_engine(url)
    else:
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        _reset_pg_schema(engine)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        replace_grids(session, demo_grids, source="tests", actor="tests", now=T0)
    yield url, engine
    engine.dispose()


TRANSIENT_TABLES = (
    "timeline",
    "ledger_entry",
    "approval",
    "case_partner",
    "notification",
    "outbox",
    "idempotency_key",
    "media",
    "machine_event",
    "case_number_counter",
    "incident",
    "evaluation_frozen",
    "officer_position",
    "officer",
)


def clear_incidents(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in TRANSIENT_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture
def db(backend):
    """A clean incident store on the current backend: (url, engine, sessions)."""
    url, engine = backend
    clear_incidents(engine)
    return url, engine, make_sessions(engine)


@pytest.fixture
def redis_url() -> str:
    """A real Redis (db 15, flushed) for tests that need one."""
    client = redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(db, city, clock):
    """The Flask server on the current backend, with a frozen clock and no Redis."""
    from dashboard.app import create_server
    from dashboard.runtime import Runtime

    url, engine, sessions = db
    # no random spot-check callbacks (their own tests set the rate): a scripted case closes the same way every run
    settings = Settings(DATABASE_URL=url, REDIS_URL=None, spot_check_rate=0.0)
    grids = copy.copy(city.grids)  # the stored grids are the demo city; only the version number differs
    with sessions() as session:
        grids.version = str(current_version(session))
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        city=City(city.catalogue, city.calendar, city.router, grids, city.rules),
        redis=None,
        queue=None,
        clock=clock,
    )
    server = create_server(settings, runtime)
    server.testing = True
    return server


TEST_PASSWORD = "correct horse battery staple"
# Who performs what in the tests, as in a real city: the district shift leader files, dispatches, verifies and
# closes; the head of the department a case is dispatched to claims, handles and returns it ("dept:<code>"; seeing
# a case does not let a department act on it); "dept" is a department head with district scope and no department
# (it sees, it may not act); the admin imports grids.
TEST_ACCOUNTS = {
    "leader": dict(role="shift_leader", region_code="330199", department_code=None),
    "dept": dict(role="dept_head", region_code="330199", department_code=None),
    "admin": dict(role="admin", region_code=None, department_code=None),
}
DEPARTMENT_ACTIONS = {"claim", "transfer", "return", "handle"}


@pytest.fixture(scope="session")
def tokens(backend, city) -> dict[str, str]:
    """Bearer tokens of the test accounts on the current backend (created once per backend)."""
    from dispatcher.access.accounts import Account, issue_token
    from dispatcher.access.passwords import hash_password

    _, engine = backend
    issued = {}
    heads = {
        f"dept:{code}": dict(role="dept_head", region_code=None, department_code=code)
        for code in city.catalogue.departments
    }
    password_hash = hash_password(TEST_PASSWORD)
    with make_sessions(engine).begin() as session:
        for name, fields in {**TEST_ACCOUNTS, **heads}.items():
            slug = name.replace(":", "-")
            account = session.get(Account, f"t-{slug}") or Account(
                id=f"t-{slug}",
                username=f"test-{slug}",
                display_name=name,
                password_hash=password_hash,
                created_at=T0,
                **fields,
            )
            session.add(account)
            session.flush()
            issued[name] = issue_token(session, account, name="tests", kind="service", now=T0)
    return issued


class ActingClient(FlaskClient):
    """A test client that signs each request as the person who would make it (see TEST_ACCOUNTS)."""

    tokens: dict[str, str] = {}

    def open(self, *args, **kwargs):
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        headers = dict(kwargs.pop("headers", None) or {})
        if self.tokens and "Authorization" not in headers:
            action = path.split("/actions/")[1].split("?")[0] if "/actions/" in path else None
            who = (
                self._department_head(path.split("/")[4])
                if action in DEPARTMENT_ACTIONS
                else "admin"
                if path.startswith("/api/v1/grids/import")
                else "leader"
            )
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return super().open(*args, headers=headers, **kwargs)

    def _department_head(self, incident_id: str) -> str:
        """The head of the department the incident is dispatched to ("dept" when it has none or does not exist)."""
        from dispatcher.cases.incident import Incident

        with runtime_of(self.application).sessions() as session:
            incident = session.get(Incident, incident_id)
            department = incident.department_code if incident is not None else None
        return f"dept:{department}" if f"dept:{department}" in self.tokens else "dept"


@pytest.fixture
def client(app, tokens):
    app.test_client_class = type("Client", (ActingClient,), {"tokens": tokens})
    return app.test_client()


@pytest.fixture
def anonymous(app):
    """A client that sends no credentials."""
    app.test_client_class = FlaskClient
    return app.test_client()


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        if "backend" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        (dropped if _outside_postgres_sample(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _outside_postgres_sample(item) -> bool:
    """`@pytest.mark.postgres_sample(param=[values])`: every value runs on SQLite, only these on PostgreSQL (for a
    matrix whose SQL is the same for every value: the sample covers each kind of predicate once)."""
    marker = item.get_closest_marker("postgres_sample")
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if marker is None or params.get("backend") != "postgres":
        return False
    return any(params.get(name) not in values for name, values in marker.kwargs.items())
