"""Engine and session factory, one per database URL, reached through DATABASE_URL."""
from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


class DatabaseNotConfigured(RuntimeError):
    """DATABASE_URL is missing: the launcher sets it (embedded default or the user's server)."""


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        raise DatabaseNotConfigured(
            "DATABASE_URL is not set. Start the dashboard with `python3.11 -m dashboard.launcher serve`, "
            "which starts the embedded database, or set DATABASE_URL to a PostgreSQL URL."
        )
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg2 driver we pin."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: DATABASE_URL as it is now)."""
    return _engine(normalise_url(url) if url else database_url())


@lru_cache(maxsize=16)
def _engine(url: str) -> Engine:
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": "-c timezone=Asia/Shanghai"},
    )


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)
