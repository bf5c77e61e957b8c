"""Weekly job (Fridays 17:00 Asia/Shanghai): snapshot each branch's summary of pending tiered
cases for the week just ended and open next week's draft with its D6 clock.

`python -m jobs.weekly_summary [--as-of 2026-11-27T17:00]`. Idempotent; one copy at a time.
"""
from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.review.weekly import build_weekly_summaries
from jobs._common import add_as_of, as_of_or_now, run_job

NAME = "weekly_summary"


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    with Session(bind=conn) as session:
        result = build_weekly_summaries(session, as_of_or_now(args))
    log.info("weekly summaries: week %s snapshotted, week %s opened; %d created, %d refreshed",
             result.closed_week, result.current_week, result.created, result.refreshed)


def main(argv: list[str] | None = None) -> int:
    return run_job(NAME, work, argv, configure=add_as_of)


if __name__ == "__main__":
    sys.exit(main())
