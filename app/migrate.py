"""Running the Alembic migrations from code (CLI, `make run`, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.settings import async_database_url

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = async_database_url(database_url)
    return config


def upgrade_to_head(database_url: str) -> None:
    """Blocking; from async code call it through asyncio.to_thread (Alembic's env runs its own loop)."""
    command.upgrade(alembic_config(database_url), "head")
