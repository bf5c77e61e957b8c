"""`python -m jobs.flag_overdue [--as-of 2026-11-24T17:00] [--full]`: record every missed deadline
once, and queue each open clock's early warnings (50 % / 80 % of its time) once.

Every 5 minutes (jobs/crontab). Set-based (dashboard.services.clocks.violations): one statement,
one transaction; safe to run twice or two copies at once (advisory lock: the second copy exits 0
at once); killed half way, nothing is half-recorded. A run reads only the clocks that fell due or
changed since the previous run (its watermark, moved in the same transaction); the first run, and
`--full` (nightly: jobs.flag_overdue_full), read every clock that can be late.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.clocks.violations import record_violations_since_last_run
from dashboard.services.clocks.warnings import queue_warnings
from jobs._common import add_as_of, as_of_or_now, run_job

NAME = "flag_overdue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_as_of(parser)
    parser.add_argument("--full", action="store_true",
                        help="read every clock that can be late, not only those due or changed since the last run")


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    as_of = as_of_or_now(args)
    started = time.monotonic()
    with Session(bind=conn) as session:
        result = record_violations_since_last_run(session, as_of, full=args.full)
        warned = queue_warnings(session, as_of)
        session.commit()
    log.info("as of %s (%s pass, %d late clock(s) read): %d new violation(s), %d notification(s) and "
             "%d early warning(s) queued in %.2f s", as_of.isoformat(),
             "incremental" if result.incremental else "full", result.late_read, result.violations,
             result.notifications, warned.warned, time.monotonic() - started)


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, configure=add_arguments, url=url)


if __name__ == "__main__":
    sys.exit(main())
