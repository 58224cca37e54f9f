"""Who else has a case open (presence, kept in Redis so every server process sees every seat) and who acted first
when an action arrives from a view that is no longer current."""

from __future__ import annotations

import json
import logging
import time

import dash
import redis
from dash import Input, Output, State, no_update
from sqlalchemy import select

from dashboard.pages.components import display_name, local_time, viewer
from dashboard.pages.i18n import t
from dashboard.pages.i18n_errors import stale_text
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account
from dispatcher.cases.incident import Incident, TimelineEntry
from workers.keys import PRESENCE

log = logging.getLogger(__name__)
TTL_S = 30  # a seat that stops sending heartbeats disappears after this long
HEARTBEAT_MS = 10_000


def _key(incident_id: str) -> str:
    return f"{PRESENCE}:{incident_id}"


def beat(incident_id: str | None, left: str | None, username: str, name: str, now_s: float) -> list[str]:
    """Record that `username` looks at `incident_id` (and no longer at `left`); the names of the others looking."""
    conn = current_runtime().redis
    if conn is None:
        return []
    try:
        with conn.pipeline(transaction=False) as pipe:
            if left and left != incident_id:
                pipe.hdel(_key(left), username)
            if incident_id:
                pipe.hset(_key(incident_id), username, json.dumps({"name": name, "until": now_s + TTL_S}))
                pipe.expire(_key(incident_id), TTL_S)
                pipe.hgetall(_key(incident_id))
            replies = pipe.execute()
    except redis.RedisError:
        log.warning("presence unavailable", exc_info=True)
        return []
    if not incident_id:
        return []
    others = []
    for user, raw in replies[-1].items():
        seen = json.loads(raw)
        if user.decode() != username and seen["until"] > now_s:
            others.append(seen["name"])
    return sorted(others)


def acted_first(incident_id: str, lang: str) -> str:
    """'此案件 2026-1201-0042 已被他人处理（王五 于 10:42:07 派遣）…': the newest step on the case, for an action that
    lost the race."""
    rt = current_runtime()
    with rt.sessions() as session:
        number = session.scalar(select(Incident.case_number).where(Incident.id == incident_id))
        last = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return stale_text(number or incident_id, lang)
        name = session.scalar(select(Account.display_name).where(Account.username == last.actor))
        when = local_time(last.at, rt.settings.timezone, "%H:%M:%S")
        return stale_text(number or incident_id, lang, who=name or last.actor, when=when, action=last.action)


def register(app: dash.Dash) -> None:
    """The drawer's presence line: refreshed on opening a case and every few seconds while it stays open."""

    # the heartbeat runs only while a case is open: with none, the idle page makes no presence round trips
    app.clientside_callback(
        "function (selected) { return !selected; }",
        Output("cc-presence-tick", "disabled"),
        Input("cc-selected", "data"),
    )

    @app.callback(
        Output("cc-presence", "children"),
        Output("cc-presence-case", "data"),
        Input("cc-selected", "data"),
        Input("cc-presence-tick", "n_intervals"),
        State("cc-presence-case", "data"),
        State("gc-lang", "data"),
    )
    def presence(incident_id, _tick, shown, lang):
        incident_id = incident_id if isinstance(incident_id, str) and incident_id else None
        principal = viewer()
        others = beat(incident_id, shown, principal.username, display_name(principal), time.time())
        text = t("presence_also", lang, names="、".join(others)) if others else ""
        return text, incident_id if incident_id != shown else no_update
