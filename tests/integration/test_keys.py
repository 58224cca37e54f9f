"""No public default secret: serve and worker refuse to start without real keys; the demo makes its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from dashboard.cli.keys import KEY_NAMES, read_env_file, use_demo_keys
from dispatcher.settings import MissingKeys, Settings, get_settings


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def _without_keys(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_NAMES}
    return {**env, **extra}


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["worker", "--burst"]])
def test_serve_and_worker_refuse_to_start_without_keys(command, tmp_path):
    result = _cli(*command, env=_without_keys(GRIDCOMMAND_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0"))
    assert result.returncode == 2
    assert "GRIDCOMMAND_PII_KEY" in result.stderr and "gridcommand keys generate" in result.stderr


@pytest.mark.parametrize("published", ["dev-only-change-me", "dev-only-pii-key-change-me", "short"])
def test_published_or_short_keys_are_refused(published):
    settings = Settings(secret_key=published, pii_key=published, audit_key=published)
    with pytest.raises(MissingKeys) as refused:
        settings.require_keys()
    assert set(refused.value.names) == set(KEY_NAMES)


def test_the_app_factory_refuses_without_keys():
    from dashboard.app import create_server

    with pytest.raises(MissingKeys):
        create_server(Settings(secret_key=None, pii_key=None, audit_key=None))


def test_keys_generate_prints_three_distinct_random_keys(tmp_path):
    first = _cli("keys", "generate", env=dict(os.environ))
    second = _cli("keys", "generate", env=dict(os.environ))
    assert first.returncode == 0
    keys = dict(line.split("=", 1) for line in first.stdout.splitlines())
    assert set(keys) == set(KEY_NAMES)
    assert all(len(value) >= 43 for value in keys.values()) and len(set(keys.values())) == 3
    assert first.stdout != second.stdout


def test_keys_generate_writes_a_private_file_and_never_overwrites(tmp_path):
    path = tmp_path / "gc.env"
    assert _cli("keys", "generate", "--env-file", str(path), env=dict(os.environ)).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    again = _cli("keys", "generate", "--env-file", str(path), env=dict(os.environ))
    assert again.returncode == 2 and path.read_text() == before


def test_the_demo_makes_its_own_keys_once_and_keeps_them(monkeypatch, tmp_path):
    for name in KEY_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRIDCOMMAND_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        settings = use_demo_keys(get_settings())
        assert not settings.missing_keys()
        path = tmp_path / "demo-keys.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        made = read_env_file(path)
        for name in KEY_NAMES:
            monkeypatch.delenv(name, raising=False)
        get_settings.cache_clear()
        again = use_demo_keys(get_settings())
        assert again.key("pii_key") == made["GRIDCOMMAND_PII_KEY"]  # a restart reads the same keys back
    finally:
        get_settings.cache_clear()
