"""Small helpers shared by the integration tests."""

from __future__ import annotations

import sqlalchemy as sa


def inside(grid) -> tuple[float, float]:
    """A point well inside a grid polygon."""
    point = grid.geometry.representative_point()
    return point.x, point.y


def report(client, city, *, unit_index: int = 10, category: str = "020101", **extra):
    """POST one incident inside a demo unit grid; returns the response."""
    lon, lat = inside(city.grids.by_level("unit")[unit_index])
    body = {"description": "人行道上有暴露垃圾", "category_code": category, "lon": lon, "lat": lat, **extra}
    return client.post("/api/v1/incidents", json=body)


def act(client, incident_id: str, action: str, **body):
    return client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json=body)


def count(engine: sa.Engine, table: str, where: str = "1=1", **params) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params)
