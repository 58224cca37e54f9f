"""Synthetic case history for the evaluation benchmark: N cases over ~14 months with realistic timelines, set-based.

Reference tables (units with their community / street, categories with department and limits, people) are small
and filled from the demo city; everything per case is drawn inside PostgreSQL (`generate_series` + `random()`)
into an UNLOGGED staging table `bench_case` holding each case's full, untruncated timeline, then copied into
`incident` (milestone columns consistent with it, cut at `now`) and `timeline` (one row per event up to `now`).

Shapes (fractions of all cases): channels weighted like a district (grid workers, hotline, public, ...); categories
and unit grids skewed (a few busy ones); 3 % voided, 4 % merged into an earlier case, 2 % triaged, 1 % escalated,
4 % returned and re-dispatched, 2 % suspended, 3 % extended (0.5 % twice), 6 % reworked once and 1.5 % twice;
hotline cases get a callback (88 % satisfied). Stage durations are the category's limit × a log-normal factor, so
about 3 % of filings and dispatches, 9 % of handlings and 3 % of verifications run late (an `overdue` row at the
deadline, written by the timers in the product). Working-time limits are approximated on the wall clock:
1 working hour = 2 h, 1 working day = 33.6 h (a 5-day week spread over 7).
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
ROSTER = REPO / "data" / "demo_city" / "officers.yaml"
SPAN_DAYS = 425  # ~14 months of history before `now`
MINUTES = {"min": 1.0, "h": 60.0, "wh": 120.0, "wd": 33.6 * 60}
CALL_TAKERS, SHIFT_LEADERS, DISPATCHERS = 12, 6, 10


def _minutes(limit: Any) -> float:
    return float(limit.amount) * MINUTES[str(limit.unit)]


def reference_rows(grids: Any, catalogue: Any, rng: random.Random) -> dict[str, list[tuple[Any, ...]]]:
    """Units (shuffled: the busy ones first), categories (shuffled), grid workers and handlers, as table rows."""
    units = []
    for grid in grids.by_level("unit"):
        path = grids.path_of(grid.code)
        point = grid.geometry.representative_point()
        units.append((grid.code, path.community, path.street, path.district, point.x, point.y))
    rng.shuffle(units)
    cats = [c for c in catalogue.categories.values() if c.default_department]
    rng.shuffle(cats)
    categories = []
    for c in cats:
        lim = {str(stage): _minutes(limit) for stage, limit in c.limits.items()}
        row = (c.code, c.name_zh, c.default_department, c.urgency, lim.get("file", 240.0), lim.get("dispatch", 120.0))
        categories.append(row + (lim.get("handle", 2016.0), lim.get("verify", 480.0), lim.get("total", 20160.0)))
    roster = yaml.safe_load(ROSTER.read_text(encoding="utf-8")) or []
    workers = sorted((o["grid_community"], o["id"]) for o in roster if o["role"] == "grid_worker")
    handlers = sorted((o["department_code"], o["id"]) for o in roster if o["role"] == "handler")
    departments = {c[2] for c in categories} - {d for d, _ in handlers}
    handlers += [(d, f"H-{d}-{k}") for d in sorted(departments) for k in (1, 2, 3)]
    return {"units": units, "categories": categories, "workers": workers, "handlers": handlers}


REFERENCE_DDL = """
DROP TABLE IF EXISTS bench_unit, bench_category, bench_worker, bench_handler, bench_case;
CREATE UNLOGGED TABLE bench_unit (i serial, code text, community text, street text, district text,
  lon float8, lat float8);
CREATE UNLOGGED TABLE bench_category (i serial, code text, name text, department text, urgency int,
  file_m float8, dispatch_m float8, handle_m float8, verify_m float8, total_m float8);
CREATE UNLOGGED TABLE bench_worker (community text, id text);
CREATE UNLOGGED TABLE bench_handler (department text, id text);
"""

REFERENCE_INDEX = """
CREATE TABLE bench_workers AS SELECT community, array_agg(id ORDER BY id) ids FROM bench_worker GROUP BY community;
CREATE TABLE bench_handlers AS SELECT department, array_agg(id ORDER BY id) ids FROM bench_handler
  GROUP BY department;
