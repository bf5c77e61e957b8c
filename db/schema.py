"""Bring the schema up to date, and refuse to run on one that is behind."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UPGRADE_COMMAND = "python3.11 -m dashboard.launcher migrate"


class SchemaOutdated(RuntimeError):
    """The database is behind the code: the message names the command that fixes it."""


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    return script.get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def ensure_schema_current(engine: Engine) -> None:
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise SchemaOutdated(
            f"数据库结构版本为 {current or '空'}，程序需要 {head}。请运行 `{UPGRADE_COMMAND}` 升级后再启动。 "
            f"(Database schema is at {current or 'empty'}, the code needs {head}: run `{UPGRADE_COMMAND}`.)"
        )
