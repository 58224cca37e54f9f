"""Who to tell: usernames of the active accounts of a department, a role or a region."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access.accounts import Account
from dispatcher.access.roles import Role


def department_staff(session: Session, department_code: str, roles: Iterable[Role] | None = None) -> list[str]:
    """The active accounts of a department (only those with one of `roles`, when given), by username."""
    query = select(Account.username).where(Account.department_code == department_code, Account.disabled.is_(False))
    if roles is not None:
        query = query.where(Account.role.in_([str(r) for r in roles]))
    return list(session.scalars(query.order_by(Account.username)))


def heads_of(session: Session, department_code: str) -> list[str]:
    """The heads (部门负责人) of a department."""
    return department_staff(session, department_code, [Role.DEPT_HEAD])


def enclosing_regions(region_code: str) -> list[str]:
    """`region_code` and every grid above it (grid codes are hierarchical: 6, 9, 12 and 15 digits)."""
    lengths = [n for n in (6, 9, 12) if n < len(region_code)]
    return [region_code[:n] for n in lengths] + [region_code]


def by_role_in_region(session: Session, roles: Iterable[Role], region_code: str | None) -> list[str]:
    """Accounts with one of `roles` whose region holds `region_code` (the same grid or one above it); with no
    region, none (a region-less case has no regional officer to tell)."""
    if not region_code:
        return []
    query = select(Account.username).where(
        Account.role.in_([str(r) for r in roles]),
        Account.region_code.in_(enclosing_regions(region_code)),
        Account.disabled.is_(False),
    )
    return list(session.scalars(query.order_by(Account.username)))