"""

# One case per n: its draws (r), then its full timeline. Times in minutes from `created`; `lf(u1, u2, mu)` is a
# log-normal factor exp(mu + 0.5 z) (Box–Muller), > 1 (late) for about P(z > -2 mu).
STAGE = """
CREATE UNLOGGED TABLE bench_case AS
WITH draw AS (
  SELECT n, random() ru, random() rc, random() rch, random() rf, random() re, random() rr, random() rs,
    random() rx, random() rw, random() rb, random() rk, random() rp, random() rd, random() rh,
    random() a1, random() a2, random() b1, random() b2, random() c1, random() c2, random() d1, random() d2,
    random() e1, random() e2
  FROM generate_series(1, %(n)s) n
), pick AS (
  SELECT d.*, u.code unit, u.community, u.street, u.district, u.lon + (random() - 0.5) * 0.002 lon,
    u.lat + (random() - 0.5) * 0.002 lat, c.code category, c.name cat_name, c.department, c.urgency,
    c.file_m, c.dispatch_m, c.handle_m, c.verify_m, c.total_m,
    %(end)s::timestamptz - make_interval(days => floor(power(d.rd, 1.15) * %(span)s)::int)
      - make_interval(hours => floor(d.rd * 1000)::int %% 24) + make_interval(mins => floor(d.rh * 60)::int)
      AS created0
  FROM draw d
  JOIN bench_unit u ON u.i = 1 + floor(power(d.ru, 1.6) * (SELECT count(*) FROM bench_unit))::int
  JOIN bench_category c ON c.i = 1 + floor(power(d.rc, 2.2) * (SELECT count(*) FROM bench_category))::int
), shaped AS (
  SELECT p.*,
    created0 + CASE WHEN rh < .85 THEN make_interval(hours => (7 + floor(rk * 14)::int
      - extract(hour FROM created0 AT TIME ZONE 'Asia/Shanghai')::int)) ELSE interval '0' END created1
  FROM pick p
), timed AS (
  SELECT p.*,
    CASE WHEN rch < .45 THEN 'grid_worker' WHEN rch < .75 THEN 'hotline' WHEN rch < .85 THEN 'public'
      WHEN rch < .90 THEN 'open311' WHEN rch < .95 THEN 'video' WHEN rch < .98 THEN 'sensor'
      WHEN rch < .99 THEN 'leader' ELSE 'api' END channel,
    CASE WHEN rf < .03 THEN 'void' WHEN rf < .07 AND n > 50 THEN 'merge' ELSE 'case' END fate,
    -- 85 %% of reports come in 07:00-21:00 local (shaped); none after `end`
    CASE WHEN created1 > %(end)s THEN created1 - interval '1 day' ELSE created1 END created,
    file_m * exp(-1.1 + 0.6 * sqrt(-2 * ln(a1)) * cos(2 * pi() * a2)) f_file,
    dispatch_m * exp(-1.1 + 0.6 * sqrt(-2 * ln(b1)) * cos(2 * pi() * b2)) f_disp,
    handle_m * exp(-0.75 + 0.52 * sqrt(-2 * ln(c1)) * cos(2 * pi() * c2)) f_handle,
    verify_m * exp(-1.1 + 0.6 * sqrt(-2 * ln(d1)) * cos(2 * pi() * d2)) f_verify,
    CASE WHEN rs < .02 THEN 60 + 4000 * e1 ELSE 0 END susp_m,
    CASE WHEN rx < .005 THEN 2 WHEN rx < .03 THEN 1 ELSE 0 END ext_n,
    CASE WHEN rw < .015 THEN 2 WHEN rw < .075 THEN 1 ELSE 0 END rework_n,
    rr < .04 AS returned, re < .01 AS escalated, rp < .02 AS triaged
  FROM shaped p
)
SELECT t.*, md5(%(seed)s || n)::uuid::text id,
  CASE WHEN fate = 'merge' THEN md5(%(seed)s || (n - 1 - floor(e2 * 40)::int))::uuid::text END parent_id,
  created + make_interval(secs => f_file * 60) filed,
  created + make_interval(secs => file_m * 60) file_due,
  created + make_interval(secs => (f_file + f_disp) * 60) dispatched,
  created + make_interval(secs => (f_file + dispatch_m) * 60) dispatch_due,
  -- the handling clock starts at the last dispatch; a return costs a fifth of the handle limit plus a re-dispatch
  created + make_interval(secs => (f_file + f_disp + CASE WHEN returned THEN 0.2 * handle_m * e1 + f_disp
    ELSE 0 END) * 60) handle_start
