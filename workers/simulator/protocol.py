"""The simulator's side of GridCommand's public protocols: OsmAnd / Traccar fixes, the REST API with bearer tokens."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .actors import signer
from .patrols import Fix
from .photos import photo
from .stats import SimStats

log = logging.getLogger("gridcommand.simulator")

KNOTS_PER_MPS = 1.943844  # 1 m/s in knots (OsmAnd's default speed unit)
HTTP_TIMEOUT = (1.0, 3.0)  # connect, read
CREATE_ATTEMPTS = 2  # a retry after a lost connection is safe: same idempotency key, same body


def mps_to_knots(speed_mps: float) -> float:
    """Metres per second in knots."""
    return speed_mps * KNOTS_PER_MPS


def osmand_query(fix: Fix) -> dict[str, str]:
    """The query (or form) parameters of an OsmAnd fix: id, lat, lon, unix timestamp, speed in knots."""
    return {
        "id": fix.device_id,
        "lat": f"{fix.lat:.7f}",
        "lon": f"{fix.lon:.7f}",
        "timestamp": str(int(fix.timestamp)),
        "speed": f"{mps_to_knots(fix.speed_mps):.2f}",
        "bearing": f"{fix.bearing:.1f}",
        "altitude": f"{fix.altitude:.1f}",
        "accuracy": f"{fix.accuracy:.1f}",
        "batt": f"{fix.battery:.0f}",
        "charge": "true" if fix.charging else "false",
    }


def osmand_json(fix: Fix) -> dict[str, Any]:
    """The JSON form (Traccar Client / background-geolocation): speed in m/s, ISO timestamp."""
    return {
        "device_id": fix.device_id,
        "location": {
            "timestamp": datetime.fromtimestamp(fix.timestamp, UTC).isoformat().replace("+00:00", "Z"),
            "coords": {
                "latitude": round(fix.lat, 7),
                "longitude": round(fix.lon, 7),
                "accuracy": round(fix.accuracy, 1),
                "speed": round(fix.speed_mps, 2),
                "heading": round(fix.bearing, 1),
                "altitude": round(fix.altitude, 1),
            },
            "is_moving": fix.is_moving,
            "battery": {"level": round(fix.battery / 100.0, 2), "is_charging": fix.charging},
        },
    }


class Client:
    """HTTP to one GridCommand server; never raises for HTTP or connection reasons (they are counted in `stats`)."""

    def __init__(
        self, base_url: str, stats: SimStats, *, tokens: Mapping[str, str] | None = None, session=None, pool: int = 8
    ):
        self.base = base_url.rstrip("/")
        self.stats = stats
        # "leader": the shift leader; "dept:<code>": that department's head (a department acts only on what is
        # dispatched to it); "dept": any department, when no own token is given; "grid:<community>": that
        # community's grid worker; "station:<community>": its workstation; "hotline": the call-taker.
        self.tokens = dict(tokens or {})
        self.session = session
        self.pool = pool

    def open(self) -> bool:
        """Make a pooled session unless one was given; True when this client made it (and should close it)."""
        if self.session is not None:
            return False
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self.pool, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = "GridCommand-demo-simulator/1"
        session.headers.update(self.signed("read"))
        self.session = session
        return True

    def close(self) -> None:
        """Close the session."""
        self.session.close()

    def signed(self, action: str, department: str | None = None) -> dict[str, str]:
        """The Authorization header of whoever takes this action in a real city (the case's department or the center)."""
        who = signer(action)
        token = self.tokens.get(f"{who}:{department}") or self.tokens.get(who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def as_actor(self, actor: str) -> dict[str, str]:
        """The Authorization header of one token key ("leader", "dept:HW", "grid:<community>", ...); a key the
        simulator was not given falls back to its kind ("dept:HW" → "dept")."""
        token = self.tokens.get(actor) or self.tokens.get(actor.split(":", 1)[0])
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs):
        """One request; None on a connection error (counted). Never raises for HTTP reasons."""
        import requests

        try:
            return self.session.request(method, self.base + path, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            self.stats.add("errors")
            log.debug("%s %s: %s", method, path, exc)
            return None

    def roster(self) -> list[dict]:
        """The officers the server lists (empty while the endpoint is not there yet or lists nobody)."""
        response = self.request("GET", "/api/v1/officers", params={"page_size": 500})
        if response is None:
            return []
        if response.status_code != 200:
            log.debug("officer roster: HTTP %s (endpoint not there yet?)", response.status_code)
            return []
        try:
            body = response.json()
        except ValueError:
            return []
        return body.get("items", []) if isinstance(body, dict) else list(body)

    def send_fix(self, fix: Fix, form: str) -> None:
        """Send one fix as a tracker app does: "get" (query), "form" (form POST) or "json"; counts the outcome."""
        if form == "json":
            response = self.request("POST", "/osmand", json=osmand_json(fix))
        elif form == "form":
            response = self.request("POST", "/osmand", data=osmand_query(fix))
        else:
            response = self.request("GET", "/osmand", params=osmand_query(fix))
        if response is None:
            return
        if response.status_code < 300:
            self.stats.add("fixes_sent")
        else:
            self.stats.add("fixes_rejected")
            if response.status_code >= 500:
                self.stats.add("errors")
            log.debug("fix of tracker %s…: HTTP %s %s", fix.device_id[:4], response.status_code, response.text[:200])

    def create_incident(self, body: Mapping[str, Any], idempotency_key: str):
        """POST the report as the command center, retried once on a lost connection or a 5xx; the last response."""
        headers = {"Idempotency-Key": idempotency_key, **self.signed("report")}
        response = None
        for _attempt in range(CREATE_ATTEMPTS):
            response = self.request("POST", "/api/v1/incidents", json=body, headers=headers)
            if response is not None and response.status_code < 500:
                break
        return response

    def act(
        self,
        incident_id: str,
        action: str,
        body: Mapping[str, Any],
        department: str | None = None,
        *,
        actor: str | None = None,
    ):
        """POST one lifecycle action, signed by `actor` (a token key) or else by whoever takes it in a real city."""
        path = f"/api/v1/incidents/{incident_id}/actions/{action}"
        headers = self.as_actor(actor) if actor else self.signed(action, department)
        return self.request("POST", path, json=body, headers=headers)

    def upload(self, incident_id: str, stage: str, parts: Sequence[str], *, actor: str, seed: int = 0):
        """POST evidence (one small JPEG per part) to the case at this stage as `actor`; the response or None."""
        files = [(part, (f"{part}.jpg", photo(part, seed + i), "image/jpeg")) for i, part in enumerate(parts)]
        path = f"/api/v1/incidents/{incident_id}/media"
        return self.request("POST", path, data={"stage": stage}, files=files, headers=self.as_actor(actor))

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """The incident as the command center sees it now (None when it cannot be read)."""
        response = self.request("GET", f"/api/v1/incidents/{incident_id}", headers=self.as_actor("leader"))
        if response is None or response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
