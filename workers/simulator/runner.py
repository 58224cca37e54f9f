"""The simulator: one scheduler thread and a pool of HTTP workers that move the roster and drive incidents."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatcher.settings import get_settings
from geo.grids import GridIndex

from .actors import Actors
from .agenda import Agenda, Event, next_gap_s
from .catalogue import Catalogue
from .incidents import IncidentWriter
from .lifecycle import next_step
from .patrols import Patrol
from .plans import MAX_RETRIES, LoopConfig, Plan, Step, choose_goal, delay_s
from .protocol import Client
from .roster import Roster
from .stats import SimStats

log = logging.getLogger("gridcommand.simulator")

ROSTER_RETRY_S = 3.0
ROSTER_REFRESH_S = 120.0
STATUS_INTERVAL_S = 30.0
MAX_PLANS = 2000  # incidents being driven through the lifecycle at once
QUEUE_SIZE = 512

_INDEX_CACHE: dict[str, GridIndex] = {}
_INDEX_LOCK = threading.Lock()


def load_index(path: str | Path) -> GridIndex:
    """The grid index of a GeoJSON file, loaded once per process."""
    from geo.importer import load_grids

    key = str(Path(path).resolve())
    with _INDEX_LOCK:
        if key not in _INDEX_CACHE:
            _INDEX_CACHE[key] = GridIndex(load_grids(path), version="sim")
        return _INDEX_CACHE[key]


class Simulator:
    """Officers and incidents against one server; see the package docstring. Call :meth:`run`.

    Grids and catalogue come from the arguments, else from the settings (the demo grids and the data folder).
    `devices` maps officer ids to their enrolled trackers' identifiers: only those officers move.
    """

    def __init__(
        self,
        base_url: str,
        *,
        officers: int = 300,
        incident_rate_per_min: float = 20,
        seed: int = 7,
        fix_interval_s: float = 5.0,
        threads: int = 6,
        grids: GridIndex | None = None,
        grids_path: str | Path | None = None,
        categories_path: str | Path | None = None,
        lifecycle_time_scale: float = 1.0,
        status_interval_s: float = STATUS_INTERVAL_S,
        stats: SimStats | None = None,
        session: Any = None,
        tokens: dict[str, str] | None = None,
        devices: Mapping[str, str] | None = None,
        loop: LoopConfig | None = None,
    ):
        self.rate = float(incident_rate_per_min)
        self.fix_interval = max(0.2, float(fix_interval_s))
        self.threads = max(1, int(threads))
        self.rng = random.Random(seed)  # content: bodies, plans, patrols (under _content_lock)
        self.arrival_rng = random.Random(seed + 1)  # the scheduler thread's Poisson clock
        self._content_lock = threading.RLock()
        self.time_scale = lifecycle_time_scale
        self.status_interval = status_interval_s
        self.stats = stats or SimStats()
        self.run_id = uuid.uuid4().hex[:12]  # idempotency keys stay unique across restarts with one seed
        self.grids = grids if grids is not None else load_index(grids_path or get_settings().demo_grids_path)
        self.catalogue = Catalogue.load(categories_path)
        self.incidents = IncidentWriter(self.grids, self.catalogue, self.rng)
        self.roster = Roster(
            self.grids,
            self.incidents.communities,
            self.rng,
            max_officers=max(0, int(officers)),
            fix_interval_s=self.fix_interval,
            devices=devices,
        )
        self.agenda = Agenda()
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._plans = 0
        self.client = Client(base_url, self.stats, tokens=tokens, session=session, pool=self.threads + 2)
        self.loop = loop or LoopConfig()
        self.actors = Actors(tokens.keys() if tokens else None)

    def make_incident(self, rng: random.Random | None = None) -> dict[str, Any]:
        """One incident report body (CreateIncident fields)."""
        return self.incidents.write(rng or self.rng, self.roster.patrol_list)

    def install_roster(self, items: Sequence[Mapping[str, Any]], now: float) -> int:
        """Start patrols for roster entries not yet moving (up to `officers`); returns how many were added."""
        started = self.roster.install(items, now)
        for patrol, first_fix in started:
            self.agenda.push(first_fix, "fix", patrol.device_id)
        return len(started)

    # ----- the loop ------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set; returns within about a second of it."""
        own_session = self.client.open()
        workers = [
            threading.Thread(target=self._work, args=(stop,), name=f"sim-http-{i}", daemon=True)
            for i in range(self.threads)
        ]
        for w in workers:
            w.start()
        now = time.monotonic()
        self.agenda.push(now, "roster")
        self.agenda.push(now + next_gap_s(self.rate, self.arrival_rng), "incident")
        next_status = now + self.status_interval
        window_start, window_fixes = now, 0
        try:
            while not stop.is_set():
                now = time.monotonic()
                due, wait = self.agenda.pop_due(now)
                for event in due:
                    try:
                        self._dispatch_event(event, now)
                    except Exception:
                        log.debug("simulator event %s failed", event.kind, exc_info=True)
                        self.stats.add("errors")
                if now >= next_status:
                    with self.stats.lock:
                        sent = self.stats.fixes_sent
                    rate = (sent - window_fixes) / max(1e-9, now - window_start)
                    window_start, window_fixes = now, sent
                    log.info(self.status_line(rate))
                    next_status = now + self.status_interval
                stop.wait(min(max(wait, 0.0), 0.1))
        finally:
            deadline = time.monotonic() + 0.7
            for w in workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            if own_session and not any(w.is_alive() for w in workers):
                self.client.close()

    def status_line(self, fixes_per_s: float) -> str:
        """One line of counters for the log."""
        s = self.stats
        return (
            f"simulator: {len(self.roster.patrol_list)} officers moving, {fixes_per_s:.1f} fixes/s "
            f"(sent {s.fixes_sent}, rejected {s.fixes_rejected}, dropped {s.fixes_dropped}); "
            f"incidents created {s.incidents_created} (rejected {s.incidents_rejected}); "
            f"actions {s.actions_done} (rejected {s.actions_rejected}); uploads {s.uploads} "
            f"(rejected {s.uploads_rejected}); errors {s.errors}; steps: {s.step_line()}"
        )

    def _submit(self, task: Callable[[], None]) -> bool:
        try:
            self._queue.put_nowait(task)
            return True
        except queue.Full:
            return False

    def _work(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                task = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if stop.is_set():
                return
            try:
                task()
            except Exception:
                log.debug("simulator request failed", exc_info=True)
                self.stats.add("errors")

    def _dispatch_event(self, event: Event, now: float) -> None:
        kind = event.kind
        if kind == "roster":
            if not self._submit(self._fetch_roster):
                self.agenda.push(now + 1.0, "roster")
        elif kind == "fix":
            device_id = event.payload
            if device_id in self.roster.patrols:  # dropped from the roster: its fixes stop
                self.agenda.push(event.due + self.fix_interval, "fix", device_id)
                patrol = self.roster.patrols[device_id]
                if not self._submit(lambda: self._send_fixes(patrol)):
                    self.stats.add("fixes_dropped")
        elif kind == "incident":
            self.agenda.push(now + next_gap_s(self.rate, self.arrival_rng), "incident")
            if not self._submit(self._create_incident):
                self.stats.add("incidents_rejected")
        elif kind == "action" and not self._submit(lambda: self._do_action(event.payload)):
            self.agenda.push(now + 1.0, "action", event.payload)

    # ----- officers ------------------------------------------------------------------------------

    def _fetch_roster(self) -> None:
        now = time.monotonic()
        items = self.client.roster()
        with self._content_lock:
            added = self.install_roster(items, now) if items else 0
        self.stats.roster_size = len(self.roster.patrols)
        if added:
            log.info("simulator: %d officers patrolling", len(self.roster.patrols))
        self.agenda.push(now + (ROSTER_REFRESH_S if self.roster.patrols else ROSTER_RETRY_S), "roster")

    def _send_fixes(self, patrol: Patrol) -> None:
        for fix, form in self.roster.reports(patrol, time.time()):
            self.client.send_fix(fix, form)

    # ----- incidents -----------------------------------------------------------------------------

    def _create_incident(self) -> None:
        with self._content_lock:
            body = self.make_incident()
            if body.get("channel") == "hotline":
                wanted = self.rng.random() < self.loop.p_callback_wanted
                body["call_nature"] = "callback" if wanted else "no_callback"
            goal = choose_goal(self.rng)
        response = self.client.create_incident(body, f"sim-{self.run_id}-{uuid.uuid4().hex[:16]}")
        if response is None or response.status_code != 201:
            self.stats.add("incidents_rejected")
            if response is not None:
                if response.status_code >= 500:
                    self.stats.add("errors")
                log.debug("create: HTTP %s %s", response.status_code, response.text[:300])
            return
        self.stats.add("incidents_created")
        self.stats.add_channel(body["channel"])
        try:
            created = response.json()
        except ValueError:
            return
        with self._content_lock:
            self._start_plan(created, goal)

    def _start_plan(self, incident: Mapping[str, Any], goal: str) -> None:
        if incident.get("status") == "triage":
            goal = "archived"  # the triage desk decides (see lifecycle._triage)
        elif goal == "untouched":
            return
        if self._plans >= MAX_PLANS:
            return
        self._plans += 1
        plan = Plan(incident_id=incident["id"], goal=goal)
        plan.update(incident)
        self._schedule_next(plan)

    def _schedule_next(self, plan: Plan) -> None:
        """Choose the plan's next step now and schedule it after the time a real city takes; or end the plan."""
        with self._content_lock:
            step = next_step(
                plan, self.rng, self.catalogue, self.roster.by_department, config=self.loop, actors=self.actors
            )
            if step is None:
                self._plans -= 1
                return
            plan.next = step
            delay = delay_s(step.action, self.rng, self.loop) * self.time_scale
        self.agenda.push(time.monotonic() + delay, "action", plan)

    def _end_plan(self) -> None:
        with self._content_lock:
            self._plans -= 1

    def _retry(self, plan: Plan, refresh: bool) -> None:
        """Choose again (after reading the incident anew when the engine refused), or give up after a few tries."""
        if plan.retries >= MAX_RETRIES:
            self._end_plan()
            return
        plan.retries += 1
        if refresh and (current := self.client.incident(plan.incident_id)) is not None:
            plan.update(current)
        self._schedule_next(plan)

    def _do_action(self, plan: Plan) -> None:
        """Upload the step's evidence, then take the step; a 4xx (a race, a rule) is logged and the case re-read."""
        step = plan.next
        if step is None:
            self._end_plan()
            return
        if not self._upload_evidence(plan, step):
            self._retry(plan, refresh=True)
            return
        response = self.client.act(plan.incident_id, step.action, step.body, actor=step.actor)
        if response is None or response.status_code >= 500:
            if response is not None:
                self.stats.add("errors")
            self._retry(plan, refresh=False)
            return
        if response.status_code != 200:  # 409 (someone else acted), 403 or 422 (a rule): re-read and choose again
            self.stats.add_step(step.action, ok=False)
            log.log(
                logging.DEBUG if response.status_code == 409 else logging.INFO,
                "simulator: %s by %s on %s refused: HTTP %s %s",
                step.action,
                step.actor,
                plan.incident_id,
                response.status_code,
                response.text[:300],
            )
            self._retry(plan, refresh=True)
            return
        self.stats.add_step(step.action, ok=True)
        with self._content_lock:
            plan.done(step)
            try:
                updated = response.json()
            except ValueError:
                updated = None
            if isinstance(updated, dict):
                plan.update(updated)
        self._schedule_next(plan)

    def _upload_evidence(self, plan: Plan, step: Step) -> bool:
        for evidence in step.evidence:
            seed = self.rng.randrange(1 << 16)
            response = self.client.upload(plan.incident_id, evidence.stage, evidence.parts, actor=step.actor, seed=seed)
            if response is None or response.status_code != 201:
                self.stats.add("uploads_rejected")
                if response is not None:
                    if response.status_code >= 500:
                        self.stats.add("errors")
                    log.info(
                        "simulator: evidence (%s) for %s refused: HTTP %s %s",
                        evidence.stage,
                        plan.incident_id,
                        response.status_code,
                        response.text[:300],
                    )
                return False
            self.stats.add("uploads")
        return True


def run_simulator(
    base_url: str,
    *,
    officers: int = 300,
    incident_rate_per_min: float = 20,
    seed: int = 7,
    stop: threading.Event,
    fix_interval_s: float = 5.0,
    **options: Any,
) -> None:
    """Make the demo city look alive against the server at base_url until `stop` is set (returns within ~1 s).

    Extra keyword options go to :class:`Simulator` (threads, grids, lifecycle_time_scale, stats, tokens, devices...).
    """
    try:
        simulator = Simulator(
            base_url,
            officers=officers,
            incident_rate_per_min=incident_rate_per_min,
            seed=seed,
            fix_interval_s=fix_interval_s,
            **options,
        )
    except Exception:
        log.exception("simulator could not start")
        return
    simulator.run(stop)
