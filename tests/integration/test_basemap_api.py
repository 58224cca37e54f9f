"""The map data the app serves itself: the offline base layer, tiles from a local MBTiles file, the display CRS."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from flask.testing import FlaskClient

from dashboard.app import create_server
from dashboard.pages import basemap
from dashboard.pages.feed import display_crs
from dashboard.runtime import runtime_of
from dispatcher.settings import Settings
from tests.conftest import DEMO_GRIDS, TEST_PASSWORD
from tests.integration.test_hardening import OWN

PNG = b"\x89PNG\r\n\x1a\n" + b"tile-bytes"


def _mbtiles(path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png") -> None:
    """A tiny MBTiles file; `tiles` keyed by XYZ (z, x, y), stored with TMS rows as the spec says."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        meta = {"name": "test", "format": fmt, "minzoom": "1", "maxzoom": "3"}
        db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, (2**z - 1) - y, data) for (z, x, y), data in tiles.items()]
        )


def _sign_in(client: FlaskClient) -> FlaskClient:
    """Sign in like a browser (a session cookie: the map data is fetched by the pages, not by API tokens)."""
    client.environ_base["HTTP_ORIGIN"] = OWN
    body = {"username": "test-leader", "password": TEST_PASSWORD}
    assert client.post("/api/v1/auth/login", json=body).status_code == 200
    return client


@pytest.fixture
def browser(anonymous, tokens) -> FlaskClient:
    return _sign_in(anonymous)


@pytest.fixture
def serve(app, tokens):
    """A client of a server like `app` but with other settings (in its runtime too); signed in unless told."""

    def _make(*, signed_in: bool = True, **changes) -> FlaskClient:
        runtime = runtime_of(app)
        runtime = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=changes))
        server = create_server(runtime.settings, runtime)
        server.testing = True
        server.test_client_class = FlaskClient
        client = server.test_client()
        return _sign_in(client) if signed_in else client

    return _make


def test_base_layer_is_the_demo_citys_streets_water_and_landmarks_cacheable(browser, serve):
    client = browser
    response = client.get("/map/base.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert "max-age" in response.headers["Cache-Control"] and "no-store" not in response.headers["Cache-Control"]
    layers = {f["properties"]["layer"] for f in response.json["features"]}
    assert layers == {"road", "water", "landmark"}
    again = client.get("/map/base.geojson", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""  # the browser keeps its copy
    assert serve(signed_in=False).get("/map/base.geojson").status_code == 401


def test_mbtiles_tile_with_the_tms_row_flip_content_type_and_caching(serve, tmp_path):
    path = tmp_path / "city.mbtiles"
    _mbtiles(path, {(2, 1, 0): PNG + b"top", (2, 1, 3): PNG + b"bottom"})
    client = serve(mbtiles=path)
    top = client.get("/tiles/2/1/0.png")
    assert top.status_code == 200 and top.data == PNG + b"top"  # XYZ row 0 is the top: TMS row 3
    assert top.mimetype == "image/png"
    assert "max-age" in top.headers["Cache-Control"] and top.headers.get("ETag")
    assert client.get("/tiles/2/1/3.png").data == PNG + b"bottom"
    assert client.get("/tiles/2/2/0.png").status_code == 404  # not in the file
    assert client.get("/tiles/2/9/0.png").status_code == 404  # not on the planet
    assert client.get("/tiles/2/1/0.jpg").status_code == 404  # the file holds png
    assert serve(signed_in=False, mbtiles=path).get("/tiles/2/1/0.png").status_code == 401


def test_jpeg_and_vector_tiles_get_their_content_types(serve, tmp_path):
    jpg = tmp_path / "photo.mbtiles"
    _mbtiles(jpg, {(1, 0, 0): b"\xff\xd8jpeg"}, fmt="jpg")
    assert serve(mbtiles=jpg).get("/tiles/1/0/0.jpg").mimetype == "image/jpeg"
    pbf = tmp_path / "vector.mbtiles"
    _mbtiles(pbf, {(1, 0, 0): b"\x1f\x8bgzipped"}, fmt="pbf")
    tile = serve(mbtiles=pbf).get("/tiles/1/0/0.pbf")
    assert tile.mimetype == "application/x-protobuf" and tile.headers["Content-Encoding"] == "gzip"


def test_no_mbtiles_configured_is_a_404(browser):
    assert browser.get("/tiles/1/0/0.png").status_code == 404


def test_which_base_layer_a_map_gets(tmp_path):
    offline = Settings()
    (layer,) = basemap.base_layers(offline, None, lang="zh", coords=None)
    assert layer.url == "/map/base.geojson"
    (tiles,) = basemap.base_layers(offline, "https://t0.tianditu.intranet/{z}/{x}/{y}.png", lang="zh", coords=None)
    assert tiles.url.startswith("https://t0.tianditu.intranet/")
    path = tmp_path / "city.mbtiles"
    _mbtiles(path, {(1, 0, 0): PNG})
    (local,) = basemap.base_layers(Settings(mbtiles=path), None, lang="zh", coords=None)
    assert local.url == "/tiles/{z}/{x}/{y}.png" and local.maxNativeZoom == 3
    nothing = Settings(data_dir=tmp_path)  # a deployment without the demo city's base map and no tiles
    assert basemap.base_layers(nothing, None, lang="zh", coords=None) == []


def test_tile_crs_setting_overrides_the_guess_from_the_host(app):
    assert display_crs("https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}") == "gcj02"
    assert display_crs("https://maps.intranet.gov.cn/amap/{z}/{x}/{y}.png") == "wgs84"  # an unknown host
    assert display_crs("https://maps.intranet.gov.cn/amap/{z}/{x}/{y}.png", "gcj02") == "gcj02"
    assert display_crs("https://webrd01.is.autonavi.com/x", "wgs84") == "wgs84"
    runtime = dataclasses.replace(runtime_of(app), settings=Settings(tile_crs="bd09"))
    server = create_server(runtime.settings, runtime)
    with server.app_context():  # the pages pass only the URL: the running app's setting applies
        assert display_crs("https://maps.intranet.gov.cn/{z}/{x}/{y}.png") == "bd09"


def test_settings_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDCOMMAND_MBTILES", str(tmp_path / "a.mbtiles"))
    monkeypatch.setenv("GRIDCOMMAND_TILE_CRS", "gcj02")
    settings = Settings()
    assert settings.mbtiles == tmp_path / "a.mbtiles" and settings.tile_crs == "gcj02"
    monkeypatch.setenv("GRIDCOMMAND_TILE_CRS", "mars")
    with pytest.raises(ValueError, match="tile_crs"):
        Settings()


def test_the_demo_grids_and_the_base_map_describe_the_same_city():
    grids = json.loads(DEMO_GRIDS.read_text(encoding="utf-8"))
    base = json.loads((DEMO_GRIDS.parent / "basemap.geojson").read_text(encoding="utf-8"))
    district = next(f for f in grids["features"] if f["properties"]["level"] == "district")
    lons = [p[0] for ring in district["geometry"]["coordinates"] for p in ring]
    river = next(f for f in base["features"] if f["properties"]["name"] == "云河")
    assert min(lons) < river["properties"]["label"][0] < max(lons)
