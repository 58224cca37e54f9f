"""GRIDCOMMAND_JSON_LOGS: every log line is one JSON object a log shipper can parse (and numbers stay masked)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys


def test_log_lines_are_json_objects_when_asked(tmp_path):
    env = {**os.environ, "GRIDCOMMAND_JSON_LOGS": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'j.sqlite'}"}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "-v", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # each line parses on its own
    assert any(r["name"] == "alembic.runtime.migration" and r["levelname"] == "INFO" for r in records)


def test_plain_text_by_default(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"}
    env.pop("GRIDCOMMAND_JSON_LOGS", None)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "-v", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"{logging.getLevelName(logging.INFO)} alembic.runtime.migration" in done.stderr
