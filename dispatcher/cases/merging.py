"""Merging duplicates (合并): the effects of the lifecycle actions `merge` and `unmerge`, and who to call back.

`attach` / `detach` check the parent, link or unlink the child, keep the parent's `merged_count`, and write a
timeline row (and so an outbox event) on the parent. Every merged caller still gets a call back:
`callback_list` lists the parent's caller and each merged one. A merged report keeps its own scope: for a caller
who may not see it, its entry says only that someone is to be called back (its id is already on the parent's
timeline), never who or at what number, and so it can never be unmasked through the parent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access.accounts import Principal
from dispatcher.cases.incident import CallNature, Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.cases.scope import can_see
from dispatcher.errors import Conflict, Invalid, NotFound

MERGED_IN = "merged_in"  # the parent's timeline row when a duplicate is folded into it
UNMERGED = "unmerged"  # the parent's timeline row when one is split off again
NO_CALLBACK = frozenset({CallNature.NO_CALLBACK, CallNature.HARASSMENT, CallNature.CONSULTATION})


def attach(session: Session, child: Incident, parent_id: str | None, *, actor: str, now: datetime) -> str | None:
    """Effect of `merge`: link `child` to the open case `parent_id`, count it there, record it on the parent.

    Refuses (naming the ids) a missing parent_id, merging into itself, a missing parent, a parent that is
    itself merged (no chains), a parent that is not open, and a child that already carries merged reports.
    Different categories are allowed and noted. Returns a note for the child's timeline row (or None).
    """
    if parent_id is None:
        raise Invalid(f"incident {child.id}: action 'merge' needs 'parent_id'", field="parent_id")
    if parent_id == child.id:
        raise Invalid(f"incident {child.id} cannot be merged into itself", field="parent_id")
    parent = session.get(Incident, parent_id, with_for_update=True)
    if parent is None:
        raise NotFound(f"incident {parent_id} does not exist", field="parent_id")
    if parent.state is Status.MERGED:
        raise Conflict(
            f"incident {parent.id} is itself merged into {parent.parent_id}; "
            f"merge {child.id} into {parent.parent_id} instead",
            field="parent_id",
        )
    if parent.state not in OPEN_STATUSES:
        raise Conflict(
            f"incident {parent.id} is {parent.status}; only an open case can take duplicate {child.id}",
            field="parent_id",
        )
    if child.merged_count:
        raise Conflict(
            f"incident {child.id} carries {child.merged_count} merged report(s); unmerge them first "
            f"or merge {parent.id} into {child.id}",
            field="parent_id",
        )
    differs = child.category_code != parent.category_code
    child.parent_id = parent.id
    parent.merged_count = (parent.merged_count or 0) + 1
    note = f"category {child.category_code} differs from the parent's {parent.category_code}" if differs else None
    parent.record(
        action=MERGED_IN,
        actor=actor,
        now=now,
        to=parent.state,
        note=note,
        data={
            "child_id": child.id,
            "child_category": child.category_code,
            "categories_differ": differs,
            "merged_count": parent.merged_count,
        },
    )
    return note


def detach(session: Session, child: Incident, *, actor: str, now: datetime) -> str | None:
    """Effect of `unmerge`: unlink `child` from its parent, uncount it there, record it on the parent."""
    parent = session.get(Incident, child.parent_id, with_for_update=True) if child.parent_id else None
    if parent is not None:
        parent.merged_count = max(0, (parent.merged_count or 0) - 1)
        parent.record(
            action=UNMERGED,
            actor=actor,
            now=now,
            to=parent.state,
            data={"child_id": child.id, "merged_count": parent.merged_count},
        )
    child.parent_id = None
    return f"split off from {parent.id}" if parent is not None else None


def merged_children(session: Session, parent_id: str) -> list[Incident]:
    """The reports merged into `parent_id`, oldest first."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.parent_id == parent_id, Incident.status == str(Status.MERGED))
            .order_by(Incident.created_at, Incident.id)
        )
    )


PERSONAL = ("reporter_name", "reporter_phone", "callback_name", "callback_phone")


def callback_entry(incident: Incident, relation: str) -> dict[str, Any]:
    """One caller to call back about a case (plain: the caller masks it for whoever asks)."""
    nature = incident.call_nature
    has_number = bool(incident.callback_phone or incident.reporter_phone)
    return {
        "incident_id": incident.id,
        "relation": relation,
        "in_scope": True,
        "channel": incident.channel,
        "status": incident.status,
        "created_at": incident.created_at.isoformat() if incident.created_at else None,
        "call_nature": nature,
        "reporter_name": incident.reporter_name,
        "reporter_phone": incident.reporter_phone,
        "callback_name": incident.callback_name,
        "callback_phone": incident.callback_phone,
        "needs_callback": has_number and nature not in NO_CALLBACK,
    }


def withheld_entry(incident: Incident, relation: str) -> dict[str, Any]:
    """A merged report outside the asker's scope: that its caller is to be called back, without who or how."""
    entry = callback_entry(incident, relation)
    return {
        "incident_id": incident.id,
        "relation": relation,
        "in_scope": False,
        "call_nature": entry["call_nature"],
        "needs_callback": entry["needs_callback"],
        **dict.fromkeys(PERSONAL),
    }


def callback_list(session: Session, incident: Incident, principal: Principal | None = None) -> list[dict[str, Any]]:
    """Everyone to call back about `incident`: its own caller, then each report merged into it. With a principal,
    each merged report is checked against the principal's own scope: one they may not see is withheld (None: the
    engine's own use, everything)."""
    shown = lambda child: principal is None or can_see(principal, child)
    return [
        callback_entry(incident, "self"),
        *(
            callback_entry(child, "merged") if shown(child) else withheld_entry(child, "merged")
            for child in merged_children(session, incident.id)
        ),
    ]
