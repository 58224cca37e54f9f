"""A plausible morning's backlog for the demo city: incidents over the last hours, moved along the whole loop through
the engine's workflow (dispatcher.handling.workflow.perform) with past timestamps, so the first screen shows every
stage: new and filed reports, dispatched and claimed cases, pending and decided extension and suspension requests,
returns waiting for arbitration, joint cases with a partner's part open, feedback waiting for verification (with
real before/after photos), verified cases waiting for their callback, rework, closed and archived cases (with their
ledger rows), some overdue and some supervised. Used by `gridcommand demo` on first start.

Each step is taken under the name of the simulator's account that takes it in the live demo (the shift leader
"sim-center", the department heads "sim-dept-<code>", the community workstations, the grid workers, the hotline),
without a principal (the seeding is the engine's own, like the timers), so the scope rules do not apply but every
rule of the loop does (evidence, approvals, partners, callbacks, the ledger)."""

from __future__ import annotations

import hashlib
import io
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import City, load_city
from dispatcher.errors import EngineError
from dispatcher.handling.evidence import record_evidence
from dispatcher.handling.workflow import perform
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.media import Media, MediaStore, new_media_id, storage_name
from dispatcher.intake.reports import create_incident
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import load_index
from geo.grids import Level
from workers.simulator.actors import DEPT_PREFIX, STATION_PREFIX
from workers.simulator.catalogue import COMMON_DEPARTMENTS
from workers.simulator.photos import photo
from workers.simulator.phrases import (
    APPROVE_NOTES,
    ESCALATE_REASONS,
    EXTEND_REASONS,
    PART_RESULTS,
    REFUSE_REASONS,
    REJECT_REASONS,
    RETURN_REASONS,
    SUPERVISE_REASONS,
    SUSPEND_REASONS,
    UPHOLD_REASONS,
    VOID_REASONS,
    person_name,
    phone_number,
)

log = logging.getLogger(__name__)

CENTER = "sim-center"  # the shift leader
HOTLINE = "sim-hotline"
FULL = ["file", "dispatch", "claim", "handle", "verify", "close"]

# The scripts of the backlog: the steps each kind of case has gone through by now ("dispatch+" names a partner
# department, "redispatch" is the shift leader sending a returned case elsewhere, "callback-" an unsatisfied caller).
SCRIPTS: dict[str, list[str]] = {
    "reported": [],  # nobody filed it: its filing clock has run out
    "filed": ["file"],
    "escalated": ["file", "escalate"],
    "dispatched": ["file", "dispatch"],
    "claimed": ["file", "dispatch", "claim"],
    "transferred": ["file", "dispatch", "claim", "transfer"],
    "supervised": ["file", "dispatch", "claim", "supervise"],
    "extension requested": ["file", "dispatch", "claim", "request_extend"],
    "suspension requested": ["file", "dispatch", "claim", "request_suspend"],
    "suspended": ["file", "dispatch", "claim", "request_suspend", "suspend"],
    "extended": ["file", "dispatch", "claim", "request_extend", "extend"],
    "refused": ["file", "dispatch", "claim", "request_extend", "refuse"],
    "returned": ["file", "dispatch", "return"],
    "upheld": ["file", "dispatch", "return", "uphold"],
    "redispatched": ["file", "dispatch", "return", "redispatch", "claim"],
    "voided": ["file", "dispatch", "return", "void"],
    "joint open": ["file", "dispatch+", "claim"],
    "joint handled": ["file", "dispatch+", "claim", "part_done", "handle"],
    "handled": ["file", "dispatch", "claim", "handle"],
    "awaiting callback": ["file", "dispatch", "claim", "handle", "verify"],
    "rework": ["file", "dispatch", "claim", "handle", "reject"],
    "callback rework": ["file", "dispatch", "claim", "handle", "verify", "callback-"],
    "closed": FULL,
    "archived": [*FULL, "archive"],
}
WEIGHTS = {
    "reported": 6,
    "filed": 5,
    "dispatched": 8,
    "claimed": 9,
    "handled": 7,
    "closed": 8,
    "archived": 12,
    "awaiting callback": 4,
}
CALLBACK_SCRIPTS = frozenset({"awaiting callback", "callback rework"})  # their callers asked to be called back
MIN_EACH = 2  # every script at least this often
PLACES = ["路口", "小区东门", "人行道", "沿街商铺前", "公园北侧", "公交站旁", "菜场门口", "学校附近"]