FROM timed t;
"""

FINISH = """
ALTER TABLE bench_case ADD COLUMN handle_due timestamptz, ADD COLUMN h1 timestamptz, ADD COLUMN handled timestamptz,
  ADD COLUMN verify_due timestamptz, ADD COLUMN verified timestamptz, ADD COLUMN closed timestamptz,
  ADD COLUMN total_due timestamptz, ADD COLUMN void_at timestamptz;
UPDATE bench_case SET
  handle_due = handle_start + make_interval(secs => (handle_m * (1 + ext_n) + susp_m) * 60),
  h1 = handle_start + make_interval(secs => (f_handle + susp_m) * 60),
  handled = handle_start + make_interval(secs => (f_handle + susp_m + rework_n * (0.5 * verify_m * a1
    + 0.5 * f_handle)) * 60),
  void_at = created + make_interval(secs => (30 + 200 * e1) * 60),
  total_due = filed + make_interval(secs => (total_m + handle_m * ext_n + susp_m) * 60);
UPDATE bench_case SET verify_due = handled + make_interval(secs => verify_m * 60),
  verified = handled + make_interval(secs => f_verify * 60);
UPDATE bench_case SET closed = verified + make_interval(secs => (CASE WHEN channel = 'hotline'
  THEN 60 + 1400 * b1 ELSE 0 END + 5 + 55 * d2) * 60);
"""


def stage(conn: Any, n: int, now: datetime, seed: int) -> dict[str, float]:
    """Fill the reference tables and `bench_case`; returns seconds per step."""
    rng = random.Random(seed)
    from dispatcher.city.reading import load_catalogue
    from geo.grids import GridIndex
    from geo.importer import load_grids

    grids = GridIndex(load_grids(REPO / "data" / "demo_city" / "grids.geojson"), version="bench")
    rows = reference_rows(grids, load_catalogue(REPO / "data"), rng)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_workers, bench_handlers")
        cur.execute(REFERENCE_DDL)
        for table, columns in (
            ("bench_unit", "code, community, street, district, lon, lat"),
            ("bench_category", "code, name, department, urgency, file_m, dispatch_m, handle_m, verify_m, total_m"),
            ("bench_worker", "community, id"),
            ("bench_handler", "department, id"),
        ):
            key = table.removeprefix("bench_") + "s" if table != "bench_category" else "categories"
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows[key]:
                    copy.write_row(row)
        cur.execute(REFERENCE_INDEX)
        cur.execute("SELECT setseed(%s)", (rng.random() * 2 - 1,))
        cur.execute(STAGE, {"n": n, "end": now, "span": SPAN_DAYS, "seed": str(seed)})
        cur.execute(FINISH)
    timings["stage"] = time.perf_counter() - t0
    return timings


# Event times beyond the milestones, and the people of each case.
EVENTS = """
ALTER TABLE bench_case ADD COLUMN esc_at timestamptz, ADD COLUMN return_at timestamptz,
  ADD COLUMN susp_at timestamptz, ADD COLUMN resume_at timestamptz, ADD COLUMN ext1 timestamptz,
  ADD COLUMN ext2 timestamptz, ADD COLUMN j1 timestamptz, ADD COLUMN h2 timestamptz, ADD COLUMN j2 timestamptz,
  ADD COLUMN cb_at timestamptz, ADD COLUMN reporter text, ADD COLUMN filer text, ADD COLUMN dispatcher text,
  ADD COLUMN handler text, ADD COLUMN checker text, ADD COLUMN leader text, ADD COLUMN taker text;
UPDATE bench_case c SET
  esc_at = filed + make_interval(secs => f_disp * 30),
  return_at = dispatched + make_interval(secs => 0.2 * handle_m * e1 * 60),
  susp_at = handle_start + make_interval(secs => 0.3 * f_handle * e2 * 60),
  resume_at = handle_start + make_interval(secs => (0.3 * f_handle * e2 + susp_m) * 60),
  ext1 = handle_start + make_interval(secs => 0.4 * f_handle * a2 * 60),
  ext2 = handle_start + make_interval(secs => (0.4 * f_handle * a2 + 0.3 * f_handle) * 60),
  j1 = h1 + make_interval(secs => 0.5 * verify_m * a1 * 60),
  h2 = h1 + make_interval(secs => (0.5 * verify_m * a1 + 0.5 * f_handle) * 60),
  j2 = h1 + make_interval(secs => (verify_m * a1 + 0.5 * f_handle) * 60),
  cb_at = verified + make_interval(secs => (60 + 1400 * b1) * 60),
  taker = 'CT' || lpad((1 + n * 13 %% %(takers)s)::text, 2, '0'),
  filer = 'SL' || lpad((1 + n %% %(leaders)s)::text, 2, '0'),
  leader = 'SL' || lpad((1 + n * 5 %% %(leaders)s)::text, 2, '0'),
  dispatcher = 'DP' || lpad((1 + n * 7 %% %(dispatchers)s)::text, 2, '0'),
  handler = coalesce((SELECT h.ids[1 + floor(c.rk * array_length(h.ids, 1))::int] FROM bench_handlers h
    WHERE h.department = c.department), 'H-' || c.department),
  checker = coalesce((SELECT w.ids[1 + floor(c.rp * array_length(w.ids, 1))::int] FROM bench_workers w
    WHERE w.community = c.community), 'GW-' || c.community);
