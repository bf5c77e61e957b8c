"""`python -m jobs.maintain_partitions`: keep the monthly partitions of the case history, the
notification outbox and the material's metadata ready, and archive the old ones (migrations 0034
and 0047, docs/SCALING.md step 3).

Daily (jobs/crontab, 03:20). Creates the partitions of this month and the `partitions.months_ahead`
(3) after it; moves any rows the default partition caught (a month without a partition yet) into
their month's new partition; detaches every month wholly older than `partitions.retention_months`
(60; docs/DOMAIN.md §2: kept at least five years) into the `archive` schema, rows kept, never deleted. All in
dashboard/services/partitions.py. Idempotent (a second run finds nothing to do) and
one copy at a time (advisory lock). Runs as the tables' owner: it changes the schema, as a
migration does.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.partitions import maintain_partitions
from db.engine import OWNER
from jobs._common import add_as_of, as_of_or_now, run_job

NAME = "maintain_partitions"


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    with Session(bind=conn) as session:
        upkeep = maintain_partitions(session, as_of_or_now(args))
    log.info("monthly partitions: %d created (%s), %d row(s) moved out of the default, %d archived (%s)",
             len(upkeep.created), ", ".join(upkeep.created) or "-", upkeep.moved,
             len(upkeep.archived), ", ".join(upkeep.archived) or "-")


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, url=url, configure=add_as_of, role=OWNER)


if __name__ == "__main__":
    sys.exit(main())
