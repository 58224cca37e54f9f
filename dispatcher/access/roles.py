"""Roles (the posts of DOMAIN.md) and the role sets the rest of the engine asks about."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The posts of DOMAIN.md; what each may do to a case is in dispatcher/cases/scope.py."""

    HOTLINE = "hotline"  # 受理员 / 12345 坐席
    GRID_WORKER = "grid_worker"  # 网格员
    DISPATCHER = "dispatcher"  # 指挥中心坐席
    SHIFT_LEADER = "shift_leader"  # 值班长
    DEPT_HANDLER = "dept_handler"  # 部门处置人员
    DEPT_HEAD = "dept_head"  # 部门负责人
    ENFORCEMENT = "enforcement"  # 执法队员
    LEADER = "leader"  # 领导 (read only)
    ADMIN = "admin"  # 系统管理员
    AUDITOR = "auditor"  # 审计员


R = Role

REPORTERS = frozenset({R.HOTLINE, R.GRID_WORKER, R.DISPATCHER, R.SHIFT_LEADER, R.ENFORCEMENT})
CASE_READERS = frozenset(Role) - {R.ADMIN, R.AUDITOR}  # MLPS: the admin and the auditor do not read cases
PHONE_READERS = frozenset({R.HOTLINE, R.DISPATCHER, R.SHIFT_LEADER})  # see callers' numbers unmasked
GRID_ADMINS = frozenset({R.ADMIN})
TRIAGE_ROLES = frozenset({R.DISPATCHER, R.SHIFT_LEADER, R.LEADER})  # the command center sorts out unplaced reports


def may_see_phones(role: Role) -> bool:
    """Whether this role sees callers' numbers unmasked."""
    return role in PHONE_READERS
