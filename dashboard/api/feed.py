"""The command center's incident feed as plain JSON: what changed after an outbox sequence number.

The browser's desk (assets/desk_live.js) asks this after a Socket.IO push (the push is only the trigger), on a slow
tick and after reconnecting, instead of going through Dash props. The records are the command center's compact
records (dashboard/pages/feed.compact) and the rules are the page's: only events of the caller's scope count, and
their incidents are re-read inside the scope, so an incident outside it is never sent (it comes back as gone).

    GET /api/v1/feed?after=<seq>   -> {"up": {id: record}, "gone": [id], "seq": <last>, "more": bool}
    GET /api/v1/feed               -> {"all": {id: record}, "seq": <last>}   (the open set, as the page starts with)
"""

from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime

TAG = "feed"
MAX_SEQ = 2**63 - 1  # outbox ids are BIGINT


class FeedOut(BaseModel):
    """A delta (up, gone) or, without `after`, the whole open set (all); `seq` to ask after next time."""

    model_config = ConfigDict(extra="allow")
    seq: int
    up: dict[str, dict] | None = None
    gone: list[str] | None = None
    all: dict[str, dict] | None = None
    more: bool = False


def parse_after(raw: str | None) -> int | None:
    """The `after` parameter: an integer from 0 to 2^63-1 (ValueError otherwise); None when absent."""
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(raw)
    value = int(text)
    if value > MAX_SEQ:
        raise ValueError(raw)
    return value


@api.get("/feed")
@spec.validate(resp=Response(HTTP_200=FeedOut, HTTP_400=ErrorResponse), tags=[TAG])
def incident_feed():
    """Open incidents of the caller's scope changed after outbox sequence number `after` (upserts, ids no longer
    open or no longer visible, the new sequence number and whether more changes wait); without `after`, every open
    incident of the scope."""
    from dashboard.pages import feed  # the page package mounts Dash: imported when first asked, not with the API

    principal = require_principal()
    try:
        after = parse_after(request.args.get("after"))
    except ValueError:
        return error(400, "bad_parameter", f"after must be an integer from 0 to {MAX_SEQ}", "after")
    rt = current_runtime()
    now = rt.clock()
    crs = feed.display_crs(rt.settings.tile_url)
    with rt.sessions() as session:
        if after is None:
            records, seq = feed.open_incidents(session, rt.city, now, crs, principal)
            return jsonify(all=records, seq=seq)
        upserts, gone, last = feed.catch_up(session, rt.city, after, now, crs, principal)
        more = last != after and last < feed.last_seq(session)
    return jsonify(up=upserts, gone=gone, seq=last, more=more)
