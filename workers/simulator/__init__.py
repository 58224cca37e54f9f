"""Demo simulator: officers patrolling their communities and incidents arriving, all through real HTTP.

The package makes the demo city look alive. It talks to a running GridCommand server only through its
public interfaces (``requests`` against ``base_url``) and reads its own inputs (grids, category
catalogue) from its arguments or the one settings object, never from paths of its own.

* **Officers** (``roster``, ``patrols``) — the roster comes from ``GET /api/v1/officers`` (retried
  every few seconds until the endpoint exists and lists someone); only officers with an enrolled tracker
  move, and their identifiers come from the ``devices`` argument (officer id → identifier: ``gridcommand
  demo`` enrols them and hands them over in-process; ``--devices FILE`` on the command line), since the
  server lists no tracker identifier (they are the trackers' credentials). Each officer patrols inside the
  polygon of their home community (``grid_community``), walking (grid workers, 1.2–1.6 m/s) or riding
  an e-bike (enforcement, 4–6 m/s) along straight segments between random waypoints, and sends a fix
  every ``fix_interval_s`` (staggered) with the OsmAnd / Traccar client protocol (``protocol``):
  ``GET /osmand?id=…``, the same as a form POST, or the JSON form. Fixes carry GPS jitter,
  occasionally a poor-accuracy fix, a duplicate or an out-of-order one, so the server's noise filter
  has work to do.
* **Incidents** (``incidents``, ``phrases``, ``catalogue``) — a Poisson stream (``agenda``) of
  ``POST /api/v1/incidents`` with Chinese descriptions per category, points in unit grids (some
  communities are hotspots), mixed channels (grid worker near an officer, hotline with caller and
  phone, public, video, sensor) and ~3 % that land in triage (outside the district, unknown or
  missing category). Most are driven through the whole loop (``lifecycle``: the next step per status, towards
  each ``plans`` goal), each step by the person who takes it in a real city (``actors``: the shift leader, the
  department's head, a partner department, the community workstation, the grid worker, the hotline call-taker)
  with its own token and body (``bodies``): filing, dispatch (some joint),
  claim, transfer, return with a reason code and photo (arbitrated: upheld, re-dispatched or voided),
  extension and suspension requests (approved or refused), feedback with before/after photos (``photos``),
  verification or rework, the callback, closing and archiving; some stop early so every stage shows, some
  are left alone to go overdue. A 4xx from the engine (a race, a rule) is counted per step and the case is
  read again, never a crash.

``runner`` ties it together: nothing raises out of the loop (HTTP and connection errors are counted
in ``SimStats`` and logged at DEBUG), ``stop`` ends everything within a second, and a status line is
logged at INFO every 30 s.

Entry points: :func:`run_simulator` (for ``gridcommand demo``, in a thread) and ``python -m
workers.simulator --url URL`` (:func:`main`).
"""

from __future__ import annotations

from .actors import Actors
from .agenda import arrivals, next_gap_s
from .bodies import action_body
from .catalogue import Catalogue, load_category_codes, load_no_department_codes
from .cli import main
from .incidents import CATEGORY_WEIGHTS, CHANNEL_WEIGHTS, UNKNOWN_CATEGORY, VIDEO_CLASSES, IncidentWriter
from .lifecycle import next_step
from .patrols import EBIKE_SPEED_MPS, POOR_ACCURACY_M, WALK_SPEED_MPS, Fix, Patrol, random_point_in, speed_for_role
from .phrases import SENSOR_CLASSES, TEMPLATES, describe
from .plans import GOALS, PLANS, Evidence, LoopConfig, Plan, Step, choose_goal, choose_plan
from .protocol import KNOTS_PER_MPS, Client, osmand_json, osmand_query
from .runner import Simulator, run_simulator
from .stats import SimStats

__all__ = [
    "CATEGORY_WEIGHTS",
    "CHANNEL_WEIGHTS",
    "EBIKE_SPEED_MPS",
    "GOALS",
    "KNOTS_PER_MPS",
    "PLANS",
    "POOR_ACCURACY_M",
    "SENSOR_CLASSES",
    "TEMPLATES",
    "UNKNOWN_CATEGORY",
    "VIDEO_CLASSES",
    "WALK_SPEED_MPS",
    "Actors",
    "Catalogue",
    "Client",
    "Evidence",
    "Fix",
    "IncidentWriter",
    "LoopConfig",
    "Patrol",
    "Plan",
    "SimStats",
    "Simulator",
    "Step",
    "action_body",
    "arrivals",
    "choose_goal",
    "choose_plan",
    "describe",
    "load_category_codes",
    "load_no_department_codes",
    "main",
    "next_gap_s",
    "next_step",
    "osmand_json",
    "osmand_query",
    "random_point_in",
    "run_simulator",
    "speed_for_role",
]