@dataclass
class _Case:
    """One backlog case being seeded: its id, script, and the department a joint case or re-dispatch involves."""

    incident_id: str
    script: str
    partner: str | None = None


def scripts_for(count: int, rng: random.Random) -> list[str]:
    """The scripts of `count` cases: each at least MIN_EACH times (when count allows), the rest by weight."""
    names = [name for name in SCRIPTS for _ in range(MIN_EACH)][:count]
    rest = count - len(names)
    if rest > 0:
        weights = [WEIGHTS.get(name, 1) for name in SCRIPTS]
        names += rng.choices(list(SCRIPTS), weights=weights, k=rest)
    rng.shuffle(names)
    return names


def seed_backlog(
    database_url: str,
    data_dir: Path,
    *,
    count: int = 140,
    now: datetime,
    seed: int = 7,
    media_dir: Path | None = None,
) -> int:
    """A plausible morning: `count` incidents reported over the last hours, driven through every stage of the loop
    at past times; photos go to `media_dir` (the feedback of photo-bound categories is skipped without one)."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    try:
        with sessions() as session:
            city = load_city(data_dir, load_index(session))
        seeder = _Seeder(sessions, city, rng, MediaStore(media_dir) if media_dir else None)
        created = 0
        for script in scripts_for(count, rng):
            if seeder.seed_case(script, now):
                created += 1
    finally:
        engine.dispose()
    return created


class _Seeder:
    def __init__(self, sessions: sessionmaker[Session], city: City, rng: random.Random, store: MediaStore | None):
        self.sessions, self.city, self.rng, self.store = sessions, city, rng, store
        self.units = city.grids.by_level(Level.UNIT)
        categories = [c for c in city.catalogue.categories.values() if c.default_department]
        if store is None:  # no place for photos: only categories whose feedback needs none
            categories = [c for c in categories if not city.rules.needs_photos(c.code)]
        self.categories = categories
        self.weights = [6 if c.code.startswith("02") else 1 for c in categories]
        self.departments = [d for d in COMMON_DEPARTMENTS if d in city.catalogue.departments]

    def seed_case(self, script: str, now: datetime) -> bool:
        """Create one case some hours ago and take its script's steps; False when it could not be created."""
        steps = SCRIPTS[script]
        rng = self.rng
        at = now - timedelta(minutes=rng.randint(20 + 12 * len(steps), 330))
        try:
            case = self._create(script, at)
        except EngineError:
            log.warning("backlog: a %s case could not be created", script, exc_info=True)
            return False
        gap = (now - at) / (len(steps) + 1)
        step_at = at
        for step in steps:
            step_at += gap * rng.uniform(0.6, 1.0)
            try:
                self._step(case, step, step_at)
            except EngineError as exc:  # a rule of the loop said no (e.g. the routing changed): stop this case here
                log.info("backlog: %s case %s stopped before %s: %s", script, case.incident_id, step, exc)
                break
        return True

    def _create(self, script: str, at: datetime) -> _Case:
        rng = self.rng
        point = self.units[rng.randrange(len(self.units))].geometry.representative_point()
        category = rng.choices(self.categories, self.weights)[0]
        callback = script in CALLBACK_SCRIPTS
        channel = "hotline" if callback else rng.choice(["grid_worker", "hotline", "public"])
        extra: dict = {}
        if channel == "hotline":
            extra = {
                "reporter_name": person_name(rng),
                "reporter_phone": phone_number(rng),
                "call_nature": "callback" if callback or rng.random() < 0.5 else "no_callback",
            }
        with UnitOfWork(self.sessions) as uow:
            incident = create_incident(
                uow,
                self.city,
                CreateIncident(
                    description=f"{rng.choice(PLACES)}{category.name_zh}，请尽快处置",
                    category_code=category.code,
                    lon=point.x,
                    lat=point.y,
                    channel=channel,
                    **extra,
                ),
                actor=CENTER,
                now=at,
            )
            uow.commit(at)
            return _Case(incident.id, script)

    def _step(self, case: _Case, step: str, at: datetime) -> None:
        """One step of a script, in its own transaction, under the name of whoever takes it."""
        staged: list[str] = []
        try:
            with UnitOfWork(self.sessions) as uow:
                incident = uow.session.get(Incident, case.incident_id)
                if incident is None:
                    raise EngineError(f"incident {case.incident_id} vanished")
                if step == "close" and self._callback_missing(incident):
                    self._perform(uow, incident, Action.CALLBACK, self._callback(True), HOTLINE, at)
                    at = at + timedelta(seconds=30)
                action, req, actor, evidence = self._request(case, incident, step, at)
                for stage, parts in evidence:
                    staged += self._attach(uow.session, incident, stage, parts, actor, at)
                self._perform(uow, incident, action, req, actor, at)
                uow.commit(at)
        except BaseException:
            if self.store is not None:
                for name in staged:
                    self.store.discard(name)
            raise
        if self.store is not None:
            for name in staged:
                self.store.publish(name)

    def _perform(
        self, uow: UnitOfWork, incident: Incident, action: Action, req: ActionRequest, actor: str, at: datetime
    ) -> None:
        perform(uow, self.city, incident.id, action, req, actor=actor, now=at)

    @staticmethod
    def _callback_missing(incident: Incident) -> bool:
        return bool(incident.callback_required) and incident.callback_outcome not in {"satisfied", "not_reached"}

    @staticmethod
    def _callback(satisfied: bool) -> ActionRequest:
        note = "来电人对处理结果满意" if satisfied else "来电人表示问题仍未解决"
        return ActionRequest(reached=True, satisfied=satisfied, note=note)

    def _handler(self, incident: Incident) -> str:
        if incident.department_code == "SQ" and incident.grid_community:
            return STATION_PREFIX + incident.grid_community
        return DEPT_PREFIX + str(incident.department_code)

    def _closer(self, incident: Incident) -> str:
        closer = self.city.rules.closer(incident.level)
        if str(closer) == "community_station" and incident.department_code == "SQ" and incident.grid_community:
            return STATION_PREFIX + incident.grid_community
        return CENTER

    def _request(
        self, case: _Case, incident: Incident, step: str, at: datetime
    ) -> tuple[Action, ActionRequest, str, list[tuple[str, tuple[str, ...]]]]:
        """The action, its body, who takes it and the evidence it carries (stage, parts)."""
        rng, handler = self.rng, self._handler(incident)
        photos: list[tuple[str, tuple[str, ...]]] = []
        others = [d for d in self.departments if d != incident.department_code]
        simple: dict[str, Callable[[], tuple[Action, ActionRequest, str]]] = {
            "file": lambda: (Action.FILE, ActionRequest(note="情况属实，予以立案"), CENTER),
            "escalate": lambda: (Action.ESCALATE, ActionRequest(reason=rng.choice(ESCALATE_REASONS)), CENTER),
            "claim": lambda: (Action.CLAIM, ActionRequest(note="已签收"), handler),
            "transfer": lambda: (
                Action.TRANSFER,
                ActionRequest(assignee=f"{incident.department_code}-值班", note="转交办理"),
                handler,
            ),
            "supervise": lambda: (Action.SUPERVISE, ActionRequest(reason=rng.choice(SUPERVISE_REASONS)), CENTER),
            "request_suspend": lambda: (
                Action.REQUEST_SUSPEND,
                ActionRequest(reason=rng.choice(SUSPEND_REASONS)),
                handler,
            ),
            "suspend": lambda: (Action.SUSPEND, ActionRequest(reason=rng.choice(APPROVE_NOTES["suspend"])), CENTER),
            "extend": lambda: (Action.EXTEND, ActionRequest(reason=rng.choice(APPROVE_NOTES["extend"])), CENTER),
            "refuse": lambda: (Action.REFUSE, ActionRequest(reason=rng.choice(REFUSE_REASONS)), CENTER),
            "uphold": lambda: (Action.UPHOLD, ActionRequest(reason=rng.choice(UPHOLD_REASONS)), CENTER),
            "void": lambda: (Action.VOID, ActionRequest(reason=rng.choice(VOID_REASONS)), CENTER),
            "verify": lambda: (Action.VERIFY, ActionRequest(note="现场核查，问题已解决"), incident.verifier or CENTER),
            "reject": lambda: (
                Action.REJECT,
                ActionRequest(reason=rng.choice(REJECT_REASONS)),
                incident.verifier or CENTER,
            ),
            "callback-": lambda: (Action.CALLBACK, self._callback(False), HOTLINE),
            "close": lambda: (Action.CLOSE, ActionRequest(note="处置到位，予以结案"), self._closer(incident)),
            "archive": lambda: (Action.ARCHIVE, ActionRequest(note="归档"), self._closer(incident)),
        }
        if step in simple:
            action, req, actor = simple[step]()
            return action, req, actor, []
        if step in {"dispatch", "dispatch+"}:
            partners = []
            if step == "dispatch+" and others and incident.department_code != "SQ":
                case.partner = rng.choice(others)
                partners = [case.partner]
            return Action.DISPATCH, ActionRequest(note="请按时限处置并反馈", partners=partners), CENTER, []
        if step == "redispatch":
            return Action.DISPATCH, ActionRequest(department=rng.choice(others), note="审定改派"), CENTER, []
        if step == "request_extend":
            base = max(incident.stage_deadline or at, at)
            req = ActionRequest(until=base + timedelta(days=1), reason=rng.choice(EXTEND_REASONS))
            return Action.REQUEST_EXTEND, req, handler, []
        if step == "part_done":
            partner = case.partner or (incident.partners[0].department_code if incident.partners else "")
            req = ActionRequest(department=partner, result=rng.choice(PART_RESULTS))
            return Action.PART_DONE, req, DEPT_PREFIX + partner, []
        if step == "return":
            codes = list(self.city.rules.return_reasons)
            if self.store is None:
                codes = [c for c in codes if not self.city.rules.return_reasons[c].evidence] or codes
            code = rng.choice(codes)
            req = ActionRequest(
                reason_code=code, reason=rng.choice(RETURN_REASONS.get(code, RETURN_REASONS["default"]))
            )
            if self.city.rules.return_reasons[code].evidence:
                photos.append(("return", ("photo",)))
            return Action.RETURN, req, handler, photos
        if step == "handle":
            if self.city.rules.needs_photos(incident.category_code):
                photos.append(("handle", ("before", "after")))
            return Action.HANDLE, ActionRequest(result="已到现场处置完毕，现场已恢复正常"), handler, photos
        raise ValueError(f"unknown backlog step {step!r}")

    def _attach(
        self, session: Session, incident: Incident, stage: str, parts: tuple[str, ...], actor: str, at: datetime
    ) -> list[str]:
        """Stage small JPEGs as evidence of this case (published after the commit); their storage names."""
        if self.store is None:
            return []
        rows, names = [], []
        for part in parts:
            data = photo(part, self.rng.randrange(1 << 16))
            sha, media_id = hashlib.sha256(data).hexdigest(), new_media_id()
            name = storage_name(sha, media_id, "jpg")
            self.store.stage(name, io.BytesIO(data))
            names.append(name)
            rows.append(
                Media(
                    id=media_id,
                    incident_id=incident.id,
                    kind=part,
                    stage=stage,
                    content_type="image/jpeg",
                    declared_type="image/jpeg",
                    original_name=f"{part}.jpg",
                    size=len(data),
                    sha256=sha,
                    path=name,
                    uploaded_by=actor,
                    created_at=at,
                )
            )
        session.add_all(rows)
        session.flush()
        record_evidence(incident, [m.as_dict() for m in rows], stage=stage, actor=actor, now=at)
        return names
