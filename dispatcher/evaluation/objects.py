"""What a table's rows are: the SQL that names each case's object (a grid code at one level, a department, a post, a
person), the filter of the table's `parent`, the default indicator set, the kind one level down and the names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, literal, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatcher.access.accounts import Account
from dispatcher.cases.incident import Incident
from dispatcher.evaluation.catalogue import Catalogue, Post
from dispatcher.evaluation.tables import ObjectKind
from dispatcher.fleet.officers import Officer
from dispatcher.store.gridstore import GridRow

K = ObjectKind
GRID_COLUMNS = {
    K.DISTRICT: Incident.grid_district,
    K.STREET: Incident.grid_street,
    K.COMMUNITY: Incident.grid_community,
    K.UNIT: Incident.grid_unit,
}
PARENT_COLUMNS = {K.STREET: Incident.grid_district, K.COMMUNITY: Incident.grid_street, K.UNIT: Incident.grid_community}
DRILL = {K.DISTRICT: K.STREET, K.STREET: K.COMMUNITY, K.COMMUNITY: K.UNIT, K.DEPARTMENT: K.PERSON, K.POST: K.PERSON}
HANDLER_POST = "handler"


@dataclass(frozen=True)
class Slice:
    """One grouped query's worth of rows: the expression naming each case's object, and which cases count."""

    label: ColumnElement[str | None] | InstrumentedAttribute[str | None]
    where: ColumnElement[bool]
    code: str | None = None  # one fixed object (a post): no grouping


def _person_filter(post: Post) -> ColumnElement[bool]:
    column = getattr(Incident, post.person)
    condition = column.is_not(None)
    return and_(condition, Incident.channel == post.channel) if post.channel else condition


def slices(catalogue: Catalogue, kind: ObjectKind, parent: str | None) -> list[Slice]:
    """The grouped queries that make the rows of `kind` inside `parent`; ValueError naming a bad parent."""
    if kind in GRID_COLUMNS:
        column = GRID_COLUMNS[kind]
        where = true() if parent is None or kind not in PARENT_COLUMNS else PARENT_COLUMNS[kind] == parent
        return [Slice(column, and_(column.is_not(None), where))]
    if kind is K.DEPARTMENT:
        return [Slice(Incident.department_code, Incident.department_code.is_not(None))]
    if kind is K.POST:
        return [Slice(literal(code), _person_filter(post), code) for code, post in catalogue.posts.items()]
    post = person_post(catalogue, parent)
    where = _person_filter(post)
    if parent not in catalogue.posts:  # a department: its handlers
        where = and_(where, Incident.department_code == parent)
    return [Slice(getattr(Incident, post.person), where)]


def person_post(catalogue: Catalogue, parent: str | None) -> Post:
    """The post whose people a person table lists: `parent` itself, or the handlers when it is a department code."""
    if parent is None:
        raise ValueError(f"a person table needs a parent: a post ({', '.join(catalogue.posts)}) or a department")
    return catalogue.posts.get(parent) or catalogue.posts[HANDLER_POST]


def default_set(catalogue: Catalogue, kind: ObjectKind, parent: str | None) -> str:
    """The indicator set that scores `kind`: region for grids, department, post, or the post's own for persons."""
    if kind in GRID_COLUMNS:
        return "region"
    if kind is K.PERSON:
        return person_post(catalogue, parent).set
    return str(kind)


def object_filter(catalogue: Catalogue, kind: ObjectKind, code: str, parent: str | None) -> ColumnElement[bool]:
    """The cases of one object of the table (`code` "*": every case of the table)."""
    if kind is K.POST and code != "*":
        return _person_filter(catalogue.posts[code]) if code in catalogue.posts else false()
    parts = [s.where if code == "*" else and_(s.where, s.label == code) for s in slices(catalogue, kind, parent)]
    return or_(*parts) if len(parts) > 1 else parts[0]


def names_of(
    session: Session, catalogue: Catalogue, kind: ObjectKind, codes: Iterable[str], given: Mapping[str, str] | None
) -> dict[str, str]:
    """code → name: `given` first, then the grid table, the posts, the accounts and officers; the code otherwise."""
    wanted = sorted(set(codes))
    out = {c: (given or {}).get(c, c) for c in wanted}
    missing = [c for c in wanted if c not in (given or {})]
    if not missing:
        return out
    if kind in GRID_COLUMNS:
        out.update(dict(session.execute(select(GridRow.code, GridRow.name).where(GridRow.code.in_(missing))).all()))
    elif kind is K.POST:
        out.update({c: catalogue.posts[c].name_zh for c in missing if c in catalogue.posts})
    elif kind is K.PERSON:
        out.update(dict(session.execute(select(Officer.id, Officer.name).where(Officer.id.in_(missing))).all()))
        accounts = select(Account.username, Account.display_name).where(Account.username.in_(missing))
        out.update(dict(session.execute(accounts).all()))
    return out
