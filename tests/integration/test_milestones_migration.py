"""Migration 0017 on a database that already has cases: their milestones are filled from the timeline (who reported
it, the last filing, the first dispatch, the last feedback and verification, the approved extensions), past
deadlines stay unknown (NULL), the schema equals the model, and the way down drops the columns and keeps the cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dispatcher.cases.incident import Incident
from dispatcher.schema import Base
from dispatcher.store.columns import UTCDateTime
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.migrate import downgrade, upgrade
from tests.conftest import T0, _ensure_pg_database

MILESTONES = {
    "reported_by",
    "filed_at",
    "filed_by",
    "file_due_at",
    "dispatched_at",
    "dispatched_by",
    "dispatch_due_at",
    "handled_at",
    "handle_due_at",
    "verified_at",
    "verify_due_at",
    "extension_count",
}
M = timedelta(minutes=1)
INCIDENT = sa.table(
    "incident",
    *(sa.column(name) for name in ("id", "version", "channel", "status", "description", "urgency")),
    *(sa.column(name) for name in ("rework_count", "return_count", "escalation_count")),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("closed_at", UTCDateTime()),
)
TIMELINE = sa.table(
    "timeline",
    *(sa.column(name) for name in ("incident_id", "seq", "actor", "action", "from_status", "to_status")),
    sa.column("at", UTCDateTime()),
    sa.column("data", sa.JSON()),
)
# (incident, [(minutes after T0, actor, action, to_status)]) as the lifecycle wrote them before 0017
HISTORY = {
    "case-loop": [
        (0, "hotline-1", "report", "reported"),
        (1, "leader-1", "file", "filed"),
        (2, "leader-1", "dispatch", "dispatched"),
        (3, "handler-1", "return", "returned"),
        (4, "leader-2", "dispatch", "dispatched"),
        (5, "handler-2", "claim", "claimed"),
        (6, "leader-1", "extend", "claimed"),
        (7, "leader-1", "extend", "claimed"),
        (8, "handler-2", "handle", "handled"),
        (9, "inspector-1", "reject", "rework"),
        (10, "handler-2", "claim", "claimed"),
        (11, "handler-3", "handle", "handled"),
        (12, "inspector-1", "verify", "verified"),
        (13, "leader-1", "close", "closed"),
    ],
    "case-refiled": [
        (0, "grid-worker-3", "report", "reported"),
        (1, "leader-1", "file", "filed"),
        (2, "leader-1", "merge", "merged"),
        (3, "leader-2", "unmerge", "reported"),
        (4, "leader-3", "file", "filed"),
    ],
    "case-new": [(0, "partner-key-1", "report", "reported")],
}


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm0017.sqlite'}")
    else:
        pg_url = request.getfixturevalue("pg_url")
        url = sa.make_url(pg_url).set(database=f"{sa.make_url(pg_url).database}_m0017")
        _ensure_pg_database(url.render_as_string(hide_password=False))
        engine = make_engine(url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield engine
    engine.dispose()


def _cases_before_0017(engine: sa.Engine) -> None:
    upgrade(engine, "0016")
    with engine.begin() as conn:
        for case_id, rows in HISTORY.items():
            last = T0 + rows[-1][0] * M
            closed = last if rows[-1][2] == "close" else None
            conn.execute(
                sa.insert(INCIDENT).values(
                    id=case_id, version=len(rows), channel="hotline", status=rows[-1][3], description="旧案卷",
                    urgency=1, rework_count=0, return_count=0, escalation_count=0, created_at=T0, updated_at=last,
                    closed_at=closed,
                )
            )  # fmt: skip
            conn.execute(
                sa.insert(TIMELINE),
                [
                    {"incident_id": case_id, "seq": seq, "at": T0 + minutes * M, "actor": actor, "action": action,
                     "from_status": None, "to_status": status, "data": {}}
                    for seq, (minutes, actor, action, status) in enumerate(rows, start=1)
                ],
            )  # fmt: skip


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("incident")}


def test_0017_fills_the_milestones_of_existing_cases_from_their_timeline(engine):
    _cases_before_0017(engine)
    upgrade(engine, "0017")
    with make_sessions(engine)() as session:
        loop, refiled, new = (session.get(Incident, i) for i in ("case-loop", "case-refiled", "case-new"))
        assert loop is not None and refiled is not None and new is not None
        assert (loop.reported_by, loop.filed_at, loop.filed_by) == ("hotline-1", T0 + M, "leader-1")
        assert (loop.dispatched_at, loop.dispatched_by) == (T0 + 2 * M, "leader-1")  # the first dispatch
        assert (loop.handled_at, loop.verified_at) == (T0 + 11 * M, T0 + 12 * M)  # the last feedback
        assert (loop.extension_count, loop.closed_at) == (2, T0 + 13 * M)
        assert (refiled.reported_by, refiled.filed_at, refiled.filed_by) == ("grid-worker-3", T0 + 4 * M, "leader-3")
        assert (refiled.dispatched_at, refiled.handled_at, refiled.extension_count) == (None, None, 0)
        assert (new.reported_by, new.filed_at, new.verified_at, new.extension_count) == ("partner-key-1", None, None, 0)
        for case in (loop, refiled, new):  # past deadlines are unknown: "no limit known"
            assert (case.file_due_at, case.dispatch_due_at, case.handle_due_at, case.verify_due_at) == (None,) * 4
    upgrade(engine, "head")  # 0018 indexes the deadlines: the model describes the head
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diff if any(f"'{name}'" in repr(d) for name in MILESTONES | {"ix_incident_closed_at"})] == []

    downgrade(engine, "0016")
    assert not MILESTONES & _columns(engine)
    assert "ix_incident_closed_at" not in {ix["name"] for ix in sa.inspect(engine).get_indexes("incident")}
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM incident")) == len(HISTORY)
        assert conn.scalar(sa.text("SELECT count(*) FROM timeline")) == sum(map(len, HISTORY.values()))
    upgrade(engine, "0017")  # and up again, filled again
    with make_sessions(engine)() as session:
        again = session.get(Incident, "case-loop")
        assert again is not None and (again.filed_by, again.extension_count) == ("leader-1", 2)
