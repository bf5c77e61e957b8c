"""`python -m jobs.compact_case_counts`: fold the kept case counts into one row per sub-branch,
the kept late clock and violation counts into one row per branch and deadline type, and the
scorecard's kept case figures into one row per sub-branch, report month and close month, and the
overview's kept violations by week into one row per report day, branch, tier, week and type (0044)
and its kept case figures and tallies of tiered cases into one row per report day, branch and
tier (0045, 0051).

Every 5 minutes (jobs/crontab). The database adds a count row for each statement that writes
cases (migration 0015, and 0035 for the scorecard), clocks or violations (0020); folding keeps the
landing page's and the overdue tracker's sums over a few hundred rows, the scorecard's over a few
per unit and month. Skipping
runs loses nothing (the sums stay right, only longer); safe to run twice or two copies at once
(advisory lock, and one statement whose rows no other run can take as well).
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dashboard.services.cases.counts import (
    compact_case_counts, compact_case_figures_days, compact_case_tally_days, compact_late_counts,
    compact_scorecard_cells, compact_violation_weeks,
)
from jobs._common import run_job

NAME = "compact_case_counts"


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    with Session(bind=conn) as session:
        before, after = compact_case_counts(session)
        late_before, late_after = compact_late_counts(session)
        cells_before, cells_after = compact_scorecard_cells(session)
        weeks_before, weeks_after = compact_violation_weeks(session)
        days_before, days_after = compact_case_figures_days(session)
        tally_before, tally_after = compact_case_tally_days(session)
        session.commit()
    log.info("case counts folded: %d row(s) -> %d; late counts: %d -> %d; scorecard cells: %d -> %d; "
             "violations by week: %d -> %d; case figures by day: %d -> %d; case tallies by day: %d -> %d",
             before, after, late_before, late_after, cells_before, cells_after, weeks_before, weeks_after,
             days_before, days_after, tally_before, tally_after)


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, url=url)


if __name__ == "__main__":
    sys.exit(main())
