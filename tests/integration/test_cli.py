"""The `gridcommand` command line on a fresh SQLite file: db upgrade, import-grids (versions, rejected files)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from click.testing import CliRunner

from dashboard.cli import main
from dispatcher import schema
from dispatcher.settings import REPO_ROOT, get_settings
from tests.conftest import DEMO_GRIDS


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    """DATABASE_URL of a new SQLite file, seen by the CLI's (cached) settings."""
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str):
    """`gridcommand ARGS` in-process; stdout and stderr both land in .output."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def upgraded(database_url):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    return database_url


def grid_imports(url: str) -> tuple[list[tuple[int, int]], set[int]]:
    """(version, grid_count) of every recorded import, and the versions of the stored grid rows."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        imports = [tuple(r) for r in conn.execute(sa.text("SELECT version, grid_count FROM grid_import ORDER BY 1"))]
        row_versions = set(conn.scalars(sa.text("SELECT DISTINCT version FROM grid")))
    engine.dispose()
    return imports, row_versions


def demo_collection() -> dict:
    return json.loads(DEMO_GRIDS.read_text(encoding="utf-8"))


def small_collection() -> dict:
    """A valid four-grid city: the first demo unit grid with its community, street and district."""
    collection = demo_collection()
    by_code = {f["properties"]["code"]: f for f in collection["features"]}
    chain = [next(f for f in collection["features"] if f["properties"]["level"] == "unit")]
    while chain[-1]["properties"]["parent"]:
        chain.append(by_code[chain[-1]["properties"]["parent"]])
    return {"type": "FeatureCollection", "features": chain[::-1]}


def write(tmp_path, name: str, collection: dict):
    path = tmp_path / name
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def imported_once(upgraded, tmp_path):
    """The database after one good import (version 1 of the small city)."""
    result = run("import-grids", str(write(tmp_path, "small.geojson", small_collection())))
    assert result.exit_code == 0 and "grid version 1" in result.output, result.output
    assert grid_imports(upgraded) == ([(1, 4)], {1})
    return upgraded


def test_db_upgrade_creates_every_table_and_is_idempotent(database_url, tmp_path):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert (tmp_path / "x.sqlite").exists()
    engine = sa.create_engine(database_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert set(schema.Base.metadata.tables) <= tables
    assert {"grid", "grid_import", "incident", "timeline", "outbox", "idempotency_key", "alembic_version"} <= tables
    again = run("db", "upgrade")
    assert again.exit_code == 0, again.output


def test_import_grids_prints_the_count_and_each_import_is_a_new_version(upgraded):
    count = len(demo_collection()["features"])
    first = run("import-grids", str(DEMO_GRIDS))
    assert first.exit_code == 0, first.output
    assert f"imported {count} grids" in first.output and "grid version 1" in first.output
    assert grid_imports(upgraded) == ([(1, count)], {1})
    second = run("import-grids", str(DEMO_GRIDS))
    assert second.exit_code == 0, second.output
    assert "grid version 2" in second.output
    assert grid_imports(upgraded) == ([(1, count), (2, count)], {2})


def test_a_self_intersecting_grid_is_rejected_naming_the_feature_and_nothing_changes(imported_once, tmp_path):
    collection = small_collection()
    unit = collection["features"][-1]
    xs, ys = zip(*(p[:2] for p in unit["geometry"]["coordinates"][0]))
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    unit["geometry"] = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]}
    result = run("import-grids", str(write(tmp_path, "bow-tie.geojson", collection)))
    assert result.exit_code == 2, result.output
    assert "rejected" in result.output and "1 problem" in result.output
    line = next((line for line in result.output.splitlines() if unit["properties"]["code"] in line), result.output)
    assert "self-intersecting" in line, result.output
    assert grid_imports(imported_once) == ([(1, 4)], {1})


def test_a_json_syntax_error_is_rejected_and_nothing_changes(imported_once, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    result = run("import-grids", str(path))
    assert result.exit_code == 2, result.output
    assert "not valid JSON" in result.output and "broken.geojson" in result.output
    assert grid_imports(imported_once) == ([(1, 4)], {1})


def test_every_problem_is_listed_with_its_feature_code(imported_once, tmp_path):
    collection = small_collection()
    orphan, duplicate = copy.deepcopy(collection["features"][-1]), copy.deepcopy(collection["features"][1])
    orphan["properties"].update(code="330199999999999", parent="330199999999")
    orphan["geometry"]["coordinates"] = [[[x + 1, y] for x, y, *_ in orphan["geometry"]["coordinates"][0]]]
    collection["features"] += [orphan, duplicate]
    result = run("import-grids", str(write(tmp_path, "two-problems.geojson", collection)))
    assert result.exit_code == 2, result.output
    assert "feature #4 (code 330199999999999): unknown parent 330199999999" in result.output
    assert f"duplicate code {duplicate['properties']['code']}" in result.output
    assert grid_imports(imported_once) == ([(1, 4)], {1})


def test_a_missing_file_is_a_usage_error(upgraded, tmp_path):
    result = CliRunner().invoke(main, ["import-grids", str(tmp_path / "nope.geojson")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_the_installed_entry_point_reads_database_url_from_the_environment(tmp_path):
    """The real process: settings come from the environment, not from a test's cache."""
    url = f"sqlite:///{tmp_path / 'sub.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    path = write(tmp_path, "small.geojson", small_collection())
    for args in (["db", "upgrade"], ["import-grids", str(path)]):
        done = subprocess.run(
            [sys.executable, "-m", "dashboard.cli", *args],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert "imported 4 grids" in done.stdout and "grid version 1" in done.stdout
    assert grid_imports(url) == ([(1, 4)], {1})


def test_a_new_password_from_the_command_line_works_once_printed_and_ends_every_session(upgraded):
    from dispatcher.access.accounts import Account
    from dispatcher.access.passwords import check_password
    from dispatcher.access.sessions import WebSession
    from tests.conftest import T0

    created = run(
        "accounts", "create", "zhangwei", "--name", "值班长 张伟", "--role", "shift_leader", "--region", "330199"
    )
    assert created.exit_code == 0, created.output
    engine = sa.create_engine(upgraded)
    with engine.begin() as conn:
        account_id = conn.scalar(sa.text("SELECT id FROM account WHERE username = 'zhangwei'"))
        conn.execute(
            sa.insert(WebSession.__table__).values(
                id_hash="a" * 64, account_id=account_id, created_at=T0, last_seen_at=T0
            )
        )
    result = run("accounts", "password", "zhangwei")
    assert result.exit_code == 0, result.output
    new_password = result.output.split("new password of zhangwei: ")[1].split()[0]
    with sa.orm.Session(engine) as session:
        account = session.scalar(sa.select(Account).where(Account.username == "zhangwei"))
        assert check_password(account.password_hash, new_password)
        assert session.get(WebSession, "a" * 64).ended_at is not None
    engine.dispose()
    assert run("accounts", "password", "nobody").exit_code == 2
