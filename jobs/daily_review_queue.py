"""Daily job: put every newly tiered case on the HQ review queue and start its D4 clock.

`python -m jobs.daily_review_queue [--as-of 2026-11-25T08:00]`. Idempotent; one copy at a time.
"""
from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.review.queue import queue_tiered_cases
from jobs._common import add_as_of, as_of_or_now, run_job

NAME = "daily_review_queue"


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    with Session(bind=conn) as session:
        result = queue_tiered_cases(session, as_of_or_now(args))
        session.commit()
    log.info("queued %d tiered case(s) on %s; started %d D4 clock(s)", result.queued, result.queue_date,
             result.d4_started)


def main(argv: list[str] | None = None) -> int:
    return run_job(NAME, work, argv, configure=add_as_of)


if __name__ == "__main__":
    sys.exit(main())