UPDATE bench_case SET reporter = CASE channel WHEN 'grid_worker' THEN checker WHEN 'hotline' THEN taker
  WHEN 'public' THEN 'public' WHEN 'open311' THEN 'open311' WHEN 'leader' THEN 'leader' ELSE 'system' END;
"""

# Where each case stands at `now` (%(now)s), from its full timeline.
STATUS = """CASE
  WHEN fate = 'void' THEN CASE WHEN void_at <= %(now)s THEN 'voided' ELSE 'reported' END
  WHEN fate = 'merge' THEN CASE WHEN void_at <= %(now)s THEN 'merged' ELSE 'reported' END
  WHEN closed <= %(now)s THEN CASE WHEN closed < %(now)s - interval '30 days' AND rk < .8 THEN 'archived'
    ELSE 'closed' END
  WHEN verified <= %(now)s THEN 'verified'
  WHEN handled <= %(now)s THEN 'handled'
  WHEN rework_n > 0 AND h1 <= %(now)s THEN 'rework'
  WHEN susp_m > 0 AND susp_at <= %(now)s AND resume_at > %(now)s THEN 'suspended'
  WHEN returned AND return_at <= %(now)s AND handle_start > %(now)s THEN 'returned'
  WHEN dispatched <= %(now)s THEN CASE WHEN dispatched + interval '30 min' <= %(now)s THEN 'claimed'
    ELSE 'dispatched' END
  WHEN escalated AND esc_at <= %(now)s THEN 'escalated'
  WHEN filed <= %(now)s THEN 'filed'
  WHEN triaged AND created + interval '5 min' <= %(now)s THEN 'triage'
  ELSE 'reported' END"""


def _at(column: str) -> str:
    """The time if it has happened by `now`, else NULL."""
    return f"CASE WHEN {column} <= %(now)s THEN {column} END"


def incident_select(columns: set[str]) -> tuple[str, str]:
    """(column list, SELECT list) for the incident rows; milestone columns only when the schema has them."""
    case = "fate = 'case'"
    values = {
        "id": "id",
        "case_number": "to_char(created AT TIME ZONE 'Asia/Shanghai', 'YYYY-MMDD') || '-' || lpad(n::text, 7, '0')",
        "version": "1",
        "channel": "channel",
        "status": "status",
        "category_code": "category",
        "description": "cat_name || '（合成案例）'",
        "call_nature": "CASE WHEN channel = 'hotline' THEN 'callback' END",
        "parent_id": "parent_id",
        "merged_count": "0",
        "urgency": "urgency",
        "lon": "lon",
        "lat": "lat",
        "location": "ST_SetSRID(ST_MakePoint(lon, lat), 4326)",
        "grid_unit": "unit",
        "grid_community": "community",
        "grid_street": "street",
        "grid_district": "district",
        "grid_version": "'bench'",
        "level": "'district'",
        "department_code": f"CASE WHEN {case} THEN department END",
        "assignee": f"CASE WHEN {case} AND dispatched <= %(now)s THEN handler END",
        "routing_rule": "'category_default'",
        "stage": """CASE WHEN status IN ('reported', 'triage') THEN 'file' WHEN status IN ('filed', 'escalated')
          THEN 'dispatch' WHEN status IN ('dispatched', 'claimed', 'returned', 'rework', 'suspended') THEN 'handle'
          WHEN status = 'handled' THEN 'verify' END""",
        "stage_started_at": """CASE WHEN status IN ('reported', 'triage') THEN created WHEN status IN ('filed',
          'escalated') THEN filed WHEN status IN ('dispatched', 'claimed', 'returned', 'rework', 'suspended')
          THEN handle_start WHEN status = 'handled' THEN handled END""",
        "stage_deadline": """CASE WHEN status IN ('reported', 'triage') THEN file_due WHEN status IN ('filed',
          'escalated') THEN dispatch_due WHEN status IN ('dispatched', 'claimed', 'returned', 'rework', 'suspended')
          THEN handle_due WHEN status = 'handled' THEN verify_due END""",
        "suspended_at": "CASE WHEN status = 'suspended' THEN susp_at END",
        "rework_count": "(rework_n >= 1 AND j1 <= %(now)s)::int + (rework_n = 2 AND j2 <= %(now)s)::int",
        "return_count": "(returned AND return_at <= %(now)s)::int",
        "escalation_count": "(escalated AND esc_at <= %(now)s)::int",
        "total_deadline": f"CASE WHEN {case} AND filed <= %(now)s THEN total_due END",
        "verifier": f"CASE WHEN {case} AND handled <= %(now)s THEN checker END",
        "callback_required": "channel = 'hotline' AND fate = 'case'",
        "callback_reason": "CASE WHEN channel = 'hotline' AND fate = 'case' THEN 'caller' END",
        "callback_outcome": """CASE WHEN channel = 'hotline' AND fate = 'case' AND cb_at <= %(now)s THEN
          CASE WHEN rb < .88 THEN 'satisfied' WHEN rb < .94 THEN 'unsatisfied' ELSE 'not_reached' END END""",
        "warned": "0",
        "down_dispatch_street": "CASE WHEN rx > .95 THEN street END",
        "created_at": "created",
        "updated_at": f"""GREATEST(created, {_at("filed")}, {_at("dispatched")}, {_at("handle_start")},
          {_at("handled")}, {_at("verified")}, {_at("closed")}, {_at("void_at")})""",
        "closed_at": "CASE WHEN status IN ('closed', 'archived') THEN closed END",
        # milestone columns (migration 0017)
        "reported_by": "reporter",
        "filed_at": f"CASE WHEN {case} THEN {_at('filed')} END",
        "filed_by": f"CASE WHEN {case} AND filed <= %(now)s THEN filer END",
        "file_due_at": f"CASE WHEN {case} THEN file_due END",
        "dispatched_at": f"CASE WHEN {case} THEN {_at('dispatched')} END",
        "dispatched_by": f"CASE WHEN {case} AND dispatched <= %(now)s THEN dispatcher END",
        "dispatch_due_at": f"CASE WHEN {case} AND filed <= %(now)s THEN dispatch_due END",
        "handled_at": f"CASE WHEN {case} THEN {_at('handled')} END",
        "handle_due_at": f"CASE WHEN {case} AND dispatched <= %(now)s THEN handle_due END",
        "verified_at": f"CASE WHEN {case} THEN {_at('verified')} END",
        "verify_due_at": f"CASE WHEN {case} AND handled <= %(now)s THEN verify_due END",
        "extension_count": "(ext_n >= 1 AND ext1 <= %(now)s)::int + (ext_n = 2 AND ext2 <= %(now)s)::int",
    }
    names = [name for name in values if name in columns]
    return ", ".join(names), ",\n  ".join(values[name] for name in names)


# (order, time, actor, action, from, to, happens): one timeline row per event up to `now`, seq by time.
EVENT_ROWS = """
  (1, created, reporter, 'report', NULL, 'reported', true),
  (2, created + interval '5 min', 'system', 'triage', 'reported', 'triage', triaged AND fate = 'case'),
  (3, void_at, taker, 'void', 'reported', 'voided', fate = 'void'),
  (3, void_at, taker, 'merge', 'reported', 'merged', fate = 'merge'),
  (4, file_due, 'system', 'overdue', 'reported', 'reported', fate = 'case' AND filed > file_due),
  (5, filed, filer, 'file', CASE WHEN triaged THEN 'triage' ELSE 'reported' END, 'filed', fate = 'case'),
  (6, esc_at, filer, 'escalate', 'filed', 'escalated', escalated AND fate = 'case'),
  (7, dispatch_due, 'system', 'overdue', 'filed', 'filed', fate = 'case' AND dispatched > dispatch_due),
  (8, dispatched, dispatcher, 'dispatch', CASE WHEN escalated THEN 'escalated' ELSE 'filed' END, 'dispatched',
    fate = 'case'),
  (9, return_at, handler, 'return', 'dispatched', 'returned', returned AND fate = 'case'),
  (10, handle_start, dispatcher, 'dispatch', 'returned', 'dispatched', returned AND fate = 'case'),
  (11, susp_at, leader, 'suspend', 'claimed', 'suspended', susp_m > 0 AND fate = 'case'),
  (12, resume_at, handler, 'resume', 'suspended', 'claimed', susp_m > 0 AND fate = 'case'),
  (13, ext1, leader, 'extend', 'claimed', 'claimed', ext_n >= 1 AND fate = 'case'),
  (14, ext2, leader, 'extend', 'claimed', 'claimed', ext_n = 2 AND fate = 'case'),
  (15, handle_due, 'system', 'overdue', 'claimed', 'claimed', fate = 'case' AND handled > handle_due),
  (16, h1, handler, 'handle', 'claimed', 'handled', rework_n >= 1 AND fate = 'case'),
  (17, j1, checker, 'reject', 'handled', 'rework', rework_n >= 1 AND fate = 'case'),
  (18, h2, handler, 'handle', 'rework', 'handled', rework_n = 2 AND fate = 'case'),
  (19, j2, checker, 'reject', 'handled', 'rework', rework_n = 2 AND fate = 'case'),
  (20, handled, handler, 'handle', CASE WHEN rework_n > 0 THEN 'rework' ELSE 'claimed' END, 'handled',
    fate = 'case'),
  (21, verify_due, 'system', 'overdue', 'handled', 'handled', fate = 'case' AND verified > verify_due),
  (22, verified, checker, 'verify', 'handled', 'verified', fate = 'case'),
  (22, cb_at, taker, 'callback', 'verified', 'verified', channel = 'hotline' AND fate = 'case'),
  (23, closed, filer, 'close', 'verified', 'closed', fate = 'case')"""

TIMELINE = f"""
INSERT INTO timeline (incident_id, seq, at, actor, action, from_status, to_status, data)
SELECT c.id, e.seq, e.at, e.actor, e.action, e.from_s, e.to_s,
  CASE WHEN e.action = 'report' THEN json_build_object('channel', c.channel) ELSE '{{}}'::json END
