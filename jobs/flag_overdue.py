"""`python -m jobs.flag_overdue [--as-of 2026-11-24T17:00]`: record every missed deadline once,
and queue each open clock's early warnings (50 % / 80 % of its time) once.

Every 5 minutes (jobs/crontab). Set-based (dashboard.services.clocks.violations.record_violations):
one statement, one transaction; safe to run twice or two copies at once (advisory lock: the
second copy exits 0 at once); killed half way, nothing is half-recorded.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.clocks.violations import record_violations
from dashboard.services.clocks.warnings import queue_warnings
from jobs._common import add_as_of, as_of_or_now, run_job

NAME = "flag_overdue"


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    as_of = as_of_or_now(args)
    started = time.monotonic()
    with Session(bind=conn) as session:
        result = record_violations(session, as_of)
        warned = queue_warnings(session, as_of)
        session.commit()
    log.info("as of %s: %d new violation(s), %d notification(s) and %d early warning(s) queued in %.2f s",
             as_of.isoformat(), result.violations, result.notifications, warned.warned, time.monotonic() - started)


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, configure=add_as_of, url=url)


if __name__ == "__main__":
    sys.exit(main())
