"""Open311 GeoReport v2 mapping: our catalogue as services, our incidents as service requests (pure functions).

The web edge (dashboard/open311.py) parses requests and renders these dicts as JSON or, through
`dispatcher.intake.open311_xml`, as the spec's XML. Nothing here touches the database or the request.

- A service is a small class (小类): `service_code` is our 6-digit category code, `group` its big class.
- Every service offers one optional attribute, `urgency` (a singlevaluelist 1/2/3), so `metadata` is true.
- Status: our open statuses are "open"; closed, archived and voided (and merged) ones are "closed".
- Public output only (which cases: `dispatcher.intake.publication`): never the reporter, staff notes, results,
  reasons or names; status_notes are the notes written for the public (`public_note`) or the status's neutral
  text; every text goes through `privacy.redact` (phone and ID numbers masked).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from dispatcher.access.privacy import redact
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.city.catalogue import Catalogue, Category, Stage
from dispatcher.intake.publication import Publication

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 255
MAX_MEDIA_URL = 2048
URGENCY = "urgency"
_OPEN = frozenset(str(s) for s in OPEN_STATUSES)
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]*)\]$")
PUBLIC_TEXT = ("status_notes", "service_name", "description", "agency_responsible", "service_notice", "address")

_UNIT_TEXT = {
    "zh": {"wh": "个工作小时", "wd": "个工作日", "h": "小时", "min": "分钟"},
    "en": {"wh": " working hours", "wd": " working days", "h": " hours", "min": " minutes"},
}
_URGENCY_NAMES = {
    "zh": {1: "一般", 2: "紧急", 3: "特急"},
    "en": {1: "normal", 2: "urgent", 3: "critical"},
}


class Open311Error(Exception):
    """An answer in the spec's error shape: HTTP status and a description naming the field at fault."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description

    def payload(self) -> list[dict[str, Any]]:
        return error_payload(self.status, self.description)


def error_payload(status: int, description: str) -> list[dict[str, Any]]:
    return [{"code": status, "description": description}]


def language(locale: str | None) -> str:
    """'en' for an English locale (en, en_US, en-GB), else 'zh' (our names are Chinese first)."""
    return "en" if (locale or "").strip().lower().replace("_", "-").split("-")[0] == "en" else "zh"


def _name(thing: Any, lang: str) -> str:
    return thing.name_en if lang == "en" and thing.name_en else thing.name_zh


# --- services ----------------------------------------------------------------------------------------


def service_notice(category: Category, lang: str = "zh") -> str:
    """What a reporter can expect: the time limit for handling the case once dispatched."""
    limit = category.limit(Stage.HANDLE)
    if limit is None:
        return "本类问题受理后由指挥中心派遣处置。" if lang == "zh" else "The command center will dispatch this case."
    amount = f"{limit.amount}{_UNIT_TEXT[lang][limit.unit]}"
    if lang == "zh":
        return f"受理立案后派遣至责任单位，处置时限为{amount}。"
    return f"Once filed, the case is dispatched to the responsible department and handled within {amount}."


def service(catalogue: Catalogue, category: Category, lang: str = "zh") -> dict[str, Any]:
    """One entry of GET services."""
    big = catalogue.big_classes.get(category.big_class)
    family = catalogue.families.get(category.family)
    path = [_name(x, lang) for x in (family, big) if x is not None] + [_name(category, lang)]
    return {
        "service_code": category.code,
        "service_name": _name(category, lang),
        "description": " / ".join(path),
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": _name(big, lang) if big else None,
    }


def services(catalogue: Catalogue, lang: str = "zh") -> list[dict[str, Any]]:
    """GET services: every small class, in code order."""
    return [service(catalogue, c, lang) for c in sorted(catalogue.categories.values(), key=lambda c: c.code)]


def urgency_attribute(category: Category, lang: str = "zh") -> dict[str, Any]:
    names = _URGENCY_NAMES[lang]
    described = (
        f"紧急程度（不填则按本类默认：{names[category.urgency]}）"
        if lang == "zh"
        else f"How urgent is it? (default for this service: {names[category.urgency]})"
    )
    return {
        "variable": True,
        "code": URGENCY,
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": None,
        "order": 1,
        "description": described,
        "values": [{"key": str(k), "name": v} for k, v in names.items()],
    }


def service_definition(category: Category, lang: str = "zh") -> dict[str, Any]:
    """GET services/{code}: the attributes a request of this service may carry."""
    return {"service_code": category.code, "attributes": [urgency_attribute(category, lang)]}


def parse_attributes(category: Category, form: Mapping[str, str]) -> dict[str, Any]:
    """The `attribute[CODE]` fields of a POST that the service definition knows, checked (400 naming the
    attribute when its value is not one of the list). Codes the definition does not list are ignored, so
    a client's generic attributes (like the spec example's WHISPAWN) do not fail the report."""
    values: dict[str, Any] = {}
    for key, value in form.items():
        match = _ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        code = match.group(1)
        if code == URGENCY and value.strip():
            if value.strip() not in {"1", "2", "3"}:
                raise Open311Error(400, f"attribute[{URGENCY}] must be one of 1, 2, 3, not {value!r}")
            values[URGENCY] = int(value.strip())
    return values


# --- requests ----------------------------------------------------------------------------------------


def public_status(status: str) -> str:
    """'open' while our lifecycle runs; 'closed' once closed, archived, voided or merged."""
    return "open" if status in _OPEN else "closed"


