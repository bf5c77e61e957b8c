"""Reading from a streaming read replica (docs/SCALING.md step 2), when DATABASE_REPLICA_URL is set.

Pages read most of what they show; those reads may go to a replica so the primary keeps its
CPU for writes and jobs. Three rules keep the replica invisible to people:

- Only reads go there. Every write, every job and every lookup a write depends on stays on the
  primary (`db.engine`); a page asks for a replica session only around a read-only block
  (`dashboard/ui/db.read_session`), and a replica refuses writes anyway.
- A person sees what they just did. A page session that wrote remembers the primary's WAL
  position after its commit (`note_own_write`); until the replica has replayed up to it, that
  person's reads go to the primary (`caught_up`).
- A replica that is down, or lags past DATABASE_REPLICA_MAX_LAG_SECONDS (default 30), is not
  used: reads go to the primary and one log line says why. The check is kept a few seconds per
  process, so it costs one small query per process every few seconds, not one per page.

Lag is read from `pg_last_xact_replay_timestamp()`; a replica that has replayed everything it
received from a connected primary lags 0, however long ago the last transaction was (an idle
primary sends nothing, so the replay timestamp alone would grow without any lag). The receiver row is visible to any role;
its status column is not, so its presence is what counts.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from db.engine import APP_ROLE, build_engine, normalise_url
from db.outage import first_line

log = logging.getLogger("claims.replica")

DEFAULT_MAX_LAG_SECONDS = 30.0
# A replica that answered well is asked again after this many seconds; one that did not, after
# the longer pause, so a replica host that has gone away costs a connect timeout rarely.
HEALTHY_RECHECK_SECONDS = 5.0
UNHEALTHY_RECHECK_SECONDS = 15.0
# Seconds to wait for a replica to accept a connection: falling back quickly is the point.
CONNECT_TIMEOUT_SECONDS = 2

_LAG = text(
    "SELECT pg_is_in_recovery() AS in_recovery, "
    "CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL "
    "          AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
    "          AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0.0 "
    "     ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END AS lag"
)
_CAUGHT_UP = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
_PRIMARY_LSN = text("SELECT pg_current_wal_lsn()::text")


def replica_url() -> str | None:
    """The replica's URL, or None when the dashboard reads from the primary only."""
    url = os.environ.get("DATABASE_REPLICA_URL", "").strip()
    return normalise_url(url) if url else None


def max_lag_seconds() -> float:
    raw = os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "").strip()
    try:
        return float(raw) if raw else DEFAULT_MAX_LAG_SECONDS
    except ValueError:
        log.warning("DATABASE_REPLICA_MAX_LAG_SECONDS=%r is not a number: using %s s", raw, DEFAULT_MAX_LAG_SECONDS)
        return DEFAULT_MAX_LAG_SECONDS


@lru_cache(maxsize=8)
def replica_engine(url: str, role: str | None = APP_ROLE) -> Engine:
    """The process-wide engine for the replica at `url`, acting as `role` like the primary's."""
    return build_engine(url, role, CONNECT_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Health:
    usable: bool
    reason: str  # "ok", "lag", "down", "not_a_replica"
    lag_seconds: float | None
    checked_at: float  # time.monotonic()
    detail: str = ""  # what failed, for the log line


class _Monitor:
    """The last health check of each replica URL in this process, and the log of its changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._health: dict[str, Health] = {}

    def health(self, url: str) -> Health:
        now = time.monotonic()
        with self._lock:
            known = self._health.get(url)
        if known is not None:
            wait = HEALTHY_RECHECK_SECONDS if known.usable else UNHEALTHY_RECHECK_SECONDS
            if now - known.checked_at < wait:
                return known
        return self._record(url, _check(url, max_lag_seconds()))

    def mark_down(self, url: str, error: BaseException) -> None:
        """A replica connection failed in use: stop reading from it until the next check."""
        self._record(url, Health(False, "down", None, time.monotonic(), first_line(error)))

    def forget(self) -> None:
        with self._lock:
            self._health.clear()

    def _record(self, url: str, health: Health) -> Health:
        with self._lock:
            before = self._health.get(url)
            self._health[url] = health
        if before is None or before.usable != health.usable or before.reason != health.reason:
            _log_change(health)
        return health


def _log_change(health: Health) -> None:
    if health.usable:
        log.info("read replica in use (lag %.1f s)", health.lag_seconds or 0.0)
    elif health.reason == "lag" and health.lag_seconds is None:
        log.warning("read replica has WAL to replay and has replayed no transaction yet (lag unknown): "
                    "pages read from the primary")
    elif health.reason == "lag":
        log.warning("read replica lags %.1f s, over the %.0f s limit: pages read from the primary",
                    health.lag_seconds, max_lag_seconds())
    else:
        log.warning("read replica not usable (%s): pages read from the primary", health.detail or health.reason)


def _check(url: str, limit: float) -> Health:
    now = time.monotonic()
    try:
        with replica_engine(url).connect() as conn:
            row = conn.execute(_LAG).one()
    except DBAPIError as error:
        return Health(False, "down", None, now, first_line(error))
    if not row.in_recovery:
        # A promoted replica (failover) is a primary now: reading it would be fine, but the
        # primary URL is the one writes go to, so keep reads there too until someone re-points.
        return Health(False, "not_a_replica", None, now)
    lag = float(row.lag) if row.lag is not None else None
    if lag is None or lag > limit:
        return Health(False, "lag", lag, now)
    return Health(True, "ok", lag, now)


MONITOR = _Monitor()


def usable_replica() -> str | None:
    """The replica URL when one is configured and fit to read from now, else None."""
    url = replica_url()
    if url is None:
        return None
    return url if MONITOR.health(url).usable else None


def primary_lsn(primary: Engine) -> str:
    """The primary's WAL position now: after a commit, every change of it lies at or before it."""
    with primary.connect() as conn:
        return conn.scalar(_PRIMARY_LSN)


def caught_up(url: str, lsn: str) -> bool:
    """Whether the replica at `url` has replayed the primary's WAL up to `lsn`."""
    try:
        with replica_engine(url).connect() as conn:
            return bool(conn.scalar(_CAUGHT_UP, {"lsn": lsn}))
    except DBAPIError as error:
        MONITOR.mark_down(url, error)
        return False
