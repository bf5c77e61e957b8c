"""Whether an error means the database server cannot be reached right now (stopped, restarting,
its connection cut), as opposed to a fault in a statement or in the configuration.

Pages show "database unavailable, retrying" and come back by themselves on the first (ui/db_outage);
jobs exit with EXIT_DB_UNAVAILABLE and one log line (jobs/_common). A wrong password, a missing
database or role is not an outage: waiting would not fix it, so it is reported as it is.
"""
from __future__ import annotations

from collections.abc import Iterator

import psycopg2
from sqlalchemy.exc import DBAPIError

# SQLSTATEs of a server going away: admin_shutdown (pg_ctl stop, a restart), crash_shutdown,
# cannot_connect_now (starting up, shutting down, in recovery); class 08 is connection_exception.
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
# libpq's words for a refusal that is the configuration's, not the server's absence.
_CONFIGURATION_WORDS = ("password authentication failed", "authentication failed", "does not exist",
                        "no pg_hba.conf entry", "permission denied", "invalid dsn", "missing \"=\"")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wrapped, and what it was raised from or during."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def database_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) says the database server cannot be reached now."""
    for current in _chain(error):
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, psycopg2.OperationalError):
            code = current.pgcode
            if code:  # the server answered with a SQLSTATE: an outage only if it is going away
                if code in _SERVER_GOING_AWAY or code.startswith("08"):
                    return True
                continue
            # No SQLSTATE: libpq could not connect, or lost the connection mid-statement.
            message = str(current).lower()
            if not any(words in message for words in _CONFIGURATION_WORDS):
                return True
        elif isinstance(current, psycopg2.InterfaceError):  # "connection already closed"
            return True
    return False


def first_line(error: BaseException) -> str:
    """The error's first line, for a one-line log entry (libpq's messages run over several)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
