"""Compressed answers (issue 12): JSON, Dash's payloads, scripts and the grid outlines come back zstd-, brotli- or
gzip-encoded when the client accepts it (and identical once decoded), revalidate to a 304 by their encoded ETag,
and are sent as they are to a client that accepts no encoding; a ranged request and Socket.IO are never
re-encoded. Also the command center's page names what its first paint needs (Link preload) and the grid outlines
it draws come from a versioned, cacheable URL with nothing personal in them."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from flask.testing import FlaskClient

from dashboard.app import preload_command_center
from dashboard.runtime import runtime_of
from tests.integration.helpers import report
from tests.integration.test_basemap_api import _sign_in
from tests.integration.test_scope_matrix import dash_server  # noqa: F401

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}
PAGE_CALLBACK = {  # what Dash's renderer asks to draw the command center
    "output": "gc-page.children",
    "outputs": {"id": "gc-page", "property": "children"},
    "inputs": [
        {"id": "gc-url", "property": "pathname", "value": "/"},
        {"id": "gc-lang", "property": "data", "value": "zh"},
    ],
    "state": [{"id": "gc-url", "property": "search", "value": ""}],
    "changedPropIds": ["gc-url.pathname"],
}


@pytest.fixture
def pages(dash_server):  # noqa: F811
    """The server with the Dash pages, the command center's preloads included, as `create_app` makes it."""
    preload_command_center(dash_server)
    return dash_server


@pytest.fixture
def browser(pages, client, city) -> FlaskClient:
    """A signed-in browser of `pages`, with a few open cases."""
    for unit in range(0, 240, 20):
        assert report(client, city, unit_index=unit, description=f"压缩测试：人行道暴露垃圾 {unit}").status_code == 201
    pages.test_client_class = FlaskClient
    return _sign_in(pages.test_client())


def _get(client: FlaskClient, path: str, encoding: str | None, **headers: str):
    if encoding:
        headers["Accept-Encoding"] = encoding
    return client.get(path, headers=headers)


def _store(node, store_id: str):
    """The data of the dcc.Store `store_id` anywhere in a Dash layout (None if absent)."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == store_id:
            return props.get("data")
        nodes = node.values()
    elif isinstance(node, list):
        nodes = node
    else:
        return None
    return next((found for child in nodes if (found := _store(child, store_id)) is not None), None)


def _decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    return DECODE[encoding](response.data) if encoding else response.data


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_json_answers_come_back_compressed_and_decode_to_the_same_json(browser, encoding):
    plain = _get(browser, "/api/v1/feed", None)
    packed = _get(browser, "/api/v1/feed", encoding)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers  # a client that accepts no encoding gets plain JSON
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert json.loads(_decoded(packed))["all"] == plain.get_json()["all"]


def test_dash_payloads_and_scripts_are_compressed_and_revalidate_to_304(browser):
    page = browser.post("/_dash-update-component", json=PAGE_CALLBACK, headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    command_center = _decoded(page).decode()
    assert _store(json.loads(command_center), "cc-open") == {"src": "/api/v1/feed"}
    assert "压缩测试" not in command_center  # the open cases are fetched by the browser, not inlined in the layout
    dependencies = _get(browser, "/_dash-dependencies", "br")
    assert dependencies.headers["Content-Encoding"] == "br"
    assert any("cc-open" in json.dumps(d) for d in json.loads(_decoded(dependencies)))
    for path in (
        "/assets/queue.js",
        "/assets/gridcommand.css",
        "/_dash-component-suites/dash_leaflet/async-GeoJSON.js",
    ):
        script = _get(browser, path, "gzip")
        assert script.status_code == 200 and script.headers["Content-Encoding"] == "gzip", path
        assert _decoded(script) == _get(browser, path, None).data, path
        etag = script.headers["ETag"]
        assert etag.endswith(':gzip"'), etag  # the encoded body has its own validator
        again = _get(browser, path, "gzip", **{"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path


def test_a_ranged_request_is_answered_unencoded(browser):
    whole = _get(browser, "/assets/queue.js", None).data
    part = _get(browser, "/assets/queue.js", "gzip, br", Range="bytes=0-99")
    assert part.status_code == 206
    assert "Content-Encoding" not in part.headers
    assert part.data == whole[:100]


def test_socket_io_is_never_compressed_by_the_app(browser):
    handshake = _get(browser, "/socket.io/?EIO=4&transport=polling", "gzip, deflate, br, zstd")
    assert handshake.status_code == 200 and handshake.data.startswith(b"0{")  # engine.io's open packet, as sent
    assert "Content-Encoding" not in handshake.headers
    assert "Accept-Encoding" not in handshake.headers.get("Vary", "")  # never reached the app's compression


def test_the_command_center_preloads_its_outlines_which_are_versioned_cacheable_and_impersonal(browser):
    page = _get(browser, "/", "gzip")
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    version = runtime_of(browser.application).city.grids.version
    links = [part.split(";")[0].strip(" <>") for part in page.headers["Link"].split(",")]
    assert f"/map/grids/community.geojson?v={version}" in links
    assert "/_dash-component-suites/dash_leaflet/async-GeoJSON.js" in links
    for link in links:
        assert _get(browser, link, "gzip").status_code == 200, link
    outlines = _get(browser, f"/map/grids/community.geojson?v={version}", "br")
    assert outlines.headers["Content-Encoding"] == "br"
    assert "immutable" in outlines.headers["Cache-Control"]
    features = json.loads(_decoded(outlines))["features"]
    assert len(features) == len(runtime_of(browser.application).city.grids.by_level("community"))
    assert all(set(f["properties"]) <= {"code", "name", "name_en", "level", "parent"} for f in features)
    stale = _get(browser, "/map/grids/community.geojson?v=old", None)
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]
    assert _get(browser, "/map/grids/planet.geojson", None).status_code == 404
    assert _get(browser, "/hotline", None).headers.get("Link") is None  # only the command center's page
