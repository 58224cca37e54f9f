"""Duplicate suggestions (radius, window, category, same caller), merge / unmerge rules, phone lookup hashes.

An in-memory SQLite database built from dispatcher.schema metadata; no grids needed for suggestions.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from dispatcher.cases import merging
from dispatcher.cases.actions import perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, TERMINAL_STATUSES, Action, Status
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Conflict, Invalid, NotFound
from dispatcher.intake import callers, duplicates
from dispatcher.schema import Base
from dispatcher.store import cipher
from dispatcher.store.outbox import OutboxEvent

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
LON, LAT = 120.15, 30.27
M_PER_DEG_LAT = 111_195.0  # haversine on the mean sphere


def north(metres: float) -> tuple[float, float]:
    return LON, LAT + metres / M_PER_DEG_LAT


@pytest.fixture
def sessions():
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False, autoflush=False)
    engine.dispose()


@pytest.fixture
def catalogue(city):
    return city.catalogue


def add(
    session,
    *,
    at_m: float | None = 0.0,
    category: str | None = "020101",
    status: Status = Status.REPORTED,
    age: timedelta = timedelta(hours=1),
    phone: str | None = None,
    district: str = "330199",
    **extra,
) -> Incident:
    lon, lat = north(at_m) if at_m is not None else (None, None)
    incident = Incident(
        channel="hotline",
        status=str(status),
        category_code=category,
        description="x",
        lon=lon,
        lat=lat,
        grid_district=district,
        reporter_phone=phone,
        reporter_phone_hash=callers.phone_hash(phone),
        created_at=NOW - age,
        updated_at=NOW - age,
        **extra,
    )
    session.add(incident)
    session.flush()
    return incident


def suggest(session, catalogue, *, category="020101", at_m=0.0, phone=None, scope=None, **kw):
    scope = sa.true() if scope is None else scope
    lon, lat = north(at_m) if at_m is not None else (None, None)
    return duplicates.suggest(
        session,
        catalogue=catalogue,
        category_code=category,
        lon=lon,
        lat=lat,
        at=NOW,
        phone_hash=callers.phone_hash(phone),
        scope=scope,
        **kw,
    )


def test_merged_is_finished_but_not_terminal():
    assert Status.MERGED not in OPEN_STATUSES and Status.MERGED not in TERMINAL_STATUSES


def test_same_category_within_radius_and_window_nearest_first(sessions, catalogue):
    assert catalogue.category("020101").dup_radius_m == 50 and catalogue.category("020101").dup_window_h == 24
    with sessions() as session:
        far = add(session, at_m=45)
        near = add(session, at_m=20)
        add(session, at_m=60)  # outside the 50 m radius
        add(session, at_m=20, category="020201")  # another category
        add(session, at_m=20, age=timedelta(hours=30))  # outside the 24 h window
        add(session, at_m=20, status=Status.CLOSED)
        add(session, at_m=20, status=Status.MERGED)
        found = suggest(session, catalogue)
    assert [(s.incident.id, s.reason) for s in found] == [(near.id, "nearby"), (far.id, "nearby")]
    assert found[0].distance_m == pytest.approx(20, abs=0.5) and found[1].distance_m == pytest.approx(45, abs=0.5)


def test_radius_and_window_come_from_the_category(sessions, catalogue):
    manhole = catalogue.category("010101")
    assert (manhole.dup_radius_m, manhole.dup_window_h) == (30, 24)
    with sessions() as session:
        inside = add(session, at_m=25, category="010101")
        add(session, at_m=40, category="010101")  # within 50 m but not within the manhole's 30 m
        found = suggest(session, catalogue, category="010101")
    assert [s.incident.id for s in found] == [inside.id]


def test_same_caller_anywhere_in_the_window(sessions, catalogue):
    phone = "13812345678"
    with sessions() as session:
        both = add(session, at_m=10, phone="+86 138-1234-5678")
        elsewhere = add(session, at_m=2000, category="020201", phone=phone)
        unplaced = add(session, at_m=None, category=None, phone=phone, age=timedelta(hours=2))
        add(session, at_m=3000, phone=phone, age=timedelta(hours=30))  # outside the window
        add(session, at_m=3000, phone="13900000000")  # another caller
        found = suggest(session, catalogue, phone=phone)
    assert [(s.incident.id, s.reason) for s in found] == [
        (both.id, "nearby_same_caller"),
        (elsewhere.id, "same_caller"),
        (unplaced.id, "same_caller"),
    ]
    assert found[1].distance_m == pytest.approx(2000, rel=0.01) and found[2].distance_m is None


def test_without_category_only_the_caller_rule_applies_with_the_default_window(sessions, catalogue):
    phone = "13812345678"
    with sessions() as session:
        add(session, at_m=5)  # nearby, but the new report has no category
        old_call = add(session, at_m=5, phone=phone, age=timedelta(hours=60))
        found = suggest(session, catalogue, category=None, phone=phone)
        unknown = suggest(session, catalogue, category="999999", phone=phone)
    assert duplicates.DEFAULT_WINDOW_H == 72
    assert [s.incident.id for s in found] == [old_call.id] == [s.incident.id for s in unknown]


def test_scope_exclusion_and_limit(sessions, catalogue):
    with sessions() as session:
        mine = [add(session, at_m=m) for m in (5, 10, 15)]
        add(session, at_m=1, district="330100")  # another district
        scoped = suggest(session, catalogue, scope=Incident.grid_district == "330199", exclude_id=mine[0].id)
        limited = suggest(session, catalogue, limit=2)
    assert [s.incident.id for s in scoped] == [mine[1].id, mine[2].id]
    assert len(limited) == 2 and limited[0].distance_m == pytest.approx(1, abs=0.5)


def test_the_bounding_box_is_wide_enough_away_from_the_equator(sessions, catalogue):
    with sessions() as session:
        east = Incident(
            channel="api",
            status="reported",
            category_code="020101",
            description="x",
            lon=LON + 48 / (M_PER_DEG_LAT * 0.8638),
            lat=LAT,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(east)
        session.flush()
        found = suggest(session, catalogue)
    assert [s.incident.id for s in found] == [east.id] and found[0].distance_m < 50


# --- merge / unmerge ----------------------------------------------------------------------------------------


def merge(sessions, city, child_id, **body):
    with UnitOfWork(sessions) as uow:
        incident = perform_action(uow, city, child_id, Action.MERGE, ActionRequest(**body), actor="op", now=NOW)
        uow.commit(NOW)
        return incident


def test_merge_and_unmerge_keep_both_timelines_counts_and_clocks(sessions, city):
    with sessions.begin() as session:
        parent = add(session, status=Status.FILED)
        child = add(session, at_m=20, stage="file", stage_deadline=NOW + timedelta(hours=1))
    merged = merge(sessions, city, child.id, parent_id=parent.id)
    assert merged.status == "merged" and merged.parent_id == parent.id and merged.stage_deadline is None
    with sessions() as session:
        stored = session.get(Incident, parent.id)
        assert stored.merged_count == 1 and stored.status == "filed"
        assert [(e.action, e.data["child_id"]) for e in stored.timeline] == [("merged_in", child.id)]
        events = {(e.incident_id, e.name) for e in session.scalars(sa.select(OutboxEvent))}
    assert events == {(child.id, "incident.merge"), (parent.id, "incident.merged_in")}
    with UnitOfWork(sessions) as uow:
        back = perform_action(uow, city, child.id, Action.UNMERGE, ActionRequest(), actor="op", now=NOW)
        uow.commit(NOW)
    assert back.status == "reported" and back.parent_id is None and back.stage == "file" and back.stage_deadline
    with sessions() as session:
        stored = session.get(Incident, parent.id)
        assert stored.merged_count == 0 and [e.action for e in stored.timeline] == ["merged_in", "unmerged"]
        assert [e.action for e in session.get(Incident, child.id).timeline] == ["merge", "unmerge"]


def test_merge_refusals_name_the_ids(sessions, city):
    with sessions.begin() as session:
        parent = add(session)
        child = add(session, at_m=10)
        other = add(session, at_m=12)
        closed = add(session, status=Status.CLOSED)
        voided = add(session, status=Status.VOIDED)
    cases = [
        ({}, Invalid, "parent_id"),
        ({"parent_id": child.id}, Invalid, "itself"),
        ({"parent_id": "nope"}, NotFound, "nope"),
        ({"parent_id": closed.id}, Conflict, closed.id),
        ({"parent_id": voided.id}, Conflict, voided.id),
    ]
    for body, error, named in cases:
        with pytest.raises(error) as err:
            merge(sessions, city, child.id, **body)
        assert named in err.value.message and err.value.field == "parent_id", body
    merge(sessions, city, child.id, parent_id=parent.id)
    with pytest.raises(Conflict) as err:  # no chains: the parent must not itself be merged
        merge(sessions, city, other.id, parent_id=child.id)
    assert child.id in err.value.message and parent.id in err.value.message
    with pytest.raises(Conflict) as err:  # a case carrying duplicates is not merged away
        merge(sessions, city, parent.id, parent_id=other.id)
    assert parent.id in err.value.message and "unmerge" in err.value.message
    with sessions() as session:
        assert session.get(Incident, parent.id).merged_count == 1
        assert session.get(Incident, other.id).status == "reported"


def test_merging_across_categories_is_allowed_and_noted(sessions, city):
    with sessions.begin() as session:
        parent = add(session, category="020201")
        child = add(session)
    merged = merge(sessions, city, child.id, parent_id=parent.id)
    assert "020101" in merged.timeline[-1].note and "020201" in merged.timeline[-1].note
    with sessions() as session:
        assert session.get(Incident, parent.id).timeline[-1].data["categories_differ"] is True


def test_callback_list_names_every_caller(sessions, city):
    with sessions.begin() as session:
        parent = add(session, phone="13812345678", reporter_name="王小明", call_nature="callback")
        child = add(session, at_m=5, phone="13900001111", call_nature="no_callback")
    merge(sessions, city, child.id, parent_id=parent.id)
    with sessions() as session:
        entries = merging.callback_list(session, session.get(Incident, parent.id))
    assert [(e["incident_id"], e["relation"], e["needs_callback"]) for e in entries] == [
        (parent.id, "self", True),
        (child.id, "merged", False),
    ]
    assert entries[1]["reporter_phone"] == "13900001111"


# --- phone lookup hashes ---------------------------------------------------------------------------------------


def test_phone_hash_ignores_formatting_and_is_keyed():
    forms = ["13812345678", "+86 138 1234 5678", "86-138-1234-5678", "008613812345678"]
    assert len({callers.phone_hash(f) for f in forms}) == 1
    assert callers.phone_hash("13812345679") != callers.phone_hash("13812345678")
    assert callers.phone_hash("0571-8765 4321") == callers.phone_hash("057187654321")
    assert callers.phone_hash(None) is None and callers.phone_hash("--") is None
    plain = hashlib.sha256(b"13812345678").hexdigest()
    digest = callers.phone_hash("13812345678")
    assert digest != plain and len(digest) == 64
    saved = cipher._installed
    try:
        cipher.install_key("another key")
        assert callers.phone_hash("13812345678") != digest
    finally:
        cipher._installed = saved
    assert callers.phone_hash("13812345678") == digest


def test_lookup_key_differs_from_the_encryption_key():
    secret = "k"
    assert cipher.derive_key(secret) != cipher.derive_key(secret, b"gridcommand pii lookup v1")
