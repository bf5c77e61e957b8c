"""What every scheduled job shares: logging, the schema check, and the one-copy-at-a-time lock.

A job is `python -m jobs.<name>`. It refuses to start on an out-of-date schema (exit 2), exits
at once with status 0 when another copy holds its advisory lock, exits 3 with one log line (no
traceback) when the database server cannot be reached (stopped, restarting: the next scheduled run
simply tries again), and exits 1 with a log line naming the failure otherwise.
Use `run_job(name, work, argv)` from the module's `main()`:

    def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None: ...
    sys.exit(run_job("flag_overdue", work, sys.argv[1:], configure=add_my_arguments))
"""
from __future__ import annotations

import time

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from dashboard import clock
from dashboard.settings import BUSINESS_TZ
from db.engine import JOB_ROLE

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_READY = 2  # no database configured, or the schema is behind
EXIT_DB_UNAVAILABLE = 3  # the database server cannot be reached now (db/outage.py): one log line
# First key of the two-key advisory lock: names this application's job locks.
LOCK_NAMESPACE = 20261125

Work = Callable[[Connection, argparse.Namespace, logging.Logger], None]


def job_logger(name: str) -> logging.Logger:
    """Log lines on stderr, one per event, with the job's name (cron mails / the scheduler keeps them)."""
    logger = logging.getLogger(f"jobs.{name}")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def parse_as_of(value: str) -> datetime:
    """`--as-of 2026-11-24T17:00` (Asia/Shanghai when no offset is given) or `2026-11-24T09:00+00:00`."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {value!r} (e.g. 2026-11-24T17:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BUSINESS_TZ)
    return moment


def add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_as_of, default=None,
                        help="act as if it were this moment (tests, back-fills); default: now")


def as_of_or_now(args: argparse.Namespace) -> datetime:
    return clock.or_now(getattr(args, "as_of", None))


def job_engine(url: str | None = None, role: str | None = JOB_ROLE) -> Engine:
    """A pool-less engine: closing the connection really ends the session and releases its locks.

    As claims_job (migration 0027). The one job that changes the schema (jobs/maintain_partitions.py
    creates and detaches the history's partitions) passes role=OWNER: DDL is the tables' owner's
    work, as a migration's; no role of the product may run it."""
    from db.engine import CONNECT_TIMEOUT_SECONDS, connect_options, database_url, normalise_url

    # client_connection_check_interval: a job killed mid-statement (kill -9) has its statement
    # cancelled and its session ended by the server within a second, instead of running on to the
    # statement's end holding the job's lock (a rerun in that window did nothing; issue 25).
    # As claims_job (migration 0027): every row, but the record tables only grow.
    return create_engine(normalise_url(url) if url else database_url(), poolclass=NullPool,
                         connect_args={"options": connect_options(role) + " -c client_connection_check_interval=1000",
                                       "connect_timeout": CONNECT_TIMEOUT_SECONDS})


# How long a copy waits for the lock before concluding another copy is running: longer than the
# server takes to end the session of a killed copy (client_connection_check_interval, 1 s).
LOCK_WAIT_SECONDS = 3.0


def _try_lock(conn: Connection, name: str) -> bool:
    got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"),
                            {"ns": LOCK_NAMESPACE, "name": name}).scalar())
    conn.commit()
    return got


@contextmanager
def advisory_lock(conn: Connection, name: str) -> Iterator[bool]:
    """The session-level advisory lock of job `name`, waited for up to LOCK_WAIT_SECONDS; yields
    whether this copy holds it."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    got = _try_lock(conn, name)
    while not got and time.monotonic() < deadline:
        time.sleep(0.2)
        got = _try_lock(conn, name)
    try:
        yield got
    finally:
        if got and not conn.closed:
            try:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"),
                             {"ns": LOCK_NAMESPACE, "name": name})
                conn.commit()
            except Exception:  # the connection is gone: the server released the lock with it
                pass


def run_job(name: str, work: Work, argv: Sequence[str] | None = None, *,
            configure: Callable[[argparse.ArgumentParser], None] | None = None,
            url: str | None = None, role: str | None = JOB_ROLE) -> int:
    """Parse arguments, check the schema, take the lock, run `work` (as `role`); return the exit status."""
    parser = argparse.ArgumentParser(prog=f"python -m jobs.{name}")
    if configure:
        configure(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    log = job_logger(name)
    from db.engine import DatabaseNotConfigured
    from db.outage import database_unavailable, first_line
    from db.schema import SchemaOutdated, ensure_schema_current

    try:
        engine = job_engine(url, role)
    except DatabaseNotConfigured as exc:
        log.error("cannot start: %s", exc)
        return EXIT_NOT_READY
    try:
        try:
            ensure_schema_current(engine)
        except SchemaOutdated as exc:
            log.error("refusing to start: %s", exc)
            return EXIT_NOT_READY
        with engine.connect() as conn, advisory_lock(conn, name) as got:
            if not got:
                log.info("another %s run holds the lock; this copy exits without doing anything", name)
                return EXIT_OK
            work(conn, args, log)
        return EXIT_OK
    except Exception as exc:
        if database_unavailable(exc):  # not the job's fault: one line, no traceback
            log.error("database unavailable, %s not run: %s", name, first_line(exc))
            return EXIT_DB_UNAVAILABLE
        # a real failure: say what, exit non-zero
        log.exception("%s failed: %s: %s", name, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return EXIT_FAILED
    finally:
        engine.dispose()
