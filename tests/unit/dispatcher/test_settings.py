"""The one settings object: runtime files follow GRIDCOMMAND_VAR_DIR unless named one by one."""

from __future__ import annotations

from pathlib import Path

from dispatcher.settings import Settings


def test_database_and_media_live_under_the_var_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("GRIDCOMMAND_MEDIA_DIR", raising=False)
    monkeypatch.setenv("GRIDCOMMAND_VAR_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'gridcommand.sqlite'}"
    assert settings.media_dir == tmp_path / "media"


def test_explicit_database_and_media_win(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDCOMMAND_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/city")
    monkeypatch.setenv("GRIDCOMMAND_MEDIA_DIR", str(tmp_path / "evidence"))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://db/city"
    assert settings.media_dir == tmp_path / "evidence"


def test_data_dir_moves_every_shipped_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDCOMMAND_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GRIDCOMMAND_GRIDS_FILE", raising=False)
    settings = Settings()
    assert settings.demo_grids_path == Path(tmp_path) / "demo_city" / "grids.geojson"