def format_datetime(value: datetime | None, tz: tzinfo | None = None) -> str | None:
    """ISO 8601 with the offset (the city's local time when `tz` is given)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value.astimezone(tz) if tz else value).isoformat(timespec="seconds")


def public_note(incident: Incident) -> str | None:
    """The latest note written for the public (`public_note` of an action) since the case reached its status."""
    for entry in reversed(incident.timeline):
        note = (entry.data or {}).get("public_note")
        if isinstance(note, str) and note.strip():
            return note.strip()
        if entry.from_status != entry.to_status:
            return None
    return None


def status_notes(incident: Incident, publication: Publication, lang: str = "zh") -> str:
    """What the public reads about where the case stands: its public note, else its status's neutral text."""
    return public_note(incident) or publication.status_note(incident.status, lang)


def media_url(incident: Incident) -> str | None:
    """The media URL the reporter gave, kept on the report row of the timeline."""
    for entry in incident.timeline:
        if entry.action == "report":
            return (entry.data or {}).get("media_url")
    return None


def service_request(
    incident: Incident, catalogue: Catalogue, publication: Publication, *, tz: tzinfo | None = None, lang: str = "zh"
) -> dict[str, Any]:
    """One entry of GET requests: public fields only (no reporter, staff notes or names), every text redacted."""
    category = catalogue.find_category(incident.category_code)
    department = catalogue.departments.get(incident.department_code) if incident.department_code else None
    status = public_status(incident.status)
    entry: dict[str, Any] = {
        "service_request_id": incident.id,
        "status": status,
        "status_notes": status_notes(incident, publication, lang),
        "service_name": _name(category, lang) if category else None,
        "service_code": incident.category_code,
        "description": incident.description,
        "agency_responsible": _name(department, lang) if department else None,
        "service_notice": service_notice(category, lang) if category else None,
        "requested_datetime": format_datetime(incident.created_at, tz),
        "updated_datetime": format_datetime(incident.updated_at, tz),
        "expected_datetime": format_datetime(incident.stage_deadline, tz) if status == "open" else None,
        "address": incident.address,
        "address_id": None,
        "zipcode": None,
        "lat": incident.lat,
        "long": incident.lon,
        "media_url": media_url(incident),
    }
    for key in (*PUBLIC_TEXT, "media_url"):
        entry[key] = redact(entry[key])
    return entry


def created(incident: Incident, catalogue: Catalogue, lang: str = "zh") -> dict[str, Any]:
    """The answer to POST requests: realtime, so the id itself (no token)."""
    category = catalogue.find_category(incident.category_code)
    return {
        "service_request_id": incident.id,
        "service_notice": service_notice(category, lang) if category else None,
        "account_id": None,
    }


def token_answer(incident_id: str, token: str) -> dict[str, Any]:
    return {"service_request_id": incident_id, "token": token}


# --- field parsing -----------------------------------------------------------------------------------


def parse_coordinate(text: str | None, field: str, low: float, high: float) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise Open311Error(400, f"{field} {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(400, f"{field} {text!r} is outside {low:g}..{high:g}")
    return value


def parse_location(lat_text: str | None, long_text: str | None) -> tuple[float | None, float | None]:
    """(lon, lat) from the spec's `lat` and `long`; both or neither."""
    lat = parse_coordinate(lat_text, "lat", -90, 90)
    lon = parse_coordinate(long_text, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be given together")
    return lon, lat


def parse_media_url(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    url = text.strip()
    parts = urlsplit(url)
    if len(url) > MAX_MEDIA_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Open311Error(400, f"media_url must be an http(s) URL of at most {MAX_MEDIA_URL} characters")
    return url


def reporter_name(first: str | None, last: str | None) -> str | None:
    """'john smith' for Latin names, '张三' (family name first, no space) for Chinese ones."""
    first, last = (first or "").strip(), (last or "").strip()
    if not (first or last):
        return None
    if (first + last).isascii():
        return " ".join(p for p in (first, last) if p)
    return last + first


def parse_datetime(text: str, field: str) -> datetime:
    """An ISO 8601 datetime with its timezone (Z or ±HH:MM), as the spec requires."""
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text.strip())  # an unencoded "+08:00" arrives as " 08:00"
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))  # 3.11 reads "Z" as UTC
    except ValueError:
        raise Open311Error(400, f"{field} {text!r} is not an ISO 8601 datetime (e.g. 2010-05-24T00:00:00Z)") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Open311Error(400, f"{field} {text!r} needs a timezone (Z or an offset such as +08:00)")
    return value.astimezone(UTC)


def date_window(start_text: str | None, end_text: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range of GET requests: at most 90 days; default the last 90 days."""
    start = parse_datetime(start_text, "start_date") if start_text else None
    end = parse_datetime(end_text, "end_date") if end_text else None
    if start is None:
        end = now if end is None else end
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, f"start_date..end_date spans {(end - start).days} days; at most 90 are allowed")
    return start, end


def parse_list(text: str | None, field: str, *, limit: int = MAX_RESULTS) -> list[str]:
    """A comma-separated list (empty items dropped)."""
    items = [p.strip() for p in (text or "").split(",") if p.strip()]
    if len(items) > limit:
        raise Open311Error(400, f"{field} lists {len(items)} values; at most {limit} are allowed")
    return items


def parse_statuses(text: str | None) -> set[str]:
    statuses = set(parse_list(text, "status"))
    wrong = statuses - {"open", "closed"}
    if wrong:
        raise Open311Error(400, f"status must be open or closed, not {', '.join(sorted(wrong))}")
    return statuses


# --- discovery ---------------------------------------------------------------------------------------


def discovery(endpoint_url: str, changeset: datetime, *, contact: str, key_service: str) -> dict[str, Any]:
    """The service discovery document (one production endpoint, both formats)."""
    stamp = format_datetime(changeset)
    return {
        "changeset": stamp,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": stamp,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


def ids(values: Iterable[str]) -> list[str]:
    """Request ids as given, duplicates dropped, order kept."""
    return list(dict.fromkeys(values))
