"""Small helpers shared by the integration tests."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image


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
    """POST one action; feedback (handle) first uploads the before and after photos the loop asks for, as the
    department would (data/handling.yaml: feedback on 事件 needs them)."""
    if action == "handle" and "media_ids" not in body:
        before_and_after(client, incident_id)
    return client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json=body)


def jpeg(colour: str = "green", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def before_and_after(client, incident_id: str, **headers) -> list[str]:
    """Upload a before and an after photo at stage 'handle'; the media ids."""
    data = {
        "stage": "handle",
        "before": (io.BytesIO(jpeg("grey")), "before.jpg", "image/jpeg"),
        "after": (io.BytesIO(jpeg("green")), "after.jpg", "image/jpeg"),
    }
    response = client.post(
        f"/api/v1/incidents/{incident_id}/media", data=data, content_type="multipart/form-data", headers=headers
    )
    assert response.status_code == 201, response.json
    return [m["id"] for m in response.json["media"]]


def count(engine: sa.Engine, table: str, where: str = "1=1", **params) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params)
