"""Configuration from the environment (12-factor), read once per process."""

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Dondoc reads. Names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/dondoc",
        description="PostgreSQL URL (postgresql://user:pass@host:port/db or ?host=/socket/dir).",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis-compatible server for ARQ.")
    port: int = Field(default=8000, description="Port `dondoc serve` listens on.")
    log_level: str = Field(default="INFO")
    # Connections are opened on demand and kept: a pool smaller than the usual concurrency closes and
    # reopens connections under load (each a new PostgreSQL backend).
    db_pool_size: int = Field(default=20, ge=1, description="Connections each pool keeps (an API process has four: see the README).")
    db_max_overflow: int = Field(default=5, ge=0, description="Extra connections a pool opens in a burst, closed after.")
    db_pool_recycle_s: int = Field(default=1800, ge=-1, description="Replace pooled connections older than this (-1: never).")
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Largest JSON request body accepted.")
    import_max_bytes: int = Field(
        default=1_073_741_824, ge=1024, description="Largest NDJSON body POST /v1/imports accepts (streamed, never held whole)."
    )
    import_lease_s: float = Field(
        default=120.0, gt=0, description="How long a worker holds an import between batches; a dead worker's import resumes after it."
    )
    arq_queue_name: str = Field(default="dondoc:queue")
    worker_max_jobs: int = Field(
        default=50, ge=1, le=1000, description="Jobs one worker runs at once; deliveries wait on the network, not the CPU."
    )
    worker_metrics_port: int | None = Field(
        default=None, description="If set, each worker serves its Prometheus metrics (deliveries, scan) on this port."
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Where local dates in documents are read.")
    api_key_pepper: str = Field(
        default="dondoc-dev-pepper",
        description="Mixed into API key hashes; set a secret value in production.",
    )
    auth_cache_ttl_s: float = Field(
        default=300.0, ge=0,
        description="How long an API process may trust a key it authenticated; changes to keys reach it at once via NOTIFY. 0: ask every time.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        validation_alias=AliasChoices("dondoc_webhook_allow_private", "webhook_allow_private"),
        description="Let webhooks reach loopback/private/link-local addresses (tests, on-premises receivers).",
    )
    webhook_connect_timeout_s: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("dondoc_webhook_connect_timeout_s", "webhook_connect_timeout_s")
    )
    webhook_total_timeout_s: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("dondoc_webhook_total_timeout_s", "webhook_total_timeout_s"),
        description="Whole delivery attempt: resolve, connect, send, read the excerpt.",
    )
    webhook_lease_s: float = Field(
        default=30.0, gt=0, validation_alias=AliasChoices("dondoc_webhook_lease_s", "webhook_lease_s"),
        description="How long a worker holds a delivery; must exceed the total timeout. A dead worker's lease expires.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


def driver_database_url(url: str) -> str:
    """The URL as asyncpg itself takes it (no SQLAlchemy driver suffix in the scheme)."""
    return "postgresql://" + async_database_url(url).removeprefix("postgresql+asyncpg://")


def async_database_url(url: str) -> str:
    """SQLAlchemy wants the driver in the scheme; operators write plain postgresql:// URLs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")
