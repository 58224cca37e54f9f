"""The demo's morning backlog (workers/backlog.py): every stage of the loop on the first screen, legal timelines,
real evidence files, ledger rows for the archived cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from dispatcher.cases.clocks import is_overdue
from dispatcher.cases.incident import CasePartner, Incident
from dispatcher.cases.lifecycle import TRANSITIONS, Action, Status
from dispatcher.handling.approvals import Approval
from dispatcher.handling.ledger import LedgerEntry
from dispatcher.intake.media import Media, MediaStore
from dispatcher.settings import REPO_ROOT
from workers.backlog import SCRIPTS, seed_backlog

NOW = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)  # a Wednesday, 16:00 in the demo city: working hours all morning


def test_the_backlog_shows_every_stage_of_the_loop_with_legal_timelines(db, tmp_path):
    url, _engine, sessions = db
    media_dir = tmp_path / "media"
    created = seed_backlog(url, REPO_ROOT / "data", count=90, now=NOW, media_dir=media_dir)
    assert created == 90

    with sessions() as session:
        incidents = list(session.scalars(select(Incident)))
        assert len(incidents) == 90
        statuses = Counter(i.status for i in incidents)
        expected = {
            "reported", "filed", "escalated", "dispatched", "claimed", "suspended", "returned", "handled",
            "verified", "rework", "closed", "archived", "voided",
        }  # fmt: skip
        assert expected <= set(statuses), statuses

        approvals = Counter((a.kind, a.status) for a in session.scalars(select(Approval)))
        for pair in [("extend", "pending"), ("suspend", "pending"), ("suspend", "approved"), ("extend", "refused")]:
            assert approvals[pair], approvals
        by_id = {i.id: i for i in incidents}
        open_parts = [p for p in session.scalars(select(CasePartner)) if p.done_at is None]
        assert any(by_id[p.incident_id].status == "claimed" for p in open_parts)  # a joint case, partner part open
        assert any(p.done_at is not None for p in session.scalars(select(CasePartner)))
        waiting_callback = [
            i for i in incidents if i.status == "verified" and i.callback_required and i.callback_outcome is None
        ]
        assert waiting_callback
        assert any(i.status == "returned" and i.return_count for i in incidents)  # awaiting arbitration
        assert any(i.status == "dispatched" and any(e.action == "uphold" for e in i.timeline) for i in incidents)
        assert any(i.status == "rework" and i.rework_count for i in incidents)
        assert any(i.supervised_at is not None for i in incidents)
        assert any(is_overdue(i, NOW) for i in incidents)

        archived = {i.id for i in incidents if i.status == "archived"}
        ledger = {e.incident_id for e in session.scalars(select(LedgerEntry))}
        assert archived and ledger == archived

        # feedback on photo-bound categories carries before and after photos, really stored and intact
        store = MediaStore(media_dir)
        media = list(session.scalars(select(Media)))
        kinds = Counter((m.stage, m.kind) for m in media)
        assert kinds[("handle", "before")] and kinds[("handle", "after")], kinds
        for m in media:
            assert store.read_verified(m)[:2] == b"\xff\xd8"  # a JPEG
        befores = {m.incident_id: m.sha256 for m in media if m.kind == "before"}
        afters = {m.incident_id: m.sha256 for m in media if m.kind == "after"}
        assert all(befores[k] != afters.get(k) for k in befores)  # different pictures

        for incident in incidents:
            entries = incident.timeline
            assert entries[0].action == "report" and entries[0].from_status is None
            for before, entry in zip(entries, entries[1:]):
                assert entry.from_status == before.to_status, (incident.id, entry.action)
                assert before.at <= entry.at <= NOW
                if entry.action == "evidence":
                    assert entry.from_status == entry.to_status
                    continue
                key = (Status(entry.from_status), Action(entry.action))
                assert TRANSITIONS.get(key) == Status(entry.to_status), (incident.id, key, entry.to_status)
            assert entries[-1].to_status == incident.status


def test_every_script_is_seeded_at_least_twice_when_the_count_allows():
    import random

    from workers.backlog import MIN_EACH, scripts_for

    names = Counter(scripts_for(140, random.Random(3)))
    assert sum(names.values()) == 140
    assert all(names[name] >= MIN_EACH for name in SCRIPTS)
    assert len(scripts_for(5, random.Random(3))) == 5