FROM bench_case c CROSS JOIN LATERAL (
  SELECT row_number() OVER (ORDER BY v.at, v.ord) seq, v.* FROM (VALUES {EVENT_ROWS}
  ) v(ord, at, actor, action, from_s, to_s, happens) WHERE v.happens AND v.at <= %(now)s
) e
ORDER BY e.at
"""

MERGED_COUNTS = """
UPDATE incident p SET merged_count = m.k FROM (
  SELECT parent_id, count(*) k FROM incident WHERE status = 'merged' GROUP BY parent_id
) m WHERE p.id = m.parent_id
"""


def secondary_indexes(conn: Any, tables: tuple[str, ...] = ("incident", "timeline")) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of `tables` that back no constraint: dropped for the load."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            (list(tables),),
        )
        return list(cur.fetchall())


def load(conn: Any, n: int, now: datetime, seed: int) -> dict[str, float]:
    """Stage N cases, then write incident and timeline rows (secondary indexes rebuilt after); seconds per step."""
    timings = stage(conn, n, now, seed)
    params = {"now": now, "takers": CALL_TAKERS, "leaders": SHIFT_LEADERS, "dispatchers": DISPATCHERS}
    columns = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'incident'")
    names, select = incident_select({name for (name,) in columns})  # milestone columns: migration 0017
    indexes = secondary_indexes(conn)
    with conn.cursor() as cur:
        t0 = time.perf_counter()
        for statement in EVENTS.split(";\n"):
            if statement.strip():
                cur.execute(statement, params)
        timings["events"] = time.perf_counter() - t0
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no FK triggers: the rows are consistent by build
        cur.execute("SET work_mem = '256MB'")  # rows written in time order, as the product appends them
        t0 = time.perf_counter()
        rows = f"(SELECT *, {STATUS} status FROM bench_case) c ORDER BY created"
        sql = f"INSERT INTO incident ({names})\nSELECT {select}\nFROM {rows}"
        cur.execute(sql, params)
        cur.execute(MERGED_COUNTS)
        timings["incident"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cur.execute(TIMELINE, params)
        timings["timeline"] = time.perf_counter() - t0
        cur.execute("SET session_replication_role = DEFAULT")
        t0 = time.perf_counter()
        for _, create in indexes:
            cur.execute(create)
        timings["indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cur.execute("DROP TABLE bench_case, bench_unit, bench_category, bench_worker, bench_handler")
        cur.execute("DROP TABLE bench_workers, bench_handlers")
        timings["cleanup"] = time.perf_counter() - t0
    return timings
