"""Duplicate suggestions for a report with no point (a hotline call nobody placed yet): the same caller, and open
cases of the same kind that read alike, within the window; text is never used when there is a point to measure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from dispatcher.cases.lifecycle import Status
from dispatcher.intake import callers, duplicates
from dispatcher.schema import Base
from tests.unit.dispatcher.test_duplicates import NOW, north
from tests.unit.dispatcher.test_duplicates import add as add_incident

COMPLAINT = "幸福小区3幢门口垃圾堆积，好几天没人清理"


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    with sessionmaker(engine, expire_on_commit=False, autoflush=False)() as session:
        yield session
    engine.dispose()


def add(session, *, description: str = "x", address: str | None = None, **kw):
    incident = add_incident(session, **kw)
    incident.description, incident.address = description, address
    session.flush()
    return incident


def unplaced(session, catalogue, text: str, *, category: str | None = "020101", phone: str | None = None, at=None):
    lon, lat = at if at is not None else (None, None)
    return duplicates.suggest(
        session,
        catalogue=catalogue,
        category_code=category,
        lon=lon,
        lat=lat,
        at=NOW,
        phone_hash=callers.phone_hash(phone),
        scope=sa.true(),
        text=text,
    )


def test_a_report_that_reads_alike_is_suggested_without_a_point(session, city):
    same = add(session, at_m=None, description=COMPLAINT, address="幸福小区")
    placed = add(session, at_m=300, description="幸福小区门口垃圾堆积好几天了没人清理")
    add(session, at_m=None, description="路灯不亮，晚上很黑")  # another matter
    add(session, at_m=None, description=COMPLAINT, category="010101")  # another kind
    add(session, at_m=None, description=COMPLAINT, age=timedelta(hours=30))  # outside the 24 h window
    add(session, at_m=None, description=COMPLAINT, status=Status.CLOSED)
    found = unplaced(session, city.catalogue, "幸福小区 门口的垃圾堆积好几天没人清理")
    assert {(s.incident.id, s.reason) for s in found} == {(same.id, "similar_text"), (placed.id, "similar_text")}
    assert all(s.distance_m is None for s in found)


def test_the_same_caller_is_suggested_without_a_point_or_a_category(session, city):
    phone = "13812345678"
    earlier = add(session, at_m=None, category=None, phone="+86 138 1234 5678", description="问一下停车收费")
    found = unplaced(session, city.catalogue, "", category=None, phone=phone)
    assert [(s.incident.id, s.reason) for s in found] == [(earlier.id, "same_caller")]


def test_text_is_not_compared_when_the_report_has_a_point(session, city):
    add(session, at_m=500, description=COMPLAINT)  # far away: not nearby, and not compared by text
    assert unplaced(session, city.catalogue, COMPLAINT, at=north(0)) == []


def test_text_similarity_of_repeated_and_unrelated_complaints():
    assert duplicates.text_similarity(COMPLAINT, "幸福小区门口垃圾堆积没人清理") >= duplicates.TEXT_MIN_SCORE
    assert duplicates.text_similarity(COMPLAINT, "路灯不亮，晚上很黑") < duplicates.TEXT_MIN_SCORE
    assert duplicates.text_similarity("垃圾", "垃圾") == 0.0  # too short to say anything
