"""`python -m jobs.flag_overdue_full [--as-of ...]`: the nightly full pass of jobs.flag_overdue
(`--full`): every clock that can be late is read again, whatever the watermark says.

Its own module because a crontab line is run by its module alone (jobs/scheduler.py keys the jobs
by module and passes no arguments). It takes flag_overdue's lock: the two never run at once.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs import flag_overdue


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return flag_overdue.main(["--full", *(argv if argv is not None else sys.argv[1:])], url=url)


if __name__ == "__main__":
    sys.exit(main())
