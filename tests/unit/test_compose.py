"""docker-compose.yml describes the production shape (no engine runs here: the YAML is checked as data)."""

from __future__ import annotations

import pytest
import yaml

from dispatcher.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
SERVICES = {"postgis", "redis", "migrate", "web", "worker"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def _depends(service: dict) -> dict:
    deps = service.get("depends_on", {})
    assert isinstance(deps, dict), "depends_on must use the long form with conditions"
    return {name: spec.get("condition") for name, spec in deps.items()}


def test_the_five_services_exist(services):
    assert set(services) >= SERVICES


def test_web_and_worker_share_the_image_and_build(services):
    web, worker = services["web"], services["worker"]
    assert web.get("image") and web["image"] == worker.get("image")
    assert web.get("build") and web["build"] == worker.get("build")
    assert services["migrate"].get("image") == web["image"]


@pytest.mark.parametrize("name", ["web", "postgis", "redis"])
def test_healthchecks(services, name):
    test = services[name].get("healthcheck", {}).get("test")
    assert test, f"{name} has no healthcheck"
    assert not (isinstance(test, list) and test[:1] == ["NONE"])


def test_healthcheck_commands(services):
    assert "pg_isready" in " ".join(services["postgis"]["healthcheck"]["test"])
    assert (
        "redis-cli" in services["redis"]["healthcheck"]["test"] and "ping" in services["redis"]["healthcheck"]["test"]
    )
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "urllib" in web_check and "/health" in web_check


def test_web_waits_for_redis_and_migration(services):
    deps = _depends(services["web"])
    assert deps.get("redis") == "service_healthy"
    assert deps.get("migrate") == "service_completed_successfully"
    assert _depends(services["migrate"]).get("postgis") == "service_healthy"


def test_commands_environment_and_replicas(services):
    assert services["migrate"]["command"] == ["gridcommand", "db", "upgrade"]
    assert services["web"]["command"] == ["gridcommand", "serve", "--host", "0.0.0.0", "--port", "8050"]
    assert services["worker"]["command"] == ["gridcommand", "worker"]
    for name in ("migrate", "web", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://gridcommand:")
        assert env["DATABASE_URL"].endswith("@postgis:5432/gridcommand")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        for key in ("GRIDCOMMAND_SECRET_KEY", "GRIDCOMMAND_PII_KEY", "GRIDCOMMAND_AUDIT_KEY"):
            assert env[key].startswith("${") and ":?" in env[key], f"{key} must come from the environment, required"
    for name in ("web", "worker"):
        assert services[name]["deploy"]["replicas"] == 2


def test_no_latest_or_untagged_images(services):
    for name, service in services.items():
        image = service.get("image")
        if image is None:
            continue
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{name}: image {image!r} needs a pinned tag"
    assert services["postgis"]["image"] == "postgis/postgis:15-3.4"
    assert services["redis"]["image"] == "redis:7"


def test_dockerfile_is_slim_and_not_root():
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    assert "FROM python:3.11-slim" in lines
    users = [line.split(None, 1)[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
