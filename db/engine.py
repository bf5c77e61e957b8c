"""Engine and session factory, one per database URL and role, reached through DATABASE_URL.

The dashboard connects as `claims_app` and the jobs as `claims_job` (migration 0027): roles that own
no table, so row-level security and the append-only grants hold whatever a statement tries. The
URL's user switches to the role at connect time (`-c role=...`): a superuser may always, anyone
else when a member of it (docs/DESIGN.md, "Sessions and permissions"). Only migrations, the demo
loader, test fixtures and `jobs.maintain_partitions` (it creates, fills and detaches the history's
monthly partitions: schema changes) use the owner's connection (`owner_engine`). Pages may also
read from a streaming replica (db/replica.py)."""
from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
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


APP_ROLE = "claims_app"
JOB_ROLE = "claims_job"
OWNER = None  # the URL's own user: migrations, the demo loader, test fixtures


# Seconds libpq waits for a server to answer a connection attempt: a host that has gone away
# (not one that refuses at once) fails a page or a job within this, instead of the system's TCP
# timeout of minutes (db/outage.py tells such a failure from others).
CONNECT_TIMEOUT_SECONDS = 10


WORK_MEM = "32MB"


def connect_options(role: str | None) -> str:
    """libpq startup options: business time zone, the role the connection acts as, no JIT, work_mem.

    JIT compiles a statement whose estimated cost passes jit_above_cost (100,000 by default). The
    row-level policies' per-row subplans inflate estimates far past that on statements that read a
    few hundred rows: at 10,000,000 cases a branch GM's special-case list spent 0.46 s of every 0.5 s
    statement compiling (bench/RESULTS.md). No statement of the product runs long enough to win it
    back, so none is compiled.

    work_mem 32 MB (the server's default is 4 MB): the executive overview keeps a period's tiered
    cases with their figures (41,000 rows, 10 MB for 90 days at 10,000,000 cases) to aggregate them
    six ways; at 4 MB that set was written to disk and read back on each pass (about 30 ms of 200).
    It is a ceiling per sort or hash, reached only by the few statements that hold that much."""
    return f"-c timezone=Asia/Shanghai -c jit=off -c work_mem={WORK_MEM}" + (f" -c role={role}" if role else "")


def get_engine(url: str | None = None, role: str | None = APP_ROLE) -> Engine:
    """The process-wide engine for `url` (default: DATABASE_URL as it is now), acting as `role`."""
    return _engine(normalise_url(url) if url else database_url(), role)


def owner_engine(url: str | None = None) -> Engine:
    """The engine of the URL's own user, who owns the tables (bypasses row-level security)."""
    return get_engine(url, OWNER)


def build_engine(url: str, role: str | None, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> Engine:
    """A new engine acting as `role`: the pool every server of the product uses (primary or replica)."""
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": connect_options(role), "connect_timeout": connect_timeout},
    )
    ping_rested_connections(engine)
    return engine


# A connection back in the pool for at least this long is pinged before it is used again: longer
# than the gap between two reads of one page run (milliseconds), shorter than a server's restart.
PING_AFTER_RESTING_SECONDS = 0.1
_RESTING_SINCE = "resting_since"


def ping_rested_connections(engine: Engine) -> None:
    """A pooled connection that died with a restart of the server is found out and replaced at
    checkout, so the pages come back by themselves once the server is back (issue 18), as
    `pool_pre_ping` would: but only a connection that has rested in the pool for a tenth of a second
    or more.

    Why: `pool_pre_ping` sends its `SELECT 1` at every checkout, and one run of a page checks a
    connection out for each part of it (the signed-in person, then each section's read): five on
    the case detail, two to three on most pages. On this machine's local socket a round trip is
    too short to see in a page's time; to a database server across a network each costs 0.2-1 ms.
    A connection given back milliseconds ago by the same run has not died unnoticed;
    one that rested between two clicks, or across a restart, is pinged. A connection lost within
    that tenth of a second is met by its statement's own error, which invalidates the pool
    (SQLAlchemy sees a disconnect), and the page waits and retries as for any outage (ui/db_outage).

    The ping is the dialect's own (`do_ping`, what pool_pre_ping sends); a failure raises
    DisconnectionError, on which the pool replaces the connection and checks out again."""

    @event.listens_for(engine, "checkin")
    def _resting(dbapi_connection: Any, record: Any) -> None:
        record.info[_RESTING_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_RESTING_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_RESTING_SECONDS:
            return  # new, or given back moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError() from error


@lru_cache(maxsize=32)
def _engine(url: str, role: str | None = APP_ROLE) -> Engine:
    return build_engine(url, role)


def dispose_engines(url: str) -> None:
    """Close every pooled connection to `url` (a test about to drop its database)."""
    for role in (APP_ROLE, JOB_ROLE, OWNER):
        _engine(normalise_url(url), role).dispose()


def session_factory(url: str | None = None, role: str | None = APP_ROLE) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url, role), expire_on_commit=False)
