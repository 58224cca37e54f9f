"""Grid endpoints: locate a point, grids per level as GeoJSON, import a new grid version."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.privacy import mask_phone
from dispatcher.access.roles import GRID_ADMINS, Role, may_call_grid_leaders
from dispatcher.errors import Forbidden
from dispatcher.store.gridstore import load_index, replace_grids
from geo.grids import Grid, GridPath, Level
from geo.importer import GridImportError, parse_grids

TAG = "grids"


class LocateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class LocateOut(BaseModel):
    """The grid path of a point (unit → district), or outside=true."""

    model_config = ConfigDict(extra="allow")
    outside: bool


class GridsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Level = Field(description="district, street, community or unit")
    parent: Annotated[str, Field(max_length=32)] | None = Field(default=None, description="only children of this grid")


class FeatureCollectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    features: list[dict]


class ImportOut(BaseModel):
    version: int
    grid_count: int


def _describe(path: GridPath) -> dict:
    grids = current_runtime().city.grids
    levels = {}
    for level in (Level.UNIT, Level.COMMUNITY, Level.STREET, Level.DISTRICT):
        code = path.at(level)
        grid = grids.find(code) if code else None
        levels[str(level)] = None if grid is None else {"code": grid.code, "name": grid.name}
    return levels


@api.get("/locate")
@spec.validate(query=LocateQuery, resp=Response(HTTP_200=LocateOut, HTTP_422=ErrorResponse), tags=[TAG])
def locate(query: LocateQuery):
    """The grid path (unit grid, community, street, district) covering a WGS-84 point."""
    city = current_runtime().city
    path = city.grids.locate(query.lon, query.lat)
    if path is None:
        return jsonify(outside=True, lon=query.lon, lat=query.lat, grid_version=city.grids.version)
    unit = city.grids.get(path.unit)
    shown = shown_properties(unit.properties, require_principal().role)
    return jsonify(
        outside=False,
        lon=query.lon,
        lat=query.lat,
        grid_version=city.grids.version,
        **_describe(path),
        leader={k: shown.get(k) for k in ("leader_name", "leader_phone")},
    )


def shown_properties(properties: dict, role: Role | None) -> dict:
    """A grid's properties as `role` may see them: the grid leader's mobile masked ("138****5678") unless the role
    is one that calls grid leaders (dispatcher.access.roles.GRID_LEADER_CALLERS)."""
    if properties.get("leader_phone") is None or (role is not None and may_call_grid_leaders(role)):
        return dict(properties)
    return {**properties, "leader_phone": mask_phone(str(properties["leader_phone"]))}


def feature(grid: Grid, role: Role | None) -> dict:
    """A grid as a GeoJSON feature, as `role` may see it."""
    from shapely.geometry import mapping

    props = {
        "code": grid.code,
        "name": grid.name,
        "level": str(grid.level),
        "parent": grid.parent_code,
        **shown_properties(grid.properties, role),
    }
    return {"type": "Feature", "id": grid.code, "properties": props, "geometry": mapping(grid.geometry)}


@api.get("/grids")
@spec.validate(query=GridsQuery, resp=Response(HTTP_200=FeatureCollectionOut, HTTP_422=ErrorResponse), tags=[TAG])
def grids_geojson(query: GridsQuery):
    """The grids of one level as a GeoJSON FeatureCollection (EPSG:4326); grid leaders' mobiles are masked for
    roles that do not call them (all but hotline, dispatcher and shift leader)."""
    index = current_runtime().city.grids
    grids = index.by_level(query.level)
    if query.parent:
        grids = [g for g in grids if g.parent_code == query.parent]
    role = require_principal().role
    return jsonify(type="FeatureCollection", grid_version=index.version, features=[feature(g, role) for g in grids])


@api.post("/grids/import")
@spec.validate(
    resp=Response(HTTP_201=ImportOut, HTTP_400=ErrorResponse, HTTP_403=ErrorResponse, HTTP_422=ErrorResponse),
    tags=[TAG],
)
def import_grids():
    """Replace the city's grids with a validated GeoJSON FeatureCollection (a new grid version; admin only)."""
    principal = require_principal()
    if principal.role not in GRID_ADMINS:
        raise Forbidden(f"only an admin may import grids (user {principal.username} is {principal.role})")
    body = request.get_json(silent=True)
    if body is None:
        return error(400, "bad_json", "send the grid GeoJSON FeatureCollection as an application/json body")
    try:
        grids = parse_grids(body)
    except GridImportError as exc:
        return error(422, "invalid_grids", str(exc), details=[str(p) for p in exc.problems])
    rt = current_runtime()
    now = rt.clock()
    with rt.sessions.begin() as session:
        version = replace_grids(session, grids, source="api", actor=principal.username, now=now)
    with rt.sessions() as session:
        rt.city.grids = load_index(session)
    return jsonify(version=version, grid_count=len(grids)), 201
