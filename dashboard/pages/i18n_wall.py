"""UI strings of the wall display (/wall, dashboard/pages/wall*.py) and the intake channels' names, merged into the
one catalogue (dashboard/pages/i18n.py) on import."""

from __future__ import annotations

from dashboard.pages.i18n import STRINGS

CHANNEL: dict[str, tuple[str, str]] = {
    "hotline": ("12345 热线", "Hotline 12345"),
    "grid_worker": ("网格员上报", "Grid workers"),
    "public": ("公众上报", "Public app"),
    "open311": ("Open311 接口", "Open311 partners"),
    "video": ("视频巡查", "Cameras"),
    "sensor": ("物联感知", "Sensors"),
    "leader": ("领导交办", "Leaders"),
    "api": ("系统接口", "Other systems"),
}

WALL_STRINGS: dict[str, tuple[str, str]] = {
    # KPI tiles: every label names its period
    "wl_received": ("今日受理", "Received today"),
    "wl_filed": ("今日立案", "Filed today"),
    "wl_dispatched": ("今日派遣", "Dispatched today"),
    "wl_in_handling": ("当前处置中", "In handling now"),
    "wl_closed": ("今日结案", "Closed today"),
    "wl_on_time": ("今日按期结案率", "On-time closure today"),
    "wl_open_overdue": ("在办超期", "Open overdue now"),
    "wl_on_time_week": ("近7日按期结案率", "On-time closure, 7 days"),
    "wl_no_closures": ("今日尚无结案", "No closures yet today"),
    "wl_no_closures_week": ("近7日尚无结案", "No closures in 7 days"),
    "wl_rate_title": (
        "{period}：按期结案 {n} 件 / 结案 {d} 件",
        "{period}: {n} closed on time of {d} closed",
    ),
    "wl_overdue_sub": ("占在办 {share}（{n}/{d}）", "{share} of open ({n}/{d})"),
    "wl_overdue_title": ("当前在办 {d} 件，其中超期 {n} 件", "{n} of {d} open cases are overdue now"),
    "wl_period_today": ("今日 {day}", "Today {day}"),
    "wl_period_7d": ("近7日 {start} 至 {end}", "Last 7 days, {start} to {end}"),
    # panels
    "wl_hourly": ("分时受理（今日 / 昨日）", "Received per hour (today / yesterday)"),
    "wl_daily": ("近14日受理与结案", "Received and closed, last 14 days"),
    "wl_depts": ("部门排名（超期多者在前）", "Departments, worst first"),
    "wl_streets": ("街道排名（超期多者在前）", "Streets, worst first"),
    "wl_channels": ("受理渠道（内环今日 / 外环近7日）", "Channels (inner: today / outer: 7 days)"),
    "wl_staff": ("当前在岗人员", "Staff now"),
    "wl_today": ("今日", "Today"),
    "wl_yesterday": ("昨日", "Yesterday"),
    "wl_received_series": ("受理", "Received"),
    "wl_closed_series": ("结案", "Closed"),
    "wl_col_open": ("在办", "Open"),
    "wl_col_overdue": ("超期", "Overdue"),
    "wl_col_rate": ("7日按期率", "7-day on time"),
    "wl_rank_title": (
        "{name}：在办 {open} 件，超期 {overdue} 件；近7日按期结案 {n}/{d}",
        "{name}: {open} open, {overdue} overdue; on time in 7 days {n}/{d}",
    ),
    "wl_empty": ("暂无数据", "No data"),
    # the month's composite ranking (the indicator engine's, as on /analysis)
    "wl_month_head": ("月度综合排名 · {month}", "Month ranking · {month}"),
    "wl_month_title": (
        "{name}：综合指标值 {score}，等级 {grade}，第 {rank} 名（{period}）",
        "{name}: score {score}, grade {grade}, rank {rank} ({period})",
    ),
    "wl_month_period": ("{start} 至 {end}", "{start} to {end}"),
    "wl_reporting": ("近 {m} 分钟上报位置", "Sent a position in {m} min"),
    "wl_staff_total": ("人员总数", "Roster"),
    "wl_staff_title": (
        "在岗：有定位且无在办案件；处置中：有在办案件；位置过期：2–10 分钟无定位；离线：10 分钟以上无定位",
        "On duty: live position, no open case; busy: open cases; stale: no fix for 2–10 min; offline: over 10 min",
    ),
}
STRINGS.update({key: pair for key, pair in WALL_STRINGS.items() if key not in STRINGS})
STRINGS.update({f"ch_{key}": pair for key, pair in CHANNEL.items() if f"ch_{key}" not in STRINGS})
