"""Roles (the posts of DOMAIN.md) and the role sets the rest of the engine asks about."""

from __future__ import annotations

from enum import StrEnum

from dispatcher.errors import Forbidden


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
GRID_LEADER_CALLERS = frozenset({R.HOTLINE, R.DISPATCHER, R.SHIFT_LEADER})  # see grid leaders' mobiles unmasked

# The intake channels (dispatcher.cases.incident.Channel) a role may record a report under: the channel comes
# from the credential, never from the body alone. The command center records on others' behalf (代录: calls,
# walk-ins and letters, leaders' instructions, video patrol, a grid worker's or a sensor's report phoned in);
# people in the field report through the field app. `open311` is nobody's: only /open311 files those, and
# cameras and sensor gateways speak through /machine-events, which sets the channel itself.
CENTER_CHANNELS = ("api", "hotline", "public", "grid_worker", "video", "sensor", "leader")
INTAKE_CHANNELS: dict[Role, tuple[str, ...]] = {  # the first is the role's default
    R.HOTLINE: ("hotline",),
    R.GRID_WORKER: ("grid_worker",),
    R.ENFORCEMENT: ("grid_worker",),
    R.DISPATCHER: CENTER_CHANNELS,
    R.SHIFT_LEADER: CENTER_CHANNELS,
}


def may_see_phones(role: Role) -> bool:
    """Whether this role sees callers' numbers unmasked."""
    return role in PHONE_READERS


def may_call_grid_leaders(role: Role) -> bool:
    """Whether this role sees grid leaders' mobile numbers unmasked (it is the one who calls them)."""
    return role in GRID_LEADER_CALLERS


def intake_channel(role: Role, requested: str | None, *, preferred: str, username: str) -> str:
    """The channel a report by `role` is recorded under: the requested one if the role may use it (Forbidden
    naming role and channel otherwise); without one, `preferred` where allowed, else the role's default."""
    allowed = INTAKE_CHANNELS.get(role, ())
    if requested is None:
        if not allowed:
            raise Forbidden(f"role '{role}' does not take reports (user {username})")
        return preferred if preferred in allowed else allowed[0]
    if requested not in allowed:
        may = ", ".join(allowed) or "none"
        raise Forbidden(
            f"role '{role}' may not report through channel '{requested}' (user {username}; allowed: {may})",
            field="channel",
        )
    return requested
